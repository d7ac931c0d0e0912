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


def render_cover_html(templates: Path, meta: Metadata, section_count: int, timestamp: str) -> str:
    """The front cover shows only handbook.yaml's facts: title, subtitle, review date, creator and
    a tab per section (so the cover task never reads the sections)."""
    from .html import environment

    template = environment(templates).get_template("cover/front.html.j2")
    return template.render(meta=meta, section_count=section_count, timestamp=timestamp)


def render_cover_pdf(html: str, *, templates: Path, styles: Path, page_size_css: str,
                     warnings_out: list[str] | None = None) -> bytes:
    """The cover as a one-page PDF, only to be rasterised: written uncompressed, since
    compressing the embedded fonts took most of the write. WeasyPrint's warnings (a
    glyph the fonts lack, say) are appended to ``warnings_out`` for the caller to report."""
    from weasyprint import CSS, HTML

    from .bookfonts import font_configuration
    from .pdf import ConfinedURLFetcher, weasyprint_warnings

    fetcher = ConfinedURLFetcher([templates, styles])
    fonts = font_configuration()
    sheets = [CSS(string=page_size_css, font_config=fonts, url_fetcher=fetcher),
              CSS(filename=str(styles / "fonts.css"), font_config=fonts, url_fetcher=fetcher),
              CSS(filename=str(styles / "cover.css"), font_config=fonts, url_fetcher=fetcher)]
    with weasyprint_warnings() as warnings:
        data = HTML(string=html, base_url=str(templates.resolve()) + "/", url_fetcher=fetcher).write_pdf(
            stylesheets=sheets, font_config=fonts, full_fonts=True, uncompressed_pdf=True)
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
    pdf_bytes = render_cover_pdf(render_cover_html(templates, meta, section_count, timestamp),
                                 templates=templates, styles=styles,
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
