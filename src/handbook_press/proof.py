"""A proof: the print interior's spreads on one contact sheet, to see the whole
book at a glance (and a single spread, for the README)."""

from __future__ import annotations

import io
from pathlib import Path

GAP = 12  # px between spreads
BACKGROUND = (128, 128, 128)


def _pages(pdf: Path, width_px: int):
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    try:
        images = []
        for page in document:
            scale = width_px / page.get_width()
            images.append(page.render(scale=scale, crop=(0, 0, 0, 0)).to_pil().convert("RGB"))
        return images
    finally:
        document.close()


def spreads(pages: list) -> list[tuple]:
    """Page 1 is a recto on its own; then 2-3, 4-5, … as the bound book opens."""
    result = [(None, pages[0])] if pages else []
    for i in range(1, len(pages), 2):
        result.append((pages[i], pages[i + 1] if i + 1 < len(pages) else None))
    return result


def _spread_image(left, right, size):
    from PIL import Image

    w, h = size
    image = Image.new("RGB", (2 * w, h), BACKGROUND)
    if left is not None:
        image.paste(left.resize(size), (0, 0))
    if right is not None:
        image.paste(right.resize(size), (w, 0))
    return image


def contact_sheet(pdf: Path, columns: int = 4, page_width_px: int = 150) -> bytes:
    from PIL import Image

    pages = _pages(pdf, page_width_px)
    size = pages[0].size
    pairs = spreads(pages)
    rows = (len(pairs) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * (2 * size[0] + GAP) + GAP, rows * (size[1] + GAP) + GAP), BACKGROUND)
    for n, (left, right) in enumerate(pairs):
        x = GAP + (n % columns) * (2 * size[0] + GAP)
        y = GAP + (n // columns) * (size[1] + GAP)
        sheet.paste(_spread_image(left, right, size), (x, y))
    return _png(sheet)


def spread(pdf: Path, left_page_index: int, page_width_px: int = 600) -> bytes:
    pages = _pages(pdf, page_width_px)
    right = pages[left_page_index + 1] if left_page_index + 1 < len(pages) else None
    return _png(_spread_image(pages[left_page_index], right, pages[0].size))


def _png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
