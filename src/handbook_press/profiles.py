"""Print profiles: what each printer asks of the interior PDF, as plain data.

Every number comes from /work/shared/docs/print-specs.md (sections 1-6 and 9);
a profile is one `PrintProfile` value in `PROFILES`, and nothing below is
specific to any one printer: the functions read the data.

Units are inches unless a name says otherwise (``_pt`` = PDF points, 72 to
the inch). Sides are given as top / outside / bottom / inside, the way book
pages are designed; on a recto (odd page) the inside is the left edge, on a
verso (even page) the right edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

from .pagegeometry import Geometry, css_inches, inches

POINTS_PER_INCH = 72.0

#: How a preflight check treats a property: accepted, reported as a warning,
#: or a failure.
Rule = Literal["allow", "warn", "forbid"]


@dataclass(frozen=True)
class Sides:
    """A length per side of a book page, in inches."""

    top: float
    outside: float
    bottom: float
    inside: float

    @classmethod
    def all(cls, value: float) -> "Sides":
        return cls(value, value, value, value)


@dataclass(frozen=True)
class Paper:
    """A paper (or ink and paper) option and its spine thickness.

    Spine width = pages * ``spine_per_page`` + ``spine_constant`` (Lulu adds
    0.06 in); ``spine_per_page`` is None where the printer publishes no figure.
    ``min_pages``/``max_pages`` of None fall back to the profile's range;
    ``large_trim_max`` lowers the maximum for some trims: (width, height, max).
    """

    name: str
    description: str
    spine_per_page: float | None
    spine_constant: float = 0.0
    min_pages: int | None = None
    max_pages: int | None = None
    large_trim_max: tuple[tuple[float, float, int], ...] = ()


@dataclass(frozen=True)
class PrintProfile:
    name: str
    description: str
    #: Bleed beyond the trim, per side (top, outside, bottom, inside).
    bleed: Sides
    #: WeasyPrint's ``pdf_variant`` value, or None when no PDF/X is asked for.
    pdf_variant: str | None
    #: GTS_PDFXVersion prefixes the printer accepts (empty when no PDF/X).
    accepted_pdfx: tuple[str, ...]
    #: Exact PDF/X versions the printer asks for; another year of an accepted
    #: flavour is a warning (Ingram names the 2001/2002 flavours, WeasyPrint writes 2003).
    preferred_pdfx: tuple[str, ...]
    #: Printer's marks (crop marks) wanted in the file.
    marks: bool
    allow_annotations: bool
    allow_outlines: bool
    even_pages: bool
    min_pages: int
    max_pages: int | None
    #: Minimum distance from the trim to any text, per side; the inside is
    #: raised further by the gutter table.
    min_margins: Sides
    #: Inside margin = gutter_base + the first band of gutter_table whose
    #: max_pages (None = no limit) is >= the page count.
    gutter_base: float
    gutter_table: tuple[tuple[int | None, float], ...]
    #: Paper options; the first is the default.
    papers: tuple[Paper, ...]
    #: DeviceRGB / RGB ICC / CalRGB colour in the content.
    rgb: Rule
    #: Device-independent colour: ICCBased, Lab, CalGray, CalRGB.
    device_independent: Rule
    #: Soft masks, constant alpha < 1, blend modes, transparency groups.
    transparency: Rule
    #: Text painted in anything but gray or pure K (C = M = Y = 0).
    non_k_text: Rule
    #: Subset fonts are reported as a warning (KDP prefers full fonts).
    prefer_full_fonts: bool
    #: Image resolution in pixels per inch: (fail below, warn below).
    image_ppi: tuple[int, int]
    max_file_mb: int | None
    cover_bleed: float
    sources: tuple[str, ...]
    #: ((least, most) width, (least, most) height) of the trims the printer makes,
    #: in inches; None where the specs publish no range.
    trim_range: tuple[tuple[float, float], tuple[float, float]] | None = None

    @property
    def default_paper(self) -> Paper | None:
        return self.papers[0] if self.papers else None

    @property
    def has_bleed(self) -> bool:
        b = self.bleed
        return any(v > 0 for v in (b.top, b.outside, b.bottom, b.inside))

    def paper(self, name: str | None = None) -> Paper:
        if not self.papers:
            raise ValueError(f"profile {self.name!r} lists no paper: ask the printer for the spine width")
        if name is None:
            return self.papers[0]
        for paper in self.papers:
            if paper.name == name:
                return paper
        known = ", ".join(p.name for p in self.papers)
        raise ValueError(f"profile {self.name!r} has no paper {name!r} (known: {known})")


# Trim sizes whose page-count maximum KDP lowers (print-specs.md §1).
_KDP_LARGE_TRIMS = ((8.5, 8.5), (8.5, 11.0), (8.25, 6.0), (8.25, 8.25), (8.27, 11.69))


def _caps(*maxima: int) -> tuple[tuple[float, float, int], ...]:
    return tuple((w, h, m) for (w, h), m in zip(_KDP_LARGE_TRIMS, maxima))


PROFILES: dict[str, PrintProfile] = {
    "kdp": PrintProfile(
        name="kdp",
        description="Amazon KDP paperback, B&W interior: bleed on top, bottom and outside only, no PDF/X",
        bleed=Sides(top=0.125, outside=0.125, bottom=0.125, inside=0.0),
        pdf_variant=None,
        accepted_pdfx=(),
        preferred_pdfx=(),
        marks=False,
        allow_annotations=False,
        allow_outlines=False,
        even_pages=True,
        min_pages=24,
        max_pages=828,
        min_margins=Sides(top=0.375, outside=0.375, bottom=0.375, inside=0.375),
        gutter_base=0.0,
        gutter_table=((150, 0.375), (300, 0.5), (500, 0.625), (700, 0.75), (None, 0.875)),
        papers=(
            Paper("white", "B&W, white paper", 0.002252,
                  large_trim_max=_caps(590, 590, 800, 800, 780)),
            Paper("cream", "B&W, cream paper", 0.0025, max_pages=776,
                  large_trim_max=_caps(550, 550, 750, 750, 730)),
            Paper("standard-colour", "standard colour, white paper", 0.002252, min_pages=72, max_pages=600),
            Paper("premium-colour", "premium colour, white paper", 0.002347,
                  large_trim_max=_caps(590, 590, 800, 800, 590)),
        ),
        rgb="warn",
        device_independent="allow",
        transparency="warn",
        non_k_text="allow",
        prefer_full_fonts=True,
        image_ppi=(200, 300),
        max_file_mb=650,
        cover_bleed=0.125,
        sources=("https://kdp.amazon.com/en_US/help/topic/GVBQ3CMEQW3W2VL6",
                 "https://kdp.amazon.com/en_US/help/topic/G201834180",
                 "https://kdp.amazon.com/en_US/help/topic/G201953020"),
        trim_range=((4.0, 8.5), (6.0, 11.69)),  # custom trims, print-specs.md §1
    ),
    "ingramspark": PrintProfile(
        name="ingramspark",
        description="IngramSpark / Lightning Source, B&W interior: PDF/X-1a, bleed all round, text 100% K",
        bleed=Sides.all(0.125),
        pdf_variant="pdf/x-1a",
        accepted_pdfx=("PDF/X-1a", "PDF/X-3"),
        preferred_pdfx=("PDF/X-1a:2001", "PDF/X-3:2002"),
        marks=False,
        allow_annotations=False,
        allow_outlines=True,
        even_pages=True,
        min_pages=18,
        max_pages=None,
        min_margins=Sides.all(0.5),
        gutter_base=0.0,
        gutter_table=((None, 0.5),),
        papers=(
            Paper("white", "50 lb white (unofficial caliper)", 0.002110),
            Paper("standard-colour", "standard colour, 50 lb (unofficial caliper)", 0.002110),
            Paper("premium-colour", "premium colour, 70 lb (unofficial caliper)", 0.002720),
        ),
        rgb="forbid",
        device_independent="forbid",
        transparency="forbid",
        non_k_text="forbid",
        prefer_full_fonts=False,
        image_ppi=(200, 300),
        max_file_mb=None,
        cover_bleed=0.125,
        sources=("https://www.ingramspark.com/blog/file-requirements-for-print-books",
                 "https://help.lightningsource.com/hc/en-us/articles/"
                 "5294072525197-Color-Recommendations-for-Cover-and-Interior-Files"),
    ),
    "lulu": PrintProfile(
        name="lulu",
        description="Lulu paperback: bleed all round, 0.5 in safety margin plus a gutter by page count",
        bleed=Sides.all(0.125),
        pdf_variant=None,
        accepted_pdfx=(),
        preferred_pdfx=(),
        marks=False,
        allow_annotations=True,
        allow_outlines=True,
        even_pages=False,
        min_pages=32,
        max_pages=None,
        min_margins=Sides.all(0.5),
        gutter_base=0.5,
        gutter_table=((60, 0.0), (150, 0.125), (400, 0.5), (600, 0.625), (None, 0.75)),
        papers=(Paper("paperback", "perfect bound (pages / 444 + 0.06 in)", 1 / 444, spine_constant=0.06),),
        rgb="warn",
        device_independent="allow",
        transparency="forbid",
        non_k_text="allow",
        prefer_full_fonts=False,
        image_ppi=(200, 300),
        max_file_mb=None,
        cover_bleed=0.125,
        sources=("https://help.lulu.com/en/support/solutions/articles/64000255584",
                 "https://assets.lulu.com/media/guides/en/lulu-book-creation-guide.pdf",
                 "https://help.api.lulu.com/en/support/solutions/articles/64000254616-how-is-spine-width-calculated-"),
    ),
    "offset": PrintProfile(
        name="offset",
        description="Commercial offset printer: PDF/X-4, crop marks, bleed all round (margins are our choice)",
        bleed=Sides.all(0.125),
        pdf_variant="pdf/x-4",
        accepted_pdfx=("PDF/X-4",),
        preferred_pdfx=(),
        marks=True,
        allow_annotations=False,
        allow_outlines=True,
        even_pages=True,
        min_pages=4,
        max_pages=None,
        min_margins=Sides.all(0.5),
        gutter_base=0.0,
        gutter_table=((None, 0.5),),
        papers=(),
        rgb="forbid",
        device_independent="allow",
        transparency="allow",
        non_k_text="warn",
        prefer_full_fonts=False,
        image_ppi=(200, 300),
        max_file_mb=None,
        cover_bleed=0.125,
        sources=("http://www.pdf-x.com/pdfx_123_1.php",),
    ),
}

DEFAULT_PROFILE = "kdp"

def _design_margins() -> Sides:
    design = Geometry(0, 0)
    return Sides(top=design.top, outside=design.outside, bottom=design.bottom, inside=design.inside)


#: The book's designed page margins (top, outside, bottom, inside), from
#: pagegeometry.Geometry. `css_for` never makes a margin smaller than these:
#: it only widens what a printer needs.
DESIGN_MARGINS = _design_margins()


def get_profile(profile: "PrintProfile | str | None") -> PrintProfile:
    if isinstance(profile, PrintProfile):
        return profile
    name = DEFAULT_PROFILE if profile is None else profile
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown print profile {name!r} (known: {', '.join(PROFILES)})") from None


# Lengths are read and written by pagegeometry, for every module alike.
to_inches = inches


def _trim(trim: "Sequence[float | str]") -> tuple[float, float]:
    width, height = trim
    return to_inches(width), to_inches(height)


def gutter_for(profile: "PrintProfile | str", pages: int) -> float:
    """The minimum inside margin (in) for a book of `pages` pages.

    Bands are inclusive at their upper bound (KDP 150 pp -> 0.375, 151 -> 0.5);
    a count past the last bounded band takes the last band.
    """
    profile = get_profile(profile)
    if pages < 1:
        raise ValueError("a book has at least one page")
    addon = profile.gutter_table[-1][1]
    for max_pages, addon_in in profile.gutter_table:
        if max_pages is None or pages <= max_pages:
            addon = addon_in
            break
    return round(max(profile.gutter_base + addon, profile.min_margins.inside), 6)


def page_range(profile: "PrintProfile | str", paper: str | None = None,
               trim: "Sequence[float | str] | None" = None) -> tuple[int, int | None]:
    """(minimum, maximum or None) page count for a profile, paper and trim."""
    profile = get_profile(profile)
    low, high = profile.min_pages, profile.max_pages
    if profile.papers:
        chosen = profile.paper(paper)
        low = chosen.min_pages if chosen.min_pages is not None else low
        high = chosen.max_pages if chosen.max_pages is not None else high
        if trim is not None:
            width, height = _trim(trim)
            for w, h, cap in chosen.large_trim_max:
                if abs(w - width) < 0.005 and abs(h - height) < 0.005:
                    high = cap if high is None else min(high, cap)
    elif paper is not None:
        profile.paper(paper)  # raises: no paper options
    return low, high


def page_box_size(profile: "PrintProfile | str", trim_w_in: float, trim_h_in: float) -> tuple[float, float]:
    """The MediaBox (trim + bleed) in points: KDP 6x9 -> (441, 666)."""
    profile = get_profile(profile)
    b = profile.bleed
    width = trim_w_in + b.outside + b.inside
    height = trim_h_in + b.top + b.bottom
    return round(width * POINTS_PER_INCH, 4), round(height * POINTS_PER_INCH, 4)


def spine_width(profile: "PrintProfile | str", paper: str | None, pages: int) -> float:
    """Spine width in inches for `pages` interior pages on `paper` (None = default)."""
    chosen = get_profile(profile).paper(paper)
    if chosen.spine_per_page is None:
        raise ValueError(f"no spine figure for paper {chosen.name!r}: use the printer's cover template")
    return round(pages * chosen.spine_per_page + chosen.spine_constant, 6)


def cover_size(profile: "PrintProfile | str", paper: str | None, pages: int,
               trim_w_in: float, trim_h_in: float) -> tuple[float, float]:
    """One-piece cover (back + spine + front + bleed) in inches: (2W + spine + 2 bleed, H + 2 bleed)."""
    profile = get_profile(profile)
    spine = spine_width(profile, paper, pages)
    bleed = profile.cover_bleed
    return round(2 * trim_w_in + spine + 2 * bleed, 6), round(trim_h_in + 2 * bleed, 6)


#: How far (in) the text block stays inside the printer's safety margins. Glyph
#: ink reaches past the text block's edge (Libertine's f by 0.9 pt, j by 0.5 pt):
#: a text block cut exactly at the safety line puts that ink over it, and the
#: printer's preflight (and ours) refuses the interior.
INK_CLEARANCE = 0.0625


def text_block_margins(profile: "PrintProfile | str", pages: int) -> Sides:
    """The least margins around the text block for `pages` pages: the profile's
    minimums and gutter, plus INK_CLEARANCE on every side."""
    profile = get_profile(profile)
    minimum = profile.min_margins
    return Sides(
        top=minimum.top + INK_CLEARANCE,
        outside=minimum.outside + INK_CLEARANCE,
        bottom=minimum.bottom + INK_CLEARANCE,
        inside=max(minimum.inside, gutter_for(profile, pages)) + INK_CLEARANCE,
    )


def page_margins(profile: "PrintProfile | str", pages: int, design: Sides = DESIGN_MARGINS) -> Sides:
    """The margins `css_for` sets: the design's, widened to `text_block_margins`."""
    least = text_block_margins(profile, pages)
    return Sides(
        top=max(design.top, least.top),
        outside=max(design.outside, least.outside),
        bottom=max(design.bottom, least.bottom),
        inside=max(design.inside, least.inside),
    )


