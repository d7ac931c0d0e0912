"""Where the printed pages begin, so that the EPUB's page list matches print.

The PDF's layout tells, for every page, which anchors (element ids) begin on
it. The first of them in reading order is where the page begins; the EPUB
puts its page-break marker there, so "page 112" is the same place in both
books. Folios are lower-case roman in the front matter and arabic from the
first section on, exactly as printed (and as the PDF's page labels say).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

ID = re.compile(r'\sid="([^"]+)"')


@dataclass(frozen=True)
class PrintPage:
    index: int  # 0-based page index in the PDF
    label: str  # the printed folio: "iv", "12"
    anchor: str | None  # first element beginning on the page; None for a blank page


def roman(number: int) -> str:
    numerals = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    out = []
    for value, letters in numerals:
        while number >= value:
            out.append(letters)
            number -= value
    return "".join(out)


def folio(index: int, body_start: int) -> str:
    return roman(index + 1) if index < body_start else str(index - body_start + 1)


def build_page_map(html: str, page_anchors: list[set[str]], body_start: int) -> list[PrintPage]:
    """``page_anchors[i]`` holds the ids with a box on page i; arabic folios
    start at page ``body_start``.

    A box split over pages is on each of them; it begins on the first.
    """
    order = {name: position for position, name in enumerate(ID.findall(html))}
    pages, seen = [], set()
    for index, anchors in enumerate(page_anchors):
        known = [a for a in anchors if a in order and a not in seen]
        seen.update(anchors)
        first = min(known, key=order.__getitem__) if known else None
        pages.append(PrintPage(index, folio(index, body_start), first))
    return pages


def body_start_index(pages: list[PrintPage]) -> int:
    return next(p.index for p in pages if p.label == "1")


def to_json(pages: list[PrintPage]) -> str:
    return json.dumps({"pages": [asdict(p) for p in pages]}, indent=1) + "\n"


def from_json(text: str) -> list[PrintPage]:
    return [PrintPage(**p) for p in json.loads(text)["pages"]]
