"""The print-on-demand package: every file a submission needs, a sheet with the
right numbers, and a failed write that leaves the previous package alone.

The interiors here are small stand-ins laid out with each profile's real page
geometry (profiles.css_for) and preflighted for real, so that the tests stay
fast; test_pdf_print.py covers the book's own interiors.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from handbook_press import pod
from handbook_press.pod import NO_ISBN, PodError, write_pod_package
from handbook_press.preflight import preflight
from handbook_press.profiles import css_for, get_profile
from handbook_press.reader import load_book
from handbook_press.wrapcover import wrap_cover_geometry

from .conftest import CONTENT, ROOT, project_paths

STYLES = ROOT / "styles"
FILES = {"mlops-handbook-interior.pdf", "mlops-handbook-cover.pdf", "mlops-handbook-cover-guides.png",
         "mlops-handbook-preflight.md", "mlops-handbook-preflight.json", "mlops-handbook-proof.png",
         "submission.md", "submission.json"}


@pytest.fixture(scope="module")
def book():
    return load_book(Path(CONTENT))[0]


def make_interior(folder: Path, profile_name: str, pages: int) -> dict[str, Path]:
    """A print interior of ``pages`` pages for the profile (6 x 9 in), with its preflight reports."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    profile = get_profile(profile_name)
    fonts = FontConfiguration()
    colour_profiles: dict = {}
    base = str(STYLES.resolve()) + "/"
    sheets = [CSS(filename=str(STYLES / "fonts.css"), font_config=fonts),
              CSS(string=css_for(profile, pages, (6, 9)), font_config=fonts),
              CSS(string="body { font: 11pt 'Book Serif'; color: device-cmyk(0 0 0 1); } "
                         "p { break-after: page; margin: 0; }", font_config=fonts)]
    if profile.pdf_variant:
        sheets.append(CSS(string='@color-profile device-cmyk { src: url("icc/artifex-swop-cmyk.icc"); '
                                 "components: cyan, magenta, yellow, black; }",
                          base_url=base, color_profiles=colour_profiles))
    html = ('<html lang="en"><head><title>Interior</title>'
            '<meta name="dcterms.created" content="2025-05-01T00:00:00Z">'
            '<meta name="dcterms.modified" content="2025-05-01T00:00:00Z"></head><body>'
            + "".join(f"<p>Page {n}</p>" for n in range(1, pages)) + f"<p style='break-after: auto'>Page {pages}</p>"
            + "</body></html>")
    data = HTML(string=html, base_url=base).write_pdf(
        stylesheets=sheets, font_config=fonts, color_profiles=colour_profiles, pdf_variant=profile.pdf_variant,
        full_fonts=True)
    report = preflight(data, profile, 6, 9)
    assert report.passed and report.pages == pages, report.to_markdown()
    folder.mkdir(parents=True, exist_ok=True)
    files = {"interior_pdf": folder / "interior.pdf", "preflight_report_md": folder / "interior-preflight.md",
             "preflight_report_json": folder / "interior-preflight.json"}
    files["interior_pdf"].write_bytes(data)
    files["preflight_report_md"].write_text(report.to_markdown())
    files["preflight_report_json"].write_text(report.to_json())
    return files


@pytest.fixture(scope="module")
def kdp_interior(tmp_path_factory):
    return make_interior(tmp_path_factory.mktemp("kdp-interior"), "kdp", 48)


