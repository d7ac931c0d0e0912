"""Preflight of the print interior PDF against a print profile.

Runs the interior checks of print-specs.md §10 with pypdf (structure, content
streams) and pypdfium2 (glyph positions): page count and parity, page and
box sizes, fonts, colour, black text, transparency, image resolution,
printer's marks, forbidden objects, PDF/X identity and the safe area.
Each check gives pass, warn or fail with a message and details;
`PreflightReport.passed` is true when no check failed.

Not checked here (they need other tools): ink coverage (§10 #9: render to
CMYK with Ghostscript), full PDF/X validation (no free validator exists),
whether an image really is grayscale when stored as RGB, overprint, and
images placed in the margins (only glyphs are held to the safe area).
Colour and transparency are judged by what the content streams paint, not by
what the resource dictionaries declare: WeasyPrint lists Lab and ICC spaces in
every page's resources whether they are used or not.

    python -m handbook_press.preflight build/book.pdf --profile kdp --trim 6in 9in
"""

from __future__ import annotations

import argparse
import io
import math
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

from .contentstream import operations_of
from .preflightreport import (CHECK_TITLES, CheckResult, PreflightReport, Status, checker_version,  # noqa: F401
                              recorded_report, report_record)
from .profiles import PROFILES, PrintProfile, Rule, get_profile, gutter_for, page_box_size, page_range

#: Tolerance on page and box sizes (print-specs.md §10: +/- 0.5 pt).
BOX_TOLERANCE_PT = 0.5
#: Tolerance on glyph positions against the safe area.
GLYPH_TOLERANCE_PT = 0.1
#: How many examples a check lists in its details.
MAX_EXAMPLES = 10
#: An embedded font with fewer glyphs than this is taken to be a subset (WeasyPrint
#: tags every font name "ABCDEF+", subset or not, so the name tells nothing).
SUBSET_GLYPHS = 256
#: Highest PDF version each PDF/X flavour allows.
PDFX_MAX_VERSION = {"PDF/X-1a:2001": 1.3, "PDF/X-1a:2003": 1.4, "PDF/X-3:2002": 1.3, "PDF/X-3:2003": 1.4,
                    "PDF/X-4": 1.6, "PDF/X-4p": 1.6, "PDF/X-5g": 1.6}

def _result(check_id: str, status: Status, message: str, details: Iterable[str] = ()) -> CheckResult:
    return CheckResult(check_id, CHECK_TITLES[check_id], status, message, list(details))


def _by_rule(rule: Rule) -> Status:
    return {"allow": "pass", "warn": "warn", "forbid": "fail"}[rule]


def _examples(items: list[str], total: int | None = None) -> list[str]:
    total = len(items) if total is None else total
    shown = items[:MAX_EXAMPLES]
    if total > len(shown):
        shown.append(f"... and {total - len(shown)} more")
    return shown


# ---------------------------------------------------------------------------
# Geometry helpers

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 (normalised)
Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _box(value: Any) -> Box | None:
    if value is None:
        return None
    value = value.get_object() if isinstance(value, IndirectObject) else value
    try:
        x0, y0, x1, y1 = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _size(box: Box) -> tuple[float, float]:
    return box[2] - box[0], box[3] - box[1]


def _contains(outer: Box, inner: Box, tolerance: float = BOX_TOLERANCE_PT) -> bool:
    return (inner[0] >= outer[0] - tolerance and inner[1] >= outer[1] - tolerance
            and inner[2] <= outer[2] + tolerance and inner[3] <= outer[3] + tolerance)


def _fmt_box(box: Box) -> str:
    return "[" + " ".join(f"{v:g}" for v in (round(x, 2) for x in box)) + "]"


def _pt_in(points: float) -> str:
    return f"{points:.1f} pt ({points / 72:.3f} in)"


def _multiply(m1: Matrix, m2: Matrix) -> Matrix:
    a1, b1, c1, d1, e1, f1 = m1
    a2, b2, c2, d2, e2, f2 = m2
    return (a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, c1 * a2 + d1 * c2, c1 * b2 + d1 * d2,
            e1 * a2 + f1 * c2 + e2, e1 * b2 + f1 * d2 + f2)


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def _is_recto(index: int) -> bool:
    """Page index 0 is page 1, a recto (right-hand page, gutter on the left)."""
    return index % 2 == 0


# ---------------------------------------------------------------------------
# Colour spaces

RGB_FAMILIES = {"rgb", "icc-rgb", "calrgb"}
DEVICE_INDEPENDENT = {"icc-gray", "icc-rgb", "icc-cmyk", "icc", "lab", "calgray", "calrgb"}
K_FAMILIES_GRAY = {"gray", "icc-gray", "calgray"}
K_FAMILIES_CMYK = {"cmyk", "icc-cmyk"}
_SHORT_NAMES = {"/G": "/DeviceGray", "/RGB": "/DeviceRGB", "/CMYK": "/DeviceCMYK", "/I": "/Indexed"}


@dataclass(frozen=True)
class ColourSpace:
    family: str  # gray rgb cmyk icc-gray icc-rgb icc-cmyk lab calgray calrgb separation devicen pattern ...
    components: int
    label: str
    base: "ColourSpace | None" = None  # Indexed and Pattern spaces
    colorant: str = ""  # Separation name

    @property
    def effective(self) -> "ColourSpace":
        """Indexed spaces count as their base space."""
        return self.base.effective if self.family == "indexed" and self.base else self


GRAY = ColourSpace("gray", 1, "DeviceGray")
RGB = ColourSpace("rgb", 3, "DeviceRGB")
CMYK = ColourSpace("cmyk", 4, "DeviceCMYK")
UNKNOWN = ColourSpace("unknown", 1, "unknown")


def _resolve(value: Any) -> Any:
    while isinstance(value, IndirectObject):
        value = value.get_object()
    return value


def _classify(value: Any, resources: DictionaryObject | None, depth: int = 0) -> ColourSpace:
    value = _resolve(value)
    if depth > 8:
        return UNKNOWN
    if isinstance(value, NameObject) or isinstance(value, str):
        name = _SHORT_NAMES.get(str(value), str(value))
        if name == "/DeviceGray":
            return GRAY
        if name == "/DeviceRGB":
            return RGB
        if name == "/DeviceCMYK":
            return CMYK
        if name == "/Pattern":
            return ColourSpace("pattern", 1, "Pattern")
        named = _resolve(resources.get("/ColorSpace")) if resources is not None else None
        if isinstance(named, DictionaryObject) and name in named:
            return _classify(named[name], resources, depth + 1)
        return ColourSpace("unknown", 1, name.lstrip("/"))
    if isinstance(value, (list, ArrayObject)) and value:
        kind = str(_resolve(value[0]))
        kind = _SHORT_NAMES.get(kind, kind)
        if kind == "/ICCBased":
            stream = _resolve(value[1])
            n = int(stream.get("/N", 0)) if isinstance(stream, DictionaryObject) else 0
            family = {1: "icc-gray", 3: "icc-rgb", 4: "icc-cmyk"}.get(n, "icc")
            return ColourSpace(family, n or 1, f"ICCBased (N={n})")
        if kind == "/Lab":
            return ColourSpace("lab", 3, "Lab")
        if kind == "/CalRGB":
            return ColourSpace("calrgb", 3, "CalRGB")
        if kind == "/CalGray":
            return ColourSpace("calgray", 1, "CalGray")
        if kind == "/Indexed":
            base = _classify(value[1], resources, depth + 1)
            return ColourSpace("indexed", 1, f"Indexed({base.label})", base=base)
        if kind == "/Separation":
            colorant = str(_resolve(value[1])).lstrip("/")
            return ColourSpace("separation", 1, f"Separation({colorant})", colorant=colorant)
        if kind == "/DeviceN":
            names = _resolve(value[1])
            n = len(names) if isinstance(names, (list, ArrayObject)) else 1
            return ColourSpace("devicen", n, "DeviceN")
        if kind == "/Pattern":
            base = _classify(value[1], resources, depth + 1) if len(value) > 1 else None
            return ColourSpace("pattern", 1, "Pattern", base=base)
        return _classify(value[0], resources, depth + 1)
    return UNKNOWN


