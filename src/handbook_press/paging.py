"""How the book's parts become its pages, and what each part's pages held last time.

The PDF is laid out part by part: the body one section at a time (each
opening on a recto, a blank verso before it when needed, its folios counted on
from the previous section's), then the front matter and the back matter with
the body's folios as text. `assemble` is that recipe; it runs on WeasyPrint's
pages in the PDF task, and on remembered pages in the page-map task.

`LayoutRecords` remembers, for every part the PDF task lays out, the anchors
on each of its pages. The page-map task (the EPUB's page list) assembles the
book from these records and lays out only the parts whose HTML changed, so an
edited section costs that section's layout instead of the book's. A record is
keyed by the part's HTML and CSS; the records file by everything else that
moves pages (stylesheets, fonts, images, page geometry, this package's code
and WeasyPrint's version). A section's starting folio is not in its key: it
changes only the folio text in the margin, never where the pages break (every
section starts on a recto).

This module does not import WeasyPrint: with every record at hand, the page
map is made without it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from .filedigests import sha256_of
from .files import write_atomic
from .html import BOOK_PARTS, BookHtml
from .model import Book
from .pagegeometry import Geometry, page_css, thumb_tab_css

RECORDS_FORMAT = 2


class LaidOutPage(Protocol):
    anchors: Any  # the ids with a box on the page (WeasyPrint: a dict; a record: a tuple)


class LaidOutPart(Protocol):
    pages: Sequence[LaidOutPage]


# lay_out(html, css, first_folio): the part's pages. ``css`` moves the pages (the tab); the
# first folio only numbers them.
LayOut = Callable[[str, str, int | None], LaidOutPart]
# lay_out_matter(front, contents, back), each (html, css, first_folio): the three parts that
# print the body's folios, laid out at once. The contents' first folio is None: they open on
# the recto after the front's pages (`folio_after`), which only the front's layout tells.
Matter = tuple[str, str, int | None]
LayOutMatter = Callable[[Matter, Matter, Matter], tuple[LaidOutPart, LaidOutPart, LaidOutPart]]


@dataclass(frozen=True)
class PrintEdition:
    """What the print interior asks of the one layout (from a print profile)."""

    geometry: Geometry
    pdf_variant: str | None = None
    output_intent_icc: str | None = None  # file in styles/, for PDF/X
    links: bool = False
    bookmarks: bool = False
    even_pages: bool = False


def output_intent_css(icc: str) -> str:
    return f'@color-profile device-cmyk {{ src: url("{icc}"); components: cyan, magenta, yellow, black; }}'


def edition_css(edition: PrintEdition) -> str:
    """The edition's own CSS (its page geometry and output intent): with the
    stylesheets, what decides where the pages break."""
    return page_css(edition.geometry) + (output_intent_css(edition.output_intent_icc)
                                         if edition.output_intent_icc else "")


@dataclass(frozen=True)
class RecordedPage:
    anchors: tuple[str, ...]


@dataclass(frozen=True)
class RecordedPart:
    pages: tuple[RecordedPage, ...]


BLANK_PAGE = RecordedPage(())


@dataclass
class BookPages:
    """The book's pages in order, and where its parts begin."""

    pages: list  # LaidOutPage
    body_start: int  # index of the body's first page (folio 1)
    html: str  # the parts laid out, front, body, back: their ids in reading order
    front: LaidOutPart  # the front matter as laid out (WeasyPrint copies pages into its document)

    def print_page_count(self, even_pages: bool) -> int:
        """Pages of the print interior: printers that bind an even count get a blank verso at the end."""
        return len(self.pages) + (1 if even_pages and len(self.pages) % 2 else 0)


def body_parts(book_html: BookHtml, book: Book, geometry: Geometry) -> list[tuple[str, str]]:
    """The body's parts as they are laid out, (HTML, CSS): each section alone, with its thumb tab."""
    count = len(book.sections)
    return [(book_html.render("body", sections=[section]), thumb_tab_css(geometry, section.number, count))
            for section in book.sections]


def opening_index(pages_before: int) -> int:
    """Where a section opens in the body after ``pages_before`` pages: on a recto (an even
    index, folio odd), after a blank verso when needed."""
    return pages_before + pages_before % 2


def folio_after(pages_before: int) -> int:
    """The folio of a part that opens on a recto after ``pages_before`` pages of its numbering."""
    return opening_index(pages_before) + 1


def lay_out_in_order(lay_out: LayOut, front: Matter, contents: Matter, back: Matter):
    """The front matter, the contents at the folio after it, and the index, one after the other:
    a `LayOutMatter` for one process."""
    front_laid = lay_out(*front)
    return front_laid, lay_out(contents[0], contents[1], folio_after(len(front_laid.pages))), lay_out(*back)


