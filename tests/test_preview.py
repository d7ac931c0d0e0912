"""`doit preview section=N`: that section's pages as the book prints them."""

import contextlib
import io
import re

import pypdfium2 as pdfium

from handbook_press.build import run_preview
from handbook_press.pagegeometry import Geometry
from handbook_press.reader import load_book

from .books import pdf_pages
from .conftest import CONTENT, project_paths


def test_preview_shows_the_section_with_the_books_folios_and_its_tab(built_books):
    book_pdf, _ = built_books
    paths = project_paths(CONTENT, book_pdf.parent)
    with contextlib.redirect_stderr(io.StringIO()):
        assert run_preview(paths, "3")
    preview = paths.build / "preview" / "section-03.pdf"
    pages = pdf_pages(preview)
    assert pages[0].strip().startswith("Section 3 ")
    assert not any(re.match(r"^Section 4 ", p.strip()) for p in pages)
    # A picture of each page, and none left over from an earlier preview with more pages.
    (paths.build / "preview" / "section-03-page-99.png").write_bytes(b"from a longer section")
    with contextlib.redirect_stderr(io.StringIO()):
        assert run_preview(paths, "3")
    pictures = sorted(p.name for p in (paths.build / "preview").glob("section-03*.png"))
    assert pictures == [f"section-03-page-{n:02d}.png" for n in range(1, len(pdf_pages(preview)) + 1)]

    book = pdf_pages(book_pdf)
    start = next(i for i, p in enumerate(book) if p.strip().startswith("Section 3 ") and ". ." not in p)
    assert pages == book[start:start + len(pages)]  # the same text, folios and running heads included

    book_model, _ = load_book(CONTENT)
    geometry = Geometry.for_book(book_model)
    count = len(book_model.sections)
    document = pdfium.PdfDocument(str(preview))
    for index in range(len(pages)):
        image = document[index].render(scale=1).to_pil().convert("L")
        edge_x = image.width - 2 if index % 2 == 0 else 1  # rectos, then versos: the outer edge
        def dark(position):
            y = int(72 * (geometry.top + geometry.tab_offset(position, count) + geometry.tab_height(count) / 2))
            return image.getpixel((edge_x, y)) < 128
        assert dark(3) and not dark(2) and not dark(4), index


def _font_programs(path) -> dict[str, int]:
    """Bytes of each embedded font program, by font name (without the tag WeasyPrint puts before it)."""
    from pypdf import PdfReader

    programs = {}
    for page in PdfReader(path).pages:
        for font in page["/Resources"].get_object().get("/Font", {}).get_object().values():
            font = font.get_object()
            descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font)
            descriptor = descriptor["/FontDescriptor"].get_object()
            stream = next(descriptor[key] for key in ("/FontFile2", "/FontFile3", "/FontFile") if key in descriptor)
            programs[str(font["/BaseFont"]).lstrip("/").split("+")[-1]] = len(stream.get_object().get_data())
    return programs


def test_the_preview_embeds_subsets_of_the_fonts(built_books):
    """A look, not a deliverable: its fonts are subsets, where the books embed them whole."""
    from .conftest import ROOT

    book_pdf, _ = built_books
    paths = project_paths(CONTENT, book_pdf.parent)
    with contextlib.redirect_stderr(io.StringIO()):
        assert run_preview(paths, "2")
    preview, book = _font_programs(paths.build / "preview" / "section-02.pdf"), _font_programs(book_pdf)
    whole = {path.stat().st_size for path in (ROOT / "styles" / "fonts").rglob("*.?tf")}
    assert book and set(book.values()) <= whole
    assert preview and all(size < book[name] / 2 for name, size in preview.items()), (preview, book)
