"""Write the PDF with WeasyPrint.

The renderer can only read files under the project's content, templates and
styles folders: any other URL (another file, http, https, data from outside)
is refused and fails the build. WeasyPrint's own warnings are collected and
reported, never lost in a log.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .model import Book
from .pagegeometry import Geometry, page_css



class ConfinedURLFetcher(URLFetcher):
    """Serves ``file:`` URLs inside the allowed folders; refuses everything else."""

    def __init__(self, roots: list[Path]):
        super().__init__(allowed_protocols=("file",), fail_on_errors=False)
        self.roots = [Path(r).resolve() for r in roots]
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme == "file" and parts.netloc in ("", "localhost"):
            path = Path(unquote(parts.path)).resolve()
            if any(path == root or root in path.parents for root in self.roots) and path.is_file():
                media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": media_type})
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
    data: bytes
    pages: int
    page_anchors: list[set[str]]  # ids whose boxes begin on each page
    warnings: list[str] = field(default_factory=list)
    refused_urls: list[str] = field(default_factory=list)


def page_labels_finisher(body_start: int):
    """PDF page labels that match the printed folios: i, ii, … then 1, 2, …"""
    import pydyf

    def finish(document, pdf):
        numbers = pydyf.Array([0, pydyf.Dictionary({"S": "/r"})])
        if body_start > 0:
            numbers.extend([body_start, pydyf.Dictionary({"S": "/D"})])
        pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": numbers})

    return finish


def pdf_identifier(book: Book) -> bytes:
    """A pinned /ID, so that the same sources give the same bytes."""
    return hashlib.md5(book.metadata.identifier.encode("utf-8")).hexdigest().encode("ascii")


@dataclass(frozen=True)
class Edition:
    """What distinguishes the PDFs made from one book: the reading edition
    (screen, links, bookmarks, tags) and the print interiors (per profile)."""

    geometry: Geometry
    extra_css: tuple[str, ...] = ()  # file names in styles/, after print.css
    pdf_variant: str | None = None
    output_intent_icc: str | None = None  # file in styles/, for PDF/X
    links: bool = True
    bookmarks: bool = True
    tagged: bool = True
    even_pages: bool = False


def _finisher(body_start: int, edition: Edition):
    labels = page_labels_finisher(body_start)

    def finish(document, pdf):
        labels(document, pdf)
        if not edition.links:
            # The link annotations WeasyPrint wrote: printers reject them.
            for obj in pdf.objects:
                if isinstance(obj, dict) and obj.get("Type") == "/Page":
                    obj.pop("Annots", None)
        if not edition.bookmarks:
            pdf.catalog.pop("Outlines", None)
            pdf.catalog.pop("PageMode", None)

    return finish


def render_pdf(html: str, book: Book, *, content: Path, templates: Path, styles: Path,
               body_anchor: str, edition: Edition | None = None) -> PdfResult:
    """Lay out ``html`` and write the PDF; ``body_anchor`` is the id where arabic folios start."""
    edition = edition or Edition(Geometry.for_book(book))
    fetcher = ConfinedURLFetcher([content, templates, styles])
    font_config = FontConfiguration()
    color_profiles: dict = {}

    def sheet(**source):
        return CSS(**source, font_config=font_config, url_fetcher=fetcher, color_profiles=color_profiles)

    geometry_css = page_css(edition.geometry, book)
    stylesheets = [sheet(string=geometry_css), sheet(filename=str(styles / "fonts.css")),
                   sheet(filename=str(styles / "print.css"))]
    stylesheets += [sheet(filename=str(styles / name)) for name in edition.extra_css]
    if not edition.bookmarks:
        stylesheets.append(sheet(string="* { bookmark-level: none !important; }"))
    if edition.output_intent_icc:
        stylesheets.append(sheet(string=f'@color-profile device-cmyk {{ src: url("{edition.output_intent_icc}"); '
                                 "components: cyan, magenta, yellow, black; }",
                                 base_url=str(styles.resolve()) + "/"))
    with weasyprint_warnings() as warnings:
        document = HTML(string=html, base_url=str(content.resolve()) + "/", url_fetcher=fetcher).render(
            font_config=font_config, stylesheets=stylesheets, color_profiles=color_profiles,
            pdf_tags=edition.tagged)
        page_anchors = [set(page.anchors) for page in document.pages]
        body_start = next((i for i, a in enumerate(page_anchors) if body_anchor in a), 0)
        if edition.even_pages and len(document.pages) % 2:
            # Printers bind an even number of pages: end on a blank verso.
            blank = HTML(string="<html><body></body></html>", url_fetcher=fetcher).render(
                font_config=font_config, stylesheets=[sheet(string=geometry_css)], color_profiles=color_profiles)
            document = document.copy(document.pages + blank.pages[:1])
        data = document.write_pdf(pdf_identifier=pdf_identifier(book), pdf_tags=edition.tagged, full_fonts=True,
                                  pdf_variant=edition.pdf_variant, finisher=_finisher(body_start, edition))
    return PdfResult(data, len(document.pages), page_anchors, list(warnings), list(fetcher.refused))
