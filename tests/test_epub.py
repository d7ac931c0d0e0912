"""The EPUB as retailers and reading systems see it (issue: EPUB 3 that
retailers accept): package metadata, navigation, page list, cover, validation."""

import io
import re
import shutil

import pytest
from PIL import Image
from pypdf import PdfReader

from handbook_press import validate

from .books import NS, body_start, open_epub, pdf_pages
from .seed_facts import seed_sections

A11Y = {"schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
        "schema:accessibilityHazard", "schema:accessibilitySummary", "dcterms:conformsTo"}


@pytest.fixture(scope="module")
def epub(built_books):
    return open_epub(built_books[1])


def meta(epub, prop):
    return [m.text for m in epub.opf.iterfind(f".//opf:metadata/opf:meta[@property='{prop}']", NS)]


def test_package_metadata(epub):
    m = epub.opf.find("opf:metadata", NS)
    assert m.find("dc:title", NS).text == "The MLOps Handbook"
    assert m.find("dc:language", NS).text == "en"
    assert m.find("dc:identifier", NS).text == "urn:uuid:d18dbf4a-6bdd-5b8d-a691-a6a212679afa"
    assert m.find("dc:date", NS).text == "2025-05"
    assert meta(epub, "dcterms:modified") == ["2025-05-01T00:00:00Z"]
    assert m.find("dc:description", NS).text.startswith("This comprehensive resource")
    assert [s.text for s in m.findall("dc:subject", NS)] == ["Machine learning", "MLOps"]
    assert epub.opf.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    present = {e.get("property") for e in m.iterfind("opf:meta", NS)}
    assert A11Y <= present
    features = set(meta(epub, "schema:accessibilityFeature"))
    assert {"tableOfContents", "readingOrder", "structuralNavigation", "pageNavigation",
            "printPageNumbers"} <= features
    assert meta(epub, "dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.1 Level AA"]
    # The page list's source, as EPUBCheck 4.2.6 (Kobo) and 5 both accept it: dc:source refined
    # by source-of "pagination" (4.2.6 refuses the newer pageBreakSource property).
    [source] = m.findall("dc:source", NS)
    assert source.text == "The MLOps Handbook, print edition (6in × 9in)"
    refines = [e for e in m.iterfind("opf:meta", NS) if e.get("refines") == "#" + source.get("id")]
    assert [(e.get("property"), e.text) for e in refines] == [("source-of", "pagination")]
    assert "pageBreakSource" not in present


def test_landmarks(epub):
    _, nav = epub.nav()
    landmarks = nav.find(".//x:nav[@epub:type='landmarks']", NS)
    kinds = {a.get(f"{{{NS['epub']}}}type"): a.get("href") for a in landmarks.iterfind(".//x:a", NS)}
    assert {"cover", "titlepage", "copyright-page", "toc", "bodymatter", "index"} <= set(kinds)
    assert kinds["bodymatter"].startswith("section-01-")
    docs = dict(epub.spine_documents())
    for href in kinds.values():
        assert epub.resolve(href) in docs


def test_page_list_matches_the_print_folios(epub, built_books):
    """Sample: the first page of every section has the same label in both books."""
    _, nav = epub.nav()
    page_list = nav.find(".//x:nav[@epub:type='page-list']", NS)
    entries = [(a.text, a.get("href")) for a in page_list.iterfind(".//x:a", NS)]
    docs = dict(epub.spine_documents())
    for label, href in entries:  # every entry resolves to a page-break marker
        file, _, fragment = href.partition("#")
        [marker] = docs[epub.resolve(file)].xpath(f"//*[@id='{fragment}']")
        assert marker.get(f"{{{NS['epub']}}}type") == "pagebreak" and marker.get("aria-label") == label
    pdf = PdfReader(built_books[0])
    labels = pdf.page_labels
    pages = pdf_pages(built_books[0])
    assert len(entries) == len(pages) and [label for label, _ in entries] == labels
    start = body_start(pages)
    for number, section in enumerate(seed_sections(), 1):
        pdf_index = next(i for i, p in enumerate(pages) if i >= start and p.startswith(f"Section {number} {section.title}"))
        printed_folio = labels[pdf_index]
        # the folio printed on the page is that label (openers carry it at the foot)
        assert pages[pdf_index].rstrip().endswith(printed_folio)
        # in the EPUB, that page's marker stands right before the section's heading
        label, href = entries[pdf_index]
        file, _, fragment = href.partition("#")
        marker = docs[epub.resolve(file)].xpath(f"//*[@id='{fragment}']")[0]
        following = marker.getnext()
        assert following.get("id") == f"section-{_slug(section.title)}"
        assert label == printed_folio