def _is_k_only(space: ColourSpace, values: tuple[float, ...]) -> bool:
    space = space.effective
    if space.family in K_FAMILIES_GRAY:
        return True
    if space.family in K_FAMILIES_CMYK:
        return len(values) >= 4 and all(abs(v) < 1e-6 for v in values[:3])
    if space.family == "separation":
        return space.colorant.lower() == "black"
    return False


def _initial_values(space: ColourSpace) -> tuple[float, ...]:
    if space.effective.family in K_FAMILIES_CMYK:
        return (0.0, 0.0, 0.0, 1.0)
    return tuple(0.0 for _ in range(space.components))


# ---------------------------------------------------------------------------
# Content-stream scan


@dataclass
class _Paint:
    space: ColourSpace = GRAY
    values: tuple[float, ...] = (0.0,)
    pattern: str | None = None


@dataclass
class _State:
    ctm: Matrix = IDENTITY
    fill: _Paint = field(default_factory=_Paint)
    stroke: _Paint = field(default_factory=_Paint)
    text_render: int = 0

    def copy(self) -> "_State":
        return _State(self.ctm, self.fill, self.stroke, self.text_render)


@dataclass
class PageScan:
    """What painting one page does, as far as the checks need it."""

    colours: Counter = field(default_factory=Counter)  # (family label, context) -> uses
    spaces: dict = field(default_factory=dict)  # label -> ColourSpace
    non_k_text: Counter = field(default_factory=Counter)  # description -> uses
    transparency: list[str] = field(default_factory=list)
    images: list[tuple[str, int, int, float, float]] = field(default_factory=list)  # name, w, h, ppi x, ppi y
    mark_strokes: list[Box] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