@pytest.fixture(scope="module")
def kdp_package(tmp_path_factory, book, kdp_interior):
    paths = project_paths(CONTENT, tmp_path_factory.mktemp("build"))
    return write_pod_package(paths, "kdp", proof_png=None, book=book, **kdp_interior), kdp_interior


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_package_holds_every_file(kdp_package):
    package, interior = kdp_package
    assert package.name == "kdp" and package.parent.name == "pod" and package.parent.parent.name.startswith("build")
    assert {p.name for p in package.iterdir()} == FILES
    assert (package / "mlops-handbook-interior.pdf").read_bytes() == interior["interior_pdf"].read_bytes()
    assert (package / "mlops-handbook-preflight.md").read_bytes() == interior["preflight_report_md"].read_bytes()
    assert (package / "mlops-handbook-preflight.json").read_bytes() == interior["preflight_report_json"].read_bytes()
    # the proof: a contact sheet of the interior's spreads (48 pages: 25 spreads, 4 columns, 7 rows)
    proof = Image.open(package / "mlops-handbook-proof.png")
    assert proof.width == 4 * (2 * 150 + 12) + 12 and proof.height > 7 * 200
    guides = Image.open(package / "mlops-handbook-cover-guides.png")
    assert guides.width == 1600
    # nothing left over beside the package
    assert [p.name for p in package.parent.iterdir()] == ["kdp"]


def test_sheet_has_the_right_numbers(kdp_package, book):
    package, _ = kdp_package
    sheet = json.loads((package / "submission.json").read_text())
    g = wrap_cover_geometry("kdp", "white", 48, 6, 9)
    assert sheet["print"]["pages"] == 48
    assert sheet["print"]["trim_in"] == [6, 9]
    assert sheet["print"]["paper"]["name"] == "white"
    assert sheet["print"]["interior_bleed_in"] == {"top": 0.125, "outside": 0.125, "bottom": 0.125, "inside": 0}
    assert sheet["print"]["interior_page_pt"] == [441, 666]
    assert sheet["print"]["interior_pdfx"] is None and sheet["cover"]["pdfx"] is None
    assert sheet["print"]["preflight"]["passed"] is True
    cover = sheet["cover"]
    assert cover["spine_width_in"] == pytest.approx(48 * 0.002252) == pytest.approx(0.1081, abs=5e-5)
    assert cover["size_in"] == pytest.approx([12.25 + 48 * 0.002252, 9.25])
    assert cover["size_in"] == pytest.approx([g.total_width, g.total_height])
    assert cover["bleed_in"] == 0.125 and cover["spine_text"] is False
    assert cover["folds_x_in"] == pytest.approx([6.125, 6.125 + 48 * 0.002252])
    # the numbers are the cover PDF's
    page = PdfReader(package / "mlops-handbook-cover.pdf").pages[0]
    assert [float(page.mediabox.width), float(page.mediabox.height)] == pytest.approx(cover["size_pt"], abs=0.01)
    assert float(page.trimbox.width) == pytest.approx((12 + cover["spine_width_in"]) * 72, abs=0.5)
    meta = book.metadata
    assert sheet["book"] == {**sheet["book"], "title": meta.title, "subtitle": None, "author": None,
                             "language": "en", "isbn": None, "isbn_text": NO_ISBN, "description": meta.about}
    for name, entry in sheet["files"].items():
        data = (package / name).read_bytes()
        assert entry == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert set(sheet["files"]) == FILES - {"submission.md", "submission.json"}
    text = (package / "submission.md").read_text()
    for row in ("| Page count | 48 |", "| Spine width | 0.1081 in (2.75 mm) |", "| Trim | 6 x 9 in (152.4 x 228.6 mm) |",
                f"| ISBN | {NO_ISBN} |", "| Cover size | 12.3581 x 9.25 in", "| Language | en |",
                "| Paper | white — B&W, white paper |", "| Interior PDF/X | none (not required) |"):
        assert row in text, row
    assert meta.about in text


