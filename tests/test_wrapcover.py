"""The wrap cover: geometry against the services' published figures
(print-specs.md §2-4, §9), and the rendered PDF as a printer sees it: boxes,
spine text only where allowed and between the folds, an empty barcode zone,
front and back panels, CMYK only, PDF/X output intent, identical bytes."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from handbook_press import wrapcover
from handbook_press.profiles import Paper
from handbook_press.reader import load_book
from handbook_press.wrapcover import render_wrap_cover, wrap_cover_geometry

from .conftest import CONTENT, ROOT

TEMPLATES, STYLES = ROOT / "templates", ROOT / "styles"
PT = 72.0


@pytest.fixture(scope="module")
def book():
    return load_book(Path(CONTENT))[0]


def render(book, profile, pages, paper=None):
    return render_wrap_cover(book, profile, pages, templates=TEMPLATES, styles=STYLES, paper=paper)


@pytest.fixture(scope="module")
def kdp200(book):
    return render(book, "kdp", 200)


@pytest.fixture(scope="module")
def kdp48(book):
    """At the handbook's own page count (48 pages for KDP): a thin spine, no spine text."""
    return render(book, "kdp", 48)


@pytest.fixture(scope="module")
def ingram200(book):
    return render(book, "ingramspark", 200)


def chars(pdf: bytes) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every glyph with its box (left, bottom, right, top) in PDF points."""
    document = pdfium.PdfDocument(pdf)
    try:
        text = document[0].get_textpage()
        found = [(text.get_text_range(i, 1), text.get_charbox(i)) for i in range(text.count_chars())]
    finally:
        document.close()
    return [(c, box) for c, box in found if c.strip()]


def text_between(pdf: bytes, x0_in: float, x1_in: float) -> str:
    """The glyphs whose centre lies between two x positions (in from the left edge), in reading order."""
    return "".join(c for c, (l, b, r, t) in chars(pdf) if x0_in * PT < (l + r) / 2 < x1_in * PT)


def render_rgb(pdf: bytes, scale: float):
    document = pdfium.PdfDocument(pdf)
    try:
        return document[0].render(scale=scale).to_pil().convert("RGB")
    finally:
        document.close()


# --- geometry against the published figures ---------------------------------------


def test_kdp_white_200_pages_worked_example():
    g = wrap_cover_geometry("kdp", "white", 200, 6, 9)
    assert g.spine_width == pytest.approx(0.4504)
    assert (g.total_width, g.total_height) == (pytest.approx(12.7004), pytest.approx(9.25))
    assert (g.width_pt, g.height_pt) == (pytest.approx(914.43, abs=0.01), 666)
    assert g.bleed == 0.125
    assert (g.back_fold_x, g.front_fold_x) == (pytest.approx(6.125), pytest.approx(6.5754))
    assert g.total_width == pytest.approx(g.bleed + 6 + g.spine_width + 6 + g.bleed)


@pytest.mark.parametrize("pages, white, cream, premium, lulu", [
    (80, 0.180, 0.200, 0.188, 0.240),
    (100, 0.225, 0.250, 0.235, 0.285),
    (200, 0.450, 0.500, 0.469, 0.510),
    (300, 0.676, 0.750, 0.704, 0.736),
    (400, 0.901, 1.000, 0.939, 0.961),
    (600, 1.351, 1.500, 1.408, 1.411),
])
def test_spine_and_cover_follow_the_table(pages, white, cream, premium, lulu):
    """print-specs.md §9: spine per paper, and cover = 2W + spine + 0.25 by H + 0.25."""
    for profile, paper, spine in (("kdp", "white", white), ("kdp", "cream", cream),
                                  ("kdp", "premium-colour", premium), ("lulu", None, lulu)):
        g = wrap_cover_geometry(profile, paper, pages, 6, 9)
        assert g.spine_width == pytest.approx(spine, abs=0.0006), (profile, paper, pages)
        assert g.total_width == pytest.approx(12.25 + g.spine_width)
        assert g.total_height == pytest.approx(9.25)
        assert g.front_fold_x - g.back_fold_x == pytest.approx(g.spine_width)


def test_lulu_and_cream_at_200_pages():
    lulu = wrap_cover_geometry("lulu", None, 200, 6, 9)
    assert lulu.spine_width == pytest.approx(200 / 444 + 0.06, abs=1e-6)  # 0.5105 in
    assert lulu.total_width == pytest.approx(12.7605, abs=1e-4)
    cream = wrap_cover_geometry("kdp", "cream", 200, 6, 9)
    assert (cream.spine_width, cream.total_width) == (pytest.approx(0.5), pytest.approx(12.75))
    ingram = wrap_cover_geometry("ingramspark", None, 200, 6, 9)
    assert ingram.spine_width == pytest.approx(0.422)


@pytest.mark.parametrize("profile, paper, below, threshold", [
    ("kdp", "white", 78, 80),  # p >= 80
    ("ingramspark", None, 46, 48),  # p >= 48
    ("lulu", None, 80, 81),  # p > 80
])
def test_spine_text_thresholds(profile, paper, below, threshold):
    assert not wrap_cover_geometry(profile, paper, below, 6, 9).spine_text_allowed
    assert not wrap_cover_geometry(profile, paper, below, 6, 9).spine_text
    assert wrap_cover_geometry(profile, paper, threshold, 6, 9).spine_text_allowed
    thick = wrap_cover_geometry(profile, paper, 300, 6, 9)
    assert thick.spine_text and thick.spine_font_pt >= wrapcover.MIN_SPINE_FONT_PT


def test_spine_text_box_keeps_clear_of_the_folds():
    kdp = wrap_cover_geometry("kdp", "white", 200, 6, 9)
    assert kdp.spine_text_box.left - kdp.back_fold_x == pytest.approx(0.0625)
    assert kdp.front_fold_x - kdp.spine_text_box.right == pytest.approx(0.0625)
    lulu = wrap_cover_geometry("lulu", None, 300, 6, 9)
    assert lulu.spine_text_box.width == pytest.approx(lulu.spine_width - 0.25)
    # allowed by the service, but a spine this thin takes no legible type
    thin = wrap_cover_geometry("kdp", "white", 80, 6, 9)
    assert thin.spine_text_allowed and not thin.spine_text and thin.spine_font_pt == 0


def test_barcode_zone_lower_right_of_the_back_cover():
    g = wrap_cover_geometry("kdp", "white", 200, 6, 9)
    zone = g.barcode
    assert (zone.width, zone.height) == (2.0, 1.2)
    assert g.back_fold_x - zone.right == pytest.approx(0.25)  # from the spine
    assert (g.bleed + 9) - zone.bottom == pytest.approx(0.25)  # from the bottom trim
    assert g.back.contains(zone)
    assert not zone.intersects(g.spine) and not zone.intersects(g.front)


def test_refuses_counts_the_service_would_refuse():
    with pytest.raises(ValueError, match="even"):
        wrap_cover_geometry("kdp", "white", 201, 6, 9)
    with pytest.raises(ValueError, match="pages"):
        wrap_cover_geometry("kdp", "white", 20, 6, 9)
    with pytest.raises(ValueError, match="paper"):
        wrap_cover_geometry("offset", None, 200, 6, 9)
    custom = wrap_cover_geometry("offset", Paper("coated", "80 lb coated", 0.003), 200, 6, 9)
    assert custom.spine_width == pytest.approx(0.6)


# --- the rendered cover ---------------------------------------------------------


@pytest.mark.parametrize("pages", [48, 200])
def test_boxes_match_the_geometry(book, kdp48, kdp200, pages):
    data = {48: kdp48, 200: kdp200}[pages]
    g = wrap_cover_geometry("kdp", None, pages, 6, 9)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    media, trim, bleed = page.mediabox, page.trimbox, page.bleedbox
    assert (float(media.left), float(media.bottom)) == (0, 0)
    assert float(media.width) == pytest.approx(g.total_width * PT, abs=0.5)
    assert float(media.height) == pytest.approx(9.25 * PT, abs=0.5)
    # TrimBox: the trimmed spread, the sheet less 0.125 in on every side
    assert [float(v) for v in trim] == pytest.approx([9, 9, g.total_width * PT - 9, 9.25 * PT - 9], abs=0.01)
    assert float(trim.width) == pytest.approx((12 + g.spine_width) * PT, abs=0.5)
    assert [float(v) for v in bleed] == pytest.approx([float(v) for v in media])
    if pages == 200:
        assert float(media.width) == pytest.approx(914.43, abs=0.5)


def test_spine_text_lies_on_the_spine_between_the_folds(kdp200):
    g = wrap_cover_geometry("kdp", None, 200, 6, 9)
    on_spine = [(c, box) for c, box in chars(kdp200)
                if g.back_fold_x * PT < (box[0] + box[2]) / 2 < g.front_fold_x * PT]
    assert "".join(c for c, _ in on_spine) == "TheMLOpsHandbookMay2025"
    for c, (left, bottom, right, top) in on_spine:
        assert left >= (g.back_fold_x + 0.0625) * PT and right <= (g.front_fold_x - 0.0625) * PT, c
        assert bottom >= (g.bleed + 0.25) * PT and top <= (g.bleed + 9 - 0.25) * PT, c
    # rotated: it runs down the spine (taller than wide), the title at the head
    title = [box for c, box in on_spine[:3]]
    assert title[0][1] > title[-1][1]


def test_no_spine_text_below_the_threshold(book, kdp48):
    g = wrap_cover_geometry("kdp", None, 48, 6, 9)
    assert not g.spine_text_allowed
    assert text_between(kdp48, g.back_fold_x, g.front_fold_x) == ""
    below = render(book, "kdp", 78)
    g78 = wrap_cover_geometry("kdp", None, 78, 6, 9)
    assert text_between(below, g78.back_fold_x - 0.01, g78.front_fold_x + 0.01) == ""


def test_barcode_zone_is_empty(kdp200):
    g = wrap_cover_geometry("kdp", None, 200, 6, 9)
    scale = 2.0  # 144 px per inch
    image = render_rgb(kdp200, scale)
    px = PT * scale

    def region(box):
        return image.crop((round(box.left * px), round(box.top * px), round(box.right * px), round(box.bottom * px)))

    background = image.getpixel((round(3 * px), round(0.05 * px)))  # top bleed of the back cover
    zone = region(g.barcode)
    colours = zone.getcolors(maxcolors=1 << 16)
    assert colours is not None
    assert all(max(abs(a - b) for a, b in zip(colour, background)) <= 2 for _, colour in colours), colours[:5]
    # ...while the same test sees the back cover's text above it
    text = region(wrapcover.Box(g.bleed + 0.7, g.bleed + 1, 4.5, 1.5)).getcolors(maxcolors=1 << 16)
    assert text is None or len(text) > 20
    # and no glyph at all in the zone
    x0, y0, x1, y1 = g.barcode.pdf_rect(g.total_height)
    assert not [c for c, (l, b, r, t) in chars(kdp200) if l < x1 and r > x0 and b < y1 and t > y0]


def test_front_panel_shows_title_and_review_date(book, kdp200):
    g = wrap_cover_geometry("kdp", None, 200, 6, 9)
    front = text_between(kdp200, g.front_fold_x, g.total_width)
    assert "TheMLOps" in front and "Handbook" in front
    assert "ReviewedMay2025" in front
    assert book.metadata.about.split()[0] not in front


def test_back_panel_shows_the_about_text(book, kdp200):
    g = wrap_cover_geometry("kdp", None, 200, 6, 9)
    back = text_between(kdp200, 0, g.back_fold_x)
    # (from the second word: Libertine sets "Th" as a ligature that extracts as a private-use glyph)
    assert "".join(book.metadata.about.split()[1:]) in back
    assert "Handbook" in back


def test_front_panel_is_the_epub_cover_design(book, kdp200):
    """Same markup and stylesheet: the title and date sit at the same places,
    in proportion, as on the EPUB's cover image."""
    from handbook_press.cover import render_cover_html, render_cover_pdf
    from handbook_press.html import RenderContext
    from handbook_press.timestamps import iso_timestamp

    context = RenderContext(book, None, iso_timestamp(book.metadata.review_date))
    html = render_cover_html(TEMPLATES, book.metadata, len(book.sections), context.timestamp)
    markup = re.search(r"<body>(.*)</body>", html, re.S).group(1).strip()
    assert markup == str(wrapcover.front_markup(TEMPLATES, book, context.timestamp))
    epub = render_cover_pdf(book.metadata, len(book.sections), context.timestamp, templates=TEMPLATES, styles=STYLES,
                            page_size_css="@page { size: 1600px 2560px; }")
    g = wrap_cover_geometry("kdp", None, 200, 6, 9)

    def where(pdf, letter, x0, width, height):
        """The first glyph ``letter`` right of x0, as fractions of the panel's width and height."""
        l, b, r, t = next(box for c, box in chars(pdf) if box[0] >= x0 * PT and c == letter)
        return (l - x0 * PT) / (width * PT), t / (height * PT)

    panel_w = g.total_width - g.front_fold_x
    for letter in ("T", "H", "R"):  # the title's lines, the review date
        want = where(epub, letter, 0, 1600 * 0.75 / PT, 2560 * 0.75 / PT)
        got = where(kdp200, letter, g.front_fold_x, panel_w, g.total_height)
        assert got == pytest.approx(want, abs=0.01), letter


