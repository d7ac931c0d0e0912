"""The PDFs as readers and printers see them: folios, contents, bookmarks,
fonts, thumb tabs, and every print profile's page geometry and colour."""

import contextlib
import hashlib
import io
import re

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream

from handbook_press.build import build_print
from handbook_press.pagegeometry import Geometry
from handbook_press.profiles import get_profile, page_box_size
from handbook_press.reader import load_book

from .books import body_start, pdf_pages
from .conftest import CONTENT, copy_content, project_paths
from .seed_facts import seed_chapters

PROFILES = ("kdp", "ingramspark", "lulu", "offset")


@pytest.fixture(scope="module")
def prints(tmp_path_factory):
    """Every profile's print interior, with what the builds printed."""
    built = {}
    for name in PROFILES:
        out = tmp_path_factory.mktemp(name)
        messages = io.StringIO()
        with contextlib.redirect_stderr(messages):
            assert build_print(project_paths(CONTENT, out), name)
        built[name] = (out / "mlops-handbook-print.pdf", messages.getvalue())
    return built


@pytest.fixture(scope="module")
def reading(built_books):
    return built_books[0], pdf_pages(built_books[0]), PdfReader(built_books[0])


def roman(n):
    from handbook_press.pagemap import roman as r

    return r(n)


def test_page_labels_are_roman_then_arabic(reading):
    _, pages, reader = reading
    start = body_start(pages)
    labels = reader.page_labels
    assert labels[:start] == [roman(i) for i in range(1, start + 1)]
    assert labels[start:] == [str(i) for i in range(1, len(pages) - start + 1)]
    # and the folios printed on the pages are those labels
    for index in range(start, len(pages)):
        text = pages[index].strip()
        if text:
            assert re.search(rf"(^|\s){labels[index]}(\s|$)", text), (index, text[:80])


def test_contents_page_numbers_are_the_folios_where_chapters_begin(reading):
    _, pages, reader = reading
    labels = reader.page_labels
    start = body_start(pages)
    contents = " ".join(p for p in pages[:start] if "Contents" in p or ". . ." in p)
    for number, (_, title, _, _) in enumerate(seed_chapters(), 1):
        match = re.search(rf"(?<![\d.]) ?{number} {re.escape(title)}[ .]*?(\d+)(?!\d)", contents)
        assert match, (number, title)
        folio = match.group(1)
        page = labels.index(folio, start)
        assert f"Chapter {number} {title}" in pages[page], (number, folio)


def test_index_learning_path_and_whats_new_numbers_are_the_folios_of_their_targets(reading):
    """The body is laid out before the pages that print its folios: every number
    they print must be the folio where its section or chapter begins."""
    _, pages, reader = reading
    labels = reader.page_labels
    start = body_start(pages)

    def begins_on(kind: str, number: str, folio: str) -> bool:
        page = labels.index(folio, start)
        return f"{kind} {number} " in pages[page] and f"{kind} {number} " not in pages[page - 1]

    index = " ".join(p for p in pages[start:] if "(p. " in p)
    references = set(re.findall(r"(?<![\d.])(\d+) \(p\. (\d+)\)", index))
    assert len(references) >= 30
    for chapter, folio in references:
        assert begins_on("Chapter", chapter, folio), (chapter, folio)
    front = " ".join(p for p in pages[:start] if "Contents" not in p)
    entries = re.findall(r"(Section|Chapter) (\d+): [^.]*?(?:\. )+\.? ?(\d+)(?!\d)", front)
    assert sum(kind == "Section" for kind, _, _ in entries) >= 16  # the learning path names every section
    assert any(kind == "Chapter" for kind, _, _ in entries)  # what's new
    for kind, number, folio in entries:
        assert begins_on(kind, number, folio), (kind, number, folio)


def test_reading_edition_links_land_on_the_right_pages_and_it_is_tagged(reading):
    path, pages, reader = reading
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    assert reader.metadata.title == "The MLOps Handbook"
    start = body_start(pages)
    contents_pages = [i for i, p in enumerate(pages[:start]) if "Contents" in p or "Section 1" in p and ". ." in p]
    checked = 0
    for index in contents_pages:
        page = reader.pages[index]
        for annot in page.get("/Annots", []):
            annot = annot.get_object()
            dest = annot.get("/Dest")
            if dest is None:
                continue
            target = reader.get_destination_page_number(reader.named_destinations[dest]) \
                if isinstance(dest, str) else reader.get_page_number(dest[0].get_object())
            assert target >= start
            checked += 1
    assert checked >= 89  # 16 sections + 73 chapters, each at least one rectangle


