"""Preflight of print interiors: tiny WeasyPrint documents that pass each profile, and
documents that break one rule each, with the check that must catch it."""

import dataclasses
import io
import itertools
import json
import struct
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject

from handbook_press.preflight import CHECK_TITLES, preflight
from handbook_press.profiles import PROFILES, css_for, page_margins

ROOT = Path(__file__).resolve().parents[1]
FONTS = ROOT / "styles" / "fonts"
TRIM = (6.0, 9.0)


# --- A small CMYK output profile (WeasyPrint ships none; ICC v2, lut8 tables) -----------------

def _s15(x):
    return struct.pack(">i", round(x * 65536))


def _lut8(inputs, outputs, node):
    body = b"mft1" + b"\0" * 4 + bytes([inputs, outputs, 2, 0])
    body += b"".join(_s15(1.0 if i == j else 0.0) for i in range(3) for j in range(3))
    body += bytes(range(256)) * inputs
    for corner in itertools.product((0, 1), repeat=inputs):
        body += bytes(node(corner))
    return body + bytes(range(256)) * outputs


def cmyk_icc(description="Test CMYK (preflight fixture)"):
    text = description.encode() + b"\0"
    tags = [
        (b"desc", b"desc" + b"\0" * 4 + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0" * 3 + b"\0" * 67),
        (b"wtpt", b"XYZ " + b"\0" * 4 + _s15(0.9642) + _s15(1.0) + _s15(0.8249)),
        (b"cprt", b"text" + b"\0" * 4 + b"No copyright, test data\0"),
        # CMYK -> Lab: darker with more ink; Lab -> CMYK: lightness to K.
        (b"A2B0", _lut8(4, 3, lambda c: (round(255 * (1 - .7 * c[0]) * (1 - .6 * c[1]) * (1 - .1 * c[2])
                                                     * (1 - c[3])), 128, 128))),
        (b"B2A0", _lut8(3, 4, lambda lab: (0, 0, 0, 255 * (1 - lab[0])))),
    ]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for signature, body in tags:
        data += b"\0" * (-(offset + len(data)) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    body = struct.pack(">I", len(tags)) + table + data
    header = (struct.pack(">I", 128 + len(body)) + b"\0" * 4 + struct.pack(">I", 0x02100000) + b"prtrCMYKLab "
              + b"\0" * 12 + b"acsp" + b"\0" * 28 + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48)
    assert len(header) == 128
    return header + body


@pytest.fixture(scope="module")
def icc_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("icc") / "test-cmyk.icc"
    path.write_bytes(cmyk_icc())
    return path


# --- Rendering --------------------------------------------------------------------------------

BASE_CSS = """
@font-face {{ font-family: "Book Serif"; src: url({serif}); }}
html {{ font: 10pt/1.3 "Book Serif"; color: device-cmyk(0 0 0 1); }}
h1, h2, h3, h4, h5, h6 {{ bookmark-level: none; }}
"""


def render(profile, pages, *, body=None, extra_css="", icc=None, variant="profile", css=True,
           full_fonts=False, title="Preflight test", trim=TRIM):
    """A `pages`-page document laid out with the profile's CSS (css_for), as PDF bytes."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    profile = PROFILES[profile] if isinstance(profile, str) else profile
    if body is None:
        body = "".join(f'<p style="break-before: page">Page {n}. Short text in black ink.</p>'
                       for n in range(1, pages + 1))
    style = BASE_CSS.format(serif=(FONTS / "LinLibertine_R.otf").as_uri())
    if css:
        style += css_for(profile, pages, trim)
    if icc is not None:
        style += f"@color-profile device-cmyk {{ src: url({icc.as_uri()}); components: c, m, y, k; }}\n"
    style += extra_css
    html = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
            '<meta name="dcterms.created" content="2026-01-01T00:00:00Z">'
            '<meta name="dcterms.modified" content="2026-01-01T00:00:00Z">'
            f"</head><body>{body}</body></html>")
    fonts, colour_profiles = FontConfiguration(), {}
    sheet = CSS(string=style, font_config=fonts, color_profiles=colour_profiles)
    document = HTML(string=html).render(stylesheets=[sheet], font_config=fonts, color_profiles=colour_profiles)
    assert len(document.pages) == pages, "the test document must have the page count asked for"
    options = {"full_fonts": full_fonts, "pdf_identifier": b"preflight-test"}
    pdf_variant = profile.pdf_variant if variant == "profile" else variant
    if pdf_variant:
        options["pdf_variant"] = pdf_variant
    return document.write_pdf(**options)


def body_with(first, pages):
    """`first` on page 1, then plain pages up to `pages`."""
    return first + "".join('<p style="break-before: page">More</p>' for _ in range(pages - 1))


def check(pdf, profile, **kwargs):
    return preflight(pdf, profile, *TRIM, **kwargs)


def statuses(report):
    return {c.id: c.status for c in report.checks}


# Documents that pass, one per profile, at the profile's minimum page count.

@pytest.fixture(scope="module")
def kdp_pdf():
    return render("kdp", 24, full_fonts=True)


@pytest.fixture(scope="module")
def ingram_pdf(icc_path):
    return render("ingramspark", 18, icc=icc_path)


# --- Passing documents --------------------------------------------------------------------------

def test_kdp_document_passes_every_check(kdp_pdf):
    report = check(kdp_pdf, "kdp")
    assert report.passed, report.to_markdown()
    assert report.failures == [] and report.warnings == []
    assert report.pages == 24
    assert [c.id for c in report.checks] == list(CHECK_TITLES)


def test_kdp_bleed_is_on_the_outside_edge(kdp_pdf):
    reader = PdfReader(io.BytesIO(kdp_pdf))
    recto, verso = reader.pages[0], reader.pages[1]
    # 441 x 666 pt; the inside edge (left on a recto, right on a verso) has no bleed.
    assert [float(v) for v in recto.mediabox] == [0, -9, 441, 657]
    assert [float(v) for v in verso.mediabox] == [-9, -9, 432, 657]
    assert [float(v) for v in recto.trimbox] == [0, 0, 432, 648]


def test_ingramspark_pdfx1a_document_passes(ingram_pdf):
    report = check(ingram_pdf, "ingramspark")
    assert report.passed, report.to_markdown()
    # WeasyPrint writes PDF/X-1a:2003; Ingram names the 2001 flavour: a warning, not a failure.
    assert report.warnings == ["pdfx"]
    assert "PDF/X-1a:2001" in report.check("pdfx").details[0]


def test_lulu_document_passes():
    report = check(render("lulu", 32), "lulu")
    assert report.passed, report.to_markdown()
    assert report.warnings == []
    assert statuses(report)["page-count"] == "pass"


def test_offset_pdfx4_document_with_crop_marks_passes(icc_path):
    report = check(render("offset", 4, icc=icc_path), "offset")
    assert report.passed, report.to_markdown()
    assert report.check("marks").status == "pass"
    assert report.check("pdfx").message.startswith("PDF/X-4")


# --- Failing documents: one broken rule each ----------------------------------------------------

def test_rgb_text_fails_a_k_only_profile(icc_path):
    pdf = render("ingramspark", 18, icc=icc_path, extra_css="p { color: #333 }")
    report = check(pdf, "ingramspark")
    assert not report.passed
    assert {"text-colour", "colour-spaces"} <= set(report.failures)
    assert any("DeviceRGB 0.2 0.2 0.2" in d for d in report.check("text-colour").details)
    # KDP converts colour itself: RGB is only a warning there.
    kdp = check(render("kdp", 24, extra_css="p { color: #333 }"), "kdp")
    assert kdp.check("colour-spaces").status == "warn"
    assert kdp.check("text-colour").status == "pass"


def test_cmyk_text_with_colour_ink_fails_k_only(icc_path):
    pdf = render("ingramspark", 18, icc=icc_path, extra_css="p { color: device-cmyk(0.6 0.4 0.4 1) }")
    report = check(pdf, "ingramspark")
    assert report.failures == ["text-colour"]
    assert "DeviceCMYK 0.6 0.4 0.4 1" in report.check("text-colour").details[0]


def test_odd_page_count_fails_parity():
    report = check(render("kdp", 25), "kdp")
    assert report.failures == ["page-parity"]
    assert "25 pages is odd" in report.check("page-parity").message


def test_too_few_pages_fails_page_count():
    report = check(render("kdp", 2), "kdp")
    assert "page-count" in report.failures
    assert "24-828" in report.check("page-count").message
    assert "take" not in report.check("page-count").message.split("24-828")[1]  # no printer binds 2 pages
    # Which printers take the book as it is: 4 pages, the offset printer alone (Ingram: 18 and up).
    four = check(render("kdp", 4), "kdp").check("page-count").message
    assert four == "4 pages; kdp takes 24-828: offset takes 4 (`profile=offset`)"


def test_link_annotation_fails_under_kdp():
    link = '<p>See <a href="https://example.org/">the site</a>.</p>'
    report = check(render("kdp", 24, body=body_with(link, 24)), "kdp")
    assert report.failures == ["annotations"]
    assert report.check("annotations").details == ["page 1: 1 Link"]
    # Lulu does not forbid annotations.
    lulu = check(render("lulu", 32, body=body_with(link, 32)), "lulu")
    assert lulu.passed and lulu.check("annotations").status == "pass"


def test_bookmarks_fail_under_kdp():
    heading = '<h1 style="bookmark-level: 1">Chapter</h1>'
    report = check(render("kdp", 24, body=body_with(heading, 24)), "kdp")
    assert report.failures == ["outlines"]
    assert report.check("outlines").message.startswith("1 top-level bookmark")


def _glyph_at(x_in, page_index, profile, pages):
    """Body with an "M" whose left edge is x_in from the trim's left edge on page page_index + 1."""
    margins = page_margins(profile, pages)
    left_margin = margins.inside if page_index % 2 == 0 else margins.outside
    paragraphs = []
    for n in range(pages):
        marker = ""
        if n == page_index:
            marker = f'<span style="position: absolute; top: 1in; left: {x_in - left_margin:.4f}in">M</span>'
        paragraphs.append(f'<div style="break-before: page; position: relative">Page {n + 1}{marker}</div>')
    return "".join(paragraphs)


def test_glyph_in_the_margin_fails_safe_area():
    # 0.2 in from the trim: inside KDP's 0.375 in minimum.
    report = check(render("kdp", 24, body=_glyph_at(0.2, 2, "kdp", 24)), "kdp")
    assert report.failures == ["safe-area"]
    details = report.check("safe-area").details
    assert details[0].startswith("page 3: 'M'") and "past the inside" in details[0]


def test_safe_area_gutter_alternates_between_recto_and_verso():
    # A profile with a wide gutter: 0.7 in from the left edge is in the gutter of a recto
    # (page 1, gutter left) but fine on a verso (page 2, gutter right, 0.375 in outside).
    wide = dataclasses.replace(PROFILES["kdp"], name="kdp-wide-gutter", min_pages=2,
                               gutter_table=((None, 1.0),))
    recto = check(render(wide, 2, body=_glyph_at(0.7, 0, wide, 2)), wide)
    verso = check(render(wide, 2, body=_glyph_at(0.7, 1, wide, 2)), wide)
    assert recto.failures == ["safe-area"], recto.to_markdown()
    assert "page 1: 'M'" in recto.check("safe-area").details[0]
    assert verso.passed, verso.to_markdown()


def test_glyph_ink_past_the_text_block_stays_in_the_safe_area():
    # Lulu over 600 pages: 0.5 in safety and a 0.75 in gutter, 1.25 in inside. Lines that
    # start with j and end with f put ink past both edges of the text block (Libertine's j
    # by 0.5 pt, f by 0.9 pt); the margins keep INK_CLEARANCE from the safety lines, so
    # the ink stays in. Cut at the safety line, the inside edges failed.
    long = dataclasses.replace(PROFILES["lulu"], name="lulu-over-600-pages", min_pages=2,
                               gutter_table=((None, 0.75),))
    words = " ".join(["jiff"] * 80)
    body = "".join(f'<p style="break-before: page; text-align: justify">{words}</p>' for _ in range(2))
    # The book's body has no margin of its own: the text block's edges are the page margins.
    report = check(render(long, 2, body=body, extra_css="body { margin: 0 }"), long)
    assert report.check("safe-area").status == "pass", report.to_markdown()
    assert "inside (gutter, 2 pp) 1.25 in" in report.check("safe-area").message


def test_wrong_trim_size_fails_page_size_and_boxes():
    # No css_for: WeasyPrint's default A4 page, no bleed.
    report = check(render("kdp", 24, css=False), "kdp")
    assert {"page-size", "boxes"} <= set(report.failures)
    assert "TrimBox 595" in report.check("boxes").details[0]


def test_a_trim_the_printer_does_not_make_fails_page_size():
    # KDP's custom trims go up to 8.5 x 11.69 in: a 9 x 12 in book is refused, however well made.
    report = preflight(render("kdp", 24, trim=(9.0, 12.0)), "kdp", 9.0, 12.0)
    assert report.failures == ["page-size"], report.to_markdown()
    assert "trim 9 x 12 in is not a size kdp prints (4-8.5 in wide, 6-11.69 in tall)" in \
        report.check("page-size").message
    # The same book is fine for a printer whose specs give no range, and at a trim KDP makes.
    assert preflight(render("ingramspark", 24, trim=(9.0, 12.0), variant=None), "ingramspark", 9.0, 12.0
                     ).check("page-size").status == "pass"
    assert preflight(render("kdp", 24, trim=(8.5, 11.0)), "kdp", 8.5, 11.0).passed


def test_missing_trim_box_fails_boxes(kdp_pdf):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(kdp_pdf)))
    del writer.pages[4][NameObject("/TrimBox")]
    out = io.BytesIO()
    writer.write(out)
    report = check(out.getvalue(), "kdp")
    assert "boxes" in report.failures
    assert "page 5: no TrimBox" in report.check("boxes").details


