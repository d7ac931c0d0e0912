"""WeasyPrint's C declarations parsed once and kept in build/cache.

WeasyPrint declares what it calls of Pango, HarfBuzz, fontconfig and GLib in one `cdef` of 450
lines, which cffi parses with pycparser each time WeasyPrint is imported: 20 ms of that module's
36 ms (`python -X importtime`), in every process that lays the book out or draws it (the PDF
task, the page map, the preview, the cover image). While WeasyPrint's ffi module runs, `FFI.cdef` takes the
parser's result from the build's cache when a process has parsed the same source with the same
cffi and Python (1 ms to unpickle), else parses it and keeps it there. The FFI object is cffi's
own, in the state its parser would leave (tested: every declaration the same, the books the same
bytes). Without a folder to keep it in (`keep_in`, which dodo.py calls), nothing changes.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .files import write_atomic
from .importhook import WhileImporting, replaced
from .nativelibs import FFI_MODULE  # WeasyPrint's module that declares and opens the libraries

CACHE_FORMAT = 1
_folder: Path | None = None


def keep_in(cache_folder: Path) -> None:
    """Keep the parsed declarations in ``cache_folder`` (a build's cache) from now on."""
    global _folder
    _folder = Path(cache_folder)


def kept_path(cache_folder: Path, key: str) -> Path:
    return Path(cache_folder) / f"cffi-declarations-{key[:16]}.pickle"


def declarations_key(csource: str) -> str:
    import cffi

    return hashlib.sha256(f"{CACHE_FORMAT}\0{cffi.__version__}\0{sys.version}\0{csource}".encode()).hexdigest()


@contextmanager
def declarations_kept() -> Iterator[None]:
    """Inside the block, `cffi.FFI.cdef` of a source parsed before takes the kept result."""
    folder = _folder
    if folder is None:
        yield
        return
    import cffi

    with replaced(cffi.FFI, "cdef", lambda stock: _keeping_cdef(stock, folder)):
        yield


def _keeping_cdef(stock, folder: Path):
    """`FFI.cdef` taking the parser's state kept in ``folder``, or parsing and keeping it there."""

    def cdef(ffi, csource, override=False, packed=False, pack=None):
        if override or packed or pack is not None or ffi._cdefsources or not isinstance(csource, str):
            return stock(ffi, csource, override=override, packed=packed, pack=pack)  # not WeasyPrint's use
        key = declarations_key(csource)
        path = kept_path(folder, key)
        try:
            kept = pickle.loads(path.read_bytes())
            if kept["key"] == key:
                with ffi._lock:  # as FFI._cdef leaves it
                    ffi._cdef_version = object()
                    vars(ffi._parser).update(kept["parser"])
                    ffi._cdefsources.append(csource)
                return None
        except Exception:  # none kept, or not readable (unpickling raises many kinds): parse it
            pass
        stock(ffi, csource)
        # pycparser's syntax tree nodes of the structs serve only further cdefs: not kept.
        parser = {name: value for name, value in vars(ffi._parser).items() if name != "_structnode2type"}
        try:
            write_atomic(path, pickle.dumps({"key": key, "parser": parser}, protocol=pickle.HIGHEST_PROTOCOL))
        except (OSError, pickle.PicklingError, TypeError, AttributeError):  # kept next time, or never
            pass
        return None

    return cdef


# WeasyPrint's ffi module runs inside ``declarations_kept`` when it is first imported.
_HOOK = WhileImporting(FFI_MODULE, declarations_kept)
install, uninstall = _HOOK.install, _HOOK.uninstall
