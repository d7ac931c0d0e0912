"""WeasyPrint's C declarations parsed once and kept in build/cache.

WeasyPrint declares what it calls of Pango, HarfBuzz, fontconfig and GLib in one `cdef` of 450
lines, which cffi parses with pycparser each time WeasyPrint is imported: 20 ms of that module's
36 ms (`python -X importtime`), in every process that lays the book out or draws it (the PDF
task, the page map, the preview, the cover image). While WeasyPrint's ffi module runs, `FFI.cdef` takes the
parser's result from the build's cache when a process has parsed the same source with the same
cffi and Python (1 ms to unpickle), else parses it and keeps it there. The FFI object is cffi's
own, in the state its parser would leave (tested: every declaration the same, the books the same
bytes). Without a folder to keep it in (`keep_in`, which dodo.py calls), nothing changes.

The C types WeasyPrint names later (`ffi.new("PangoRectangle *")`, `hb_codepoint_t[26]` for a
subset font) are parsed by pycparser too, each one's first time in a process, with a typedef line
for every type declared before it: 2–3 ms each, 17 types in a preview (40 ms), 8 in the PDF task's
main process and more in its children. Their parsed types are kept in the same file as the process
ends (once, not at each new type: 2 ms a write), the declarations' own objects shared (a struct's
type is compared by identity), and an array of a simple type with a decimal length is built from
its item's type as cffi's parser builds it.
"""

from __future__ import annotations

import atexit
import copyreg
import hashlib
import io
import pickle
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .files import write_atomic
from .importhook import WhileImporting, replaced
from .nativelibs import FFI_MODULE  # WeasyPrint's module that declares and opens the libraries

CACHE_FORMAT = 2
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
                state, types = kept["parser"], kept["types"]  # both read before the FFI is touched
                with ffi._lock:  # as FFI._cdef leaves it
                    ffi._cdef_version = object()
                    vars(ffi._parser).update(state)
                    ffi._cdefsources.append(csource)
                _remember_types(ffi._parser, types, path, key)
                return None
        except Exception:  # none kept, or not readable (unpickling raises many kinds): parse it
            pass
        stock(ffi, csource)
        types: dict = {}
        _keep(path, key, ffi._parser, types)
        _remember_types(ffi._parser, types, path, key)
        return None

    return cdef


def _keep(path: Path, key: str, parser, types: dict) -> None:
    # pycparser's syntax tree nodes of the structs serve only further cdefs: not kept. One pickle
    # for the declarations and the types keeps the objects they share shared.
    state = {name: value for name, value in vars(parser).items()
             if name not in ("_structnode2type", "parse_type_and_quals")}
    kept = io.BytesIO()
    try:
        _DeclarationsPickler(kept).dump({"key": key, "parser": state, "types": types})
        write_atomic(path, kept.getvalue())
    except (OSError, pickle.PicklingError, TypeError, AttributeError):  # kept next time, or never
        pass


class _DeclarationsPickler(pickle.Pickler):
    """Structs kept as declared: cffi marks one `completed` once it has built its C type in this
    process, and a struct unpickled so marked would stay opaque in the next."""

    def __init__(self, file):
        from cffi import model

        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.struct_type = model.StructOrUnion

    def reducer_override(self, obj):
        if isinstance(obj, self.struct_type) and "completed" in vars(obj):
            state = {name: value for name, value in vars(obj).items() if name != "completed"}
            return copyreg.__newobj__, (type(obj),), state
        return NotImplemented


# "hb_codepoint_t[26]", "char *[3]": an item type with no brackets or parentheses, a decimal length.
_SIMPLE_ARRAY = re.compile(r"([\w\s*]*[\w*])\s*\[(0|[1-9][0-9]*)\]")


def _remember_types(parser, types: dict, path: Path, key: str) -> None:
    """The parser's `parse_type_and_quals` answering from ``types``; new ones kept in ``path`` at exit."""
    from cffi import model

    stock = parser.parse_type_and_quals
    new_types = False

    def parse_type_and_quals(cdecl):
        nonlocal new_types
        known = types.get(cdecl)
        if known is not None:
            return known
        array = _SIMPLE_ARRAY.fullmatch(cdecl.strip())
        if array:  # cffi's parser: model.ArrayType(item type, length), the item's qualifiers
            item, quals = parse_type_and_quals(array[1])
            return model.ArrayType(item, int(array[2])), quals
        types[cdecl] = stock(cdecl)
        if not new_types:  # kept once, as the process ends (a forked child's end runs no exit functions)
            atexit.register(lambda: _keep(path, key, parser, types))
            new_types = True
        return types[cdecl]

    parser.parse_type_and_quals = parse_type_and_quals


# WeasyPrint's ffi module runs inside ``declarations_kept`` when it is first imported.
_HOOK = WhileImporting(FFI_MODULE, declarations_kept)
install, uninstall = _HOOK.install, _HOOK.uninstall