def test_pdfx_package_with_isbn_and_given_proof(tmp_path, book):
    interior = make_interior(tmp_path / "in", "ingramspark", 200)
    proof = tmp_path / "proof.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(proof)
    with_isbn = dataclasses.replace(book, metadata=dataclasses.replace(
        book.metadata, isbn="978-0-00-000000-2", subtitle="A field guide", creator="The Handbook Team"))
    package = write_pod_package(project_paths(CONTENT, tmp_path / "build"), "ingramspark", proof_png=proof,
                                book=with_isbn, **interior)
    assert (package / "mlops-handbook-proof.png").read_bytes() == proof.read_bytes()
    sheet = json.loads((package / "submission.json").read_text())
    assert sheet["print"]["interior_pdfx"] == sheet["cover"]["pdfx"] == "PDF/X-1a:2003"
    assert sheet["cover"]["output_intent"] == "icc/artifex-swop-cmyk.icc"
    assert sheet["cover"]["spine_width_in"] == pytest.approx(0.422)
    assert sheet["cover"]["spine_text"] is True
    assert sheet["book"]["isbn"] == sheet["book"]["isbn_text"] == "978-0-00-000000-2"
    assert (sheet["book"]["subtitle"], sheet["book"]["author"]) == ("A field guide", "The Handbook Team")
    cover = PdfReader(package / "mlops-handbook-cover.pdf")
    assert "/OutputIntents" in cover.trailer["/Root"]
    text = (package / "submission.md").read_text()
    assert "| ISBN | 978-0-00-000000-2 |" in text and "| Cover PDF/X | PDF/X-1a:2003 |" in text


def test_failed_write_leaves_the_previous_package(tmp_path, book, kdp_interior, monkeypatch):
    paths = project_paths(CONTENT, tmp_path / "build")
    package = write_pod_package(paths, "kdp", proof_png=None, book=book, **kdp_interior)
    before = snapshot(package)

    def unchanged():
        assert snapshot(package) == before
        assert [p.name for p in package.parent.iterdir()] == ["kdp"]  # no staging folder left behind

    # inputs that do not match: the report is for another page count
    report = json.loads(kdp_interior["preflight_report_json"].read_text())
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**report, "pages": 50}))
    with pytest.raises(PodError, match="50 pages"):
        write_pod_package(paths, "kdp", proof_png=None, book=book,
                          **{**kdp_interior, "preflight_report_json": wrong})
    unchanged()
    # a failed preflight
    wrong.write_text(json.dumps({**report, "passed": False}))
    with pytest.raises(PodError, match="failed preflight"):
        write_pod_package(paths, "kdp", proof_png=None, book=book,
                          **{**kdp_interior, "preflight_report_json": wrong})
    unchanged()
    # an interior made for another profile
    with pytest.raises(PodError, match="profile"):
        write_pod_package(paths, "lulu", proof_png=None, book=book, **kdp_interior)
    assert not (package.parent / "lulu").exists()
    unchanged()
    # the disk fails half-way through writing the new package
    calls = []
    real_write = pod._write

    def failing_write(folder, name, data):
        calls.append(name)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_write(folder, name, data)

    monkeypatch.setattr(pod, "_write", failing_write)
    other_proof = tmp_path / "other.png"
    Image.new("RGB", (10, 10)).save(other_proof)
    with pytest.raises(OSError, match="No space"):
        write_pod_package(paths, "kdp", proof_png=other_proof, book=book, **kdp_interior)
    unchanged()
    # and when it works, the new package replaces the old one whole
    monkeypatch.setattr(pod, "_write", real_write)
    write_pod_package(paths, "kdp", proof_png=other_proof, book=book, **kdp_interior)
    after = snapshot(package)
    assert after["mlops-handbook-proof.png"] == other_proof.read_bytes()
    assert after["mlops-handbook-cover.pdf"] == before["mlops-handbook-cover.pdf"]  # same inputs, same bytes
    assert [p.name for p in package.parent.iterdir()] == ["kdp"]


def test_a_cover_the_book_does_not_fit_is_an_error_at_its_title(tmp_path, monkeypatch, capsys):
    """`doit pod` with a title too long for the cover: a located error, not a traceback."""
    from handbook_press import build
    from handbook_press.cover import CoverTooFull

    def too_full(*args, **kwargs):
        raise CoverTooFull("the title is too long for the front cover even at half its size")

    monkeypatch.setattr(pod, "write_pod_package", too_full)
    assert not build.run_pod(project_paths(CONTENT, tmp_path / "build"), "mlops-handbook", "kdp")
    err = capsys.readouterr().err
    assert "handbook.yaml:1: error[cover]: the title is too long for the front cover" in err
    assert not (tmp_path / "build" / "pod").exists()
