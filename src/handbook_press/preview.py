"""One section's pages, as the book prints them, for a look while editing (`doit preview section=N`).

A preview is a process's start, its imports (WeasyPrint's above all), the fonts
and style sheets, and then a few pages of layout: the layout is the small part.
With ``watch=1`` the process stays up and previews again each time a file of
the book is saved: the content folder, the styles and the templates are looked
at when Linux tells of a save there (`savealarm`; else every 0.05 s, less often
when looking takes longer, so that it costs a tenth of a core at most): their
files' sizes and modification times, but for editors' swap, lock and backup
files. The sections are read again only when their bytes changed, the fonts and
style sheets are made again only when a style or template changed, and the
pages' pictures are drawn on two cores. A source with an error is reported as
the build reports it (``path:line: error: …``) and the last good preview is
kept; Ctrl-C ends the watch.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from . import hyphenation, pagemap
from .console import say
from .diagnostics import display_path, renderer_warning
from .files import write_atomic

if TYPE_CHECKING:
    from .build import Paths
    from .model import Book

POLL_SECONDS = 0.05  # how often a watch looks for saved files (less often if looking takes long)
SAFETY_LOOK_SECONDS = 1.0  # how often it looks all the same where saves wake it (`savealarm`)


class SectionPreview:
    """Section N of a book previewed into build/preview/: section-NN.pdf and a PNG per page."""

    def __init__(self, paths: Paths, section_number: int):
        self.paths = paths
        self.section_number = section_number
        self._setter = None  # pdf.PreviewSetter, made at the first preview
        self._environment = None  # Jinja's, kept: it compiles the template again only when its file changes

    def forget_styles(self) -> None:
        """A style or template changed: the next preview makes its fonts and style sheets again."""
        self._setter = None

    def render(self, book: Book) -> bool:
        from .build import page_map_path
        from .html import RenderContext, render_section_preview
        from .pdf import PreviewSetter
        from .timestamps import iso_timestamp

        paths = self.paths
        numbers = [s.number for s in book.sections]
        if self.section_number not in numbers:
            say(f"preview: name a section: doit preview section=N, with N from 1 to {len(numbers)}")
            return False
        started = time.perf_counter()
        section = book.sections[numbers.index(self.section_number)]
        first_folio = 1
        map_file = page_map_path(paths, book.metadata.slug)
        if map_file.exists():  # folios as printed, when the whole book was laid out before
            pages = pagemap.from_json(map_file.read_text())
            first_folio = next((int(p.label) for p in pages if p.anchor == section.anchor and p.label.isdigit()), 1)
        if self._environment is None:
            from .html import environment

            self._environment = environment(paths.templates, paths.build / "cache")
        html = render_section_preview(paths.templates,
                                      RenderContext(book, None, iso_timestamp(book.metadata.review_date)), section,
                                      self._environment)
        hyphenation.preload(book.metadata.language, paths.build / "cache")
        if self._setter is None:
            self._setter = PreviewSetter(content=paths.content, templates=paths.templates, styles=paths.styles)
        data, warnings = self._setter.render(html, book, section.number, first_folio)
        for message in warnings:
            say(renderer_warning(message, book, paths.styles))
        folder = paths.build / "preview"
        stem = f"section-{section.number:02d}"
        write_atomic(folder / f"{stem}.pdf", data)
        pictures = _pictures(data)
        for index, picture in enumerate(pictures):
            write_atomic(folder / f"{stem}-page-{index + 1:02d}.png", picture)
        count = len(pictures)
        for stale in folder.glob(f"{stem}-page-*.png"):  # pages an earlier, longer preview had
            number = stale.stem.rsplit("-", 1)[1]
            if number.isdigit() and int(number) > count:
                stale.unlink()
        say(f"previewed Section {section.number} ({count} pages) in {time.perf_counter() - started:.2f} s: "
             f"{display_path(folder / f'{stem}.pdf')} and {count} PNG page(s)")
        return True


def _pictures_of(data: bytes, pages: range) -> list[bytes]:
    """PNGs of ``pages`` of the PDF ``data``, at 100 dpi (its own PDFium document: also in a forked child)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        pictures = []
        for index in pages:
            out = io.BytesIO()
            document[index].render(scale=100 / 72).to_pil().save(out, format="PNG", compress_level=1)
            pictures.append(out.getvalue())
        return pictures
    finally:
        document.close()


def _pictures(data: bytes) -> list[bytes]:
    """A PNG of each page; the later half drawn and encoded in a forked child on a second core."""
    import pypdfium2 as pdfium

    from .sidebyside import can_fork, side_by_side

    document = pdfium.PdfDocument(data)
    count = len(document)
    document.close()
    half = count // 2
    if count < 2 or not can_fork():
        return _pictures_of(data, range(count))
    later, earlier = side_by_side(lambda: _pictures_of(data, range(half, count)),
                                  lambda: _pictures_of(data, range(half)))
    return earlier + later


