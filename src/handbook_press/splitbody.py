"""The book laid out on two cores: the body's later sections in a forked child, then the
contents beside the rest of the front matter (`lay_out_matter`).

WeasyPrint keeps no Pango object in a laid-out page (a text box drops its
Pango layout once measured and shapes its text again when it is drawn), so
laid-out pages pickle: the child's pages, drawn in this process, give the same
bytes as pages laid out here. The font configuration is the one object that
must stay this process's own; the child inherited it with the fork, so it
crosses as a reference.

This process takes sections from the front, with their folios, the child from
the back, numbered from 1, until they meet (`_Meeting`). The child cannot know
the folio its first section opens on before this process has laid out the
sections before it. A folio moves no page break, only the margin boxes that
show the page counter, so the talk goes:

1. the child sends the anchors on each of its pages: all that the contents,
   learning path and index need (their page numbers);
2. this process sends the folio its share ends on, and lays out the front and
   back matter with the child's sections as placeholders;
3. meanwhile the child lays out its folio boxes again, on empty pages of the
   same names with the true folios (`fix_folios`), and sends its pages, which
   take the placeholders' places (`SplitBody.finish`).

Whatever the child fails to deliver is laid out here: a section it could not
send (an SVG image keeps WeasyPrint's layout context, which does not pickle),
or all of its share if it dies. Tested: the same PDF bytes as the whole body
laid out in one process.

The front matter, contents and index need only the body's folios. The contents,
the longest of them at every size, go to a second child, which numbers them
from 1 and gets its folios as above, once this process has laid out the front
matter before them.

A child whose pages are ready waits for this process to take them. Meanwhile,
at the lowest priority (only on a core nobody else wants), it draws them for
both PDFs (`painting.draw_ahead`), page by page, until this process asks for
them: fewer pages are left to draw once the layout is done.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import io
import os
import pickle
import select
import signal
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from weasyprint.formatting_structure.boxes import MarginBox
from weasyprint.text.fonts import FontConfiguration

from . import sidebyside
from .painting import DrawnAhead, draw_ahead
from .paging import Matter, folio_after, lay_out_in_order, opening_index

LayOut = Callable[..., Any]  # Typesetter.lay_out(html, css, first_folio)
Part = tuple[str, str]  # (HTML, CSS), as `paging.body_parts` gives them


@dataclass
class LaidOutPages:
    """A part as `paging.assemble` takes it: its pages (the document stays where it was laid out)."""

    pages: list


@dataclass
class Placeholder:
    """One of the child's pages until it arrives: its anchors are all the front matter needs."""

    anchors: dict


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


def dumps_pages(value) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def loads_pages(data: bytes, font_config: FontConfiguration):
    # Everything unpickled here lives until the PDFs are written: the cycle collector
    # would walk it again and again for nothing (half the time of the load).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Unpickler(data, font_config).load()
    finally:
        if enabled:
            gc.enable()


def _send(fd: int, data: bytes) -> None:
    for chunk in (len(data).to_bytes(8, "little"), data):  # not joined: a share is tens of MiB
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view):]


