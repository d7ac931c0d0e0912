"""The parsed model, cached per section for incremental builds.

Each section file is read by its own doit task into
``build/cache/sections/<slug>.pickle``; the check task assembles the book
from those (re-reading only what changed), numbers and checks it, and writes
``build/cache/book.pickle``, which the PDF and EPUB tasks render from. So an
edited section is parsed again alone, and the renderers never re-parse text.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

from .files import write_atomic

if TYPE_CHECKING:  # dodo.py imports this module: the model is imported where a book is loaded
    from .diagnostics import Diagnostics
    from .model import Book
    from .reader import SectionSource

PROTOCOL = 5  # fixed, so that the same model gives the same bytes (doit compares checksums)


def section_key(content: Path, file: Path) -> str:
    """A section's name for its task and cache file: its path in the content folder
    (unique, where slugs may clash: a-b.md and a_b.md)."""
    return Path(file).resolve().relative_to(Path(content).resolve()).as_posix().replace("/", "__")


def section_cache_path(build: Path, key: str) -> Path:
    return Path(build) / "cache" / "sections" / f"{key}.pickle"


def book_cache_path(build: Path) -> Path:
    return Path(build) / "cache" / "book.pickle"


_listed: dict[tuple[Path, str], dict[str, SectionSource]] = {}


def _listed_sources(content: Path, fresh: bool = False) -> dict[str, SectionSource]:
    """The sources handbook.yaml lists, by section key; read once per process for the same
    handbook.yaml (doit runs every section task in one process: reading the listing again for
    each would cost the square of the book)."""
    from .diagnostics import Diagnostics
    from .reader import METADATA_FILE, read_metadata, section_sources

    try:
        digest = hashlib.sha256((content / METADATA_FILE).read_bytes()).hexdigest()
    except OSError:
        digest = ""
    memo = (content.resolve(), digest)
    if fresh or memo not in _listed:
        loaded = read_metadata(content, Diagnostics())
        sources = section_sources(content, *loaded[1:], Diagnostics()) if loaded else []
        _listed.clear()
        _listed[memo] = {section_key(content, s.file): s for s in sources}
    return _listed[memo]


def cache_section(content: Path, build: Path, key: str) -> bool:
    """Read one section into its cache file (its problems are stored, for the check task to report)."""
    from .diagnostics import Diagnostics
    from .reader import read_section_source

    content = Path(content)
    diagnostics = Diagnostics()
    source = _listed_sources(content).get(key)
    if source is None:  # a listed file created since the listing was read
        source = _listed_sources(content, fresh=True).get(key)
    section = read_section_source(source, content, diagnostics) if source else None
    write_atomic(section_cache_path(build, key),
                 pickle.dumps({"source": source, "section": section, "diagnostics": diagnostics.items},
                              protocol=PROTOCOL))
    return True


def cached_reader(build: Path):
    """A ``read_one`` for reader.read_content that takes sections from their cache files.

    Only for the check task, whose doit dependencies make the section tasks run
    first; a cache entry written for another entry of handbook.yaml is ignored.
    """

    from .reader import read_section_source

    def read_one(source: SectionSource, content: Path, diagnostics: Diagnostics):
        entry = _unpickled(section_cache_path(build, section_key(content, source.file)))
        if isinstance(entry, dict) and entry.get("source") == source:
            diagnostics.items.extend(entry["diagnostics"])
            return entry["section"]
        return read_section_source(source, content, diagnostics)

    return read_one


def save_book(build: Path, book: Book) -> None:
    write_atomic(book_cache_path(build), pickle.dumps(book, protocol=PROTOCOL))


def load_cached_book(build: Path) -> Book | None:
    from .model import Book

    book = _unpickled(book_cache_path(build))
    return book if isinstance(book, Book) else None


def _unpickled(file: Path):
    """What ``file`` holds; None when it is missing or cannot be read (cut short or changed
    by hand): a cache is then made again from the sources, never a reason to fail."""
    try:
        return pickle.loads(file.read_bytes())
    except Exception:  # noqa: BLE001 - missing, or damaged bytes, whose unpickling can raise almost anything
        return None