FILL_OPS = {b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"}
STROKE_OPS = {b"S", b"s", b"B", b"B*", b"b", b"b*"}
PATH_END_OPS = FILL_OPS | STROKE_OPS | {b"n"}
TEXT_SHOW_OPS = {b"Tj", b"TJ", b"'", b'"'}
_BLEND_OK = {"/Normal", "/Compatible"}


class _Scanner:
    def __init__(self, reader: PdfReader):
        self.reader = reader
        self.trim: Box | None = None
        self._forms: dict[Any, list] = {}  # parsed form and pattern streams, by object number

    def scan_page(self, page) -> PageScan:
        self.trim = _box(page.get("/TrimBox")) or _box(page.mediabox)
        scan = PageScan()
        group = _resolve(page.get("/Group"))
        if isinstance(group, DictionaryObject) and str(group.get("/S")) == "/Transparency":
            scan.transparency.append("page has a transparency group (/Group /S /Transparency)")
        resources = _resolve(page.get("/Resources"))
        if resources is None:
            resources = _inherited(page, "/Resources")
        try:
            contents = page.get_contents()
        except Exception as error:  # noqa: BLE001 - a broken stream is a finding, not a crash
            scan.errors.append(f"content stream unreadable: {error}")
            return scan
        if contents is not None:
            self._run(operations_of(contents, self.reader), resources, _State(), scan, depth=0, seen=set())
        return scan

    def _run(self, operations, resources, state: _State, scan: PageScan, depth: int, seen: set) -> None:
        stack: list[_State] = []
        path: list[tuple[float, float]] = []
        resources = resources if isinstance(resources, DictionaryObject) else DictionaryObject()
        for operands, operator in operations:
            if operator == b"q":
                stack.append(state.copy())
            elif operator == b"Q":
                if stack:
                    state = stack.pop()
            elif operator == b"cm" and len(operands) == 6:
                state.ctm = _multiply(tuple(_num(v) for v in operands), state.ctm)  # type: ignore[arg-type]
            elif operator in (b"g", b"G"):
                paint = _Paint(GRAY, (_num(operands[0]),) if operands else (0.0,))
                self._set(state, operator == b"G", paint)
            elif operator in (b"rg", b"RG"):
                self._set(state, operator == b"RG", _Paint(RGB, tuple(_num(v) for v in operands)))
            elif operator in (b"k", b"K"):
                self._set(state, operator == b"K", _Paint(CMYK, tuple(_num(v) for v in operands)))
            elif operator in (b"cs", b"CS") and operands:
                space = _classify(operands[0], resources)
                scan.spaces[space.label] = space
                self._set(state, operator == b"CS", _Paint(space, _initial_values(space)))
            elif operator in (b"sc", b"scn", b"SC", b"SCN"):
                stroke = operator in (b"SC", b"SCN")
                current = state.stroke if stroke else state.fill
                pattern = str(operands[-1]) if operands and isinstance(operands[-1], NameObject) else None
                values = tuple(_num(v) for v in operands if not isinstance(v, NameObject))
                self._set(state, stroke, _Paint(current.space, values, pattern))
            elif operator == b"Tr" and operands:
                state.text_render = int(_num(operands[0]))
            elif operator in TEXT_SHOW_OPS:
                mode = state.text_render
                if mode in (0, 2, 4, 6):
                    self._use(state.fill, "text", scan, resources, state, depth, seen)
                    self._check_text(state.fill, scan)
                if mode in (1, 2, 5, 6):
                    self._use(state.stroke, "text", scan, resources, state, depth, seen)
                    self._check_text(state.stroke, scan)
            elif operator in (b"m", b"l") and len(operands) >= 2:
                path.append(_apply(state.ctm, _num(operands[0]), _num(operands[1])))
            elif operator == b"c" and len(operands) >= 6:
                for i in (0, 2, 4):
                    path.append(_apply(state.ctm, _num(operands[i]), _num(operands[i + 1])))
            elif operator in (b"v", b"y") and len(operands) >= 4:
                for i in (0, 2):
                    path.append(_apply(state.ctm, _num(operands[i]), _num(operands[i + 1])))
            elif operator == b"re" and len(operands) >= 4:
                x, y, w, h = (_num(v) for v in operands[:4])
                path += [_apply(state.ctm, px, py) for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h))]
            elif operator in PATH_END_OPS:
                # Paint wholly outside the trim is printer's marks (or a slug): it is cut off,
                # and its colour is recorded apart ("marks") so that wanted marks pass.
                box = None
                if path and self.trim is not None:
                    box = (min(p[0] for p in path), min(p[1] for p in path),
                           max(p[0] for p in path), max(p[1] for p in path))
                    if not _outside(box, self.trim):
                        box = None
                if operator in FILL_OPS:
                    self._use(state.fill, "marks" if box else "fill", scan, resources, state, depth, seen)
                if operator in STROKE_OPS:
                    self._use(state.stroke, "marks" if box else "stroke", scan, resources, state, depth, seen)
                    if box:
                        scan.mark_strokes.append(box)
                path = []
            elif operator == b"sh" and operands:
                self._shading(operands[0], resources, scan, "shading")
            elif operator == b"gs" and operands:
                self._ext_gstate(operands[0], resources, scan)
            elif operator == b"Do" and operands:
                self._xobject(str(operands[0]), resources, state, scan, depth, seen)
            elif operator == b"INLINE IMAGE":
                self._inline_image(operands, resources, state, scan)

    @staticmethod
    def _set(state: _State, stroke: bool, paint: _Paint) -> None:
        if stroke:
            state.stroke = paint
        else:
            state.fill = paint

    def _use(self, paint: _Paint, context: str, scan: PageScan, resources, state, depth, seen) -> None:
        space = paint.space
        if space.family == "pattern" and paint.pattern:
            self._pattern(paint.pattern, resources, state, scan, depth, seen)
            if space.base is None:
                return
            space = space.base
        self._record(space, context, scan)

    @staticmethod
    def _record(space: ColourSpace, context: str, scan: PageScan) -> None:
        scan.spaces[space.label] = space
        scan.colours[(space.label, context)] += 1

    @staticmethod
    def _check_text(paint: _Paint, scan: PageScan) -> None:
        if paint.space.family == "pattern":
            scan.non_k_text["pattern fill"] += 1
        elif not _is_k_only(paint.space, paint.values):
            values = " ".join(f"{v:g}" for v in paint.values)
            scan.non_k_text[f"{paint.space.label} {values}".strip()] += 1

    def _shading(self, name: Any, resources, scan: PageScan, context: str) -> None:
        shadings = _resolve(resources.get("/Shading"))
        shading = _resolve(shadings.get(str(name))) if isinstance(shadings, DictionaryObject) else None
        if isinstance(shading, DictionaryObject):
            self._record(_classify(shading.get("/ColorSpace"), resources), context, scan)

    def _pattern(self, name: str, resources, state: _State, scan: PageScan, depth: int, seen: set) -> None:
        patterns = _resolve(resources.get("/Pattern"))
        pattern = _resolve(patterns.get(name)) if isinstance(patterns, DictionaryObject) else None
        if not isinstance(pattern, DictionaryObject):
            return
        if int(_num(pattern.get("/PatternType"))) == 2:
            shading = _resolve(pattern.get("/Shading"))
            if isinstance(shading, DictionaryObject):
                self._record(_classify(shading.get("/ColorSpace"), resources), "shading", scan)
            gstate = _resolve(pattern.get("/ExtGState"))
            if isinstance(gstate, DictionaryObject):
                self._gstate_dict(name, gstate, scan)
        elif isinstance(pattern, StreamObject):
            self._form(name, pattern, resources, state, scan, depth, seen, is_pattern=True)

    def _ext_gstate(self, name: Any, resources, scan: PageScan) -> None:
        states = _resolve(resources.get("/ExtGState"))
        gstate = _resolve(states.get(str(name))) if isinstance(states, DictionaryObject) else None
        if isinstance(gstate, DictionaryObject):
            self._gstate_dict(str(name), gstate, scan)

    @staticmethod
    def _gstate_dict(name: str, gstate: DictionaryObject, scan: PageScan) -> None:
        smask = _resolve(gstate.get("/SMask"))
        if smask is not None and str(smask) != "/None":
            scan.transparency.append(f"ExtGState {name} sets a soft mask (/SMask)")
        for key in ("/ca", "/CA"):
            if key in gstate and _num(gstate[key]) < 1:
                scan.transparency.append(f"ExtGState {name} sets {key.lstrip('/')} {_num(gstate[key]):g}")
        blend = _resolve(gstate.get("/BM"))
        if blend is not None:
            modes = [str(_resolve(m)) for m in blend] if isinstance(blend, (list, ArrayObject)) else [str(blend)]
            if not any(mode in _BLEND_OK for mode in modes[:1]):
                scan.transparency.append(f"ExtGState {name} sets blend mode {' '.join(modes)}")

    def _xobject(self, name: str, resources, state: _State, scan: PageScan, depth: int, seen: set) -> None:
        xobjects = _resolve(resources.get("/XObject"))
        if not isinstance(xobjects, DictionaryObject) or name not in xobjects:
            return
        reference = xobjects.raw_get(name)
        xobject = _resolve(reference)
        if not isinstance(xobject, StreamObject):
            return
        subtype = str(xobject.get("/Subtype"))
        if subtype == "/Image":
            self._image(name, xobject, resources, state, scan)
        elif subtype == "/Form":
            self._form(name, xobject, resources, state, scan, depth, seen)

    def _image(self, name: str, image: DictionaryObject, resources, state: _State, scan: PageScan) -> None:
        if bool(_resolve(image.get("/ImageMask", False))):
            self._record(state.fill.space, "image", scan)
        elif "/ColorSpace" in image:
            self._record(_classify(image.get("/ColorSpace"), resources), "image", scan)
        else:
            self._record(ColourSpace("embedded", 1, "embedded in the image (JPX)"), "image", scan)
        if "/SMask" in image:
            scan.transparency.append(f"image {name} has a soft mask (/SMask)")
        if _num(image.get("/SMaskInData")) > 0:
            scan.transparency.append(f"image {name} has alpha in its data (/SMaskInData)")
        self._resolution(name, int(_num(image.get("/Width"))), int(_num(image.get("/Height"))), state, scan)

    @staticmethod
    def _resolution(name: str, width: int, height: int, state: _State, scan: PageScan) -> None:
        a, b, c, d, _, _ = state.ctm
        placed_w, placed_h = math.hypot(a, b) / 72, math.hypot(c, d) / 72
        if placed_w > 0 and placed_h > 0 and width > 0 and height > 0:
            scan.images.append((name, width, height, width / placed_w, height / placed_h))

    def _inline_image(self, operands, resources, state: _State, scan: PageScan) -> None:
        settings = operands.get("settings", {}) if isinstance(operands, dict) else {}
        get = lambda *keys: next((settings[k] for k in keys if k in settings), None)  # noqa: E731
        if bool(_resolve(get("/IM", "/ImageMask"))):
            self._record(state.fill.space, "image", scan)
        else:
            self._record(_classify(get("/CS", "/ColorSpace") or "/DeviceGray", resources), "image", scan)
        self._resolution("inline image", int(_num(get("/W", "/Width"))), int(_num(get("/H", "/Height"))),
                         state, scan)

    def _form(self, name: str, form: StreamObject, resources, state: _State, scan: PageScan, depth: int,
              seen: set, is_pattern: bool = False) -> None:
        key = id(form) if form.indirect_reference is None else (form.indirect_reference.idnum, is_pattern)
        if depth > 12 or key in seen:
            return
        group = _resolve(form.get("/Group"))
        if isinstance(group, DictionaryObject) and str(group.get("/S")) == "/Transparency":
            scan.transparency.append(f"form {name} is a transparency group")
        matrix = _resolve(form.get("/Matrix"))
        inner = state.copy()
        if isinstance(matrix, (list, ArrayObject)) and len(matrix) == 6:
            inner.ctm = _multiply(tuple(_num(v) for v in matrix), state.ctm)  # type: ignore[arg-type]
        form_resources = _resolve(form.get("/Resources"))
        if not isinstance(form_resources, DictionaryObject):
            form_resources = resources
        try:
            operations = self._forms.get(key)
            if operations is None:
                operations = operations_of(form, self.reader)
                if form.indirect_reference is not None:
                    self._forms[key] = operations
        except Exception as error:  # noqa: BLE001
            scan.errors.append(f"form {name} unreadable: {error}")
            return
        self._run(operations, form_resources, inner, scan, depth + 1, seen | {key})


