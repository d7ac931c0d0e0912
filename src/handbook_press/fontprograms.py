"""The embedded fonts' PDF data, worked out on the second core while the first starts the PDF task.

Both PDFs embed full fonts (KDP prefers them; a subset would also tie the bytes
to the machine's HarfBuzz), and each write did the same work for every font
file it embeds: compress the file, and read every glyph's advance width and the
character map with fontTools for the widths array and the ToUnicode map. That
depends on the file's bytes alone, and it was 0.1–0.15 s of each write at x1
(six fonts), in both writes. A forked helper (`beside`) works it out for every
font file under styles/ while this process imports WeasyPrint and reads the
model, when the second core has nothing else to do; before the writes,
`FontPrograms.receive` takes its answer and both writes find a font's data by
the file's bytes (a SHA-256):

- `pdfwriter` takes a font file's stream compressed by the helper (the same
  zlib, the same level: the same bytes, tested);
- WeasyPrint's full-font branch of ``build_fonts_dictionary`` gets the widths
  and map from here instead of parsing the font with fontTools (the same
  numbers: the helper reads them with WeasyPrint's own expressions).

A font the helper did not see, or one WeasyPrint rewrites before embedding it
(variable, colour or bitmap fonts), takes WeasyPrint's path as before; so does
every font on one core, where nothing is worked out ahead. Tied to the pinned
WeasyPrint, as the other patches.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import pdfwriter
from .sidebyside import can_fork, fork_pickling

PATCHED_VERSION = "70.0"
FONT_SUFFIXES = (".otf", ".ttf")
# Tables that make WeasyPrint rewrite a font (instantiate, strip colour glyphs) or draw it as a bitmap.
_REWRITTEN_BY_WEASYPRINT = ("fvar", "CBDT", "COLR", "SVG ", "sbix", "EBDT")


@dataclass(frozen=True)
class FontProgram:
    """What WeasyPrint embeds for a full font file, worked out from its bytes."""

    length: int  # of the file
    compressed: bytes  # the file as pdfwriter compresses a stream
    advances: tuple[int, ...]  # advance width of each glyph of the glyph set, in its order
    best_cmap: tuple[tuple[int, int], ...]  # (code point, glyph id) in the order of fontTools' best cmap


def digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def font_program(data: bytes) -> FontProgram | None:
    """``data``'s program, read as WeasyPrint reads a full font (pdf/fonts.py); None for a font it rewrites."""
    from fontTools.ttLib import TTFont

    ttfont = TTFont(io.BytesIO(data), fontNumber=0)
    if any(table in ttfont for table in _REWRITTEN_BY_WEASYPRINT):
        return None
    advances = tuple(glyph.width for glyph in ttfont.getGlyphSet().values())
    best_cmap = tuple((letter, ttfont.getGlyphID(key)) for letter, key in ttfont.getBestCmap().items())
    return FontProgram(len(data), pdfwriter.compressed(data), advances, best_cmap)


def font_files(styles: Path) -> list[Path]:
    return sorted(path for path in styles.rglob("*") if path.suffix.lower() in FONT_SUFFIXES and path.is_file())


def work_out(files: list[Path]) -> dict[bytes, FontProgram]:
    """Programs of ``files`` by their bytes' digest (a file fontTools cannot read is left out)."""
    programs = {}
    for path in files:
        try:
            data = path.read_bytes()
            program = font_program(data)
        except Exception:  # noqa: BLE001 - WeasyPrint reports a broken font; its path is taken as before
            continue
        if program is not None:
            programs[digest(data)] = program
    return programs


# The programs this process knows, by digest; lengths first, so that other streams are never hashed.
_known: dict[bytes, FontProgram] = {}
_known_lengths: set[int] = set()


def known(data: bytes) -> FontProgram | None:
    if len(data) not in _known_lengths:
        return None
    return _known.get(digest(data))


def register(programs: dict[bytes, FontProgram]) -> None:
    _known.update(programs)
    _known_lengths.update(program.length for program in programs.values())


def forget() -> None:
    """No program known (the tests compare both ways)."""
    _known.clear()
    _known_lengths.clear()


