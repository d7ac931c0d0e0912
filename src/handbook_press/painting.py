"""Draw each page once for both PDFs, spread over the processes that have a core free.

WeasyPrint draws a page by walking its boxes and shaping every line with Pango
again: most of a PDF's write (1.2 of 2.0 s for the x1 book), and the reading
edition and the print interior drew the same pages, each in its own write.
Here every page is drawn once, with tags, into a recording: the operators the
drawing appended to the page's content stream (and the same without marked
content, for an untagged file), the boxes it tagged, and the fonts and
transparency states it used first. Both writes then replay the recordings in
place of drawing (``replaying``), so WeasyPrint's writer does everything else
as before: links, bookmarks, the tag tree, fonts, metadata.

The children that laid pages out (`splitbody`) draw them while they wait for
this process to take them, at the lowest priority, until it does
(`draw_ahead`): a share of their own. The pages left are cut in two shares of
about the same amount of text; a forked child records the second while this
process records the first (on one core, both here, the same way). Every share
draws its pages in page order and starts with no fonts and no states, and a
replay adds a page's first-used fonts and states in page order: the order a
sequential drawing meets them, so the files are the same whichever process drew
a page, and the reading edition is byte for byte what WeasyPrint alone writes
(tested). Tagged boxes cross as ids: a forked child has its parent's objects at
the same addresses, and each id is looked up among the page's own boxes; pages
drawn ahead crossed pickled, so their boxes go by their place among the page's.

A page whose drawing needs what a recording cannot carry — an image, a pattern,
a shading, a transparency group or blend state (named by WeasyPrint in the
order it meets them) — is drawn live in each write, as before. A glyph missing
from the fonts (numbered likewise, and giving its font an encoding of the glyphs
drawn) has every page of the document drawn live. Tied to the pinned WeasyPrint (its
``Stream`` and ``Font``): with any other version every page is drawn live.
"""

from __future__ import annotations

import copy
import dataclasses
import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace

import pydyf
import weasyprint
from weasyprint.formatting_structure.boxes import TextBox
from weasyprint.pdf.fonts import Font
from weasyprint.pdf.stream import Stream

from .sidebyside import side_by_side

PAINTED_VERSION = "70.0"
SCALE = 0.75  # what WeasyPrint's writer draws at: 72 pt per inch / 96 CSS px per inch, zoom 1
_MARKED_CONTENT_ENDS = {b"BDC": 3, b"BMC": 2, b"EMC": 1}  # operator -> items it spans
# Stream methods whose resources WeasyPrint names as it meets them (x0, p0, s0…), or that
# record an image's use (its resolution): a page calling one is drawn live.
_NAMED_IN_ORDER = ("add_image", "add_group", "add_pattern", "add_shading", "set_state")
_FONT_HANDLES = ("hb_font", "hb_face")  # HarfBuzz pointers, valid in one process only
TEXT_BOX_WEIGHT = 20  # characters


@dataclass
class PageRecording:
    tagged: bytes  # what drawing appended to the content stream, marked content included
    untagged: bytes  # the same without marked content
    tags: list[tuple[int, str, int]]  # (id of the box, structure tag, MCID), in drawing order
    new_fonts: list[int]  # keys of the fonts this page uses first in its share
    new_states: list[tuple[str, dict]]  # ExtGState entries it adds first in its share
    boxes: dict[int, object] | None = None  # id -> box, in the process that drew it (not pickled)

    def __getstate__(self):
        return {**self.__dict__, "boxes": None}


@dataclass
class Share:
    """Recordings of some pages (page index -> recording; None: drawn live) and their fonts."""

    recordings: dict[int, PageRecording | None] = field(default_factory=dict)
    fonts: dict[int, Font] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def __getstate__(self):
        fonts = {key: {k: v for k, v in font.__dict__.items() if k not in _FONT_HANDLES}
                 for key, font in self.fonts.items()}
        return {**self.__dict__, "fonts": fonts}

    def __setstate__(self, state):
        fonts = {}
        for key, attributes in state["fonts"].items():
            font = Font.__new__(Font)  # without HarfBuzz handles: enough to embed a full font
            font.__dict__.update(attributes)
            fonts[key] = font
        self.__dict__.update({**state, "fonts": fonts})


def supported() -> bool:
    return weasyprint.__version__ == PAINTED_VERSION


def page_rectangle(page) -> tuple[float, float, float, float]:
    """As WeasyPrint's writer gives it to the page's stream (the bleed box, in CSS px), to the last bit."""
    left, top = -SCALE * page.bleed["left"], -SCALE * page.bleed["top"]
    right = left + SCALE * (page.width + page.bleed["left"] + page.bleed["right"])
    bottom = top + SCALE * (page.height + page.bleed["top"] + page.bleed["bottom"])
    return (left / SCALE, top / SCALE, (right - left) / SCALE, (bottom - top) / SCALE)