def test_every_font_is_embedded_and_from_the_repository(reading, prints):
    """Every font program in every PDF is, byte for byte, one of styles/fonts."""
    from .conftest import ROOT

    repo = {hashlib.sha256(f.read_bytes()).hexdigest() for f in (ROOT / "styles" / "fonts").iterdir()
            if f.suffix in (".otf", ".ttf")}
    for path in [reading[0]] + [p for p, _ in prints.values()]:
        reader = PdfReader(path)
        programs = set()
        for page in reader.pages:
            for font in page["/Resources"].get("/Font", {}).values():
                font = font.get_object()
                descendants = font.get("/DescendantFonts")
                descriptor = (descendants[0].get_object() if descendants else font)["/FontDescriptor"]
                files = [descriptor[k] for k in ("/FontFile", "/FontFile2", "/FontFile3") if k in descriptor]
                assert files, f"{font['/BaseFont']} is not embedded"
                programs.add(hashlib.sha256(files[0].get_object().get_data()).hexdigest())
        assert programs and programs <= repo, path


def _band_text(pdf_path, index: int, top: bool) -> str:
    """The text in the top or bottom 0.9 in of a page (the bands of running heads and folios)."""
    document = pdfium.PdfDocument(str(pdf_path))
    page = document[index]
    width, height = page.get_size()
    band = (0, height - 65, width, height) if top else (0, 0, width, 65)
    return page.get_textpage().get_text_bounded(*band).strip()


def test_the_index_opens_like_a_section_with_its_folio_at_the_foot(reading):
    """No running head over the index's title; its folio at the foot, as on a section opener;
    the running head and a top folio on the index's later pages."""
    path, pages, _ = reading
    first = next(i for i, text in enumerate(pages) if text.lstrip().startswith("Index of tools"))
    assert _band_text(path, first, top=True) == ""
    assert _band_text(path, first, top=False) == str(first - body_start(pages) + 1)
    opener = body_start(pages)  # Section 1's opener, for comparison
    assert _band_text(path, opener, top=True) == "" and _band_text(path, opener, top=False) == "1"
    if first + 1 < len(pages) and pages[first + 1].strip():
        head = _band_text(path, first + 1, top=True)
        assert "Index of tools" in head and str(first - body_start(pages) + 2) in head


def test_bookmarks_are_absent_from_the_kdp_interior_and_present_in_the_reading_edition(reading, prints):
    assert len([o for o in reading[2].outline if not isinstance(o, list)]) >= 16
    kdp = PdfReader(prints["kdp"][0])
    assert "/Outlines" not in kdp.trailer["/Root"] and "/Names" not in kdp.trailer["/Root"]
    assert all("/Annots" not in page for page in kdp.pages)
    # Not written at all, rather than left in the file unreferenced.
    objects = [kdp.get_object(number) for number in range(1, kdp.trailer["/Size"])]
    assert not [o for o in objects if hasattr(o, "get") and o.get("/Type") in ("/Annot", "/Outline", "/Outlines")]


def _dark(image, x, y):
    r, g, b = image.getpixel((x, y))[:3]
    return r + g + b < 300


def test_thumb_tabs_sit_on_the_outer_edge_at_the_section_position_and_bleed(prints):
    path = prints["kdp"][0]
    book, _ = load_book(CONTENT)
    geometry = Geometry.for_book(book)
    pages = pdf_pages(path)
    openers = [i for i, p in enumerate(pages) if re.match(r"^Section \d+ ", p) and ". ." not in p]
    assert openers[0] == body_start(pages)
    document = pdfium.PdfDocument(str(path))
    bleed = 9  # pt, KDP top bleed
    checked = set()
    for k, opener in enumerate(openers, 1):
        end = openers[k] if k < len(openers) else len(pages) - 2
        for index in range(opener, end):
            if not pages[index].strip():
                continue  # blank pages carry nothing
            image = document[index].render(scale=1).to_pil()
            width, height = image.size
            recto = index % 2 == 0
            edge_x = width - 1 if recto else 0  # the outer edge, in the bleed
            trim_x = width - 9 - 2 if recto else 9 + 2  # just inside the trim
            top = bleed + 72 * (geometry.top + geometry.tab_offset(k, 16))
            middle = int(top + 72 * geometry.tab_height(16) / 2)
            assert _dark(image, edge_x, middle) and _dark(image, trim_x, middle), (k, index)
            for other in (1, 16):  # nothing at the other sections' positions
                if other != k:
                    y = int(bleed + 72 * (geometry.top + geometry.tab_offset(other, 16) + geometry.tab_height(16) / 2))
                    assert not _dark(image, edge_x, y), (k, index, other)
            checked.add(k)
    assert checked == set(range(1, 17))