def test_cmyk_only_no_transparency_project_fonts(kdp200):
    from handbook_press.preflight import preflight

    report = preflight(kdp200, "kdp", 6, 9)
    for check in ("colour-spaces", "transparency", "fonts", "annotations", "outlines", "interactive"):
        assert report.check(check).status == "pass", report.check(check)
    assert report.check("colour-spaces").message.endswith("DeviceCMYK")
    fonts = report.check("fonts").details
    assert fonts and all(re.search(r"\+Book-(Sans|Serif)", name) for name in fonts), fonts
    assert "OutputIntents" not in str(PdfReader(io.BytesIO(kdp200)).trailer["/Root"].keys())


def test_pdfx_profile_has_an_output_intent(ingram200):
    reader = PdfReader(io.BytesIO(ingram200))
    root = reader.trailer["/Root"]
    intents = root["/OutputIntents"]
    intent = intents[0].get_object()
    assert intent["/S"] == "/GTS_PDFX"
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 4
    assert reader.metadata["/GTS_PDFXVersion"] == "PDF/X-1a:2003"
    assert reader.metadata["/Trapped"] == "/False"
    assert reader.metadata["/CreationDate"].startswith("D:20250501")
    from handbook_press.preflight import preflight

    report = preflight(ingram200, "ingramspark", 6, 9)
    assert report.check("colour-spaces").status == "pass"  # DeviceCMYK only: no RGB, no ICC-based colour
    assert report.check("transparency").status == "pass"