def _untagged(items: list) -> bytes:
    kept: list = []
    for item in items:
        span = _MARKED_CONTENT_ENDS.get(item) if isinstance(item, bytes) else None
        if span:
            del kept[len(kept) - (span - 1):]
        else:
            kept.append(item)
    return b"\n".join(pydyf._to_bytes(item) for item in kept)


def record(document, indices, warnings: list[str] | None = None,
           stop: Callable[[int], bool] | None = None) -> Share:
    """Draw ``document.pages[i]`` for each i of ``indices`` (in increasing order), tagged, into
    recordings; ``stop(i)`` True ends the share before page i."""
    share = Share()
    warnings_before = len(warnings) if warnings is not None else 0
    resources = pydyf.Dictionary({"ExtGState": pydyf.Dictionary(), "XObject": pydyf.Dictionary(),
                                  "Pattern": pydyf.Dictionary(), "Shading": pydyf.Dictionary(),
                                  "ColorSpace": None})
    images: dict = {}
    for index in indices:
        if stop is not None and stop(index):
            break
        page = document.pages[index]
        fonts_before, states_before = len(share.fonts), len(resources["ExtGState"])
        missing_before = sum(len(font.missing) for font in share.fonts.values())
        tags: dict = {}
        stream = Stream(share.fonts, page_rectangle(page), resources, images, tags,
                        document.color_profiles, document.output_intent)
        named_in_order: list[str] = []  # what WeasyPrint names by the order it meets things
        for method in _NAMED_IN_ORDER:
            setattr(stream, method, _noting(getattr(stream, method), method, named_in_order))
        stream.transform(d=-1, f=page.height * SCALE)
        start = len(stream.stream)
        page.paint(stream, SCALE)
        # Only transparency states, named by value, can be added here: others go through set_state.
        new_states = list(resources["ExtGState"])[states_before:]
        if named_in_order or sum(len(font.missing) for font in share.fonts.values()) != missing_before:
            share.recordings[index] = None  # drawn live in each write
            continue
        items = stream.stream[start:]
        share.recordings[index] = PageRecording(
            tagged=b"\n".join(pydyf._to_bytes(item) for item in items),
            untagged=_untagged(items),
            tags=[(id(box), tag["tag"], tag["mcid"]) for box, tag in tags.items()],
            new_fonts=list(share.fonts)[fonts_before:],
            new_states=[(key, dict(resources["ExtGState"][key])) for key in new_states],
            boxes={id(box): box for box in tags})
    if warnings is not None:
        share.warnings = list(warnings[warnings_before:])
    return share


def _noting(method: Callable, name: str, noted: list[str]) -> Callable:
    def noting(*args, **kwargs):
        noted.append(name)
        return method(*args, **kwargs)

    return noting


def _text_weight(page) -> int:
    """What drawing the page costs, near enough to balance two shares: its text boxes (each
    shaped again by Pango) and their characters (each glyph written in a Python loop)."""
    return sum(TEXT_BOX_WEIGHT + len(box.text)
               for box in page._page_box.descendants(placeholders=True) if isinstance(box, TextBox))


def split_point(pages) -> int:
    """The first page of the second share: each share about half of the text."""
    weights = [_text_weight(page) for page in pages]
    total, running = sum(weights), 0
    for index, weight in enumerate(weights):
        running += weight
        if running * 2 >= total:
            return index + 1
    return len(pages)


def record_on_two_cores(document, warnings: list[str], ahead: Sequence[DrawnAhead] = ()) -> list[Share]:
    """Shares of all of ``document``'s pages: those drawn ahead by the children that laid them
    out (`draw_ahead`), then the rest in two, the second recorded in a forked child."""
    placed = [share for share in (drawn.placed(document.pages) for drawn in ahead) if share is not None]
    covered = {index for share in placed for index in share.recordings}
    rest = [index for index in range(len(document.pages)) if index not in covered]
    cut = split_point([document.pages[index] for index in rest])
    # Frozen, the laid-out pages are left out of garbage collections: a collection
    # in the child would touch every object and copy the memory it shares with us.
    gc.freeze()
    try:
        second, first = side_by_side(lambda: record(document, rest[cut:], warnings),
                                     lambda: record(document, rest[:cut], warnings))
    finally:
        gc.unfreeze()
    for share in (*placed, second):
        warnings.extend(message for message in share.warnings if message not in warnings)
    return [*placed, first, second]


