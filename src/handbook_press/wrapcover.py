"""The wrap cover for print-on-demand: back, spine and front on one PDF page.

The page is the whole printed sheet, bleed included::

    |b| trim_w (back) | spine | trim_w (front) |b|      height = b + trim_h + b

sized from the *final* interior page count and the profile's paper
(print-specs.md §2-4 and §9, through ``profiles.spine_width``/``cover_size``).
The PDF's MediaBox is that sheet; its TrimBox is the trimmed spread (the sheet
minus the bleed on all four sides) and its BleedBox the sheet.

The front panel is the front cover design of ``templates/cover/front.html.j2``
and ``styles/cover.css`` (the same markup the EPUB's cover image is rendered
from), placed in the front panel; ``styles/wrap.css`` only swaps its screen
colours for CMYK inks and styles the back and the spine. The positions (folds,
spine text box, barcode zone, safe margins) are computed here and handed to
WeasyPrint as a generated stylesheet.

Rules kept (print-specs.md §2, §4, §9):

- spine text only from the service's page-count threshold (KDP >= 80 pages,
  IngramSpark >= 48, Lulu > 80), kept clear of each fold by 0.0625 in (KDP,
  IngramSpark's tolerance) or 0.125 in (Lulu), and only when the spine is thick
  enough to set it at a legible size (``MIN_SPINE_FONT_PT``);
- the barcode zone (2 x 1.2 in, lower right of the back cover, 0.25 in from the
  spine fold and the bottom trim) is left empty: nothing is drawn there but the
  background, which is checked on the laid-out boxes before the PDF is written;
- live content >= 0.25 in from the outer trim (the design keeps more);
- colours are ``device-cmyk()`` with a total ink coverage under 240 %, and PDF/X
  profiles get ``styles/icc/artifex-swop-cmyk.icc`` as the output intent.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from .cover import CoverTooFull, classes_of, front_text_overflow, front_too_full, smaller_title
from .model import Book
from .pagegeometry import css_inches
from .profiles import POINTS_PER_INCH, Paper, PrintProfile, cover_size, get_profile, page_range, spine_width

#: The ICC profile (in styles/) written as the output intent of PDF/X covers.
OUTPUT_INTENT_ICC = "icc/artifex-swop-cmyk.icc"

#: Live content is kept at least this far from the outer trim (KDP, Lulu, IngramSpark covers).
SAFE_MARGIN = 0.25

#: The smallest type set on a spine; thinner spines carry no text.
MIN_SPINE_FONT_PT = 5.0
#: The largest spine type.
MAX_SPINE_FONT_PT = 13.0
#: Spine type size as a fraction of the spine text box's height (the glyphs'
#: ascent plus descent stays inside the box).
SPINE_FONT_RATIO = 0.7
#: Distance of the spine text from the head and foot trims.
SPINE_END_MARGIN = 0.75

CSS_PX_PER_INCH = 96.0
#: Space kept between the back cover's text and the barcode zone above it.
BARCODE_GAP = 0.2


@dataclass(frozen=True)
class SpineRule:
    """When a service accepts text on the spine, and how far from the folds."""

    min_pages: int  # spine text allowed from this page count on
    fold_clearance: float  # in, between the spine text and each fold


#: print-specs.md §2 (KDP: p > 79, 0.0625 in), §3 (IngramSpark: from 48 pages;
#: 1/16 in tolerance), §4 (Lulu: not at <= 80 pages, 0.125 in).
SPINE_RULES: dict[str, SpineRule] = {
    "kdp": SpineRule(80, 0.0625),
    "ingramspark": SpineRule(48, 0.0625),
    "lulu": SpineRule(81, 0.125),
}
#: For a profile without published figures: the strictest of the above.
DEFAULT_SPINE_RULE = SpineRule(81, 0.125)


@dataclass(frozen=True)
class BarcodeRule:
    width: float
    height: float
    clearance: float  # from the spine fold and from the bottom trim


#: KDP prints its barcode 2 x 1.2 in, lower right of the back cover, >= 0.25 in
#: from spine and trim (print-specs.md §2); Lulu asks for the same box (§4).
BARCODE_RULES: dict[str, BarcodeRule] = {"kdp": BarcodeRule(2.0, 1.2, 0.25), "lulu": BarcodeRule(2.0, 1.2, 0.25)}
DEFAULT_BARCODE_RULE = BarcodeRule(2.0, 1.2, 0.25)


@dataclass(frozen=True)
class Box:
    """A rectangle in inches, measured from the top-left corner of the sheet (bleed included)."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def intersects(self, other: "Box", tolerance: float = 0.0) -> bool:
        return (self.left < other.right - tolerance and other.left < self.right - tolerance
                and self.top < other.bottom - tolerance and other.top < self.bottom - tolerance)

    def contains(self, other: "Box", tolerance: float = 0.0) -> bool:
        return (other.left >= self.left - tolerance and other.right <= self.right + tolerance
                and other.top >= self.top - tolerance and other.bottom <= self.bottom + tolerance)

    def pdf_rect(self, sheet_height: float) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in PDF points, origin at the bottom-left corner of the sheet."""
        k = POINTS_PER_INCH
        return (round(self.left * k, 4), round((sheet_height - self.bottom) * k, 4),
                round(self.right * k, 4), round((sheet_height - self.top) * k, 4))


@dataclass(frozen=True)
class CoverGeometry:
    """The wrap cover's numbers, in inches; x from the sheet's left edge, y from its top edge."""

    profile: str
    paper: str
    pages: int
    trim_width: float
    trim_height: float
    bleed: float
    spine_width: float
    total_width: float  # bleed + trim_width + spine_width + trim_width + bleed
    total_height: float  # bleed + trim_height + bleed
    back_fold_x: float  # the fold between back cover and spine
    front_fold_x: float  # the fold between spine and front cover
    spine_text_allowed: bool  # the service accepts spine text at this page count
    spine_text: bool  # allowed, and the spine is thick enough for legible type
    spine_text_min_pages: int
    spine_fold_clearance: float
    spine_font_pt: float  # 0 when there is no spine text
    barcode: Box  # kept empty
    safe_margin: float = SAFE_MARGIN

    @property
    def width_pt(self) -> float:
        return round(self.total_width * POINTS_PER_INCH, 4)

    @property
    def height_pt(self) -> float:
        return round(self.total_height * POINTS_PER_INCH, 4)

    @property
    def sheet(self) -> Box:
        return Box(0.0, 0.0, self.total_width, self.total_height)

    @property
    def trim(self) -> Box:
        """The trimmed spread: the sheet minus the bleed on every side."""
        b = self.bleed
        return Box(b, b, self.total_width - 2 * b, self.total_height - 2 * b)

    @property
    def back(self) -> Box:
        """The back cover as trimmed."""
        return Box(self.bleed, self.bleed, self.trim_width, self.trim_height)

    @property
    def spine(self) -> Box:
        return Box(self.back_fold_x, self.bleed, self.spine_width, self.trim_height)

    @property
    def front(self) -> Box:
        """The front cover as trimmed."""
        return Box(self.front_fold_x, self.bleed, self.trim_width, self.trim_height)

    @property
    def spine_text_box(self) -> Box:
        """Where spine text may go: the spine less the fold clearance and the end margins."""
        clearance = self.spine_fold_clearance
        end = max(SPINE_END_MARGIN, self.safe_margin)
        return Box(self.back_fold_x + clearance, self.bleed + end,
                   max(self.spine_width - 2 * clearance, 0.0), self.trim_height - 2 * end)

    @property
    def safe_area(self) -> Box:
        """Inside the outer trim by the safe margin (live content stays in here)."""
        m = self.safe_margin
        t = self.trim
        return Box(t.left + m, t.top + m, t.width - 2 * m, t.height - 2 * m)

    def to_dict(self) -> dict:
        return {
            "profile": self.profile, "paper": self.paper, "pages": self.pages,
            "trim_in": [self.trim_width, self.trim_height], "bleed_in": self.bleed,
            "spine_width_in": self.spine_width,
            "cover_in": [self.total_width, self.total_height],
            "cover_pt": [self.width_pt, self.height_pt],
            "folds_x_in": [self.back_fold_x, self.front_fold_x],
            "spine_text": self.spine_text, "spine_text_allowed": self.spine_text_allowed,
            "spine_text_min_pages": self.spine_text_min_pages,
            "spine_fold_clearance_in": self.spine_fold_clearance,
            "barcode_in": {"left": self.barcode.left, "top": self.barcode.top,
                           "width": self.barcode.width, "height": self.barcode.height},
        }


def _paper(profile: PrintProfile, paper: "str | Paper | None") -> Paper:
    return paper if isinstance(paper, Paper) else profile.paper(paper)


def wrap_cover_geometry(profile: "PrintProfile | str", paper: "str | Paper | None", pages: int,
                        trim_w_in: float, trim_h_in: float) -> CoverGeometry:
    """The wrap cover for an interior of ``pages`` pages (its final count) on ``paper``.

    ``paper`` is one of the profile's paper names (None: its default) or a
    :class:`Paper` (for a printer that gives its own caliper). Raises
    ValueError for a page count the service would refuse.
    """
    profile = get_profile(profile)
    chosen = _paper(profile, paper)
    if pages < 1:
        raise ValueError("a book has at least one page")
    if profile.even_pages and pages % 2:
        raise ValueError(f"{profile.name} binds an even number of pages, not {pages}: "
                         "size the cover from the final interior, blank verso included")
    if not isinstance(paper, Paper):
        low, high = page_range(profile, chosen.name, (trim_w_in, trim_h_in))
        if pages < low or (high is not None and pages > high):
            raise ValueError(f"{profile.name} on {chosen.name} paper takes {low}-{high or 'any'} pages, not {pages}")
        spine = spine_width(profile, chosen.name, pages)
        total_w, total_h = cover_size(profile, chosen.name, pages, trim_w_in, trim_h_in)
    else:
        if chosen.spine_per_page is None:
            raise ValueError(f"no spine figure for paper {chosen.name!r}")
        spine = round(pages * chosen.spine_per_page + chosen.spine_constant, 6)
        total_w = round(2 * trim_w_in + spine + 2 * profile.cover_bleed, 6)
        total_h = round(trim_h_in + 2 * profile.cover_bleed, 6)
    bleed = profile.cover_bleed
    rule = SPINE_RULES.get(profile.name, DEFAULT_SPINE_RULE)
    allowed = pages >= rule.min_pages
    box_height_pt = (spine - 2 * rule.fold_clearance) * POINTS_PER_INCH
    font_pt = round(min(MAX_SPINE_FONT_PT, box_height_pt * SPINE_FONT_RATIO), 2)
    with_text = allowed and font_pt >= MIN_SPINE_FONT_PT
    back_fold = round(bleed + trim_w_in, 6)
    barcode = BARCODE_RULES.get(profile.name, DEFAULT_BARCODE_RULE)
    zone = Box(round(back_fold - barcode.clearance - barcode.width, 6),
               round(bleed + trim_h_in - barcode.clearance - barcode.height, 6), barcode.width, barcode.height)
    return CoverGeometry(
        profile=profile.name, paper=chosen.name, pages=pages, trim_width=trim_w_in, trim_height=trim_h_in,
        bleed=bleed, spine_width=spine, total_width=total_w, total_height=total_h,
        back_fold_x=back_fold, front_fold_x=round(back_fold + spine, 6),
        spine_text_allowed=allowed, spine_text=with_text, spine_text_min_pages=rule.min_pages,
        spine_fold_clearance=rule.fold_clearance, spine_font_pt=font_pt if with_text else 0.0, barcode=zone)


# --- layout -----------------------------------------------------------------


def _in(value: float) -> str:
    return css_inches(value, digits=5)


def geometry_css(g: CoverGeometry, spine_font_pt: float | None = None) -> str:
    """Page size and panel positions for styles/wrap.css, in inches from the sheet's corner."""
    back_w = g.back_fold_x  # bleed + trim
    front_w = g.total_width - g.front_fold_x  # trim + bleed
    text = g.spine_text_box
    # The spine text is laid out along a horizontal box as long as the spine
    # and as high as the spine is thick, then turned a quarter turn clockwise
    # around its centre: it reads from head to foot (the US and UK convention).
    # (Positions inside a panel are relative to the panel; panels start at the sheet's top.)
    centre_x = g.spine_width / 2
    centre_y = text.top + text.height / 2
    font = spine_font_pt if spine_font_pt is not None else g.spine_font_pt
    # Back cover text: clear of the fore-edge tabs, the spine fold and the barcode zone.
    back_left = g.bleed + max(0.7, g.safe_margin)
    back_right = g.back_fold_x - max(0.6, g.safe_margin)
    return "\n".join([
        f"/* wrap cover: {g.profile}, {g.paper}, {g.pages} pages, spine {g.spine_width:.4f} in */",
        f"@page {{ size: {_in(g.total_width)} {_in(g.total_height)}; margin: 0; }}",
        f".panel.back {{ left: 0; width: {_in(back_w)}; }}",
        f".panel.spine {{ left: {_in(g.back_fold_x)}; width: {_in(g.spine_width)}; }}",
        f".panel.front {{ left: {_in(g.front_fold_x)}; width: {_in(front_w)}; }}",
        f".back-text {{ left: {_in(back_left)}; width: {_in(back_right - back_left)}; "
        f"top: {_in(g.bleed + 0.9)}; }}",
        f".back-foot {{ left: {_in(back_left)}; width: {_in(max(g.barcode.left - 0.25 - back_left, 0.5))}; "
        f"bottom: {_in(g.bleed + 0.45)}; }}",
        f".spine-text {{ left: {_in(centre_x - text.height / 2)}; top: {_in(centre_y - text.width / 2)}; "
        f"width: {_in(text.height)}; height: {_in(text.width)}; line-height: {_in(text.width)}; "
        f"font-size: {font:.2f}pt; }}",
        "",
    ])