def test_same_inputs_same_bytes(book, kdp200):
    assert render(book, "kdp", 200) == kdp200


def test_back_text_never_reaches_the_barcode_zone(book):
    """A long description first drops the section list from the back; one that
    cannot fit is refused rather than printed over the barcode."""
    import dataclasses

    meta = book.metadata
    longer = dataclasses.replace(book, metadata=dataclasses.replace(meta, about=" ".join([meta.about] * 3)))
    data = render(longer, "kdp", 200)
    g = wrap_cover_geometry("kdp", None, 200, 6, 9)
    back = text_between(data, 0, g.back_fold_x)
    assert back.count("".join(meta.about.split()[1:])) == 3 and "Inside" not in back
    x0, y0, x1, y1 = g.barcode.pdf_rect(g.total_height)
    assert not [c for c, (l, b, r, t) in chars(data) if l < x1 and r > x0 and b < y1 and t > y0]
    too_long = dataclasses.replace(book, metadata=dataclasses.replace(meta, about=" ".join([meta.about] * 8)))
    with pytest.raises(ValueError, match="barcode"):
        render(too_long, "kdp", 200)


def test_anything_placed_in_the_barcode_zone_is_refused(book, monkeypatch):
    """The layout check sees more than the test above: move the back's foot line
    into the zone and the cover is not written."""
    real = wrapcover.geometry_css

    def misplaced(g, spine_font_pt=None):
        return real(g, spine_font_pt) + ".back-foot { left: 4.5in; bottom: 0.6in; }\n"

    monkeypatch.setattr(wrapcover, "geometry_css", misplaced)
    with pytest.raises(ValueError, match="barcode"):
        render(book, "kdp", 200)