def test_art_box_with_trim_box_fails(kdp_pdf):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(kdp_pdf)))
    writer.pages[0][NameObject("/ArtBox")] = writer.pages[0]["/TrimBox"]
    out = io.BytesIO()
    writer.write(out)
    assert "page 1: both TrimBox and ArtBox" in check(out.getvalue(), "kdp").check("boxes").details


def test_pdfx_without_output_intent_fails():
    report = check(render("ingramspark", 18), "ingramspark")  # no @color-profile device-cmyk
    assert report.failures == ["pdfx"]
    assert any("/OutputIntents" in d for d in report.check("pdfx").details)


def test_plain_pdf_fails_pdfx_profile():
    report = check(render("ingramspark", 18, variant=None), "ingramspark")
    assert "pdfx" in report.failures
    assert any("does not claim PDF/X" in d for d in report.check("pdfx").details)


def test_transparency(icc_path):
    css = ".faint { opacity: .5 }"
    faint = '<p class="faint">Faint</p>'
    ingram = check(render("ingramspark", 18, body=body_with(faint, 18), icc=icc_path, extra_css=css), "ingramspark")
    assert ingram.failures == ["transparency"]
    assert any("ca 0.5" in d for d in ingram.check("transparency").details)
    kdp = check(render("kdp", 24, body=body_with(faint, 24), extra_css=css), "kdp")
    assert kdp.check("transparency").status == "warn" and kdp.passed


