"""The body laid out on two cores: its later sections in a forked child.

WeasyPrint keeps no Pango object in a laid-out page (a text box drops its
Pango layout once measured and shapes its text again when it is drawn), so
laid-out pages pickle: the child's pages, drawn in this process, give the same
bytes as pages laid out here. The font configuration is the one object that
must stay this process's own; the child inherited it with the fork, so it
crosses as a reference.

The child cannot know the folio its first section opens on before this
process has laid out the sections before it, so it numbers its sections from 1.
A folio changes no page break, only the margin boxes that show the page
counter: those are laid out again, on empty pages of the same names and count
with the true folio, and put in place of the child's (`FolioFix`). Tested: the
same PDF bytes as the whole body laid out in one process.
"""

from __future__ import annotations

import fcntl
import gc
import io
import os
import pickle
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from weasyprint.formatting_structure.boxes import MarginBox
from weasyprint.text.fonts import FontConfiguration

from . import sidebyside
from .paging import opening_index

LayOut = Callable[..., Any]  # Typesetter.lay_out(html, css, first_folio)


@dataclass
class LaidOutPages:
    """A part laid out in the child: its pages only (the document stays in the child)."""

    pages: list


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        return "font_config" if isinstance(obj, FontConfiguration) else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, font_config: FontConfiguration):
        super().__init__(io.BytesIO(data))
        self.font_config = font_config

    def persistent_load(self, pid):
        if pid != "font_config":
            raise pickle.UnpicklingError(f"unknown reference {pid!r}")
        return self.font_config


def dumps_pages(parts: dict[int, list]) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(parts)
    return buffer.getvalue()


def loads_pages(data: bytes, font_config: FontConfiguration) -> dict[int, list]:
    # Everything unpickled here lives until the PDFs are written: the cycle collector
    # would walk it again and again for nothing (half the time of the load).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Unpickler(data, font_config).load()
    finally:
        if enabled:
            gc.enable()


def counter_boxes(page) -> dict[str, MarginBox]:
    """The page's margin boxes that show the page counter (the folio), by at-keyword."""
    return {box.at_keyword: box for box in page._page_box.children
            if isinstance(box, MarginBox) and _shows_page_counter(box)}


def _shows_page_counter(box: MarginBox) -> bool:
    content = box.style["content"]
    return isinstance(content, (list, tuple)) and any(
        kind in ("counter()", "counters()") and value[0] in ("page", "pages") for kind, value in content)


def folio_pages_html(pages: Sequence) -> str:
    """Empty pages of the same names as ``pages``, one each: what decides their margin boxes
    besides the folio (the side follows from the position)."""
    divs = "".join(f'<div style="break-before: page; page: {page._page_box.page_type.name or "auto"}"></div>'
                   for page in pages)
    return f"<!DOCTYPE html><html><body>{divs}</body></html>"


def fix_folios(pages: list, lay_out: LayOut, first_folio: int) -> bool:
    """Give ``pages`` (a part laid out numbered from 1) the folio boxes of ``first_folio`` on.
    False, and ``pages`` untouched, if the empty pages do not match them."""
    folio_pages = lay_out(folio_pages_html(pages), "", first_folio).pages
    if len(folio_pages) != len(pages):
        return False
    replacements = []
    for page, folio_page in zip(pages, folio_pages):
        old, new = counter_boxes(page), counter_boxes(folio_page)
        if old.keys() != new.keys() or page._page_box.page_type.side != folio_page._page_box.page_type.side:
            return False
        replacements.append({id(old[key]): new[key] for key in old})
    for page, replace in zip(pages, replacements):
        box = page._page_box
        box.children = [replace.get(id(child), child) for child in box.children]
    return True


class _Meeting:
    """Sections taken one at a time, this process from the front and the child from the back,
    until they meet: both finish together whatever their speeds (the child also pickles).

    The two counters live in an unnamed file under a POSIX record lock: owned by a process
    (flock() would be shared with the child through the inherited descriptor) and released by
    the kernel if its holder dies, so a killed child cannot leave this process waiting."""

    def __init__(self, count: int):
        self.file = tempfile.TemporaryFile()
        self._write(0, count)  # next from the front; one past the next from the back

    def _read(self) -> tuple[int, int]:
        data = os.pread(self.file.fileno(), 16, 0)
        return int.from_bytes(data[:8], "little"), int.from_bytes(data[8:], "little")

    def _write(self, front: int, back: int) -> None:
        os.pwrite(self.file.fileno(), front.to_bytes(8, "little") + back.to_bytes(8, "little"), 0)

    def _take(self, from_front: bool) -> int | None:
        fcntl.lockf(self.file.fileno(), fcntl.LOCK_EX)
        try:
            front, back = self._read()
            if front >= back:
                return None
            if from_front:
                self._write(front + 1, back)
                return front
            self._write(front, back - 1)
            return back - 1
        finally:
            fcntl.lockf(self.file.fileno(), fcntl.LOCK_UN)

    def from_front(self) -> int | None:
        return self._take(True)

    def from_back(self) -> int | None:
        return self._take(False)


class SplitBody:
    """The body's parts, laid out before `paging.assemble` asks for them."""

    def __init__(self, mine: dict[tuple[str, str, int], object], theirs: dict[tuple[str, str], LaidOutPages],
                 lay_out: LayOut):
        self.mine = mine
        self.theirs = theirs
        self.lay_out = lay_out

    def take(self, html: str, css: str, first_folio: int | None):
        """The part as laid out with ``first_folio``, or None: lay it out here."""
        part = self.mine.pop((html, css, first_folio), None)
        if part is not None:
            return part
        part = self.theirs.pop((html, css), None)
        if part is not None and first_folio is not None and fix_folios(part.pages, self.lay_out, first_folio):
            return part
        return None


def lay_out_body(parts: Sequence[tuple[str, str]], lay_out: LayOut, font_config: FontConfiguration,
                 warnings: list[str], refused: list[str]) -> SplitBody | None:
    """Lay the body's parts out on two cores: this process the earlier ones, with their folios
    as `paging.assemble` will ask for them, and a forked child the later ones. The child's
    WeasyPrint warnings and refused URLs join ``warnings`` and ``refused``. None when the
    machine has one core or cannot fork: `assemble` lays the parts out as it meets them."""
    if len(parts) < 2 or not sidebyside.can_fork():
        return None
    meeting = _Meeting(len(parts))

    def lay_out_theirs():  # in the child; a part it never returns is laid out by `assemble`
        laid, reported = {}, {}
        while (index := meeting.from_back()) is not None:
            warnings_before, refused_before = len(warnings), len(refused)
            laid[index] = list(lay_out(*parts[index], None).pages)
            reported[index] = (warnings[warnings_before:], refused[refused_before:])
        return dumps_pages(laid), reported

    def lay_out_mine():
        laid, pages = {}, 0
        while (index := meeting.from_front()) is not None:
            html, css = parts[index]
            pages = opening_index(pages)
            part = laid[(html, css, pages + 1)] = lay_out(html, css, pages + 1)
            pages += len(part.pages)
        return laid

    (data, reported), my_parts = sidebyside.side_by_side(lay_out_theirs, lay_out_mine)
    their_parts = loads_pages(data, font_config)
    for index in sorted(reported):  # in reading order, after this process's (the earlier sections)
        warnings.extend(reported[index][0])
        refused.extend(reported[index][1])
    return SplitBody(my_parts, {parts[index]: LaidOutPages(pages) for index, pages in their_parts.items()},
                     lay_out)
