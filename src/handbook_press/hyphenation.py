"""The book language's hyphenation patterns, parsed once and kept in build/cache.

WeasyPrint hyphenates with pyphen, which parses the language's hunspell
dictionary (11,000 patterns for English) the first time a process hyphenates
a word: 50 ms of every process that lays the book out (the PDF task and each
child it forks to lay out beside it, the page map, the preview). Parsed, the
dictionary unpickles in 4 ms. `preload` puts it into pyphen's own cache
(``pyphen.hdcache``, which every ``pyphen.Pyphen`` asks first) before
anything is laid out, so forked children have it too: from build/cache when a
build parsed it before (kept under a digest of the dictionary file and
pyphen's version), else parsed and kept there. The same patterns, the same
hyphens (tested). In a build from scratch the PDF task has its helper parse and
keep it (`ahead`) while this process imports WeasyPrint.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Callable

from .files import write_atomic

CACHE_FORMAT = 1


def cache_path(cache_folder: Path, language: str) -> Path:
    return Path(cache_folder) / f"hyphenation-{language}.pickle"


def ahead(language: str | None, cache_folder: Path) -> Callable[[], None] | None:
    """A job for a helper process to run before this one's `preload`: parse ``language``'s
    dictionary and keep it in ``cache_folder`` (`preload` then unpickles it). None when one is
    kept there already or the language has none."""
    import pyphen

    fallback = pyphen.language_fallback(language) if language else None
    if fallback is None or cache_path(cache_folder, fallback).exists():
        return None
    return lambda: preload(fallback, cache_folder)


def preload(language: str, cache_folder: Path) -> None:
    """Parse (or take from ``cache_folder``) the dictionary WeasyPrint uses for ``language``."""
    import pyphen

    fallback = pyphen.language_fallback(language)  # as WeasyPrint picks it (text/line_break.py)
    if fallback is None:
        return
    dictionary_file = pyphen.LANGUAGES[fallback]
    kept_file = cache_path(cache_folder, fallback)
    dictionary = pyphen.hdcache.get(dictionary_file)
    if dictionary is not None and kept_file.exists():
        return
    key = hashlib.sha256(f"{CACHE_FORMAT} {pyphen.__version__}\0".encode() + dictionary_file.read_bytes()).hexdigest()
    if dictionary is None:
        try:
            kept = pickle.loads(kept_file.read_bytes())
            if kept["key"] == key and isinstance(kept["dictionary"], pyphen.HyphDict):
                pyphen.hdcache[dictionary_file] = kept["dictionary"]
                return
        except Exception:  # none kept, or not readable (unpickling raises many kinds): parse it again
            pass
        dictionary = pyphen.HyphDict(dictionary_file)
        pyphen.hdcache[dictionary_file] = dictionary
    # else parsed by this process for another build folder (a release's staging, a test): kept here too
    try:
        write_atomic(kept_file, pickle.dumps({"key": key, "dictionary": dictionary}, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:  # a read-only build folder: parse it again next time
        pass
