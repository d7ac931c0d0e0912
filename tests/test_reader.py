"""The reader turns content/ into the model the seed describes."""

from pathlib import Path

import pytest

from handbook_press.diagnostics import BuildError, Diagnostics
from handbook_press.reader import load_book, parse_topic
from handbook_press.diagnostics import Location

from .conftest import CONTENT
from .seed_facts import seed_chapters, seed_sections, seed_topic_lines

HERE = Location("x.md", 1)


@pytest.fixture(scope="module")
def book():
    return load_book(CONTENT)[0]


def test_counts_match_the_seed(book):
    assert len(book.sections) == 16
    assert len(book.chapters) == 73
    assert sum(len(c.topics) for c in book.chapters) == len(seed_topic_lines()) == 195
    assert sum(c.is_new for c in book.chapters) == 10
    assert [(c.original_number, c.title, c.is_new) for c in book.chapters] == \
        [(n, t, new) for n, t, new, _ in seed_chapters()]


def test_section_titles_follow_the_outline_and_section_1_is_foundations(book):
    assert [s.title for s in book.sections] == [s.title for s in seed_sections()]
    first = book.sections[0]
    assert first.title == "Foundations of MLOps"
    assert first.stray_title == "Foundation Models and Their Applications"
    assert first.description is None  # written for another page: not printed
    assert book.sections[1].description == "Strategies for handling data in ML pipelines."


def test_every_node_knows_where_it_came_from(book):
    chapter = book.chapters[8]
    assert chapter.location.path.endswith("sections/data-management-for-mlops.md")
    lines = Path(CONTENT / "sections/data-management-for-mlops.md").read_text().splitlines()
    assert lines[chapter.location.line - 1] == "Chapter 9: Vector Databases and Similarity Search (New)"
    topic = chapter.topics[-1]
    assert lines[topic.location.line - 1] == "[Tools: Milvus, Pinecone, Faiss; HNSW, IVF]"
    step = book.learning_path[1]
    yaml_lines = (CONTENT / "handbook.yaml").read_text().splitlines()
    assert "Master data management" in yaml_lines[step.location.line - 1]


def test_topic_forms():
    assert parse_topic("- ML lifecycle", HERE).kind == "plain"
    labelled = parse_topic("Tools: DVC (Data Version Control), LakeFS", HERE)
    assert (labelled.kind, labelled.label, labelled.items) == ("labelled", "Tools", ("DVC (Data Version Control)", "LakeFS"))
    note = parse_topic("[Tools: Feast, Tecton; Online-offline consistency, feature pipelines]", HERE)
    assert (note.kind, note.label, note.items, note.concepts) == (
        "annotation", "Tools", ("Feast", "Tecton"), ("Online-offline consistency", "feature pipelines"))
    bare = parse_topic("[GDPR, CCPA, Data localization frameworks]", HERE)
    assert (bare.label, bare.items, bare.concepts) == (None, (), ("GDPR", "CCPA", "Data localization frameworks"))
    new = parse_topic("Cloud spend optimization for ML workloads (New subtopic)", HERE)
    assert new.is_new and new.text == "Cloud spend optimization for ML workloads"


def write_section(tmp_path: Path, body: str, front: str = 'title: "S"\n') -> Path:
    content = tmp_path / "content"
    (content / "sections").mkdir(parents=True)
    (content / "handbook.yaml").write_text(
        "title: T\nslug: t\nlanguage: en\nidentifier: urn:uuid:1\nabout: A\nreview_date: 2025-05\n"
        "sections:\n  - file: sections/s.md\n    title: S\n", encoding="utf-8")
    (content / "sections" / "s.md").write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    return content