def front_markup(templates: Path, book: Book, timestamp: str, title_scale: float = 1.0) -> Markup:
    """The body of the front cover template: the very markup the EPUB cover is drawn from."""
    from .cover import render_cover_html

    page = render_cover_html(templates, book.metadata, len(book.sections), timestamp, title_scale)
    match = re.search(r"<body[^>]*>(.*)</body>", page, re.S)
    if match is None:
        raise ValueError("templates/cover/front.html.j2 has no <body>")
    return Markup(match.group(1).strip())


def render_wrap_html(book: Book, geometry: CoverGeometry, *, templates: Path, timestamp: str,
                     contents: bool = True, title_scale: float = 1.0) -> str:
    """The wrap cover as HTML; ``contents`` lists the sections on the back; ``title_scale``
    sets a long title smaller on the front (`cover.fit_title`)."""
    from .html import environment

    return environment(templates).get_template("cover/wrap.html.j2").render(
        meta=book.metadata, sections=book.sections, geometry=geometry, timestamp=timestamp,
        front=front_markup(templates, book, timestamp, title_scale), show_contents=contents)


def _draws(box) -> bool:
    """Whether the box itself puts ink on the page (text, an image, a border or a background)."""
    from weasyprint.formatting_structure import boxes

    if isinstance(box, (boxes.TextBox, boxes.ReplacedBox)):
        return True
    style = getattr(box, "style", None)
    if style is None or isinstance(box, boxes.PageBox):
        return False
    if any(getattr(box, f"border_{side}_width", 0) for side in ("top", "right", "bottom", "left")):
        return True
    colour = style["background_color"]
    return bool(colour is not None and getattr(colour, "alpha", 1) > 0)