@dataclass
class DrawnAhead:
    """Pages a child drew after laying them out, while this process was still busy: a share
    whose tagged boxes are named by their place among their page's boxes (their ids are the
    child's), and the pages drawn, as this process received them (`placed`)."""

    share: Share
    pages: list = field(default_factory=list)

    def placed(self, document_pages: list) -> Share | None:
        """The share keyed by the pages' places in ``document_pages`` and naming this process's
        boxes; None if a page drawn is not there (its part was laid out again here): the
        share's first uses of fonts would then be wrong for the others."""
        place = {id(page): index for index, page in enumerate(document_pages)}
        if any(id(page) not in place for page in self.pages):
            return None
        share = Share(fonts=self.share.fonts, warnings=self.share.warnings)
        for position, recording in self.share.recordings.items():
            page = self.pages[position]
            if recording is not None:
                boxes = list(page._page_box.descendants(placeholders=True))
                recording = dataclasses.replace(
                    recording, tags=[(id(boxes[n]), tag, mcid) for n, tag, mcid in recording.tags],
                    boxes={id(boxes[n]): boxes[n] for n, _, _ in recording.tags})
            share.recordings[place[id(page)]] = recording
        return share


def draw_ahead(document, pages: list, stop: Callable[[], bool], warnings: list[str]) -> DrawnAhead:
    """In a child, ``pages`` (laid out there, in page order, as pickled for this process) drawn
    until ``stop()``: the share without its pages, its boxes named by place (`DrawnAhead`).
    ``document`` is one the pages were laid out in; ``warnings``, the list WeasyPrint's go to."""
    places: list[dict[int, int]] = []

    def stop_or_place(index: int) -> bool:
        if stop():
            return True
        # Taken before the page is drawn, on its boxes as they were pickled.
        places.append({id(box): n for n, box in enumerate(pages[index]._page_box.descendants(placeholders=True))})
        return False

    share = record(SimpleNamespace(pages=pages, color_profiles=document.color_profiles,
                                   output_intent=document.output_intent), range(len(pages)), warnings, stop_or_place)
    for position, recording in share.recordings.items():
        if recording is not None:
            share.recordings[position] = dataclasses.replace(
                recording, tags=[(places[position][box_id], tag, mcid) for box_id, tag, mcid in recording.tags],
                boxes=None)
    return DrawnAhead(share)


class _FontTable:
    """One edition's fonts: its own copy of each (the writer cleans and may rewrite them)."""

    def __init__(self, shares: list[Share]):
        # A font drawn in this process (it keeps its HarfBuzz handles) before one received.
        fonts = [(key, font) for share in shares for key, font in share.fonts.items()]
        self.sources: dict[int, Font] = {}
        for key, font in sorted(fonts, key=lambda pair: not hasattr(pair[1], "hb_face")):
            self.sources.setdefault(key, font)
        self.copies: dict[int, Font] = {}

    def get(self, key: int) -> Font:
        font = self.copies.get(key)
        if font is None:
            font = self.copies[key] = copy.copy(self.sources[key])
            for name in ("variations", "widths", "to_unicode", "missing"):
                setattr(font, name, dict(getattr(font, name)))
        return font


def _boxes_of(page) -> dict[int, object]:
    return {id(box): box for box in page._page_box.descendants(placeholders=True)}


def replaying(pages: list, shares: list[Share]) -> list:
    """``pages`` whose drawing replays their recording (pages without one are drawn live).

    A replay writes the tagged or the untagged operators, as the writer asks (the
    stream has a tag table or not), and adds the page's first fonts and states."""
    if any(font.missing for share in shares for font in share.fonts.values()):
        # A glyph the fonts lack: for that font WeasyPrint writes an encoding of the glyphs
        # drawn, in the order drawn, and numbers the missing ones as it meets them; shares
        # recorded in two processes cannot give either, so every page is drawn live.
        return list(pages)
    recordings: dict[int, PageRecording | None] = {}
    for share in shares:
        recordings.update(share.recordings)
    fonts = _FontTable(shares)
    replayed = []
    for index, page in enumerate(pages):
        recording = recordings.get(index)
        if recording is None:
            replayed.append(page)
            continue
        clone = copy.copy(page)
        clone.paint = _replay(page, recording, fonts)
        replayed.append(clone)
    return replayed


def _replay(page, recording: PageRecording, fonts: _FontTable) -> Callable:
    def paint(stream, scale=1):
        assert scale == SCALE, "recorded at WeasyPrint's writer scale"
        for key in recording.new_fonts:
            if key not in stream._fonts:
                stream._fonts[key] = fonts.get(key)
        states = stream._resources["ExtGState"]
        for key, entries in recording.new_states:
            if key not in states:
                states[key] = pydyf.Dictionary(entries)
        if stream._tags is not None:
            boxes = recording.boxes if recording.boxes is not None else _boxes_of(page)
            for box_id, tag, mcid in recording.tags:
                stream._tags[boxes[box_id]] = {"tag": tag, "mcid": mcid}
            data = recording.tagged
        else:
            data = recording.untagged
        if data:
            stream.stream.append(data)

    return paint