LONG_TITLE = ("The MLOps Handbook: A Practitioner's Guide to Building, Deploying, Monitoring and Governing "
              "Machine Learning Systems at Scale")


def test_a_long_title_is_set_smaller_to_fit_both_covers(book):
    """At the design's size it ran past the cover's foot: the EPUB's cover image showed half of it
    and no review date (the overflow is clipped), and the print cover failed with a traceback."""
    from dataclasses import replace

    from handbook_press.cover import TEXT_FOOT, render_cover_pdf

    long = replace(book, metadata=replace(book.metadata, title=LONG_TITLE))
    width, height = 1600 * 0.75, 2560 * 0.75  # pt
    epub = render_cover_pdf(long.metadata, len(long.sections), "2025-05-01T00:00:00Z", templates=TEMPLATES,
                            styles=STYLES, page_size_css="@page { size: 1600px 2560px; }")
    glyphs = chars(epub)
    assert "".join(LONG_TITLE.split()) + "ReviewedMay2025" == "".join(c for c, _ in glyphs)
    assert min(box[1] for _, box in glyphs) >= (1 - TEXT_FOOT) * height - 1  # above the tabs' foot
    assert max(box[2] for _, box in glyphs) <= width

    wrap = render(long, "kdp", 200)
    g = wrap_cover_geometry("kdp", None, 200, 6, 9)
    front = "".join(c for c, box in chars(wrap) if box[0] >= g.front_fold_x * PT)
    assert "".join(LONG_TITLE.split()) + "ReviewedMay2025" in front


