"""Write the PDF with WeasyPrint.

The renderer can only read files under the project's content, templates and
styles folders: any other URL (another file, http, https, data from outside)
is refused and fails the build. WeasyPrint's own warnings are collected and
reported, never lost in a log.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import mimetypes
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import fontprograms, html5cache, leaders, pagestyles, painting, pdfwriter, stylesharing
from .bookfonts import font_configuration
from .html import BookHtml
from .model import Book
from .pagegeometry import Geometry, page_css, thumb_tab_css
from .pagemap import PrintPage, build_page_map
from .paging import LayoutRecords, PrintEdition, assemble, body_parts, output_intent_css
from .sidebyside import can_fork, side_by_side
from .splitbody import lay_out_body, lay_out_matter

pdfwriter.install()
fontprograms.install()
leaders.install()
html5cache.install()
pagestyles.install()
stylesharing.install()


class ConfinedURLFetcher(URLFetcher):
    """Serves ``file:`` URLs inside the allowed folders; refuses everything else."""

    def __init__(self, roots: list[Path]):
        super().__init__(allowed_protocols=("file",), fail_on_errors=False)
        self.roots = [Path(r).resolve() for r in roots]
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme == "file" and parts.netloc in ("", "localhost"):
            try:
                path = Path(unquote(parts.path)).resolve()
                if any(path == root or root in path.parents for root in self.roots) and path.is_file():
                    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": media_type})
            except (OSError, ValueError):  # a name too long, a NUL byte: not a file of ours
                pass
        self.refused.append(url)
        raise ValueError(f"refused to fetch {url!r}: only files of the project are read")


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def weasyprint_warnings():
    logger = logging.getLogger("weasyprint")
    collector = _Collector()
    logger.addHandler(collector)
    try:
        yield collector.messages
    finally:
        logger.removeHandler(collector)


@dataclass
class PdfResult:
    """One layout, written twice: the print interior and the reading edition."""

    print_data: bytes
    reading_data: bytes
    pages: int  # of the print interior (an even count when the profile asks)
    reading_pages: int  # of the reading edition
    warnings: list[str] = field(default_factory=list)
    refused_urls: list[str] = field(default_factory=list)
    print_check: Any = None  # what ``check_print`` said of the print interior
    stages: dict[str, float] = field(default_factory=dict)  # seconds: "layout", "drawing", "writes"
    page_map: list[PrintPage] = field(default_factory=list)  # where each page begins (`pagemap`)


def pdf_identifier(book: Book, part: str = "") -> bytes:
    """A pinned /ID, so that the same sources give the same bytes; ``part`` tells other PDFs of the book apart."""
    return hashlib.md5(f"{book.metadata.identifier}{part}".encode("utf-8")).hexdigest().encode("ascii")


def _labels(pdf, body_start: int) -> None:
    """PDF page labels that match the printed folios: i, ii, … then 1, 2, …"""
    import pydyf

    numbers = pydyf.Array([0, pydyf.Dictionary({"S": "/r"})])
    if body_start > 0:
        numbers.extend([body_start, pydyf.Dictionary({"S": "/D"})])
    pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": numbers})


def _pages(pdf):
    return [obj for obj in pdf.objects if isinstance(obj, dict) and obj.get("Type") == "/Page"]


def _print_pages(pages: list, edition: PrintEdition) -> list:
    """The print interior's pages: without links and named destinations (printers reject link
    annotations) and bookmarks unless the profile keeps them, so that WeasyPrint writes none
    (stripped afterwards, their objects would stay in the file)."""
    if edition.links and edition.bookmarks:
        return pages
    stripped = []
    for page in pages:
        page = copy.copy(page)  # the reading edition keeps its links and bookmarks
        if not edition.links:
            page.links, page.anchors = [], {}
        if not edition.bookmarks:
            page.bookmarks = []
        stripped.append(page)
    return stripped


def _print_finisher(body_start: int):
    """Page labels; links, link targets and bookmarks never reach the print write (`_print_pages`)."""

    def finish(document, pdf):
        _labels(pdf, body_start)

    return finish


def _reading_finisher(body_start: int):
    """The reading edition is the same pages cut at the trim: no bleed, no marks."""

    def finish(document, pdf):
        _labels(pdf, body_start)
        pdf.catalog.pop("OutputIntents", None)
        for page in _pages(pdf):
            trim = page.get("TrimBox")
            if trim is not None:
                page["MediaBox"] = trim
                page.pop("BleedBox", None)

    return finish


class Typesetter:
    """WeasyPrint set up for one edition: the confined fetcher, the fonts and the
    stylesheets, shared by every part laid out (parsed once)."""

    def __init__(self, edition: PrintEdition, *, content: Path, templates: Path, styles: Path):
        self.content = content
        self.fetcher = ConfinedURLFetcher([content, templates, styles])
        self.font_config = font_configuration()
        self.color_profiles: dict = {}
        self.stylesheets = [self._sheet(string=page_css(edition.geometry))]
        self.stylesheets += [self._sheet(filename=str(styles / name))
                             for name in ("fonts.css", "print.css", "print-interior.css")]
        if edition.output_intent_icc:  # its src is relative to styles/
            self.stylesheets.append(self._sheet(string=output_intent_css(edition.output_intent_icc),
                                                base_url=str(styles.resolve()) + "/"))

    def _sheet(self, **source) -> CSS:
        return CSS(**source, font_config=self.font_config, url_fetcher=self.fetcher,
                   color_profiles=self.color_profiles)

    def lay_out(self, html: str, css: str = "", first_folio: int | None = None):
        """The part's WeasyPrint document; ``first_folio`` numbers its first page."""
        extra = [css] if css else []
        if first_folio is not None:
            extra.append(f"@page :first {{ counter-reset: page {first_folio}; }}")
        return HTML(string=html, base_url=str(self.content.resolve()) + "/", url_fetcher=self.fetcher).render(
            font_config=self.font_config, stylesheets=self.stylesheets + [self._sheet(string=c) for c in extra],
            color_profiles=self.color_profiles, pdf_tags=True)

    def blank_verso(self):
        """A blank left page, as WeasyPrint makes one before a recto: the verso's
        geometry and bleed, and the @page :blank style (no folio, head or tab)."""
        return self.lay_out('<html><body><p>&#8203;</p><p style="break-before: right">&#8203;</p></body></html>'
                            ).pages[1]


