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


def render_pdf(html: str, book: Book, *, content: Path, templates: Path, styles: Path,
               body_anchor: str, geometry: Geometry | None = None) -> PdfResult:
    """Lay out ``html`` and write the PDF; ``body_anchor`` is the id where arabic folios start."""
    fetcher = ConfinedURLFetcher([content, templates, styles])
    font_config = FontConfiguration()
    stylesheets = [
        CSS(string=page_css(geometry or Geometry.for_book(book), book), font_config=font_config, url_fetcher=fetcher),
        CSS(filename=str(styles / "fonts.css"), font_config=font_config, url_fetcher=fetcher),
        CSS(filename=str(styles / "print.css"), font_config=font_config, url_fetcher=fetcher),
    ]
    with weasyprint_warnings() as warnings:
        document = HTML(string=html, base_url=str(content.resolve()) + "/", url_fetcher=fetcher).render(
            font_config=font_config, stylesheets=stylesheets, pdf_tags=True)
        page_anchors = [set(page.anchors) for page in document.pages]
        body_start = next((i for i, a in enumerate(page_anchors) if body_anchor in a), 0)
        data = document.write_pdf(pdf_identifier=pdf_identifier(book), pdf_tags=True, full_fonts=True,
                                  finisher=page_labels_finisher(body_start))
    return PdfResult(data, len(document.pages), page_anchors, list(warnings), list(fetcher.refused))