@pytest.mark.parametrize("name", PROFILES)
def test_profile_page_geometry(prints, name):
    path, messages = prints[name]
    profile = get_profile(name)
    reader = PdfReader(path)
    assert len(reader.pages) % 2 == 0
    width, height = page_box_size(profile, 6, 9)
    for index, page in enumerate(reader.pages):
        media, trim, bleed = page.mediabox, page.trimbox, page.bleedbox
        assert abs(float(media.width) - width) < 0.5 and abs(float(media.height) - height) < 0.5
        assert (round(float(trim.width)), round(float(trim.height))) == (432, 648)
        for inner, outer in ((trim, bleed), (bleed, media)):
            assert float(inner.left) >= float(outer.left) - 0.01 and float(inner.right) <= float(outer.right) + 0.01
            assert float(inner.bottom) >= float(outer.bottom) - 0.01 and float(inner.top) <= float(outer.top) + 0.01
    assert "warning[weasyprint]" not in messages and "preflight passed" in messages


@pytest.mark.parametrize("name", PROFILES)
def test_print_text_is_black_ink_only(prints, name):
    reader = PdfReader(prints[name][0])
    for page in reader.pages[10:16]:
        operations = ContentStream(page.get_contents(), reader).operations
        for operands, operator in operations:
            assert operator not in (b"rg", b"RG"), name
            if operator in (b"k", b"K"):
                assert [float(v) for v in operands[:3]] == [0, 0, 0], operands