def test_prose_lists_links_code_and_heading_chapters_are_kept(tmp_path):
    content = write_section(tmp_path, (
        "Intro *prose* for the section.\n\n"
        "## Chapter 3: Heading Form\n"
        "Topic one\n"
        "- Topic two\n\n"
        "A paragraph with a [link](https://example.org) and `code`.\n\n"
        "- a prose list\n- second item\n\n"
        "```\nChapter 99: not a chapter\n```\n"
        "Chapter 4: Plain Form (New)\n"
        "<script>alert(1)</script>\n"))
    book, diagnostics = load_book(content)
    section = book.sections[0]
    assert "<em>prose</em>" in section.intro[0].html
    first, second = section.chapters
    assert first.title == "Heading Form" and [t.text for t in first.topics] == ["Topic one", "Topic two"]
    html = "".join(p.html for p in first.prose)
    assert '<a href="https://example.org">link</a>' in html and "<code>code</code>" in html
    assert "<li>a prose list</li>" in html and "Chapter 99: not a chapter" in html
    assert second.is_new and second.title == "Plain Form"
    assert second.topics[0].text == "<script>alert(1)</script>"  # data, escaped by the templates


@pytest.mark.parametrize("line, fragment", [
    ("Chapter: No Number", "cannot read the chapter line"),
    ("Chapter IX: Roman", "arabic number"),
    ("Chapter 12:", "cannot read the chapter line"),
    ("Chapter 123456: Huge", "out of range"),
    # Another mark or case than `Chapter N:`: read as topics, these chapters would vanish.
    ("Chapter 15 - Deployment Strategies", "write it `Chapter 15: Deployment Strategies`"),
    ("Chapter 15. Model Serving (New)", "write it `Chapter 15: Model Serving (New)`"),
    ("Chapter 15 \u2013 Model Serving", "write it `Chapter 15: Model Serving`"),
    ("chapter 15: Model Serving", "write it `Chapter 15: Model Serving`"),
    ("CHAPTER 15: Model Serving", "write it `Chapter 15: Model Serving`"),
    ("- Chapter15: Model Serving", "write it `Chapter 15: Model Serving`"),
])
def test_malformed_chapter_lines_are_errors_with_their_line(tmp_path, line, fragment):
    content = write_section(tmp_path, f"Chapter 1: Fine\nTopic\n{line}\nTopic\n")
    diagnostics = Diagnostics()
    with pytest.raises(BuildError):
        load_book(content, diagnostics)
    [error] = diagnostics.errors
    assert error.code == "chapter-line-malformed" and fragment in error.message
    assert str(error.location).endswith("sections/s.md:6")


def test_raw_html_in_prose_is_shown_as_text(tmp_path):
    content = write_section(tmp_path, "Chapter 1: A\nTopic\n\n<script>alert(1)</script> and <b>bold</b>\n")
    book, _ = load_book(content)
    html = book.chapters[0].prose[0].html
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;" in html


@pytest.mark.parametrize("url, code", [
    ("file:///etc/passwd", "unsafe-url"),
    ("../../secret.png", "unsafe-url"),
    ("https://example.org/x.png", "remote-image"),
    ("/etc/hostname", "unsafe-url"),
])
def test_images_outside_the_content_are_refused(tmp_path, url, code):
    content = write_section(tmp_path, f"Chapter 1: A\nTopic\n\n![alt]({url})\n")
    diagnostics = Diagnostics()
    with pytest.raises(BuildError):
        load_book(content, diagnostics)
    assert [d.code for d in diagnostics.errors] == [code]


def test_front_matter_after_blank_lines_is_read_as_front_matter(tmp_path):
    """As Markdown it would print raw (a rule, then its keys as a heading) and lose the description."""
    content = write_section(tmp_path, "Chapter 1: One\nA topic\n", front='description: "Said once."\n')
    file = content / "sections" / "s.md"
    file.write_text("\n \n" + file.read_text(encoding="utf-8"), encoding="utf-8")
    book, diagnostics = load_book(content)
    section = book.sections[0]
    assert section.description == "Said once." and section.intro == ()
    assert [c.title for c in section.chapters] == ["One"] and section.chapters[0].location.line == 6
    [warning] = [d for d in diagnostics if d.code == "front-matter-not-first"]
    assert warning.severity == "warning" and warning.location.line == 3 and "delete the blank lines" in warning.message