def render_pdf(book_html: BookHtml, book: Book, *, content: Path, templates: Path, styles: Path,
               edition: PrintEdition | None = None, records: LayoutRecords | None = None,
               keep: Callable[[int], bool] | None = None,
               check_print: Callable[[bytes], Any] | None = None,
               before_writes: Callable[[], None] | None = None,
               meanwhile: Callable[[], None] | None = None) -> PdfResult:
    """Lay the book out once and write both PDFs from that layout.

    The body is laid out first, a section at a time: its folios (1, 2, … from
    its first page) do not depend on the front matter, so the contents,
    learning path, what's new and index are then laid out with their page
    numbers as text (`paging.assemble`). Nothing is laid out twice, where CSS
    target-counter() makes WeasyPrint lay out again every page that shows a
    number it did not know yet (and compare every target with every
    reference, which grows with the square of the book). ``records`` gets the
    anchors of every part's pages, for the page-map task. ``keep(pages)``
    False: the layout is not the one kept (the gutter follows the page count),
    and no PDF is written from it (``print_data`` and ``reading_data`` empty).
    The print interior gets the profile's bleed, PDF/X flavour and stripping;
    the reading edition keeps links, bookmarks and tags and is cropped to the trim.
    ``check_print(data)`` (preflight) runs on the print interior as soon as it is
    written, beside the reading edition's write (``print_check``). ``before_writes()``
    runs once the pages are drawn (`fontprograms.FontPrograms.receive`). ``meanwhile()``
    runs here once the reading edition is written, while a forked child still writes and
    checks the print interior (not at all without that child); what WeasyPrint warns of
    meanwhile is not the book's.
    """
    started = time.perf_counter()
    edition = edition or PrintEdition(Geometry.for_book(book))
    setter = Typesetter(edition, content=content, templates=templates, styles=styles)
    body = body_parts(book_html, book, edition.geometry)
    laid_body = None

    def lay_out(html: str, css: str, first_folio: int | None):
        part = laid_body.take(html, css, first_folio) if laid_body is not None else None
        if part is None:
            part = setter.lay_out(html, css, first_folio)
        if records is not None:
            records.put(html, css, part)
        return part

    with weasyprint_warnings() as warnings:
        blank = setter.blank_verso()
        # Pages the children draw while they wait for this process to take them.
        ahead: list[painting.DrawnAhead] | None = [] if painting.supported() else None
        laid_body = lay_out_body(body, setter.lay_out, setter.font_config, warnings, setter.fetcher.refused,
                                 ahead)

        def lay_out_matter_here(front, contents, back):  # on two cores, as the body
            parts = lay_out_matter(setter.lay_out, setter.font_config, warnings, setter.fetcher.refused,
                                   front, contents, back, meanwhile=laid_body.receive, ahead=ahead)
            if records is not None:
                for (html, css, _), part in zip((front, contents, back), parts):
                    records.put(html, css, part)
            return parts

        try:
            laid = assemble(book_html, book, edition.geometry, lay_out, blank, body,
                            lay_out_matter_here if laid_body is not None else None)
            print_pages = laid.print_page_count(edition.even_pages)
            if keep is not None and not keep(print_pages):
                return PdfResult(b"", b"", print_pages, len(laid.pages), list(warnings),
                                 list(dict.fromkeys(setter.fetcher.refused)))
            if laid_body is not None:  # the child's pages in place of their placeholders
                laid.pages = laid_body.finish(laid.pages)
        finally:
            if laid_body is not None:
                laid_body.close()
        # The EPUB's page list, from this layout: the page map task takes it unless an input changed.
        page_map = build_page_map(laid.html, [set(page.anchors) for page in laid.pages], laid.body_start)
        document = laid.front.copy(laid.pages)
        body_start = laid.body_start
        # Printers bind an even number of pages: end on a blank verso.
        print_document = document.copy(_print_pages(document.pages + [blank] * (print_pages - len(document.pages)),
                                                    edition))
        stages = {"layout": time.perf_counter() - started}
        if painting.supported():  # each page drawn once, for both writes, on two cores
            shares = painting.record_on_two_cores(document, warnings, ahead or ())
            document = document.copy(painting.replaying(document.pages, shares))
            print_document = print_document.copy(painting.replaying(print_document.pages, shares))
            stages["drawing"] = time.perf_counter() - started - stages["layout"]
        warnings_before_writes = len(warnings)

        def write_print():
            data = print_document.write_pdf(pdf_identifier=pdf_identifier(book), pdf_tags=False, full_fonts=True,
                                            pdf_variant=edition.pdf_variant, custom_metadata=True,
                                            finisher=_print_finisher(body_start))
            return data, warnings[warnings_before_writes:], check_print(data) if check_print else None

        spare_core = meanwhile if meanwhile is not None and can_fork() else None

        def write_reading():
            # custom_metadata: the <meta name="version"> of a release goes into the PDF's Info.
            data = document.write_pdf(pdf_identifier=pdf_identifier(book), pdf_tags=True, full_fonts=True,
                                      custom_metadata=True, finisher=_reading_finisher(body_start))
            if spare_core is not None:
                reported = len(warnings)
                spare_core()
                del warnings[reported:]
            return data

        if before_writes is not None:
            before_writes()
        writes_started = time.perf_counter()
        (printed, print_warnings, print_check), reading = side_by_side(write_print, write_reading)
        stages["writes"] = time.perf_counter() - writes_started
    messages = list(dict.fromkeys(list(warnings) + print_warnings))  # a rerun in this process logs them here too
    return PdfResult(printed, reading, len(print_document.pages), len(document.pages), messages,
                     list(dict.fromkeys(setter.fetcher.refused)), print_check, stages, page_map)