def css_for(profile: "PrintProfile | str", pages: int, trim: "Sequence[float | str]",
            design: Sides = DESIGN_MARGINS) -> str:
    """`@page` rules for the profile: trim size, bleed, mirrored margins, marks.

    Appended after styles/print.css, so it sets page geometry only. `pages` is
    the final page count (the gutter depends on it); `trim` is (width, height)
    in inches or as CSS lengths. Right pages are rectos (gutter on the left).
    """
    profile = get_profile(profile)
    width, height = _trim(trim)
    margins = page_margins(profile, pages, design)
    b = profile.bleed
    marks = "crop" if profile.marks else "none"
    right_bleed = " ".join(css_inches(v) for v in (b.top, b.outside, b.bottom, b.inside))
    left_bleed = " ".join(css_inches(v) for v in (b.top, b.inside, b.bottom, b.outside))
    return (
        f"/* print profile {profile.name}: {pages} pages, trim {css_inches(width)} x {css_inches(height)} */\n"
        f"@page {{ size: {css_inches(width)} {css_inches(height)}; marks: {marks}; "
        f"margin-top: {css_inches(margins.top)}; margin-bottom: {css_inches(margins.bottom)}; }}\n"
        f"@page :right {{ bleed: {right_bleed}; "
        f"margin-left: {css_inches(margins.inside)}; margin-right: {css_inches(margins.outside)}; }}\n"
        f"@page :left {{ bleed: {left_bleed}; "
        f"margin-left: {css_inches(margins.outside)}; margin-right: {css_inches(margins.inside)}; }}\n"
    )