def _outside(box: Box, trim: Box, tolerance: float = BOX_TOLERANCE_PT) -> bool:
    """True if the box lies wholly outside the trim (no overlap with its inside)."""
    return (box[2] <= trim[0] + tolerance or box[0] >= trim[2] - tolerance
            or box[3] <= trim[1] + tolerance or box[1] >= trim[3] - tolerance)


def _inherited(page, key: str) -> Any:
    node = page
    while node is not None:
        node = _resolve(node)
        if key in node:
            return _resolve(node[key])
        node = node.get("/Parent")
    return None


# ---------------------------------------------------------------------------
# The checks


def _check_file_size(size: int, profile: PrintProfile) -> CheckResult:
    megabytes = size / (1024 * 1024)
    if profile.max_file_mb is None:
        return _result("file-size", "pass", f"{megabytes:.1f} MB (no limit in this profile)")
    if megabytes > profile.max_file_mb:
        return _result("file-size", "fail", f"{megabytes:.1f} MB is over the {profile.max_file_mb} MB limit")
    return _result("file-size", "pass", f"{megabytes:.1f} MB (limit {profile.max_file_mb} MB)")


def _check_page_count(pages: int, profile: PrintProfile, paper: str | None, trim: tuple[float, float]):
    low, high = page_range(profile, paper, trim)
    allowed = f"{low}-{high}" if high is not None else f"at least {low}"
    if not _within(pages, low, high):
        others = [name for name, other in PROFILES.items()
                  if name != profile.name and _within(pages, *page_range(other, None, trim))]
        hint = (f": {', '.join(others)} take{'s' if len(others) == 1 else ''} {pages} (`profile={others[0]}`)"
                if others else "")
        count = _result("page-count", "fail", f"{pages} pages; {profile.name} takes {allowed}{hint}")
    else:
        count = _result("page-count", "pass", f"{pages} pages ({allowed} allowed)")
    if not profile.even_pages:
        parity = _result("page-parity", "pass", f"{pages} pages (any count accepted)")
    elif pages % 2:
        parity = _result("page-parity", "fail",
                         f"{pages} pages is odd; {profile.name} wants an even count (add a blank page)")
    else:
        parity = _result("page-parity", "pass", f"{pages} pages is even")
    return count, parity


def _within(pages: int, low: int, high: int | None) -> bool:
    return low <= pages and (high is None or pages <= high)


def _check_page_size(reader: PdfReader, profile: PrintProfile, trim: tuple[float, float]) -> CheckResult:
    want_w, want_h = page_box_size(profile, *trim)
    if profile.trim_range is not None:
        (least_w, most_w), (least_h, most_h) = profile.trim_range
        if not (least_w - 0.005 <= trim[0] <= most_w + 0.005 and least_h - 0.005 <= trim[1] <= most_h + 0.005):
            return _result("page-size", "fail",
                           f"trim {trim[0]:g} x {trim[1]:g} in is not a size {profile.name} prints "
                           f"({least_w:g}-{most_w:g} in wide, {least_h:g}-{most_h:g} in tall): "
                           "change `trim` in handbook.yaml or choose another profile")
    problems, sizes = [], Counter()
    for index, page in enumerate(reader.pages):
        media = _box(page.mediabox)
        width, height = _size(media)
        sizes[(round(width, 2), round(height, 2))] += 1
        if abs(width - want_w) > BOX_TOLERANCE_PT or abs(height - want_h) > BOX_TOLERANCE_PT:
            problems.append(f"page {index + 1}: MediaBox {width:g} x {height:g} pt, want {want_w:g} x {want_h:g} pt")
        rotate = int(_num(page.get("/Rotate", 0)))
        if rotate % 360:
            problems.append(f"page {index + 1}: /Rotate {rotate}")
    if problems:
        return _result("page-size", "fail",
                       f"{len(problems)} page(s) not {want_w:g} x {want_h:g} pt (trim + {profile.name} bleed)",
                       _examples(problems))
    if len(sizes) > 1:
        return _result("page-size", "fail", "pages differ in size",
                       [f"{w:g} x {h:g} pt: {n} page(s)" for (w, h), n in sizes.items()])
    return _result("page-size", "pass", f"every page is {want_w:g} x {want_h:g} pt "
                   f"({want_w / 72:g} x {want_h / 72:g} in)")