def test_a_rule_after_blank_lines_stays_in_the_body(tmp_path):
    content = write_section(tmp_path, "")
    file = content / "sections" / "s.md"
    file.write_text("\n---\nSome words between rules.\n---\nChapter 1: One\nA topic\n", encoding="utf-8")
    book, diagnostics = load_book(content)
    section = book.sections[0]
    assert "Some words between rules." in "".join(p.html for p in section.intro)
    assert "front-matter-not-first" not in diagnostics.codes()


def test_a_chapter_line_without_its_colon_stays_a_topic_with_a_warning(tmp_path):
    content = write_section(tmp_path, "Chapter 3 is cited in prose.\n\nChapter 1: Fine\nTopic\n"
                                      "Chapter 11 bankruptcy models\n")
    book, diagnostics = load_book(content)
    [chapter] = book.sections[0].chapters
    assert [t.text for t in chapter.topics] == ["Topic", "Chapter 11 bankruptcy models"]
    [warning] = [d for d in diagnostics if d.code == "chapter-line-without-colon"]  # not the prose's line
    assert warning.location.line == 8 and "write `Chapter 11: bankruptcy models`" in warning.message


@pytest.mark.parametrize("mark", ["(New)", "(new)", "(NEW)", "(New subtopic)", "(new subtopic)", "(New Subtopic)",
                                  "(New topic)"])
def test_new_marks_in_any_case_are_marks(tmp_path, mark):
    """The books show a marker for them: the words in brackets would print raw."""
    chapter_mark = mark if "topic" not in mark.lower() else "(New)"
    content = write_section(tmp_path, f"Chapter 1: Serving {chapter_mark}\nBatching {mark}\nPlain\n")
    book, _ = load_book(content)
    [chapter] = book.sections[0].chapters
    assert (chapter.title, chapter.is_new) == ("Serving", True)
    assert [(t.text, t.is_new) for t in chapter.topics] == [("Batching", True), ("Plain", False)]


def test_key_concepts_written_out_are_their_label_not_a_tool(tmp_path):
    """As the books print them (`Tools: Feast, Tecton; Key concepts: HNSW`): `Tecton; Key
    concepts: HNSW` was a tool of the index, and in brackets the label printed twice."""
    import re

    from handbook_press.html import environment

    from .conftest import ROOT

    content = write_section(tmp_path, "Chapter 1: A\nTools: Feast, Tecton; Key concepts: HNSW, IVF\n"
                                      "[Models: CLIP; key concepts: alignment]\nApplications: fraud; churn\n")
    book, diagnostics = load_book(content)
    labelled, bracketed, semicolon = book.sections[0].chapters[0].topics
    assert (labelled.label, labelled.items, labelled.concepts) == ("Tools", ("Feast", "Tecton"), ("HNSW", "IVF"))
    assert (bracketed.label, bracketed.items, bracketed.concepts) == ("Models", ("CLIP",), ("alignment",))
    assert (semicolon.items, semicolon.concepts) == (("fraud; churn",), ())  # the author's own list, as written
    macros = environment(ROOT / "templates").get_template("macros.j2").module
    printed = [re.sub(r"<[^>]+>", "", str(macros.topic(t, "t"))) for t in (labelled, bracketed, semicolon)]
    assert printed == ["Tools: Feast, Tecton; Key concepts: HNSW, IVF", "Models: CLIP; Key concepts: alignment",
                       "Applications: fraud; churn"]


@pytest.mark.parametrize("line, told", [("[Tools: Feast, Tecton", "[ is never closed"),
                                        ("Tools: Feast, Tecton]", "] was never opened")])