def _rect(box) -> Box:
    k = CSS_PX_PER_INCH
    return Box(box.border_box_x() / k, box.border_box_y() / k, box.border_width() / k, box.border_height() / k)


def _walk(box, transformed: bool = False):
    """(box, inside a transformed box?) for every box of the page."""
    transformed = transformed or bool(getattr(box, "style", None) and box.style["transform"])
    yield box, transformed
    for child in getattr(box, "children", ()):
        yield from _walk(child, transformed)


def _rotated_quarter(rect: Box, origin: tuple[float, float]) -> Box:
    """``rect`` turned 90 degrees clockwise around ``origin`` (y grows downwards)."""
    ox, oy = origin
    corners = [(ox - (y - oy), oy + (x - ox)) for x in (rect.left, rect.right) for y in (rect.top, rect.bottom)]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


@dataclass
class _LayoutCheck:
    in_barcode: list[str]
    spine_overflow: float  # in: how much longer the spine text is than its box (0 if it fits)
    outside_safe: list[str]
    off_spine: list[str]  # spine text closer to a fold than the service allows


def _check_layout(page_box, g: CoverGeometry) -> _LayoutCheck:
    in_barcode, outside_safe, off_spine = [], [], []
    spine_overflow = 0.0
    spine_box = None
    safe = g.safe_area
    for box, transformed in _walk(page_box):
        classes = classes_of(box)
        if "spine-text" in classes:
            spine_box = box
        if "back-text" in classes:
            # The back text ends above the barcode zone (a column running down
            # beside the zone would crowd it and the foot line).
            bottom = _rect(box).bottom
            if bottom > g.barcode.top - BARCODE_GAP:
                in_barcode.append(f"the back text ends {bottom:.2f} in from the top, "
                                  f"the barcode zone starts at {g.barcode.top:.2f} in")
        if not _draws(box):
            continue
        rect = _rect(box)
        what = type(box).__name__ + (f" {getattr(box, 'text', '')!r}" if hasattr(box, "text") else "")
        if transformed:
            if spine_box is None:
                continue
            frame = _rect(spine_box)
            origin = (frame.left + frame.width / 2, frame.top + frame.height / 2)
            spine_overflow = max(spine_overflow, frame.left - rect.left, rect.right - frame.right)
            rect = _rotated_quarter(rect, origin)
            box_ = g.spine_text_box
            if rect.left < box_.left - 1e-6 or rect.right > box_.right + 1e-6:
                off_spine.append(what)
        if rect.intersects(g.barcode, tolerance=1e-6):
            in_barcode.append(what)
        if hasattr(box, "text") and not safe.contains(rect, tolerance=1e-6):
            centre = rect.left + rect.width / 2
            panel = "back" if centre < g.back_fold_x else "spine" if centre < g.front_fold_x else "front"
            outside_safe.append(f"{what} on the {panel} cover")
    return _LayoutCheck(in_barcode, spine_overflow, outside_safe, off_spine)