def _check_boxes(reader: PdfReader, profile: PrintProfile, trim: tuple[float, float]) -> CheckResult:
    trim_w, trim_h = trim[0] * 72, trim[1] * 72
    problems: list[str] = []
    warnings: list[str] = []
    for index, page in enumerate(reader.pages):
        number = index + 1
        media = _box(page.mediabox)
        trim_box = _box(page.get("/TrimBox"))
        bleed_box = _box(page.get("/BleedBox"))
        art_box = _box(page.get("/ArtBox"))
        crop_box = _box(page.get("/CropBox"))
        if trim_box is None:
            problems.append(f"page {number}: no TrimBox" + (" (ArtBox only)" if art_box else ""))
            continue
        if art_box is not None:
            problems.append(f"page {number}: both TrimBox and ArtBox")
        width, height = _size(trim_box)
        if abs(width - trim_w) > BOX_TOLERANCE_PT or abs(height - trim_h) > BOX_TOLERANCE_PT:
            problems.append(f"page {number}: TrimBox {width:g} x {height:g} pt, trim is {trim_w:g} x {trim_h:g} pt")
        if not _contains(media, trim_box):
            problems.append(f"page {number}: TrimBox {_fmt_box(trim_box)} not inside MediaBox {_fmt_box(media)}")
        if bleed_box is not None:
            if not _contains(bleed_box, trim_box):
                problems.append(f"page {number}: TrimBox {_fmt_box(trim_box)} not inside BleedBox "
                                f"{_fmt_box(bleed_box)}")
            if not _contains(media, bleed_box):
                problems.append(f"page {number}: BleedBox {_fmt_box(bleed_box)} not inside MediaBox "
                                f"{_fmt_box(media)}")
        elif profile.has_bleed:
            warnings.append(f"page {number}: no BleedBox (the MediaBox stands for it)")
        if crop_box is not None and not _contains(crop_box, bleed_box or media):
            warnings.append(f"page {number}: CropBox {_fmt_box(crop_box)} cuts into the bleed")
        # Bleed actually present on each side, against the profile (recto: inside = left).
        left, bottom = trim_box[0] - media[0], trim_box[1] - media[1]
        right, top = media[2] - trim_box[2], media[3] - trim_box[3]
        b = profile.bleed
        want = {"left": b.inside if _is_recto(index) else b.outside,
                "right": b.outside if _is_recto(index) else b.inside, "top": b.top, "bottom": b.bottom}
        have = {"left": left, "right": right, "top": top, "bottom": bottom}
        wrong = [side for side in ("top", "right", "bottom", "left")
                 if abs(have[side] - want[side] * 72) > BOX_TOLERANCE_PT]
        if wrong:
            found = ", ".join(f"{side} {have[side]:g} pt" for side in wrong)
            wanted = ", ".join(f"{side} {want[side] * 72:g} pt" for side in wrong)
            problems.append(f"page {number}: bleed {found}; {profile.name} wants {wanted}")
    if problems:
        return _result("boxes", "fail", f"{len(problems)} box problem(s)", _examples(problems + warnings))
    if warnings:
        return _result("boxes", "warn", f"{len(warnings)} box warning(s)", _examples(warnings))
    return _result("boxes", "pass", f"TrimBox {trim[0]:g} x {trim[1]:g} in on every page, inside BleedBox and "
                   "MediaBox, bleed as the profile asks")


def _font_program_glyphs(descriptor: DictionaryObject) -> int | None:
    """Glyphs in the embedded font program, or None if it cannot be read."""
    try:
        from fontTools.cffLib import CFFFontSet
        from fontTools.ttLib import TTFont
    except ImportError:  # pragma: no cover - fontTools comes with WeasyPrint
        return None
    for key in ("/FontFile2", "/FontFile3"):
        stream = _resolve(descriptor.get(key))
        if not isinstance(stream, StreamObject):
            continue
        try:
            data = stream.get_data()
            subtype = str(stream.get("/Subtype", ""))
            if key == "/FontFile3" and subtype in ("/CIDFontType0C", "/Type1C"):
                cff = CFFFontSet()
                cff.decompile(io.BytesIO(data), None)
                return len(cff[cff.fontNames[0]].charset)
            return TTFont(io.BytesIO(data), lazy=True)["maxp"].numGlyphs
        except Exception:  # noqa: BLE001 - unreadable program: no verdict on subsetting
            return None
    return None


def _walk_fonts(resources: Any, found: dict, page_number: int, depth: int = 0, seen: set | None = None) -> None:
    seen = set() if seen is None else seen
    resources = _resolve(resources)
    if not isinstance(resources, DictionaryObject) or depth > 12:
        return
    fonts = _resolve(resources.get("/Font"))
    if isinstance(fonts, DictionaryObject):
        for name in fonts:
            reference = fonts.raw_get(name)
            font = _resolve(reference)
            if not isinstance(font, DictionaryObject):
                continue
            key = reference.idnum if isinstance(reference, IndirectObject) else id(font)
            entry = found.setdefault(key, {"font": font, "pages": []})
            if page_number not in entry["pages"]:
                entry["pages"].append(page_number)
            if str(font.get("/Subtype")) == "/Type3":
                _walk_fonts(font.get("/Resources"), found, page_number, depth + 1, seen)
    xobjects = _resolve(resources.get("/XObject"))
    if isinstance(xobjects, DictionaryObject):
        for name in xobjects:
            reference = xobjects.raw_get(name)
            xobject = _resolve(reference)
            key = reference.idnum if isinstance(reference, IndirectObject) else id(xobject)
            if isinstance(xobject, StreamObject) and str(xobject.get("/Subtype")) == "/Form" and key not in seen:
                seen.add(key)
                _walk_fonts(xobject.get("/Resources"), found, page_number, depth + 1, seen)
    patterns = _resolve(resources.get("/Pattern"))
    if isinstance(patterns, DictionaryObject):
        for name in patterns:
            pattern = _resolve(patterns[name])
            if isinstance(pattern, StreamObject):
                _walk_fonts(pattern.get("/Resources"), found, page_number, depth + 1, seen)


def _check_fonts(reader: PdfReader, profile: PrintProfile) -> CheckResult:
    found: dict = {}
    for index, page in enumerate(reader.pages):
        resources = page.get("/Resources") or _inherited(page, "/Resources")
        _walk_fonts(resources, found, index + 1)
    problems, subsets, names = [], [], []
    for entry in found.values():
        font = entry["font"]
        pages = entry["pages"]
        where = f"page {pages[0]}" + (f" and {len(pages) - 1} more" if len(pages) > 1 else "")
        base = str(font.get("/BaseFont", font.get("/Name", "?"))).lstrip("/")
        subtype = str(font.get("/Subtype", "?")).lstrip("/")
        names.append(base)
        if subtype == "Type3":
            problems.append(f"{base}: Type 3 font ({where})")
            continue
        target = font
        if subtype == "Type0":
            descendants = _resolve(font.get("/DescendantFonts"))
            target = _resolve(descendants[0]) if isinstance(descendants, (list, ArrayObject)) and descendants else None
            if not isinstance(target, DictionaryObject):
                problems.append(f"{base}: Type0 font without a descendant font ({where})")
                continue
        descriptor = _resolve(target.get("/FontDescriptor"))
        if not isinstance(descriptor, DictionaryObject) or not any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            problems.append(f"{base} ({subtype}): not embedded ({where})")
            continue
        if profile.prefer_full_fonts:
            glyphs = _font_program_glyphs(descriptor)
            if glyphs is not None and glyphs < SUBSET_GLYPHS:
                subsets.append(f"{base}: {glyphs} glyphs embedded, looks like a subset ({where})")
    if problems:
        return _result("fonts", "fail", f"{len(problems)} of {len(found)} font(s) not embedded or Type 3",
                       _examples(problems))
    if subsets:
        return _result("fonts", "warn", f"{len(subsets)} font(s) subset; {profile.name} prefers full fonts",
                       _examples(subsets))
    if not found:
        return _result("fonts", "pass", "no fonts")
    return _result("fonts", "pass", f"all {len(found)} font(s) embedded, none Type 3",
                   _examples(sorted(set(names))))