class PreviewSetter:
    """What a section preview is laid out with: the font configuration and the book's style
    sheets, made once. A watching preview (`preview.watch`) lays out each saved edit with the
    same one, until a style changes."""

    def __init__(self, *, content: Path, templates: Path, styles: Path):
        self.content = content
        self.fetcher = ConfinedURLFetcher([content, templates, styles])
        self.font_config = font_configuration()
        self.sheets = [self.sheet(filename=str(styles / "fonts.css")), self.sheet(filename=str(styles / "print.css"))]
        self._made: dict[str, CSS] = {}  # the sheets made from strings, by their text

    def sheet(self, **source) -> CSS:
        return CSS(**source, font_config=self.font_config, url_fetcher=self.fetcher)

    def sheet_of(self, text: str) -> CSS:
        if text not in self._made:
            self._made[text] = self.sheet(string=text)
        return self._made[text]

    def render(self, html: str, book: Book, section_number: int = 1,
               first_folio: int = 1) -> tuple[bytes, list[str]]:
        """Lay out one section (the reading edition's geometry), folios as in the book.

        A look while editing, not a deliverable: written uncompressed, its fonts subset by
        HarfBuzz (a tenth of the file, and faster than embedding the full fonts)."""
        geometry = Geometry.for_book(book)
        stylesheets = [self.sheet_of(page_css(geometry)),
                       self.sheet_of(thumb_tab_css(geometry, section_number, len(book.sections))),
                       *self.sheets,
                       self.sheet_of(f"@page first-opener {{ counter-reset: page {int(first_folio)}; }}")]
        with weasyprint_warnings() as warnings:
            data = HTML(string=html, base_url=str(self.content.resolve()) + "/", url_fetcher=self.fetcher).write_pdf(
                stylesheets=stylesheets, font_config=self.font_config, full_fonts=False,
                pdf_identifier=pdf_identifier(book), uncompressed_pdf=True)
        return data, list(warnings)

