"""The checker reports every defect of the seed, located, with stable codes."""

from collections import Counter

import pytest

from handbook_press.build import run_check
from handbook_press.diagnostics import BuildError, Diagnostics
from handbook_press.numbering import renumbering
from handbook_press.reader import load_book

from .conftest import CONTENT, copy_content


@pytest.fixture(scope="module")
def checked():
    diagnostics = Diagnostics()
    book, _ = load_book(CONTENT, diagnostics)
    return book, diagnostics


def test_numbering_defects_of_the_seed_are_warnings(checked):
    book, diagnostics = checked
    assert not diagnostics.errors
    counts = Counter(diagnostics.codes())
    assert counts["chapter-number-duplicate"] == 14
    assert counts["chapter-number-backward"] == 2
    missing = [d.message for d in diagnostics if d.code == "chapter-number-missing"]
    assert [m.split(" ")[2] for m in missing] == ["13-14", "21-23", "48", "57-60"]
    assert counts["section-title-mismatch"] == 1


def test_chapters_are_renumbered_in_reading_order(checked):
    book, _ = checked
    assert [c.number for c in book.chapters] == list(range(1, 74))
    assert [s.number for s in book.sections] == list(range(1, 17))
    rows = renumbering(book)
    by_title = {r.title: (r.original, r.printed) for r in rows}
    assert by_title["Model Training Pipelines"] == (9, 11)
    assert by_title["General AI Operations"] == (64, 73)


def test_title_mismatch_points_at_the_front_matter(checked):
    _, diagnostics = checked
    [d] = [d for d in diagnostics if d.code == "section-title-mismatch"]
    assert str(d.location) == "content/sections/foundations-of-mlops.md:3" or \
        str(d.location).endswith("sections/foundations-of-mlops.md:3")
    assert "Foundations of MLOps" in d.message and "Foundation Models and Their Applications" in d.message


def test_broken_references_unknown_keys_and_empty_sections(tmp_path):
    content = copy_content(tmp_path / "content")
    yaml_file = content / "handbook.yaml"
    text = yaml_file.read_text().replace("    - model-development\n", "    - model-develpment\n", 1)
    yaml_file.write_text(text + "reviw_date: 2025-06\n")
    section = content / "sections" / "model-deployment.md"
    section.write_text(section.read_text().replace("layout: default", "layot: default").split("Chapter 15")[0])
    diagnostics = Diagnostics()
    with pytest.raises(BuildError):
        load_book(content, diagnostics)
    by_code = {d.code: d for d in diagnostics}
    ref = by_code["learning-path-unknown-section"]
    assert ref.severity == "error" and "did you mean `model-development`" in ref.message
    step_line = next(i for i, l in enumerate(text.splitlines(), 1) if "Master data management" in l)
    assert str(ref.location).endswith(f"handbook.yaml:{step_line}")
    unknown = [d for d in diagnostics if d.code == "unknown-key"]
    assert any("`reviw_date`" in d.message and "`review_date`" in d.message for d in unknown)
    assert any("`layot`" in d.message and "`layout`" in d.message and d.location.line == 2 for d in unknown)
    assert by_code["section-empty"].location.path.endswith("model-deployment.md")


def test_strict_turns_warnings_into_failure(tmp_path, capsys):
    assert run_check(CONTENT, tmp_path / "a", strict=False)
    assert (tmp_path / "a" / "numbering.json").exists()
    assert not run_check(CONTENT, tmp_path / "b", strict=True)
    assert not (tmp_path / "b").exists()
    err = capsys.readouterr().err
    assert "warning[chapter-number-duplicate]" in err