def _slug(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def test_cover_image(epub):
    items = {i.get("href"): i for i in epub.opf.iterfind(".//opf:manifest/opf:item", NS)}
    covers = [i for i in items.values() if "cover-image" in (i.get("properties") or "")]
    assert len(covers) == 1
    image = Image.open(io.BytesIO(epub.read(epub.resolve(covers[0].get("href")))))
    assert image.size == (1600, 2560) and image.mode == "RGB"
    docs = dict(epub.spine_documents())
    first_name, first = next(iter(docs.items()))
    assert first_name.endswith("cover.xhtml")
    img = first.find(".//x:img", NS)
    assert img.get("src") == covers[0].get("href") and "The MLOps Handbook" in img.get("alt")


def test_identifier_is_stable_across_builds(tmp_path, epub):
    from handbook_press.build import build_epub

    from .conftest import CONTENT, project_paths

    paths = project_paths(CONTENT, tmp_path)
    assert build_epub(paths)  # no page map here: still the same identity
    again = open_epub(tmp_path / "mlops-handbook.epub")
    ident = lambda e: e.opf.find(".//dc:identifier", NS).text
    assert ident(again) == ident(epub)


def test_epubcheck_and_ace_report_nothing_blocking(built_books):
    # EPUBCheck 5 (Apple Books and the rest) and 4.2.6 (Kobo's ingest), installed by scripts/setup.sh.
    assert validate.KOBO_EPUBCHECK.exists(), "EPUBCheck 4.2.6 is missing: run bash scripts/setup.sh"
    findings = validate.epubcheck(built_books[1])
    assert findings == [], [str(f) for f in findings]
    if shutil.which("node") is None:
        pytest.skip("Node.js is absent: DAISY Ace cannot run here")
    findings = validate.ace(built_books[1])
    assert validate.failing(findings) == [], [str(f) for f in findings]


def test_kobo_epubcheck_missing_blocks_validation(monkeypatch, tmp_path):
    monkeypatch.setattr(validate, "KOBO_EPUBCHECK", tmp_path / "absent.jar")
    [finding] = validate.epubcheck_kobo(tmp_path / "book.epub")
    assert validate.failing([finding]) == [finding]
    assert "scripts/setup.sh" in str(finding)


def test_the_derived_lists_are_computed_once_per_book(monkeypatch):
    """One EPUB document per section renders from one context: the index of tools,
    what's new and the learning path are derived once, not once per document
    (at x10 that was most of the EPUB step)."""
    from handbook_press import derived
    from handbook_press.epub import build_epub
    from handbook_press.reader import load_book

    from .conftest import CONTENT, ROOT

    calls = []
    for name in ("tools_index", "whats_new", "resolved_learning_path"):
        real = getattr(derived, name)
        monkeypatch.setattr(derived, name, lambda book, real=real, name=name: calls.append(name) or real(book))
    book, _ = load_book(CONTENT)
    assert len(book.sections) > 1
    build_epub(book, templates=ROOT / "templates", styles=ROOT / "styles", content=CONTENT, version=None)
    counts = {name: calls.count(name) for name in set(calls)}
    assert set(counts) == {"resolved_learning_path", "tools_index", "whats_new"}
    # once to plan the documents (is there a what's new, an index?), once to render them
    assert max(counts.values()) <= 2, counts


def test_the_cover_task_reads_handbook_yaml_only(tmp_path, monkeypatch, epub):
    """The cover shows the title, the review date and a tab per section: its task reads no section
    (it is not re-run after an edit, and costs nothing that grows with the book); same image."""
    from handbook_press import build, reader

    from .conftest import CONTENT, ROOT

    def no_sections(*args, **kwargs):
        raise AssertionError("the cover task read a section")

    monkeypatch.setattr(reader, "read_section", no_sections)
    paths = build.Paths(content=CONTENT, build=tmp_path, templates=ROOT / "templates", styles=ROOT / "styles")
    assert build.build_cover_image(paths)
    items = {i.get("href"): i for i in epub.opf.iterfind(".//opf:manifest/opf:item", NS)}
    [cover] = [i for i in items.values() if "cover-image" in (i.get("properties") or "")]
    assert build.cover_image_path(paths).read_bytes() == epub.read(epub.resolve(cover.get("href")))


def test_the_pdf_task_renders_the_cover_ahead_for_the_cover_task(tmp_path, monkeypatch, capsys):
    """While its child writes and checks the print interior, the PDF task renders the EPUB's cover
    image: the cover task then keeps it (the same image it would render) and renders again only
    when a file the cover is made from changed."""
    import json
    import shutil

    from handbook_press import build, cover

    from .conftest import CONTENT, ROOT

    paths = build.Paths(content=CONTENT, build=tmp_path / "build", templates=ROOT / "templates", styles=ROOT / "styles")
    assert build.build_pdf(paths)
    image = build.cover_image_path(paths).read_bytes()
    record = json.loads((paths.build / "cache" / "cover.json").read_text())
    assert record == {"key": cover.epub_cover_key(CONTENT, paths.templates, paths.styles), "warnings": []}

    fresh = build.Paths(content=CONTENT, build=tmp_path / "fresh", templates=paths.templates, styles=paths.styles)
    assert build.build_cover_image(fresh)
    assert build.cover_image_path(fresh).read_bytes() == image, "the same image as the cover task's own"

    def no_rendering(*args, **kwargs):
        raise AssertionError("the cover was rendered again")

    monkeypatch.setattr(cover, "epub_cover_png", no_rendering)
    assert build.build_cover_image(paths)
    assert build.cover_image_path(paths).read_bytes() == image

    # Its warnings are the cover task's to tell, each time it keeps the image.
    record["warnings"] = ["handbook.yaml:1: warning[cover]: a glyph the fonts lack"]
    (paths.build / "cache" / "cover.json").write_text(json.dumps(record))
    capsys.readouterr()
    assert build.build_cover_image(paths)
    assert "warning[cover]: a glyph the fonts lack" in capsys.readouterr().err

    edited = tmp_path / "content"
    shutil.copytree(CONTENT, edited)
    yaml = edited / "handbook.yaml"
    yaml.write_text(yaml.read_text().replace("title:", "title: Edited", 1))
    moved = build.Paths(content=edited, build=paths.build, templates=paths.templates, styles=paths.styles)
    with pytest.raises(AssertionError, match="rendered again"):
        build.build_cover_image(moved)


def test_a_cover_the_pdf_task_cannot_render_is_left_to_the_cover_task(tmp_path, monkeypatch, capsys):
    """The PDF task's cover is a favour: if it fails, the PDF is built all the same, no image
    or record is left behind, and the cover task renders the image (and would tell why not)."""
    from handbook_press import build, cover

    from .conftest import CONTENT, ROOT

    real = cover.epub_cover_png

    def failing(*args, **kwargs):
        raise RuntimeError("the cover asked for files outside the project")

    monkeypatch.setattr(cover, "epub_cover_png", failing)
    paths = build.Paths(content=CONTENT, build=tmp_path, templates=ROOT / "templates", styles=ROOT / "styles")
    assert build.build_pdf(paths)
    assert (tmp_path / "mlops-handbook.pdf").is_file()
    assert not build.cover_image_path(paths).exists() and not (tmp_path / "cache" / "cover.json").exists()
    assert "outside the project" not in capsys.readouterr().err

    monkeypatch.setattr(cover, "epub_cover_png", real)
    assert build.build_cover_image(paths)
    assert build.cover_image_path(paths).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_what_the_pdf_task_made_ahead_is_taken_without_the_reader_or_renderers(tmp_path, built_books):
    """`doit epub` after `doit pdf`: the cover and page map tasks check their keys and take the
    cover image and page map the PDF task made, in a process that imports neither the reader
    (YAML, Markdown) nor Jinja, WeasyPrint or the layout's modules."""
    import shutil
    import subprocess
    import sys

    from .conftest import CONTENT, ROOT

    folder = shutil.copytree(built_books[0].parent, tmp_path / "build")
    (folder / "mlops-handbook.pages.json").unlink()
    script = f"""
import sys
from pathlib import Path
from handbook_press import build
paths = build.Paths(content=Path({str(CONTENT)!r}), build=Path({str(folder)!r}),
                    templates=Path({str(ROOT / "templates")!r}), styles=Path({str(ROOT / "styles")!r}))
assert build.build_cover_image(paths) and build.build_page_map(paths)
heavy = ("handbook_press.reader", "yaml", "markdown_it", "jinja2", "weasyprint", "handbook_press.paging",
         "pypdfium2")
print(sorted(name for name in heavy if name in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
    assert "the PDF task's layout of these inputs" in result.stderr
    assert (folder / "mlops-handbook.pages.json").read_bytes() == (built_books[0].parent / "mlops-handbook.pages.json").read_bytes()


def test_the_epub_does_not_ask_the_machine_for_media_types(tmp_path, monkeypatch, built_books):
    """Media types come from the EPUB's own table, not from the machine's mime.types (which
    ebooklib's guess reads): the same bytes on any machine."""
    import contextlib
    import io
    import mimetypes
    import shutil

    import ebooklib.utils

    from handbook_press import build

    from .conftest import CONTENT, project_paths

    def no_machine_table(*args, **kwargs):
        raise AssertionError("mime.types read")

    monkeypatch.setattr(mimetypes, "init", no_machine_table)
    monkeypatch.setattr(mimetypes, "inited", False)
    monkeypatch.setattr(ebooklib.utils, "mimetype_initialised", False)
    folder = shutil.copytree(built_books[0].parent, tmp_path / "build")
    with contextlib.redirect_stderr(io.StringIO()):
        assert build.build_epub(project_paths(CONTENT, folder))
    assert (folder / "mlops-handbook.epub").read_bytes() == built_books[1].read_bytes()
