"""The front cover: one HTML design, rendered for print and for the EPUB.

The EPUB's cover image is the same design laid out at 1600 x 2560 px (the
1.6:1 ratio retailers ask for) and rasterised with PDFium.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the cover task checks its key (`epub_cover_key`) before it renders anything
    from .model import Metadata

EPUB_COVER_SIZE = (1600, 2560)  # px
# The cover's text ends above the foot of its tabs (6 % of the height from the bottom, cover.css).
TEXT_FOOT = 0.94
# A title is set smaller until the text fits, down to half its size: smaller, it would no longer
# read as a title from a thumbnail, and a shorter title (or a `subtitle:`) is the better cure.
MIN_TITLE_SCALE = 0.5


class CoverTooFull(ValueError):
    """The book's text does not fit the cover design (a user's error: the message says what to shorten)."""


def render_cover_html(templates: Path, meta: Metadata, section_count: int, timestamp: str,
                      title_scale: float = 1.0) -> str:
    """The front cover shows only handbook.yaml's facts: title, subtitle, review date, creator and
    a tab per section (so the cover task never reads the sections). ``title_scale``: see `fit_title`."""
    from .html import environment

    template = environment(templates).get_template("cover/front.html.j2")
    return template.render(meta=meta, section_count=section_count, timestamp=timestamp, title_scale=title_scale)


def boxes_of(box):
    """``box`` and every box below it, in document order."""
    yield box
    for child in getattr(box, "children", ()):
        yield from boxes_of(child)


def classes_of(box) -> set[str]:
    """The HTML classes of the element a WeasyPrint box was made for (none for anonymous boxes)."""
    element = getattr(box, "element", None)
    return set((element.get("class") or "").split()) if element is not None and hasattr(element, "get") else set()


def front_text_overflow(page_box) -> tuple[float, float]:
    """(How far the front cover's text reaches below `TEXT_FOOT`, the height of the title and
    subtitle, which `title_scale` sets smaller), both as
    fractions of the cover's height; the overflow is 0 or less when the text fits. Text boxes
    are measured, not blocks: `.cover` clips what overflows. What would fall below the page is
    not laid out at all, so text missing from the boxes counts as overflow too, in proportion."""
    cover = next(box for box in boxes_of(page_box) if "cover" in classes_of(box))
    top, height = cover.border_box_y(), cover.border_height()
    text = next(box for box in boxes_of(cover) if "cover-text" in classes_of(box))
    # The outermost box of each (its lines and text share its element, and come after it).
    scaled = list({id(box.element): box for box in reversed(list(boxes_of(text)))
                   if classes_of(box) & {"cover-title", "cover-subtitle"}}.values())
    laid = [box for box in boxes_of(text) if hasattr(box, "text")]
    overflow = (max((box.position_y + box.height for box in laid), default=top) - top) / height - TEXT_FOOT
    written = len("".join("".join(text.element.itertext()).split()))
    shown = len("".join("".join(box.text for box in laid).split()))
    if shown < written:
        overflow = max(overflow, 0) + (written - shown) / written * (text.border_height() / height) + 0.01
    return overflow, sum(box.margin_height() for box in scaled) / height


def fit_title(lay_out, meta: Metadata):
    """``lay_out(title_scale)`` -> a WeasyPrint document of the cover: the document at the largest
    title size (1, or less) whose text fits the front cover, and that scale. A title's height
    grows with the square of its size (more lines, each taller), so each try aims at the room
    left; ``CoverTooFull`` when even `MIN_TITLE_SCALE` does not fit."""
    scale: float | None = 1.0
    while scale is not None:  # each try is at least 2 % smaller, down to MIN_TITLE_SCALE
        document = lay_out(scale)
        overflow, title_height = front_text_overflow(document.pages[0]._page_box)
        if overflow <= 1e-6:
            return document, scale
        scale = smaller_title(scale, overflow, title_height)
    raise front_too_full(meta)


def smaller_title(scale: float, overflow: float, title_height: float) -> float | None:
    """The next title scale to try when the front cover's text overflows (`front_text_overflow`);
    None when the title is already at `MIN_TITLE_SCALE`."""
    import math

    if scale <= MIN_TITLE_SCALE:
        return None
    room = max(title_height - overflow, title_height * 0.05)
    return max(MIN_TITLE_SCALE, scale * math.sqrt(room / title_height) * 0.98)


def front_too_full(meta: Metadata) -> CoverTooFull:
    """The error for a front cover whose text does not fit with the title at `MIN_TITLE_SCALE`:
    it names the longest of title, subtitle and creator."""
    lengths = {key: len(value) for key, value in (("title", meta.title), ("subtitle", meta.subtitle),
                                                  ("creator", meta.creator)) if value}
    if len(lengths) == 1:
        return CoverTooFull(f"the title is too long for the front cover even at half its size ({len(meta.title)} "
                            "characters): shorten it, or move part of it into `subtitle:`")
    counts = ", ".join(f"{key} {length}" for key, length in lengths.items())
    return CoverTooFull(f"the front cover's text does not fit even with the title at half its size ({counts} "
                        f"characters): shorten the {max(lengths, key=lengths.get)}")


def render_cover_pdf(meta: Metadata, section_count: int, timestamp: str, *, templates: Path, styles: Path,
                     page_size_css: str, warnings_out: list[str] | None = None) -> bytes:
    """The cover as a one-page PDF, only to be rasterised: written uncompressed, since
    compressing the embedded fonts took most of the write. WeasyPrint's warnings (a
    glyph the fonts lack, say) are appended to ``warnings_out`` for the caller to report.
    A long title is set smaller to fit (`fit_title`)."""
    from weasyprint import CSS, HTML

    from .bookfonts import font_configuration
    from .pdf import ConfinedURLFetcher, weasyprint_warnings

    fetcher = ConfinedURLFetcher([templates, styles])
    fonts = font_configuration()
    sheets = [CSS(string=page_size_css, font_config=fonts, url_fetcher=fetcher),
              CSS(filename=str(styles / "fonts.css"), font_config=fonts, url_fetcher=fetcher),
              CSS(filename=str(styles / "cover.css"), font_config=fonts, url_fetcher=fetcher)]

    def lay_out(title_scale: float):
        html = render_cover_html(templates, meta, section_count, timestamp, title_scale)
        return HTML(string=html, base_url=str(templates.resolve()) + "/", url_fetcher=fetcher).render(
            stylesheets=sheets, font_config=fonts)

    with weasyprint_warnings() as warnings:
        document, _ = fit_title(lay_out, meta)
        data = document.write_pdf(full_fonts=True, uncompressed_pdf=True)
    if fetcher.refused:
        raise RuntimeError(f"the cover asked for files outside the project: {fetcher.refused}")
    if warnings_out is not None:
        warnings_out.extend(warnings)
    return data


def epub_cover_key(content: Path, templates: Path, styles: Path) -> str:
    """A digest of `taskinputs.cover_inputs` and the image's size: two renderings with the same
    key give the same image, whichever task made it."""
    from .taskinputs import cover_inputs, inputs_digest

    return inputs_digest(cover_inputs(content, templates, styles), f"{EPUB_COVER_SIZE}")


def epub_cover_png(templates: Path, styles: Path, meta: Metadata, section_count: int, timestamp: str,
                   warnings_out: list[str] | None = None) -> bytes:
    import pypdfium2 as pdfium

    width, height = EPUB_COVER_SIZE
    pdf_bytes = render_cover_pdf(meta, section_count, timestamp, templates=templates, styles=styles,
                                 page_size_css=f"@page {{ size: {width}px {height}px; }}", warnings_out=warnings_out)
    document = pdfium.PdfDocument(pdf_bytes)
    try:
        # One CSS px is 0.75 pt, so a scale of 4/3 gives one image pixel per CSS px.
        image = document[0].render(scale=4 / 3).to_pil().convert("RGB")
    finally:
        document.close()
    if image.size != (width, height):
        image = image.resize((width, height))
    out = io.BytesIO()
    # zlib's default level, not optimize=True: that tries harder for 2 % of the bytes, at three times the time.
    image.save(out, format="PNG")
    return out.getvalue()