def test_a_section_that_cannot_be_read_is_one_error(tmp_path):
    """Its error alone: the learning path naming it and the chapter numbers it holds are not
    reported again as a section that does not exist and numbers never used."""
    content = copy_content(tmp_path / "content")
    section = content / "sections" / "model-deployment.md"
    lines = section.read_text().splitlines(keepends=True)
    del lines[[i for i, line in enumerate(lines) if line.strip() == "---"][1]]  # the front matter never closed
    section.write_text("".join(lines))
    diagnostics = Diagnostics()
    with pytest.raises(BuildError):
        load_book(content, diagnostics)
    assert [(d.code, d.location.path.rsplit("/", 1)[-1]) for d in diagnostics.errors] == \
        [("front-matter-unclosed", "model-deployment.md")]
    assert "chapter-number-missing" not in diagnostics.codes()
    assert diagnostics.codes().count("chapter-number-duplicate") == 11  # the other sections' still told


def test_a_tool_spelled_two_ways_is_told_where_the_second_is(tmp_path):
    content = copy_content(tmp_path / "content")
    section = content / "sections" / "model-deployment.md"
    text = section.read_text()
    assert "[Tools: Kubeflow, Flyte;" in text
    section.write_text(text.replace("[Tools: Kubeflow, Flyte;", "[Tools: KubeFlow, Flyte;"))
    diagnostics = Diagnostics()
    load_book(content, diagnostics)
    [told] = [d for d in diagnostics if d.code == "index-spelling"]  # as many of each: the later is told
    assert told.severity == "warning" and told.location.path.endswith("mlops-tools-and-ecosystems.md")
    assert "'Kubeflow' is spelled 'KubeFlow' at" in told.message and "model-deployment.md:" in told.message
    assert "write one spelling" in told.message

    # the most used spelling is the one kept: a third mention tips it
    tools = content / "sections" / "mlops-tools-and-ecosystems.md"
    tools.write_text(tools.read_text().replace("Tools: Kubeflow, MLflow, Metaflow",
                                               "Tools: Kubeflow, MLflow, Metaflow\nPlatforms: Kubeflow"))
    diagnostics = Diagnostics()
    load_book(content, diagnostics)
    [told] = [d for d in diagnostics if d.code == "index-spelling"]
    assert told.location.path.endswith("model-deployment.md") and "'KubeFlow' is spelled 'Kubeflow'" in told.message


def test_links_between_sections_lead_somewhere_in_both_books(tmp_path):
    """A link to a section's file (as Jekyll pages link) becomes its anchor; a #anchor must be a
    section's or a chapter's, and in the EPUB names the document that holds it (a bare fragment
    there looked in its own document: EPUBCheck's RSC-012)."""
    from handbook_press.epub import build_epub

    from .conftest import ROOT

    content = copy_content(tmp_path / "content")
    section = content / "sections" / "data-management-for-mlops.md"
    section.write_text(section.read_text() + "\nSee [deployment](model-deployment.md), [serving](#chapter-16) and "
                       "[its tools](./model-deployment.md#chapter-18).\n")
    diagnostics = Diagnostics()
    book, _ = load_book(content, diagnostics)
    assert "link-unknown-anchor" not in diagnostics.codes()
    html = book.sections[1].chapters[-1].prose[-1].html
    assert 'href="#section-model-deployment"' in html and 'href="#chapter-16"' in html
    assert 'href="#chapter-18"' in html

    import io
    import re
    import zipfile

    epub = zipfile.ZipFile(io.BytesIO(build_epub(book, templates=ROOT / "templates", styles=ROOT / "styles",
                                                 content=content, version=None)))
    text = epub.read("EPUB/section-02-data-management-for-mlops.xhtml").decode()
    for anchor in ("section-model-deployment", "chapter-16", "chapter-18"):
        assert f'href="section-04-model-deployment.xhtml#{anchor}"' in text
        assert re.search(f'id="{anchor}"', epub.read("EPUB/section-04-model-deployment.xhtml").decode())

    section.write_text(section.read_text() + "\n[Gone](#chapter-99) and [unlisted](notes.md).\n")
    diagnostics = Diagnostics()
    with pytest.raises(BuildError):
        load_book(content, diagnostics)
    told = [d.message for d in diagnostics.errors]
    assert len(told) == 2 and all(d.code == "link-unknown-anchor" for d in diagnostics.errors)
    assert "#chapter-99 leads to nowhere in the book" in told[0]
    assert "(notes.md: list it in handbook.yaml's `sections`" in told[1]