def test_low_resolution_image_fails():
    import base64

    from PIL import Image

    png = io.BytesIO()
    Image.new("L", (30, 30), 128).save(png, format="PNG")  # 30 px over 1 in: 30 ppi
    uri = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    image = f'<img src="{uri}" style="width: 1in; height: 1in">'
    report = check(render("kdp", 24, body=body_with(image, 24)), "kdp")
    assert report.failures == ["image-resolution"]
    assert "30 ppi" in report.check("image-resolution").details[0]


def test_crop_marks_fail_kdp():
    report = check(render("kdp", 24, extra_css="@page { marks: crop }"), "kdp")
    assert "marks" in report.failures


def test_unembedded_font_fails():
    writer = PdfWriter()
    page = writer.add_blank_page(width=441, height=666)
    page[NameObject("/TrimBox")] = page.mediabox
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/F1"): writer._add_object(font)})})
    out = io.BytesIO()
    writer.write(out)
    report = check(out.getvalue(), "kdp")
    assert "fonts" in report.failures
    assert "Helvetica (Type1): not embedded (page 1)" in report.check("fonts").details


def test_encrypted_file_fails(kdp_pdf):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(kdp_pdf)))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    report = check(out.getvalue(), "kdp")
    assert "encryption" in report.failures


def test_a_damaged_file_is_a_failed_check_not_a_crash(kdp_pdf):
    report = check(kdp_pdf[: len(kdp_pdf) // 2], "kdp")
    assert report.failures == ["readable"] and report.pages == 0
    assert "cannot be read as a PDF" in report.check("readable").message


# --- Reports ------------------------------------------------------------------------------------

def test_reports_in_markdown_and_json(tmp_path):
    path = tmp_path / "odd.pdf"
    path.write_bytes(render("kdp", 25))
    report = preflight(path, "kdp", 6, 9)
    data = json.loads(report.to_json())
    assert list(data) == ["file", "profile", "trim_in", "pages", "passed", "summary", "checks"]
    assert data["passed"] is False and data["pages"] == 25 and data["file"] == str(path)
    assert [c["id"] for c in data["checks"]] == list(CHECK_TITLES)
    assert all(list(c) == ["id", "title", "status", "message", "details"] for c in data["checks"])
    assert report.to_json() == preflight(path, "kdp", 6, 9).to_json()  # stable
    markdown = report.to_markdown()
    assert markdown.startswith("# Preflight FAILED: odd.pdf")
    assert "| Even page count (`page-parity`) | **FAIL** |" in markdown


def test_command_line(tmp_path, capsys, kdp_pdf):
    from handbook_press.preflight import main

    path = tmp_path / "book.pdf"
    path.write_bytes(kdp_pdf)
    assert main([str(path), "--profile", "kdp", "--trim", "6in", "9in", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passed"] is True
    assert main([str(path), "--profile", "lulu", "--trim", "152.4mm", "228.6mm"]) == 1
    assert "# Preflight FAILED" in capsys.readouterr().out