def _receive(fd: int) -> bytes | None:
    """One message from ``fd``; None if the other end closed it first (its process died)."""

    def exactly(count: int) -> bytes | None:
        chunks, missing = [], count
        while missing:
            chunk = os.read(fd, min(missing, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    header = exactly(8)
    return None if header is None else exactly(int.from_bytes(header, "little"))


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
    besides the folio (the side follows from the position). None: a page that only counts."""
    divs = "".join(f'<div style="break-before: page; page: {page._page_box.page_type.name or "auto"}"></div>'
                   if page is not None else '<div style="break-before: page"></div>' for page in pages)
    return f'<!DOCTYPE html><html><body class="folio-pages">{divs}</body></html>'


def fix_folios(pages: list, lay_out: LayOut, first_folio: int) -> bool:
    """Give ``pages`` (parts laid out numbered from 1) the folio boxes of ``first_folio`` on,
    in one layout; None in ``pages``: a blank verso of the book between two parts, which only
    counts. False, and ``pages`` untouched, if the empty pages do not match them."""
    folio_pages = lay_out(folio_pages_html(pages), "", first_folio).pages
    if len(folio_pages) != len(pages):
        return False
    replacements = []
    for page, folio_page in zip(pages, folio_pages):
        if page is None:
            continue
        old, new = counter_boxes(page), counter_boxes(folio_page)
        if old.keys() != new.keys() or page._page_box.page_type.side != folio_page._page_box.page_type.side:
            return False
        replacements.append({id(old[key]): new[key] for key in old})
    for page, replace in zip((page for page in pages if page is not None), replacements):
        box = page._page_box
        box.children = [replace.get(id(child), child) for child in box.children]
    return True


def _fork_talking(work: Callable[[int, int], None]) -> tuple[int, int, int]:
    """Fork a child that runs ``work(to_parent, from_parent)`` (two pipes' ends) and exits: it
    never returns here, never runs this process's clean-up or atexit handlers, and dies with
    it. Returns (pid, from_child, to_child)."""
    up_read, up_write = os.pipe()  # child -> this process
    down_read, down_write = os.pipe()  # this process -> child
    parent = os.getpid()
    pid = sidebyside.fork()
    if pid == 0:
        status = 1
        try:
            sidebyside.die_with(parent)
            os.close(up_read)
            os.close(down_write)
            work(up_write, down_read)
            status = 0
        except BaseException:
            pass
        finally:
            os._exit(status)
    os.close(up_write)
    os.close(down_read)
    return pid, up_read, down_write


def _end(pid: int) -> None:
    """End a child (its work is not needed any more, or this process failed) and reap it."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


class _Meeting:
    """Sections taken one at a time, this process from the front and the child from the back,
    until they meet: both finish together whatever their speeds.

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


def _child(parts: Sequence[Part], lay_out: LayOut, meeting: _Meeting, warnings: list[str], refused: list[str],
           to_parent: int, from_parent: int, wanted: int | None) -> None:
    laid, reported, document = {}, {}, None
    while (index := meeting.from_back()) is not None:
        warnings_before, refused_before = len(warnings), len(refused)
        document = lay_out(*parts[index], None)
        laid[index] = list(document.pages)
        reported[index] = (warnings[warnings_before:], refused[refused_before:])
    anchors = {index: [dict(page.anchors) for page in pages] for index, pages in laid.items()}
    _send(to_parent, pickle.dumps((anchors, reported), protocol=pickle.HIGHEST_PROTOCOL))
    answer = _receive(from_parent)
    if answer is None:
        return
    first_folio = int(answer)
    # The child's sections follow each other to the end of the body: their folio boxes are laid
    # out again in one document (a layout's fixed cost is most of a few empty pages').
    pages_before, folios, share = first_folio - 1, {}, []
    for index in sorted(laid):
        opening = opening_index(pages_before)
        share += [None] * (opening - pages_before) + laid[index]
        folios[index], pages_before = opening + 1, opening + len(laid[index])
    if not share or share[0] is None or not fix_folios(share, lay_out, first_folio):
        for index in sorted(laid):  # each on its own, as a section that does not match is left out
            if not fix_folios(laid[index], lay_out, folios[index]):
                laid[index] = None
    fixed = {index: (folios[index], _pickled(pages) if pages is not None else None) for index, pages in laid.items()}
    drawn = _drawn_until_wanted(document, [page for index in _sent(fixed) for page in laid[index]], wanted, warnings)
    _send(to_parent, pickle.dumps((fixed, drawn), protocol=pickle.HIGHEST_PROTOCOL))


def _sent(fixed: dict) -> list[int]:
    """The body child's parts whose pages it sends, in page order (the order it draws them)."""
    return [index for index in sorted(fixed) if fixed[index][1] is not None]


def _drawn_until_wanted(document, pages: list, wanted: int | None, warnings: list[str]) -> DrawnAhead | None:
    """In a child whose pages are pickled, waiting for this process: its pages drawn meanwhile
    (`painting.draw_ahead`), until this process wants them (a byte on ``wanted``), so that the
    drawing left after the layout is shorter. None if not asked to, or nothing was drawn."""
    if wanted is None or document is None or not pages:
        return None
    # Only on a core nobody else wants: this process or the other child may still be laying out.
    with contextlib.suppress(OSError):
        os.nice(19)
    drawn = draw_ahead(document, pages, lambda: bool(select.select([wanted], [], [], 0)[0]), warnings)
    return drawn if drawn.share.recordings else None


class _Wanted:
    """Tells a child drawing ahead (`_drawn_until_wanted`) that this process wants its pages:
    a byte down a pipe, not the pipe's end (a child forked meanwhile holds a copy of it)."""

    def __init__(self, enabled: bool):
        self.read_end, self.write_end = os.pipe() if enabled else (None, None)

    def in_child(self) -> int | None:
        if self.write_end is not None:
            os.close(self.write_end)
        return self.read_end

    def in_parent(self) -> None:
        if self.read_end is not None:
            os.close(self.read_end)
            self.read_end = None

    def now(self) -> None:
        if self.write_end is None:
            return
        try:
            os.write(self.write_end, b"!")
        except OSError:  # the child is gone: its pages are laid out here
            pass
        os.close(self.write_end)
        self.write_end = None


def _pickled(pages: list) -> bytes | None:
    """The part's pages, pickled; None for a part that holds what cannot leave the process (an
    SVG image keeps WeasyPrint's whole layout context): this process lays that part out."""
    try:
        return dumps_pages(pages)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


class SplitBody:
    """The body's parts laid out ahead of `paging.assemble`: this process's with their folios,
    the child's as placeholders until `finish`."""

    def __init__(self, parts: Sequence[Part], lay_out: LayOut, font_config: FontConfiguration):
        self._parts = list(parts)
        self.index_of = {part: index for index, part in enumerate(parts)}
        self.lay_out = lay_out
        self.font_config = font_config
        self.mine: dict[tuple[str, str, int], Any] = {}
        self.theirs: dict[Part, list[Placeholder]] = {}  # by the child's part: its placeholder pages
        self.asked: dict[Part, int] = {}  # the folio `assemble` asked for each placeholder part
        self.delivered = 0  # parts whose pages came from the child
        self.received: dict[Part, list] | None = None  # by part, once `receive` has run
        self.pid: int | None = None
        self.from_child: int | None = None
        self.wanted = _Wanted(False)
        self.ahead: list[DrawnAhead] | None = None  # where the child's pages drawn ahead go

    def take(self, html: str, css: str, first_folio: int | None):
        """The part as laid out with ``first_folio`` (or its placeholder pages), or None: lay it out here."""
        part = self.mine.pop((html, css, first_folio), None)
        if part is not None:
            return part
        placeholders = self.theirs.get((html, css))
        if placeholders is not None and first_folio is not None and (html, css) not in self.asked:
            self.asked[(html, css)] = first_folio
            return LaidOutPages(placeholders)
        return None

    def receive(self) -> None:
        """Take the pages the child sends, numbered as `assemble` asked: early, while other
        processes keep both cores busy (the front matter's layout), else in `finish`."""
        if self.received is not None:
            return
        self.wanted.now()
        data = _receive(self.from_child) if self.from_child is not None else None
        delivered, drawn = pickle.loads(data) if data is not None else ({}, None)
        self.close()
        self.received = {}
        for part, folio in self.asked.items():
            child_folio, pickled = delivered.get(self.index_of[part], (None, None))
            if pickled is not None and child_folio == folio:
                self.received[part] = loads_pages(pickled, self.font_config)
        parts = [self.received.get(self._parts[index]) for index in _sent(delivered)]
        if drawn is not None and self.ahead is not None and all(pages is not None for pages in parts):
            drawn.pages = [page for pages in parts for page in pages]
            self.ahead.append(drawn)

    def finish(self, pages: list) -> list:
        """``pages`` with the child's pages in place of their placeholders (any it did not
        deliver, or numbered otherwise than `assemble` asked, laid out here)."""
        self.receive()
        real: dict[int, Any] = {}
        for part, folio in self.asked.items():
            laid = self.received.get(part)
            if laid is None:
                laid = list(self.lay_out(*part, folio).pages)
            else:
                self.delivered += 1
            placeholders = self.theirs[part]
            if len(laid) != len(placeholders):
                raise RuntimeError(f"a section laid out twice gave {len(laid)} and {len(placeholders)} pages")
            real.update((id(placeholder), page) for placeholder, page in zip(placeholders, laid))
        return [real.get(id(page), page) for page in pages]

    def close(self) -> None:
        """End the child (it is not needed any more, or this process failed) and reap it."""
        self.wanted.now()
        if self.from_child is not None:
            os.close(self.from_child)
            self.from_child = None
        if self.pid is not None:
            _end(self.pid)
            self.pid = None


def lay_out_body(parts: Sequence[Part], lay_out: LayOut, font_config: FontConfiguration,
                 warnings: list[str], refused: list[str], ahead: list[DrawnAhead] | None = None) -> SplitBody | None:
    """Lay the body's parts out on two cores (see the module's text). The child's WeasyPrint
    warnings and refused URLs join ``warnings`` and ``refused``, in reading order. None when
    the machine has one core or cannot fork: `assemble` lays the parts out as it meets them.
    The caller must `SplitBody.finish` or `SplitBody.close` it. With ``ahead``, the child draws
    its pages while it waits for this process to take them; what it drew goes there."""
    if len(parts) < 2 or not sidebyside.can_fork():
        return None
    meeting = _Meeting(len(parts))
    wanted = _Wanted(ahead is not None)
    pid, up_read, down_write = _fork_talking(
        lambda to_parent, from_parent: _child(parts, lay_out, meeting, warnings, refused, to_parent, from_parent,
                                              wanted.in_child()))
    wanted.in_parent()
    split = SplitBody(parts, lay_out, font_config)
    split.pid, split.from_child, split.wanted, split.ahead = pid, up_read, wanted, ahead
    try:
        try:
            pages = 0
            while (index := meeting.from_front()) is not None:
                html, css = parts[index]
                pages = opening_index(pages)
                part = split.mine[(html, css, pages + 1)] = lay_out(html, css, pages + 1)
                pages += len(part.pages)
            _send(down_write, str(folio_after(pages)).encode())  # where the child's share opens
        except BrokenPipeError:  # the child died: what it took is laid out by `assemble`
            pass
        finally:
            os.close(down_write)
        message = _receive(up_read)
    except BaseException:
        split.close()
        raise
    finally:
        meeting.file.close()  # the child has its own descriptor
    if message is None:
        split.close()
        return split
    anchors, reported = pickle.loads(message)
    for index in sorted(anchors):
        split.theirs[parts[index]] = [Placeholder(page) for page in anchors[index]]
        warnings.extend(reported[index][0])
        refused.extend(reported[index][1])
    return split


def lay_out_matter(lay_out: LayOut, font_config: FontConfiguration, warnings: list[str], refused: list[str],
                   front: Matter, contents: Matter, back: Matter,
                   meanwhile: Callable[[], None] | None = None,
                   ahead: list[DrawnAhead] | None = None) -> tuple[Any, Any, Any]:
    """The front matter, its contents and the index (each (html, css, first_folio)), which
    need only the body's folios, laid out on two cores: the front matter here, the contents
    (the longest, at every size) in a forked child, the index by whichever is free first.

    The contents open on the recto after the front matter's pages, unknown to the child:
    it numbers them from 1 and, once told, lays their folio boxes out again (`fix_folios`),
    as for the body. What the child does not deliver is laid out here. WeasyPrint's warnings
    and refused URLs follow the reading order: front matter, contents, index. ``meanwhile``
    runs here while the child is still at work (`SplitBody.receive`). With ``ahead``, the child
    draws its pages while it waits for this process to take them; what it drew goes there."""
    if not sidebyside.can_fork():
        return lay_out_in_order(lay_out, front, contents, back)
    claim = _Meeting(1)  # the index: this process takes it from the front, the child from the back
    wanted = _Wanted(ahead is not None)
    pid, up_read, down_write = _fork_talking(
        lambda to_parent, from_parent: _matter_child(lay_out, claim, warnings, refused, contents, back,
                                                     to_parent, from_parent, wanted.in_child()))
    wanted.in_parent()
    back_laid = None
    try:
        try:
            front_laid = lay_out(*front)
            folio = folio_after(len(front_laid.pages))
            _send(down_write, str(folio).encode())
        except BrokenPipeError:  # the child died: its share is laid out below
            pass
        finally:
            os.close(down_write)
        after_front = len(warnings), len(refused)
        if claim.from_front() is not None:
            back_laid = lay_out(*back)
        if meanwhile is not None:
            meanwhile()
        wanted.now()
        message = _receive(up_read)
    finally:
        wanted.now()
        os.close(up_read)
        claim.file.close()
        _end(pid)
    delivered = pickle.loads(message) if message is not None else {}
    drawn_parts: list = []
    contents_laid = None
    if delivered.get("contents") is not None and delivered["contents"][0] == folio:
        _, data, (their_warnings, their_refused) = delivered["contents"]
        contents_laid = LaidOutPages(loads_pages(data, font_config))
        warnings[after_front[0]:after_front[0]] = their_warnings
        refused[after_front[1]:after_front[1]] = their_refused
        drawn_parts.append(contents_laid)
    if back_laid is None and delivered.get("back") is not None:
        data, (their_warnings, their_refused) = delivered["back"]
        back_laid = LaidOutPages(loads_pages(data, font_config))
        warnings.extend(their_warnings)
        refused.extend(their_refused)
        drawn_parts.append(back_laid)
    drawn = delivered.get("drawn")
    offered = [key for key in ("contents", "back") if key in delivered]
    # Drawn in the child: the parts it offered (its contents, then its index), if all were taken here.
    if drawn is not None and ahead is not None and len(drawn_parts) == len(offered):
        drawn.pages = [page for part in drawn_parts for page in part.pages]
        ahead.append(drawn)
    if contents_laid is None:
        reported_from = len(warnings), len(refused)
        contents_laid = lay_out(contents[0], contents[1], folio)
        _move_after(warnings, reported_from[0], after_front[0])  # before the index's, as they are read
        _move_after(refused, reported_from[1], after_front[1])
    if back_laid is None:
        back_laid = lay_out(*back)
    return front_laid, contents_laid, back_laid


def _move_after(items: list, start: int, at: int) -> None:
    """Move what was appended to ``items`` from ``start`` on to ``at``."""
    moved = items[start:]
    del items[start:]
    items[at:at] = moved


def _matter_child(lay_out: LayOut, claim: _Meeting, warnings: list[str], refused: list[str],
                  contents: Matter, back: Matter, to_parent: int, from_parent: int, wanted: int | None) -> None:
    document = None

    def laid_and_reported(html: str, css: str, first_folio: int | None):
        nonlocal document
        warnings_before, refused_before = len(warnings), len(refused)
        document = lay_out(html, css, first_folio)
        pages = list(document.pages)
        return pages, (warnings[warnings_before:], refused[refused_before:])

    contents_pages, contents_reported = laid_and_reported(contents[0], contents[1], None)
    index = laid_and_reported(*back) if claim.from_back() is not None else None
    answer = _receive(from_parent)
    if answer is None:
        return
    folio, delivered = int(answer), {}
    if fix_folios(contents_pages, lay_out, folio) and (data := _pickled(contents_pages)) is not None:
        delivered["contents"] = (folio, data, contents_reported)
    if index is not None and (data := _pickled(index[0])) is not None:
        delivered["back"] = (data, index[1])
    # In page order, as this process takes them: the contents, then the index.
    pages = [*(contents_pages if "contents" in delivered else ()), *(index[0] if "back" in delivered else ())]
    if (drawn := _drawn_until_wanted(document, pages, wanted, warnings)) is not None:
        delivered["drawn"] = drawn
    _send(to_parent, pickle.dumps(delivered, protocol=pickle.HIGHEST_PROTOCOL))