def assemble(book_html: BookHtml, book: Book, geometry: Geometry, lay_out: LayOut, blank: LaidOutPage,
             body: list[tuple[str, str]] | None = None, lay_out_matter: LayOutMatter | None = None) -> BookPages:
    """Lay the book out part by part (through ``lay_out``) and put the pages in order.
    ``body``: the `body_parts`, when the caller has them already. ``lay_out_matter``: lays
    out the front matter, the contents and the index at once (they depend on the body's
    folios only)."""
    html_parts = {part: "" for part in BOOK_PARTS}
    body_pages: list = []
    for html, css in body if body is not None else body_parts(book_html, book, geometry):
        if opening_index(len(body_pages)) > len(body_pages):
            body_pages.append(blank)
        html_parts["body"] += html
        body_pages += lay_out(html, css, len(body_pages) + 1).pages
    first_page: dict[str, int] = {}
    for index, page in enumerate(body_pages):  # a split box repeats its anchor on later pages
        for anchor in page.anchors:
            first_page.setdefault(anchor, index)

    def page_of(node) -> str:
        return str(first_page[node.anchor] + 1)  # the body's folios count from 1 on its first page

    for part in ("front", "contents", "back"):
        html_parts[part] = book_html.render(part, page_of)
    # The contents, the body and the index open on a recto: a blank verso before them when needed.
    # handbook.yaml lists at least one section (the reader refuses an empty list).
    gap = [blank] * (opening_index(len(body_pages)) - len(body_pages))
    front_part = (html_parts["front"], "", None)
    contents_part = (html_parts["contents"], "", None)
    back_part = (html_parts["back"], "", folio_after(len(body_pages)))
    if lay_out_matter is None:
        front, contents, back = lay_out_in_order(lay_out, front_part, contents_part, back_part)
    else:
        front, contents, back = lay_out_matter(front_part, contents_part, back_part)
    front_pages = _on_recto(_on_recto(list(front.pages), blank) + list(contents.pages), blank)
    # No tools to index: the back matter lays out as one empty page, left out.
    back_pages = gap + list(back.pages) if back.pages[0].anchors else []
    return BookPages(front_pages + body_pages + back_pages, len(front_pages),
                     "".join(html_parts[part] for part in BOOK_PARTS), front)


def _on_recto(pages: list, blank: LaidOutPage) -> list:
    """``pages`` and a blank verso when needed, so that what follows opens on a recto."""
    return pages + [blank] * (opening_index(len(pages)) - len(pages))


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def part_key(html: str, css: str) -> str:
    return _digest(html, css)


def environment_key(edition: PrintEdition, *, styles: Path, content: Path) -> str:
    """Everything besides a part's HTML and CSS that decides where its pages break."""
    package = Path(__file__).parent
    files = sorted(package.glob("*.py")) + sorted(p for p in Path(styles).rglob("*") if p.is_file())
    # Images and other files the text embeds; the text itself is in the parts' HTML.
    files += sorted(p for p in Path(content).rglob("*") if p.is_file() and p.suffix not in (".md", ".yaml"))
    return _digest(f"format {RECORDS_FORMAT}", installed_version("weasyprint"), edition_css(edition),
                   *(item for f in files for item in (f.name, sha256_of(f))))


class LayoutRecords:
    """The anchors on each page of each laid-out part, for one environment."""

    def __init__(self, environment: str, parts: dict[str, list[list[str]]] | None = None):
        self.environment = environment
        self.known = parts or {}
        self.used: dict[str, list[list[str]]] = {}  # what this build laid out or took: the next file
        self.missed = 0

    @classmethod
    def load(cls, path: Path, environment: str) -> "LayoutRecords":
        """The records ``path`` holds for ``environment`` (none if it cannot be read)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            parts = data["environments"].get(environment) if data["format"] == RECORDS_FORMAT else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            parts = None
        return cls(environment, parts if isinstance(parts, dict) else None)

    @staticmethod
    def saved_environments(path: Path) -> tuple[set[str], str | None]:
        """The environments ``path`` holds records for, and the one its build settled on
        (none if it cannot be read)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if data["format"] == RECORDS_FORMAT:
                return set(data["environments"]), data.get("settled")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        return set(), None

    def has(self, html: str, css: str) -> bool:
        return part_key(html, css) in self.known

    def get(self, html: str, css: str) -> RecordedPart | None:
        key = part_key(html, css)
        pages = self.known.get(key)
        if pages is None:
            self.missed += 1
            return None
        self.used[key] = pages
        return _recorded(pages)

    def put(self, html: str, css: str, part: LaidOutPart) -> RecordedPart:
        """Record ``part``; returns the record, which is all the page map keeps of it."""
        return self.put_anchors(html, css, [list(page.anchors) for page in part.pages])

    def put_anchors(self, html: str, css: str, pages: list[list[str]]) -> RecordedPart:
        """Record a part laid out elsewhere, from the anchors on each of its pages."""
        key = part_key(html, css)
        self.known[key] = self.used[key] = pages
        return _recorded(pages)


def _recorded(pages: list[list[str]]) -> RecordedPart:
    return RecordedPart(tuple(RecordedPage(tuple(anchors)) for anchors in pages))


def save_records(path: Path, tried: list[LayoutRecords]) -> None:
    """Write the parts a build used, for each environment it tried, the last being the one
    it settled on (the gutter, so the geometry, follows the page count: a book may be laid
    out in two before it settles, and the page map follows the same steps). Older records
    are dropped."""
    write_atomic(Path(path), json.dumps({"format": RECORDS_FORMAT,
                                         "environments": {r.environment: r.used for r in tried},
                                         "settled": tried[-1].environment if tried else None},
                                        sort_keys=True) + "\n")