def _snapshot(folders: list[Path]) -> dict[Path, tuple[int, int]]:
    """(modification time, size) of every file under ``folders`` but editors' own (`editors_file`)."""
    seen = {}
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if editors_file(path.name):
                continue
            try:
                stat = path.stat()
            except OSError:  # removed while we looked
                continue
            if path.is_file():
                seen[path] = (stat.st_mtime_ns, stat.st_size)
    return seen


def editors_file(name: str) -> bool:
    """A file an editor keeps beside the one it edits: vim's .name.swp (and .swo, …) and the
    4913 it probes a folder with, emacs' .#name lock and #name# auto-save, a name~ backup. Vim
    writes its swap file every few seconds while one types: each would preview the section again."""
    return ((name.startswith(".") and name.endswith((".swp", ".swo", ".swn", ".swx"))) or name.startswith(".#")
            or (len(name) > 1 and name.startswith("#") and name.endswith("#")) or name.endswith("~")
            or name == "4913")


class Watcher:
    """The preview of one section, made again for each saved edit of the book's files."""

    def __init__(self, paths: Paths, section_number: int):
        self.paths = paths
        self.preview = SectionPreview(paths, section_number)
        # What each file was read into, the last time it was read: (its bytes, the result, messages).
        self.read: dict = {}
        started = time.perf_counter()
        self.seen = _snapshot(self.folders())
        self.look_seconds = time.perf_counter() - started  # what one look costs (more files, more)

    def folders(self) -> list[Path]:
        return [self.paths.content, self.paths.styles, self.paths.templates]

    def changed(self) -> bool:
        """Whether a file was saved, added or removed since the last look; styles and templates
        changed make the next preview set its fonts and style sheets up again."""
        now = _snapshot(self.folders())
        if now == self.seen:
            return False
        moved = {path for path in now.keys() | self.seen.keys() if now.get(path) != self.seen.get(path)}
        if any(path.is_relative_to(self.paths.styles) or path.is_relative_to(self.paths.templates)
               for path in (Path(p) for p in moved)):
            self.preview.forget_styles()
        self.seen = now
        return True

    def _read_if_changed(self, key, file: Path, read: Callable, diagnostics):
        """``read(diagnostics)``, or what it gave the last time if ``file``'s bytes are the same:
        its messages told again. Only the last reading of each ``key`` is kept."""
        try:
            data = file.read_bytes()
        except OSError:
            return read(diagnostics)  # it reports the missing file
        kept = self.read.get(key)
        if kept is None or kept[0] != data:
            found = type(diagnostics)()
            kept = self.read[key] = (data, read(found), list(found.items))
        diagnostics.items.extend(kept[2])
        return kept[1]

    def _read_section(self, source, content: Path, diagnostics):
        from .reader import read_section_source

        return self._read_if_changed(source, Path(source.file),
                                     lambda found: read_section_source(source, content, found), diagnostics)

    def _read_metadata(self, content: Path, diagnostics):
        """handbook.yaml: parsing it is most of reading a long book again (0.2 s at x50)."""
        from .reader import METADATA_FILE, read_metadata

        return self._read_if_changed(METADATA_FILE, Path(content) / METADATA_FILE,
                                     lambda found: read_metadata(content, found), diagnostics)

    def read_book(self):
        """(the checked book or None, its diagnostics), reading again the files whose bytes changed."""
        from .build import load

        return load(self.paths.content, read_one=self._read_section, read_meta=self._read_metadata)

    def refresh(self) -> bool:
        """Read the book again (the sections whose bytes changed) and preview the section."""
        from .build import report

        book, diagnostics = self.read_book()
        if book is None:
            report(diagnostics)
            say("preview: fix the errors above; the last preview was kept. Watching on.")
            return False
        return self.preview.render(book)


def watch(paths: Paths, section_number: int, first: Book | None = None, poll: float = POLL_SECONDS,
          keep_watching: Callable[[], bool] = lambda: True) -> bool:
    """Preview section N, then again after each saved edit, until Ctrl-C (or ``keep_watching``
    says no: for tests). ``first``: the book to preview first (the checked model), if read."""
    import signal

    from .savealarm import SaveAlarm

    watcher = Watcher(paths, section_number)
    alarm = SaveAlarm(watcher.folders())
    # Ctrl-C stops the watch even when the shell started it with SIGINT ignored (in the background).
    interrupt = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if first is None or not watcher.preview.render(first):
            watcher.refresh()
        else:
            watcher.read_book()  # every section read once now, so that the first save reads only its own
        say(f"watching {display_path(paths.content)}, {display_path(paths.styles)} and "
             f"{display_path(paths.templates)}: each saved edit is previewed again; Ctrl-C stops")
        while keep_watching():
            # Woken by a save, else a look now and then (looking takes a tenth of a core at most).
            alarm.wait(max(poll if not alarm.live else SAFETY_LOOK_SECONDS, 10 * watcher.look_seconds))
            if watcher.changed():
                watcher.refresh()
    except KeyboardInterrupt:
        pass
    finally:
        alarm.close()
        signal.signal(signal.SIGINT, interrupt)
    say("stopped watching")
    return True