def _finisher(g: CoverGeometry, book: Book):
    import pydyf

    trim = g.trim.pdf_rect(g.total_height)
    sheet = g.sheet.pdf_rect(g.total_height)
    document_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{book.metadata.identifier}#wrap-cover")

    def finish(document, pdf):
        for obj in pdf.objects:
            if isinstance(obj, dict) and obj.get("Type") == "/Page":
                obj["MediaBox"] = pydyf.Array(sheet)
                obj["TrimBox"] = pydyf.Array(trim)
                obj["BleedBox"] = pydyf.Array(sheet)
                obj.pop("Annots", None)
            elif isinstance(obj, pydyf.Stream) and obj.extra.get("Type") == "/Metadata":
                # PDF/X-4 writes a random xmpMM:DocumentID: make it a function of the book.
                obj.stream = [re.sub(rb"xmp\.did:[0-9a-f-]{36}", f"xmp.did:{document_id}".encode(), part)
                              if isinstance(part, bytes) else part for part in obj.stream]
        pdf.catalog.pop("Outlines", None)
        pdf.catalog.pop("PageMode", None)

    return finish


def render_wrap_cover(book: Book, profile: "PrintProfile | str", pages: int, *, templates: Path, styles: Path,
                      paper: "str | Paper | None" = None) -> bytes:
    """The wrap cover PDF for ``book`` printed by ``profile`` with ``pages`` interior pages.

    One page: MediaBox and BleedBox = the sheet, TrimBox = the trimmed spread.
    Same inputs (and SOURCE_DATE_EPOCH unset, or the same) give the same bytes.
    Raises ValueError when the design cannot keep the rules (text in the
    barcode zone or outside the safe area, spine text too long).
    """
    from weasyprint import CSS, HTML

    from .build import source_date_epoch_set
    from .pagegeometry import inches
    from .bookfonts import font_configuration
    from .pdf import ConfinedURLFetcher, pdf_identifier, weasyprint_warnings
    from .timestamps import iso_timestamp, source_date_epoch

    profile = get_profile(profile)
    meta = book.metadata
    g = wrap_cover_geometry(profile, paper, pages, inches(meta.trim_width), inches(meta.trim_height))
    timestamp = iso_timestamp(meta.review_date)
    templates, styles = Path(templates), Path(styles)
    fetcher = ConfinedURLFetcher([templates, styles])
    font_config = font_configuration()
    color_profiles: dict = {}

    def sheet(**source):
        return CSS(**source, font_config=font_config, url_fetcher=fetcher, color_profiles=color_profiles)

    base_sheets = [sheet(filename=str(styles / "fonts.css")), sheet(filename=str(styles / "cover.css")),
                   sheet(filename=str(styles / "wrap.css"))]
    if profile.pdf_variant:
        base_sheets.append(sheet(string=f'@color-profile device-cmyk {{ src: url("{OUTPUT_INTENT_ICC}"); '
                                 "components: cyan, magenta, yellow, black; }",
                                 base_url=str(styles.resolve()) + "/"))

    spine_font = g.spine_font_pt
    with source_date_epoch_set(source_date_epoch(meta.review_date)), weasyprint_warnings() as warnings:
        # Lay out with the sections listed on the back; drop the list if it
        # would reach the barcode zone, and set the spine smaller if the title
        # is longer than the spine.
        contents, shrunk, title_scale = True, False, 1.0
        while True:
            html = render_wrap_html(book, g, templates=templates, timestamp=timestamp, contents=contents,
                                    title_scale=title_scale)
            document = HTML(string=html, base_url=str(templates.resolve()) + "/", url_fetcher=fetcher).render(
                font_config=font_config, stylesheets=[*base_sheets, sheet(string=geometry_css(g, spine_font))],
                color_profiles=color_profiles)
            if len(document.pages) != 1:
                raise CoverTooFull(f"the wrap cover laid out on {len(document.pages)} pages, not one: shorten "
                                   "`about` (the back cover's text)")
            # A long title is set smaller on the front, as on the EPUB's cover.
            overflow, title_height = front_text_overflow(document.pages[0]._page_box)
            if overflow > 1e-6:
                title_scale = smaller_title(title_scale, overflow, title_height)
                if title_scale is None:
                    raise front_too_full(book.metadata)
                continue
            check = _check_layout(document.pages[0]._page_box, g)
            if check.spine_overflow > 1e-6 and not shrunk:
                shrunk = True
                length = g.spine_text_box.height
                smaller = spine_font * length / (length + check.spine_overflow) * 0.97
                if smaller >= MIN_SPINE_FONT_PT:
                    spine_font = smaller
                    continue
            if check.in_barcode and contents:
                contents = False
                continue
            break
        if check.spine_overflow > 1e-6:
            raise CoverTooFull(f"the spine text is {check.spine_overflow:.2f} in longer than the spine even at "
                               f"{MIN_SPINE_FONT_PT:g} pt: shorten the title")
        if check.off_spine:
            raise CoverTooFull(f"spine text closer than {g.spine_fold_clearance} in to a fold: "
                               + ", ".join(check.off_spine[:3]) + " (a book this thin has little spine)")
        if check.in_barcode:
            raise CoverTooFull("the back cover text reaches the barcode zone: shorten `about` "
                               f"({', '.join(check.in_barcode[:3])})")
        if check.outside_safe:
            raise CoverTooFull(f"cover text closer than {g.safe_margin} in to the trim: "
                               + ", ".join(check.outside_safe[:3]) + "; shorten the title, subtitle or `about`")
        data = document.write_pdf(pdf_identifier=pdf_identifier(book, "#wrap-cover"), pdf_variant=profile.pdf_variant,
                                  full_fonts=True, pdf_tags=False, finisher=_finisher(g, book))
    if fetcher.refused:
        raise ValueError(f"the cover asked for files outside the project: {fetcher.refused}")
    if warnings:
        raise ValueError(f"cover layout problems: {warnings}")
    return data