def _check_colour_spaces(scans: list[PageScan], profile: PrintProfile) -> CheckResult:
    by_label: dict[str, list[int]] = {}
    spaces: dict[str, ColourSpace] = {}
    contexts: dict[str, set[str]] = {}
    for index, scan in enumerate(scans):
        for (label, context), _ in scan.colours.items():
            if context == "marks" and profile.marks:
                continue  # the printer's marks the profile asks for are the printer's business
            by_label.setdefault(label, [])
            if index + 1 not in by_label[label]:
                by_label[label].append(index + 1)
            contexts.setdefault(label, set()).add(context)
            spaces[label] = scan.spaces.get(label, UNKNOWN)
    status: Status = "pass"
    findings = []
    for label in sorted(by_label):
        space = spaces[label].effective
        reasons, verdict = [], "pass"
        if space.family in RGB_FAMILIES and profile.rgb != "allow":
            reasons.append("RGB")
            verdict = _worst(verdict, _by_rule(profile.rgb))
        if space.family in DEVICE_INDEPENDENT and profile.device_independent != "allow":
            reasons.append("device-independent (ICC/Lab/Cal)")
            verdict = _worst(verdict, _by_rule(profile.device_independent))
        if verdict != "pass":
            pages = by_label[label]
            shown = ", ".join(str(p) for p in pages[:MAX_EXAMPLES]) + (" ..." if len(pages) > MAX_EXAMPLES else "")
            findings.append(f"{label} ({' and '.join(reasons)}) used for {', '.join(sorted(contexts[label]))} "
                            f"on {len(pages)} page(s): {shown}")
            status = _worst(status, verdict)
    used = ", ".join(sorted(by_label)) or "none"
    if status != "pass":
        return _result("colour-spaces", status, f"{len(findings)} colour space(s) not wanted by {profile.name}; "
                       f"used: {used}", findings)
    return _result("colour-spaces", "pass", f"colour spaces used: {used}")


def _worst(a: Status, b: Status) -> Status:
    order = {"pass": 0, "warn": 1, "fail": 2}
    return a if order[a] >= order[b] else b


def _check_text_colour(scans: list[PageScan], profile: PrintProfile) -> CheckResult:
    if profile.non_k_text == "allow":
        return _result("text-colour", "pass", f"{profile.name} sets no rule on text colour")
    pages, colours = [], Counter()
    for index, scan in enumerate(scans):
        if scan.non_k_text:
            pages.append(index + 1)
            colours.update(scan.non_k_text)
    if not pages:
        return _result("text-colour", "pass", "all text is gray or pure K (C = M = Y = 0)")
    details = [f"{colour}: {count} text run(s)" for colour, count in colours.most_common(MAX_EXAMPLES)]
    more = " ..." if len(pages) > MAX_EXAMPLES else ""
    details.append("pages: " + ", ".join(str(p) for p in pages[:MAX_EXAMPLES]) + more)
    return _result("text-colour", _by_rule(profile.non_k_text),
                   f"text in other inks than K on {len(pages)} page(s); {profile.name} wants 100% K "
                   "(device-cmyk(0 0 0 1) or gray)", details)


def _check_transparency(scans: list[PageScan], profile: PrintProfile) -> CheckResult:
    findings = []
    for index, scan in enumerate(scans):
        for item in dict.fromkeys(scan.transparency):
            findings.append(f"page {index + 1}: {item}")
    if not findings:
        return _result("transparency", "pass", "no transparency")
    pages = len({f.split(":")[0] for f in findings})
    if profile.transparency == "allow":
        return _result("transparency", "pass", f"transparency on {pages} page(s), allowed by {profile.name}")
    return _result("transparency", _by_rule(profile.transparency),
                   f"transparency on {pages} page(s); {profile.name} wants it flattened", _examples(findings))


def _check_images(scans: list[PageScan], profile: PrintProfile) -> CheckResult:
    fail_below, warn_below = profile.image_ppi
    low, poor, count = [], [], 0
    for index, scan in enumerate(scans):
        for name, width, height, ppi_x, ppi_y in scan.images:
            count += 1
            ppi = min(ppi_x, ppi_y)
            text = f"page {index + 1}: {name} {width} x {height} px at {ppi:.0f} ppi"
            if ppi < fail_below:
                low.append(text)
            elif ppi < warn_below:
                poor.append(text)
    if low:
        return _result("image-resolution", "fail", f"{len(low)} image(s) under {fail_below} ppi",
                       _examples(low + poor))
    if poor:
        return _result("image-resolution", "warn", f"{len(poor)} image(s) under {warn_below} ppi", _examples(poor))
    return _result("image-resolution", "pass", f"{count} image placement(s), all >= {warn_below} ppi"
                   if count else "no images")


def _check_marks(scans: list[PageScan], profile: PrintProfile) -> CheckResult:
    pages = [index + 1 for index, scan in enumerate(scans) if scan.mark_strokes]
    if profile.marks:
        if len(pages) == len(scans):
            return _result("marks", "pass", "strokes outside the trim (crop marks) on every page")
        missing = [index + 1 for index, scan in enumerate(scans) if not scan.mark_strokes]
        return _result("marks", "warn", f"no crop marks found on {len(missing)} page(s); {profile.name} wants them",
                       _examples([f"page {p}" for p in missing]))
    if pages:
        examples = [f"page {p}: stroke at {_fmt_box(scans[p - 1].mark_strokes[0])}" for p in pages]
        return _result("marks", "fail", f"strokes wholly outside the trim (printer's marks?) on {len(pages)} "
                       f"page(s); {profile.name} wants no marks", _examples(examples))
    return _result("marks", "pass", "no strokes outside the trim")


