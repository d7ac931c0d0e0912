"""The page geometry of the printed book, as numbers, and the CSS it gives.

Typography lives in styles/print.css; the numbers that printers check
(trim, margins, gutter, bleed, thumb-tab positions) live here, so that the
layout, the print profiles and preflight all use the same values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .model import Book

LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(in|mm|cm|pt|px)?\s*$")
PER_INCH = {"in": 1.0, None: 1.0, "mm": 25.4, "cm": 2.54, "pt": 72.0, "px": 96.0}


def inches(length: "str | float | int") -> float:
    """A length in inches, from a number (already inches) or a CSS length: "6in", "152mm", "432pt"."""
    if isinstance(length, (int, float)):
        return float(length)
    match = LENGTH.match(length)
    if not match:
        raise ValueError(f"{length!r} is not a length like 6in, 152mm or 432pt")
    return float(match[1]) / PER_INCH[match[2]]


def css_inches(value: float, digits: int = 4) -> str:
    """A length in inches as CSS: 0.125 -> "0.125in", 0 -> "0"."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("0", "-0") else text + "in"


@dataclass(frozen=True)
class Geometry:
    """Trim, margins and bleed in inches; sides are top, outside, bottom, inside."""

    trim_width: float
    trim_height: float
    # Running heads and folios sit in the top and bottom margins: these keep
    # them more than 0.5 in from the trim, the strictest printer's safe area.
    top: float = 0.8
    outside: float = 0.6
    bottom: float = 0.85
    inside: float = 0.75
    bleed_top: float = 0.0
    bleed_outside: float = 0.0
    bleed_bottom: float = 0.0
    bleed_inside: float = 0.0
    marks: bool = False
    tab_width: float = 0.25  # visible part of a thumb tab, inside the trim

    @classmethod
    def for_book(cls, book: Book) -> "Geometry":
        return cls(inches(book.metadata.trim_width), inches(book.metadata.trim_height))

    def with_bleed(self, top: float, outside: float, bottom: float, inside: float, marks: bool = False) -> "Geometry":
        return replace(self, bleed_top=top, bleed_outside=outside, bleed_bottom=bottom, bleed_inside=inside,
                       marks=marks)

    @property
    def text_height(self) -> float:
        return self.trim_height - self.top - self.bottom

    @property
    def text_width(self) -> float:
        return self.trim_width - self.inside - self.outside

    @property
    def running_head_chars(self) -> int:
        """How many characters a running head may have and keep to one line: it is set in 9 pt
        italic (styles/print.css), centred between the folios (room for 4 digits each side);
        half an em a character is more than the serif's italic averages, so this errs short."""
        folio_room = 2 * 24 / 72
        return int((self.text_width - folio_room) * 72 / (9 * 0.5))

    def tab_offset(self, position: int, count: int) -> float:
        """Top of the k-th (1-based) of ``count`` evenly spaced tabs, below the top margin."""
        return (position - 1) * self.text_height / count

    def tab_height(self, count: int) -> float:
        return self.text_height / count * 0.85


def running_head(text: str, limit: int) -> str:
    """``text`` as a running head of at most ``limit`` characters (`Geometry.running_head_chars`):
    a longer one is cut after its last whole word that fits, and ends in an ellipsis (on two
    lines it would crowd the folio and the text below). Short lower-case words (`a`, `of`,
    `and`, `&`) are not left dangling before the ellipsis: "…Road from a…" reads as a typo."""
    if len(text) <= limit:
        return text
    if " " not in text[:limit]:
        return text[:limit - 1] + "\u2026"
    words = text[:limit].rsplit(" ", 1)[0].split(" ")
    while len(words) > 1 and (words[-1] == "&" or (len(words[-1]) <= 3 and words[-1].islower())):
        words.pop()
    return " ".join(words).rstrip(" ,;:.-\u2013\u2014") + "\u2026"


#: The smallest text block the book's typography works in (in): about thirty
#: characters of body text a line, and a dozen lines a page.
MIN_TEXT_WIDTH = 2.0
MIN_TEXT_HEIGHT = 2.5


def trim_too_small(side: str, length: float) -> str | None:
    """What is wrong with a trim ``side`` ("width" or "height") of ``length`` inches
    that leaves too little room for the text between the book's margins; None if it fits."""
    design = Geometry(0, 0)
    if side == "width":
        margins, least = {"inside": design.inside, "outside": design.outside}, MIN_TEXT_WIDTH
    else:
        margins, least = {"top": design.top, "bottom": design.bottom}, MIN_TEXT_HEIGHT
    room = length - sum(margins.values())
    if room >= least:
        return None
    named = ", ".join(f"{name} {css_inches(value)}" for name, value in margins.items())
    return (f"leaves {css_inches(max(room, 0.0), 3) if room > 0 else 'no room'}"
            f"{' of text' if room > 0 else ' for text'} between the margins ({named}); "
            f"the text needs at least {css_inches(least)}: make the {side} at least "
            f"{css_inches(least + sum(margins.values()))}")


def page_css(geometry: Geometry) -> str:
    """The @page geometry rules, for WeasyPrint (the tabs: ``thumb_tab_css``)."""
    g = geometry
    rules = [
        f"@page {{ size: {css_inches(g.trim_width)} {css_inches(g.trim_height)}; margin-top: {css_inches(g.top)}; "
        f"margin-bottom: {css_inches(g.bottom)};{' marks: crop;' if g.marks else ''} }}",
        # Versos have the outside on the left; rectos on the right.
        f"@page :left {{ margin-left: {css_inches(g.outside)}; margin-right: {css_inches(g.inside)}; "
        f"bleed: {css_inches(g.bleed_top)} {css_inches(g.bleed_inside)} {css_inches(g.bleed_bottom)} {css_inches(g.bleed_outside)}; "
        f"@left-top {{ width: {css_inches(g.tab_width + g.bleed_outside)}; margin-left: {css_inches(-g.bleed_outside)}; "
        "margin-right: auto; } }",
        f"@page :right {{ margin-left: {css_inches(g.inside)}; margin-right: {css_inches(g.outside)}; "
        f"bleed: {css_inches(g.bleed_top)} {css_inches(g.bleed_outside)} {css_inches(g.bleed_bottom)} {css_inches(g.bleed_inside)}; "
        f"@right-top {{ width: {css_inches(g.tab_width + g.bleed_outside)}; margin-right: {css_inches(-g.bleed_outside)}; "
        "margin-left: auto; } }",
    ]
    return "\n".join(rules) + "\n"


def thumb_tab_css(geometry: Geometry, position: int, count: int) -> str:
    """The tab of the ``position``-th of ``count`` sections, on every page of a
    document that holds that section alone (the outer margin box of each page)."""
    g = geometry
    tab = (f'content: ""; vertical-align: top; background: var(--tab); background-clip: content-box; '
           f"padding-top: {css_inches(g.tab_offset(position, count))}; height: {css_inches(g.tab_height(count))};")
    return f"@page :left {{ @left-top {{ {tab} }} }}\n@page :right {{ @right-top {{ {tab} }} }}\n"