def test_a_bracket_without_its_mate_is_read_as_a_pair_with_a_warning(tmp_path, line, told):
    content = write_section(tmp_path, f"Chapter 1: A\n{line}\n")
    book, diagnostics = load_book(content)
    [topic] = book.sections[0].chapters[0].topics
    assert (topic.label, topic.items) == ("Tools", ("Feast", "Tecton"))  # no `Tecton]` in the index
    [warning] = [d for d in diagnostics if d.code == "topic-bracket-unbalanced"]
    assert told in warning.message and "`[Tools: Feast, Tecton]`" in warning.message and warning.location.line == 5


def test_struck_text_is_struck_not_tildes(tmp_path):
    """GitHub-flavoured `~~old~~`, as Jekyll's Markdown reads it: the tildes would print raw."""
    content = write_section(tmp_path, "Chapter 1: A\nTopic\n\nThe ~~old~~ new way.\n")
    book, _ = load_book(content)
    html = "".join(p.html for p in book.sections[0].chapters[0].prose)
    assert "<s>old</s> new way" in html and "~" not in html


@pytest.mark.parametrize("isbn, problem", [
    ("978-3-16-148410-0", None), ("9780306406157", None), ("0-306-40615-2", None), ("080442957X", None),
    ("978-3-16-148410-1", "where its other digits give 0"), ("0-306-40615-3", "where its other digits give 2"),
    ("978316148410", "is not an ISBN"), ("ISBN 978-3-16-148410-0", "without the word ISBN"),
])
def test_isbns_are_checked_by_their_check_digit(isbn, problem):
    from handbook_press.reader import isbn_problem

    found = isbn_problem(isbn)
    assert found is None if problem is None else problem in found


def test_headings_in_prose_sit_below_the_title_they_are_written_under(tmp_path):
    """`# Notes` in a chapter was an h1: it outranked the chapter (h2) and the section (h1) in the
    PDF's tags and the EPUB's outline, and printed larger than both."""
    content = write_section(tmp_path, "# Background\n\nIntro.\n\nChapter 1: A\nTopic\n\n# Notes\n\nText.\n\n"
                                      "## Details\n\nMore with `<h1>` in code.\n")
    book, _ = load_book(content)
    section = book.sections[0]
    intro = "".join(p.html for p in section.intro)
    prose = "".join(p.html for p in section.chapters[0].prose)
    assert "<h2>Background</h2>" in intro
    assert "<h3>Notes</h3>" in prose and "<h4>Details</h4>" in prose and "<code>&lt;h1&gt;</code>" in prose


def test_footnote_marks_are_told_not_printed_silently(tmp_path):
    """kramdown's and GitHub's `[^1]` footnotes are not read: each block that writes one is told
    (the mark and the note's line print as written); code is left alone."""
    content = write_section(tmp_path, "Chapter 1: A\nTopic\n\nA claim.[^1] And `code [^x]`.\n\n[^1]: The source.\n")
    book, diagnostics = load_book(content)
    told = [d for d in diagnostics if d.code == "footnote-unsupported"]
    assert [d.location.line for d in told] == [7, 9] and all("[^1] prints as written" in d.message for d in told)
    assert "[^1]" in "".join(p.html for p in book.sections[0].chapters[0].prose)  # nothing lost either


def test_an_image_without_a_description_is_told(tmp_path):
    """Its alt text is what a screen reader says (the EPUB's accessibility); an empty one is a warning."""
    import io

    from PIL import Image

    content = write_section(tmp_path, "Chapter 1: A\nTopic\n\n![](pipeline.png)\n\n![The training pipeline](pipeline.png)\n")
    buffer = io.BytesIO()
    Image.new("RGB", (600, 300), "white").save(buffer, format="PNG", dpi=(300, 300))
    (content / "sections" / "pipeline.png").write_bytes(buffer.getvalue())
    book, diagnostics = load_book(content)
    [told] = [d for d in diagnostics if d.code == "image-no-description"]
    assert told.location.line == 7 and "`![what it shows](pipeline.png)`" in told.message
    assert 'alt="The training pipeline"' in "".join(p.html for p in book.sections[0].chapters[0].prose)