def _check_annotations(reader: PdfReader, profile: PrintProfile) -> CheckResult:
    found, subtypes = [], Counter()
    for index, page in enumerate(reader.pages):
        annots = _resolve(page.get("/Annots"))
        if isinstance(annots, (list, ArrayObject)) and annots:
            kinds = Counter(str(_resolve(a).get("/Subtype", "?")).lstrip("/") for a in annots
                            if isinstance(_resolve(a), DictionaryObject))
            subtypes.update(kinds)
            found.append(f"page {index + 1}: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    if not found:
        return _result("annotations", "pass", "no annotations")
    summary = ", ".join(f"{n} {k}" for k, n in sorted(subtypes.items()))
    if profile.allow_annotations:
        return _result("annotations", "pass", f"{summary} annotation(s), allowed by {profile.name}")
    return _result("annotations", "fail", f"{summary} annotation(s) on {len(found)} page(s); "
                   f"{profile.name} wants none (links included)", _examples(found))


def _check_outlines(root: DictionaryObject, profile: PrintProfile) -> CheckResult:
    outlines = _resolve(root.get("/Outlines"))
    has = isinstance(outlines, DictionaryObject) and ("/First" in outlines or _num(outlines.get("/Count")) != 0)
    if not has:
        return _result("outlines", "pass", "no bookmarks")
    count = 0
    node = _resolve(outlines.get("/First"))
    while isinstance(node, DictionaryObject) and count < 100000:
        count += 1
        node = _resolve(node.get("/Next"))
    if profile.allow_outlines:
        return _result("outlines", "pass", f"{count} top-level bookmark(s), allowed by {profile.name}")
    return _result("outlines", "fail", f"{count} top-level bookmark(s); {profile.name} wants none "
                   "(set bookmark-level: none)")


def _check_interactive(reader: PdfReader, root: DictionaryObject) -> CheckResult:
    found = []
    if "/AcroForm" in root:
        found.append("catalog has /AcroForm (form fields)")
    names = _resolve(root.get("/Names"))
    if isinstance(names, DictionaryObject) and "/JavaScript" in names:
        found.append("catalog /Names has /JavaScript")
    for key in ("/OpenAction", "/AA"):
        action = _resolve(root.get(key))
        if isinstance(action, DictionaryObject) and str(action.get("/S")) in ("/JavaScript", "/Launch"):
            found.append(f"catalog {key} runs {str(action.get('/S')).lstrip('/')}")
        elif key == "/AA" and action is not None:
            found.append("catalog has additional actions (/AA)")
    for index, page in enumerate(reader.pages):
        if "/AA" in page:
            found.append(f"page {index + 1}: additional actions (/AA)")
        annots = _resolve(page.get("/Annots"))
        for annot in annots if isinstance(annots, (list, ArrayObject)) else []:
            annot = _resolve(annot)
            if not isinstance(annot, DictionaryObject):
                continue
            action = _resolve(annot.get("/A"))
            if isinstance(action, DictionaryObject) and str(action.get("/S")) in ("/JavaScript", "/Launch"):
                found.append(f"page {index + 1}: annotation runs {str(action.get('/S')).lstrip('/')}")
            if str(annot.get("/Subtype")) == "/Widget":
                found.append(f"page {index + 1}: form field widget")
    if found:
        return _result("interactive", "fail", f"{len(found)} interactive element(s) (forms, JavaScript, actions)",
                       _examples(found))
    return _result("interactive", "pass", "no forms, JavaScript or actions")


def _check_encryption(reader: PdfReader) -> CheckResult:
    if reader.is_encrypted:
        return _result("encryption", "fail", "the file is encrypted; printers take no encrypted PDF")
    return _result("encryption", "pass", "not encrypted")


_XMP_VALUE = r"{key}\s*(?:=\s*\"([^\"]*)\"|>\s*([^<]*)<)"


def _xmp_value(xmp: str, key: str) -> str | None:
    match = re.search(_XMP_VALUE.format(key=re.escape(key)), xmp)
    if not match:
        return None
    return (match.group(1) if match.group(1) is not None else match.group(2)).strip()


def _check_pdfx(reader: PdfReader, root: DictionaryObject, profile: PrintProfile) -> CheckResult:
    if profile.pdf_variant is None:
        return _result("pdfx", "pass", f"{profile.name} needs no PDF/X")
    info = _resolve(reader.trailer.get("/Info"))
    info = info if isinstance(info, DictionaryObject) else DictionaryObject()
    xmp = ""
    metadata = _resolve(root.get("/Metadata"))
    if isinstance(metadata, StreamObject):
        try:
            xmp = metadata.get_data().decode("utf-8", "replace")
        except Exception:  # noqa: BLE001
            xmp = ""
    problems, warnings = [], []
    version = str(info.get("/GTS_PDFXVersion", "")) or _xmp_value(xmp, "pdfxid:GTS_PDFXVersion") \
        or _xmp_value(xmp, "pdfx:GTS_PDFXVersion") or ""
    if not version:
        problems.append("no GTS_PDFXVersion in /Info or XMP: the file does not claim PDF/X")
    elif not any(version.startswith(prefix) for prefix in profile.accepted_pdfx):
        problems.append(f"claims {version}; {profile.name} takes {' or '.join(profile.accepted_pdfx)}")
    else:
        if version.startswith(("PDF/X-1", "PDF/X-3")) and "/GTS_PDFXVersion" not in info:
            problems.append(f"{version} needs GTS_PDFXVersion in /Info, not only in XMP")
        if version.startswith("PDF/X-4") and not _xmp_value(xmp, "pdfxid:GTS_PDFXVersion"):
            problems.append("PDF/X-4 needs pdfxid:GTS_PDFXVersion in the XMP metadata")
        highest = PDFX_MAX_VERSION.get(version)
        header = _pdf_version(reader, root)
        if highest is not None and header is not None and header > highest + 1e-9:
            problems.append(f"PDF {header:g} is newer than {version} allows ({highest:g})")
        for preferred in profile.preferred_pdfx:
            if version.startswith(preferred.split(":")[0]) and version != preferred:
                warnings.append(f"claims {version}; {profile.name} asks for {preferred} (whether it takes "
                                f"{version} is unverified)")
        if version.startswith("PDF/X-4"):
            for key in ("xmpMM:DocumentID", "xmpMM:VersionID", "xmpMM:RenditionClass"):
                if not _xmp_value(xmp, key):
                    problems.append(f"PDF/X-4 needs {key} in the XMP metadata")
    intents = _resolve(root.get("/OutputIntents"))
    pdfx_intents = [_resolve(i) for i in intents] if isinstance(intents, (list, ArrayObject)) else []
    pdfx_intents = [i for i in pdfx_intents if isinstance(i, DictionaryObject) and str(i.get("/S")) == "/GTS_PDFX"]
    if not pdfx_intents:
        problems.append("no /OutputIntents with /S /GTS_PDFX (WeasyPrint writes one only with "
                        "@color-profile device-cmyk)")
    else:
        intent = pdfx_intents[0]
        condition = str(intent.get("/OutputConditionIdentifier", "")) or "?"
        profile_stream = _resolve(intent.get("/DestOutputProfile"))
        if isinstance(profile_stream, StreamObject):
            n = int(_num(profile_stream.get("/N")))
            if n != 4:
                problems.append(f"output intent {condition!r}: DestOutputProfile has N={n}, want 4 (CMYK)")
        elif str(intent.get("/RegistryName", "")):
            warnings.append(f"output intent {condition!r} is a registered condition without an embedded profile")
        else:
            problems.append(f"output intent {condition!r} has no DestOutputProfile and no RegistryName")
    trapped = str(info.get("/Trapped", "")) or (_xmp_value(xmp, "pdf:Trapped") or "")
    if trapped.lstrip("/") not in ("True", "False"):
        problems.append("/Trapped must be /True or /False")
    for key in ("/Title", "/CreationDate", "/ModDate"):
        if not str(info.get(key, "")):
            problems.append(f"/Info has no {key.lstrip('/')}")
    if problems:
        return _result("pdfx", "fail", f"not a valid {' / '.join(profile.accepted_pdfx)} file: "
                       f"{len(problems)} problem(s)", problems + warnings)
    if warnings:
        return _result("pdfx", "warn", f"{version} with warnings", warnings)
    return _result("pdfx", "pass", f"{version}, output intent with a CMYK profile, /Trapped {trapped.lstrip('/')}")


def _pdf_version(reader: PdfReader, root: DictionaryObject) -> float | None:
    versions = []
    match = re.match(r"%PDF-(\d+\.\d+)", reader.pdf_header or "")
    if match:
        versions.append(float(match.group(1)))
    catalog_version = root.get("/Version")
    if catalog_version is not None:
        try:
            versions.append(float(str(catalog_version).lstrip("/")))
        except ValueError:
            pass
    return max(versions) if versions else None


def _check_safe_area(data: bytes, reader: PdfReader, profile: PrintProfile, pages: int) -> CheckResult:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    m = profile.min_margins
    inside = max(m.inside, gutter_for(profile, max(pages, 1)))
    offenders: list[str] = []
    pages_hit: list[int] = []
    total = 0
    document = pdfium.PdfDocument(data)
    try:
        for index in range(len(document)):
            trim = _box(reader.pages[index].get("/TrimBox")) or _box(reader.pages[index].mediabox)
            left, right = (inside, m.outside) if _is_recto(index) else (m.outside, inside)
            safe = (trim[0] + left * 72, trim[1] + m.bottom * 72, trim[2] - right * 72, trim[3] - m.top * 72)
            page = document[index]
            textpage = page.get_textpage()
            hit = 0
            try:
                # The page's text runs first: when they all lie in the safe area, so do
                # their glyphs, and the glyph-by-glyph pass (a C call per glyph) is not needed.
                t = GLYPH_TOLERANCE_PT
                runs = [textpage.get_rect(i) for i in range(textpage.count_rects())]
                if all(x0 >= safe[0] - t and y0 >= safe[1] - t and x1 <= safe[2] + t and y1 <= safe[3] + t
                       for x0, y0, x1, y1 in runs):
                    continue
                for char in range(textpage.count_chars()):
                    code = pdfium_c.FPDFText_GetUnicode(textpage.raw, char)
                    if code == 0 or chr(code).isspace() or pdfium_c.FPDFText_IsGenerated(textpage.raw, char) == 1:
                        continue
                    x0, y0, x1, y1 = textpage.get_charbox(char)
                    if x1 - x0 <= 0 and y1 - y0 <= 0:
                        continue
                    sides = []
                    t = GLYPH_TOLERANCE_PT
                    if x0 < safe[0] - t:
                        sides.append(f"{'inside' if _is_recto(index) else 'outside'} by {_pt_in(safe[0] - x0)}")
                    if x1 > safe[2] + t:
                        sides.append(f"{'outside' if _is_recto(index) else 'inside'} by {_pt_in(x1 - safe[2])}")
                    if y0 < safe[1] - t:
                        sides.append(f"bottom by {_pt_in(safe[1] - y0)}")
                    if y1 > safe[3] + t:
                        sides.append(f"top by {_pt_in(y1 - safe[3])}")
                    if sides:
                        hit += 1
                        total += 1
                        if len(offenders) < MAX_EXAMPLES:
                            offenders.append(f"page {index + 1}: {chr(code)!r} at {_fmt_box((x0, y0, x1, y1))} "
                                             f"past the {', '.join(sides)}")
            finally:
                textpage.close()
                page.close()
            if hit:
                pages_hit.append(index + 1)
    finally:
        document.close()
    margins = (f"top {m.top:g}, outside {m.outside:g}, bottom {m.bottom:g}, inside (gutter, {pages} pp) "
               f"{inside:g} in")
    if total:
        details = offenders + [f"{total} glyph(s) on page(s) "
                               + ", ".join(str(p) for p in pages_hit[:MAX_EXAMPLES * 2])
                               + (" ..." if len(pages_hit) > MAX_EXAMPLES * 2 else "")]
        return _result("safe-area", "fail", f"{total} glyph(s) on {len(pages_hit)} page(s) in the margins ({margins})",
                       details)
    return _result("safe-area", "pass", f"all glyphs inside the safe area ({margins})")


# ---------------------------------------------------------------------------


def preflight(pdf_path: "str | os.PathLike[str] | bytes", profile: "PrintProfile | str",
              trim_w_in: float, trim_h_in: float, *, paper: str | None = None) -> PreflightReport:
    """Check a print interior PDF (a path, or the PDF's bytes) against a print profile.

    `trim_w_in` x `trim_h_in` is the trim size in inches; `paper` picks the
    profile's paper option for the page-count range (default: the first).
    """
    profile = get_profile(profile)
    if isinstance(pdf_path, (bytes, bytearray)):
        data, name = bytes(pdf_path), "<bytes>"
    else:
        data, name = Path(pdf_path).read_bytes(), str(pdf_path)
    trim = (float(trim_w_in), float(trim_h_in))
    size = _check_file_size(len(data), profile)
    try:
        reader = PdfReader(io.BytesIO(data))
    except Exception as error:  # noqa: BLE001 - a damaged file is a finding, not a crash
        unreadable = _result("readable", "fail", f"the file cannot be read as a PDF ({error}): build it again")
        return PreflightReport(name, profile.name, trim, 0, [unreadable, size])
    checks: list[CheckResult] = [_result("readable", "pass", f"opens as {reader.pdf_header.lstrip('%')}"), size]
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception:  # noqa: BLE001 - reported by the encryption check
            pass
    try:
        pages = len(reader.pages)
    except Exception as error:  # noqa: BLE001
        checks.append(_result("encryption", "fail", f"the file cannot be read: {error}"))
        return PreflightReport(name, profile.name, trim, 0, checks)
    root = _resolve(reader.trailer["/Root"])

    checks += _check_page_count(pages, profile, paper, trim)
    checks.append(_check_page_size(reader, profile, trim))
    checks.append(_check_boxes(reader, profile, trim))
    checks.append(_check_fonts(reader, profile))

    scanner = _Scanner(reader)
    scans = [scanner.scan_page(page) for page in reader.pages]
    errors = [f"page {i + 1}: {e}" for i, scan in enumerate(scans) for e in scan.errors]
    colour = _check_colour_spaces(scans, profile)
    if errors:
        colour = _result("colour-spaces", "fail", "content stream(s) could not be read: " + errors[0], errors)
    checks.append(colour)
    checks.append(_check_text_colour(scans, profile))
    checks.append(_check_transparency(scans, profile))
    checks.append(_check_images(scans, profile))
    checks.append(_check_marks(scans, profile))
    checks.append(_check_annotations(reader, profile))
    checks.append(_check_outlines(root, profile))
    checks.append(_check_interactive(reader, root))
    checks.append(_check_encryption(reader))
    checks.append(_check_pdfx(reader, root, profile))
    checks.append(_check_safe_area(data, reader, profile, pages))
    return PreflightReport(name, profile.name, trim, pages, checks)


def main(argv: list[str] | None = None) -> int:
    from .profiles import PROFILES, to_inches

    parser = argparse.ArgumentParser(prog="python -m handbook_press.preflight",
                                     description="Preflight a print interior PDF against a print profile.")
    parser.add_argument("pdf")
    parser.add_argument("--profile", default="kdp", choices=sorted(PROFILES))
    parser.add_argument("--trim", nargs=2, default=["6in", "9in"], metavar=("WIDTH", "HEIGHT"),
                        help="trim size, e.g. 6in 9in or 152mm 229mm (default 6in 9in)")
    parser.add_argument("--paper", default=None)
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    args = parser.parse_args(argv)
    report = preflight(args.pdf, args.profile, to_inches(args.trim[0]), to_inches(args.trim[1]), paper=args.paper)
    sys.stdout.write(report.to_json() if args.json else report.to_markdown())
    return 0 if report.passed else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