def test_a_title_too_long_for_any_size_is_a_cover_error(book):
    from dataclasses import replace

    from handbook_press.cover import CoverTooFull

    long = replace(book, metadata=replace(book.metadata, title=" ".join([LONG_TITLE] * 5)))
    with pytest.raises(CoverTooFull, match="shorten it, or move part of it into `subtitle:`"):
        render(long, "kdp", 200)


@pytest.mark.parametrize("count", [5, 16, 40, 160])
def test_every_section_has_its_tab_on_the_cover_within_its_margins(book, count):
    """Sixteen tabs fit the fore-edge at the design's size; beyond that they ran off the cover."""
    from weasyprint import CSS, HTML

    from handbook_press.bookfonts import font_configuration
    from handbook_press.cover import boxes_of, classes_of, render_cover_html

    fonts = font_configuration()
    sheets = [CSS(string="@page { size: 1600px 2560px; }", font_config=fonts),
              CSS(filename=str(STYLES / "cover.css"), font_config=fonts)]
    html = render_cover_html(TEMPLATES, book.metadata, count, "2025-05-01T00:00:00Z")
    page = HTML(string=html, base_url=str(TEMPLATES) + "/").render(stylesheets=sheets, font_config=fonts).pages[0]
    tabs = [box for box in boxes_of(page._page_box) if "tab" in classes_of(box)]
    assert len(tabs) == count
    bottoms = [box.border_box_y() + box.border_height() for box in tabs]
    assert max(bottoms) <= 2560 * 0.94 + 0.5 and all(box.border_height() > 0 for box in tabs)
    assert bottoms == sorted(bottoms) and len(set(bottoms)) == count  # one below the other


def test_a_long_subtitle_is_set_smaller_with_the_title(book):
    """It overflowed the cover as a long title did, and the error then blamed an 18-character title;
    now it names the longest text (so for a long list of authors)."""
    from dataclasses import replace

    from handbook_press.cover import CoverTooFull, render_cover_pdf

    subtitle = " ".join(["A practitioner's guide to building and running ML systems"] * 4)
    meta = replace(book.metadata, subtitle=subtitle)
    epub = render_cover_pdf(meta, len(book.sections), "2025-05-01T00:00:00Z", templates=TEMPLATES, styles=STYLES,
                            page_size_css="@page { size: 1600px 2560px; }")
    assert "".join((meta.title + subtitle).split()) + "ReviewedMay2025" == "".join(c for c, _ in chars(epub))
    # Three times as long still fits, near half size: the title is set smaller until it fits or
    # reaches MIN_TITLE_SCALE, not for a fixed number of tries (eight gave up at 0.54 here).
    longer = replace(meta, subtitle=" ".join([subtitle] * 3))
    epub = render_cover_pdf(longer, len(book.sections), "2025-05-01T00:00:00Z", templates=TEMPLATES, styles=STYLES,
                            page_size_css="@page { size: 1600px 2560px; }")
    assert "".join((meta.title + longer.subtitle).split()) + "ReviewedMay2025" == "".join(c for c, _ in chars(epub))
    with pytest.raises(CoverTooFull, match=r"\(title 18, subtitle 1391 characters\): shorten the subtitle"):
        render_cover_pdf(replace(meta, subtitle=" ".join([subtitle] * 6)), len(book.sections), "2025-05-01T00:00:00Z",
                         templates=TEMPLATES, styles=STYLES, page_size_css="@page { size: 1600px 2560px; }")


def test_a_long_creator_is_named_when_the_cover_cannot_fit_it(book):
    from dataclasses import replace

    from handbook_press.cover import CoverTooFull, render_cover_pdf

    meta = replace(book.metadata, creator=", ".join(["Jane Doe", "John Smith", "Ada Lovelace", "Grace Hopper"] * 10))
    with pytest.raises(CoverTooFull, match=r"\(title 18, creator 498 characters\): shorten the creator"):
        render_cover_pdf(meta, len(book.sections), "2025-05-01T00:00:00Z", templates=TEMPLATES, styles=STYLES,
                         page_size_css="@page { size: 1600px 2560px; }")
