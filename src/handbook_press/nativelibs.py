"""WeasyPrint's native libraries (Pango, HarfBuzz, fontconfig…) found with one look.

WeasyPrint opens each library by trying a list of names, Windows' and macOS's
first (``libpango-1.0-0``, …). For a name the dynamic linker cannot open, cffi
asks ``ctypes.util.find_library``, which on Linux runs ``ldconfig -p`` and then,
finding nothing, gcc and ld: 22 lookups and some sixty processes, 0.15–0.25 s of
every command that imports WeasyPrint (the PDF, the preview, the cover image).

While WeasyPrint's ``weasyprint.text.ffi`` runs, ``find_library`` answers from the
linker's cache, read once: the answer the stock function gives first, with the
same expression. A name the cache lacks is not searched further (WeasyPrint goes
on to its next name; those with a dot go straight to the dynamic linker, which
searches LD_LIBRARY_PATH itself), unless LD_LIBRARY_PATH is set, where the stock
search runs as before. Elsewhere than Linux, or without ldconfig, nothing changes.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .importhook import WhileImporting, replaced

FFI_MODULE = "weasyprint.text.ffi"  # the module that opens the libraries
# ctypes.util's own table: the ABI tag ldconfig prints for this machine's libraries.
_ABI_TAGS = {"x86_64-64": "libc6,x86-64", "ppc64-64": "libc6,64bit", "sparc64-64": "libc6,64bit",
             "s390x-64": "libc6,64bit", "ia64-64": "libc6,IA-64"}


def linker_cache_listing() -> bytes | None:
    """``ldconfig -p``'s listing of the libraries the dynamic linker knows; None without one."""
    import subprocess  # here and below, not at the top: every `doit` run imports this package

    try:
        done = subprocess.run(["/sbin/ldconfig", "-p"], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, env={"LC_ALL": "C", "LANG": "C"}, check=False)
    except OSError:
        return None
    return done.stdout if done.returncode == 0 and done.stdout else None


def finder_from_listing(listing: bytes, stock: Callable[[str], str | None] | None = None
                        ) -> Callable[[str], str | None]:
    """``find_library`` answering from ``listing``; a name it lacks goes to ``stock`` when given."""
    import struct

    machine = os.uname().machine + ("-32" if struct.calcsize("l") == 4 else "-64")
    abi = _ABI_TAGS.get(machine, "libc6")

    def find_library(name: str) -> str | None:
        found = re.search(os.fsencode(r"\s+(lib%s\.[^\s]+)\s+\(%s" % (re.escape(name), abi)), listing)
        if found:
            return os.fsdecode(found.group(1))
        return stock(name) if stock is not None else None

    return find_library


@contextmanager
def libraries_from_linker_cache() -> Iterator[None]:
    """``ctypes.util.find_library`` answers from the linker's cache inside the block."""
    import ctypes.util

    listing = linker_cache_listing() if sys.platform.startswith("linux") else None
    if listing is None:
        yield
        return
    with replaced(ctypes.util, "find_library",
                  lambda stock: finder_from_listing(listing, stock if os.environ.get("LD_LIBRARY_PATH") else None)):
        yield


# WeasyPrint's ffi module runs inside ``libraries_from_linker_cache`` when it is first imported.
_HOOK = WhileImporting(FFI_MODULE, libraries_from_linker_cache)
install, uninstall = _HOOK.install, _HOOK.uninstall