class FontPrograms:
    """The helper's answer, pending: `receive` waits for it (long done by the writes) and registers it."""

    def __init__(self, pid: int | None = None, read_end: int | None = None, first_end: int | None = None,
                 given: int | None = None):
        self.pid = pid
        self.read_end = read_end
        self.first_end = first_end  # closed by the helper when ``first`` is done
        self.given = given  # `give`'s stream from the parent: whether ``first`` was done, then the programs
        self._status_read = False  # its first byte (`first_done`)

    @classmethod
    def beside(cls, styles: Path, first: Callable[[], object] | None = None) -> "FontPrograms":
        """Start working out the programs of the fonts under ``styles`` in a forked helper.
        ``first()`` runs there before the fonts (a job this process waits for with `first_done`:
        the fonts are wanted only at the writes). With one core (or no fork) nothing is worked
        out ahead and ``first`` is not run: the writes do it as before."""
        files = font_files(styles)
        if not (files or first) or not can_fork():
            return cls()
        first_end, first_signal = os.pipe()

        def work() -> dict[bytes, FontProgram]:
            os.close(first_end)
            try:
                if first is not None:
                    first()
            except Exception:  # noqa: BLE001 - this process does the job itself (`first_done`)
                pass
            finally:
                os.close(first_signal)
            return work_out(files)

        # The helper's answer waits in the pipe (it blocks there) until the writes take it.
        pid, read_end = fork_pickling(work)
        os.close(first_signal)
        return cls(pid, read_end, first_end)

    @classmethod
    def from_parent(cls, stream: int | None) -> "FontPrograms":
        """The programs the parent process works out and sends down ``stream`` (`give`), for a
        job it handed to a worker (`headstart`); None: nothing is worked out ahead."""
        return cls(given=stream)

    def first_done(self) -> None:
        """Wait until the helper has run ``first`` (or has died: then it is not done)."""
        if self.given is not None:
            if not self._status_read:  # the parent's byte once ``first`` is over; EOF if it stopped
                self._status_read = True
                os.read(self.given, 1)
            return
        if self.first_end is None:
            return
        first_end, self.first_end = self.first_end, None
        try:
            while os.read(first_end, 1):  # nothing is written: the end of file says done
                pass
        finally:
            os.close(first_end)

    def receive(self) -> None:
        """Register the programs for this process's writes (and the children it forks for them)."""
        if self.given is not None:
            self.first_done()
            given, self.given = self.given, None
            with os.fdopen(given, "rb") as pipe:
                payload = pipe.read()
            try:
                register(pickle.loads(payload) if payload else {})
            except Exception:  # noqa: BLE001 - cut short (the parent interrupted): the writes work them out
                pass
            return
        if self.pid is None:
            return
        read_end, self.read_end = self.read_end, None  # the file below closes it, even if interrupted
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        register(pickle.loads(payload) if status == 0 and payload else {})

    def close(self) -> None:
        """Stop the helper if its answer was never taken (the layout failed, or was not kept)."""
        if self.given is not None:
            os.close(self.given)  # the parent's `give` meets a closed pipe and stops
            self.given = None
        if self.first_end is not None:
            os.close(self.first_end)
            self.first_end = None
        if self.read_end is not None:
            os.close(self.read_end)
            self.read_end = None
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = None


def give(stream: int, styles: Path, first: Callable[[], object] | None = None) -> None:
    """What a helper forked by `FontPrograms.beside` does, done by this process for a worker
    that reads ``stream`` (`FontPrograms.from_parent`): ``first()``, a byte once it is over
    (whether it failed or not: the worker then does it itself), then the programs of the fonts
    under ``styles``. Blocks until the worker has read them all."""
    try:
        if first is not None:
            first()
    except Exception:  # noqa: BLE001 - the worker does the job itself
        pass
    os.write(stream, b"\x01")
    payload = pickle.dumps(work_out(font_files(styles)), protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(payload)
    while view:
        view = view[os.write(stream, view):]


class _KnownFont:
    """Answers the three questions WeasyPrint's full-font branch asks a fontTools ``TTFont``."""

    def __init__(self, program: FontProgram):
        self.program = program

    def getGlyphSet(self) -> dict:  # noqa: N802 - fontTools' name
        return {index: _Glyph(width) for index, width in enumerate(self.program.advances)}

    def getBestCmap(self) -> dict[int, int]:  # noqa: N802
        return dict(self.program.best_cmap)

    def getGlyphID(self, glyph_id: int) -> int:  # noqa: N802 - the map above holds ids already
        return glyph_id


@dataclass(frozen=True)
class _Glyph:
    width: int


def _answering_ttfont(original):
    def ttfont(file, *args, **kwargs):
        if isinstance(file, io.BytesIO) and not args and kwargs.get("fontNumber", 0) == 0 and len(kwargs) <= 1:
            program = known(file.getvalue())
            if program is not None:
                return _KnownFont(program)
        return original(file, *args, **kwargs)

    return ttfont


_original_build_fonts_dictionary = None


def install() -> bool:
    """Patch WeasyPrint's ``build_fonts_dictionary`` if it is the version this was written for."""
    global _original_build_fonts_dictionary
    import weasyprint
    import weasyprint.pdf
    from weasyprint.pdf import fonts

    if weasyprint.__version__ != PATCHED_VERSION or _original_build_fonts_dictionary is not None:
        return False
    original = _original_build_fonts_dictionary = fonts.build_fonts_dictionary
    real_ttfont = fonts.TTFont

    def build_fonts_dictionary(pdf, pdf_fonts, compress, subset, options):
        if subset or not _known:  # subsets are made by HarfBuzz or fontTools from the real font
            return original(pdf, pdf_fonts, compress, subset, options)
        fonts.TTFont = _answering_ttfont(real_ttfont)
        try:
            return original(pdf, pdf_fonts, compress, subset, options)
        finally:
            fonts.TTFont = real_ttfont

    fonts.build_fonts_dictionary = build_fonts_dictionary
    weasyprint.pdf.build_fonts_dictionary = build_fonts_dictionary  # where generate_pdf finds it
    return True


def uninstall() -> None:
    """Back to WeasyPrint as shipped."""
    global _original_build_fonts_dictionary
    import weasyprint.pdf
    from weasyprint.pdf import fonts

    if _original_build_fonts_dictionary is not None:
        fonts.build_fonts_dictionary = weasyprint.pdf.build_fonts_dictionary = _original_build_fonts_dictionary
        _original_build_fonts_dictionary = None
