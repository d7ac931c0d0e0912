"""`doit import` turns the seed outline into content equivalent to content/."""

import dataclasses

from handbook_press.outline import import_outline
from handbook_press.reader import load_book

from .conftest import CONTENT, SEED, run_doit


def without_locations(value):
    """Compare models, not the paths they were read from."""
    if dataclasses.is_dataclass(value):
        return tuple((f.name, without_locations(getattr(value, f.name))) for f in dataclasses.fields(value)
                     if "location" not in f.name)
    if isinstance(value, tuple):
        return tuple(without_locations(v) for v in value)
    return value


def test_importing_the_seed_gives_content_equivalent_to_content_dir(tmp_path):
    diagnostics = import_outline(SEED, tmp_path / "imported", title="The MLOps Handbook", slug="mlops-handbook")
    assert [d.code for d in diagnostics if d.code == "section-title-mismatch"] == ["section-title-mismatch"]
    imported, _ = load_book(tmp_path / "imported")
    ours, _ = load_book(CONTENT)
    # Catalog subjects are not part of the outline format: content/ adds them by hand.
    ours = dataclasses.replace(ours, metadata=dataclasses.replace(ours.metadata, subjects=()))
    assert without_locations(imported) == without_locations(ours)
    # the section files are the seed's lines, untouched
    for file in (CONTENT / "sections").glob("*.md"):
        assert (tmp_path / "imported" / "sections" / file.name).read_text() == file.read_text()


def test_doit_import_reports_the_stray_front_matter_and_builds(tmp_path):
    result = run_doit("import", f"outline={SEED}", f"content={tmp_path / 'c'}", "title=The MLOps Handbook",
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning[section-title-mismatch]" in result.stderr
    assert "Traceback" not in result.stderr
    book, _ = load_book(tmp_path / "c")
    assert len(book.chapters) == 73


def test_import_refuses_a_reference_to_a_missing_section_and_writes_nothing(tmp_path):
    outline = tmp_path / "outline.txt"
    outline.write_text(SEED.read_text().replace("(Sections 13-16)", "(Sections 13-17)"))
    result = run_doit("import", f"outline={outline}", f"content={tmp_path / 'c'}", cwd=tmp_path)
    assert result.returncode != 0
    assert "outline.txt:8: error[learning-path-unknown-section]" in result.stderr
    assert not (tmp_path / "c").exists()
    assert "Traceback" not in result.stderr