@pytest.mark.parametrize("name, version", [("ingramspark", "PDF/X-1a"), ("offset", "PDF/X-4")])
def test_pdfx_identity_and_output_intent(prints, name, version):
    reader = PdfReader(prints[name][0])
    root = reader.trailer["/Root"]
    [intent] = root["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFX"
    assert intent["/DestOutputProfile"].get_object()["/N"] == 4
    info_version = reader.metadata.get("/GTS_PDFXVersion")
    xmp = reader.xmp_metadata
    xmp_text = xmp.stream.get_data().decode() if xmp else ""
    assert (info_version and info_version.startswith(version)) or version in xmp_text
    assert reader.metadata.get("/Trapped") in ("/False", "/True")


def test_two_print_builds_are_identical(tmp_path, prints):
    assert build_print(project_paths(CONTENT, tmp_path), "kdp")
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()
    assert digest(tmp_path / "mlops-handbook-print.pdf") == digest(prints["kdp"][0])


def test_a_print_interior_that_fails_preflight_is_not_written(tmp_path, capsys):
    from PIL import Image

    content = copy_content(tmp_path / "content")
    section = content / "sections" / "model-development.md"
    # A screenshot too coarse for print (129 ppi at the text block's width: printers refuse under
    # 200): the checker only warns, the print preflight refuses it. (A word too long for its line
    # no longer reaches the margin: it breaks.)
    section.write_text(section.read_text() + "\n![A screenshot of the tracking UI](screenshot.png)\n")
    Image.new("RGB", (600, 300), (200, 220, 240)).save(content / "sections" / "screenshot.png")
    out = tmp_path / "build"
    out.mkdir()
    (out / "mlops-handbook-print.pdf").write_bytes(b"previous good build")
    assert not build_print(project_paths(content, out), "kdp")
    err = capsys.readouterr().err
    assert "error[preflight]: image-resolution" in err
    assert (out / "mlops-handbook-print.pdf").read_bytes() == b"previous good build"
    assert "FAIL" in (out / "mlops-handbook-print-preflight.md").read_text()


def test_the_reading_edition_build_logs_no_weasyprint_warning(built_books):
    messages = (built_books[0].parent / "build-messages.txt").read_text()
    assert "laid out" in messages and "warning" not in messages


@pytest.mark.parametrize("name, pages, inside, outside", [
    ("kdp", 48, 0.75, 0.6),         # the design already exceeds KDP's 0.375 in gutter (+ 1/16 in for ink)
    ("kdp", 720, 0.9375, 0.4375),   # 701-828 pages: gutter 0.875 + 1/16 in; the outside gives what it can
    ("ingramspark", 48, 0.75, 0.6),
    ("lulu", 200, 1.0625, 0.5625),  # 0.5 in safety + 0.5 in gutter + 1/16 in; outside 0.5 + 1/16 in
    ("lulu", 1047, 1.3125, 0.5625),  # over 600 pages: 0.75 in gutter
])
def test_the_gutter_follows_the_page_count(name, pages, inside, outside):
    from handbook_press.build import print_geometry

    book, _ = load_book(CONTENT)
    geometry = print_geometry(book, get_profile(name), pages)
    assert (round(geometry.inside, 4), round(geometry.outside, 4)) == (inside, outside)


def test_the_print_task_publishes_the_preflight_made_as_the_interior_was_written(prints, tmp_path, monkeypatch):
    """The PDF task preflights the print interior in the process that writes it (beside the
    reading edition's write); the print task publishes that report without reading the same
    bytes again, and it is the report a fresh preflight gives. Another profile checks afresh."""
    import shutil

    from handbook_press import build, preflight

    out = shutil.copytree(prints["kdp"][0].parent, tmp_path / "build")
    paths = project_paths(CONTENT, out)
    record = build.print_check_path(paths, "mlops-handbook")
    assert record.exists()
    calls, real_preflight = [], preflight.preflight
    monkeypatch.setattr(preflight, "preflight", lambda *args: calls.append(args[1]) or real_preflight(*args))
    reports = [out / "mlops-handbook-print-preflight.md", out / "mlops-handbook-print-preflight.json"]
    for report in reports + [out / "mlops-handbook-print.pdf"]:
        report.unlink()
    with contextlib.redirect_stderr(io.StringIO()):
        assert build.publish_print(paths, "kdp")
        assert calls == []
        published = [report.read_bytes() for report in reports]
        recorded = record.read_bytes()
        record.unlink()
        assert build.publish_print(paths, "kdp")
        assert len(calls) == 1
        assert [report.read_bytes() for report in reports] == published
        assert (out / "mlops-handbook-print.pdf").read_bytes() == prints["kdp"][0].read_bytes()
        record.write_bytes(recorded)
        build.publish_print(paths, "ingramspark")
    assert len(calls) == 2 and "ingramspark" in (out / "mlops-handbook-print-preflight.md").read_text()


def test_publishing_a_recorded_report_does_not_load_the_checker(prints, tmp_path):
    """`doit print` after `doit pdf` reads the PDF task's report back: neither pypdf nor the
    checker is imported (they are a tenth of a second of the print step)."""
    import json
    import shutil
    import subprocess
    import sys

    out = shutil.copytree(prints["kdp"][0].parent, tmp_path / "build")
    (out / "mlops-handbook-print.pdf").unlink()
    script = (f"import json, sys; from pathlib import Path; from handbook_press import build; "
              f"paths = build.Paths(content=Path({str(CONTENT)!r}), build=Path({str(out)!r}), "
              f"templates=Path({str(CONTENT.parent / 'templates')!r}), styles=Path({str(CONTENT.parent / 'styles')!r})); "
              f"ok = build.publish_print(paths, 'kdp'); "
              f"print(json.dumps([ok, 'pypdf' in sys.modules, 'handbook_press.preflight' in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [True, False, False], done.stderr
    assert (out / "mlops-handbook-print.pdf").read_bytes() == prints["kdp"][0].read_bytes()


def test_a_preflight_record_is_taken_for_its_own_bytes_profile_and_trim_only():
    from handbook_press.preflight import CheckResult, PreflightReport, recorded_report, report_record

    report = PreflightReport("<bytes>", "kdp", (6.0, 9.0), 4, [CheckResult("pages", "Page count", "pass", "ok")])
    record = report_record(b"%PDF-1.7 one", report)
    assert recorded_report(record, b"%PDF-1.7 one", "kdp", 6, 9) == report
    assert recorded_report(record, b"%PDF-1.7 two", "kdp", 6, 9) is None
    assert recorded_report(record, b"%PDF-1.7 one", "lulu", 6, 9) is None
    assert recorded_report(record, b"%PDF-1.7 one", "kdp", 6, 9.25) is None
    assert recorded_report(record.replace('"checker": "', '"checker": "0'), b"%PDF-1.7 one", "kdp", 6, 9) is None
    assert recorded_report("{not json", b"%PDF-1.7 one", "kdp", 6, 9) is None
