"""WeasyPrint opens its native libraries with one lookup process instead of sixty (nativelibs.py)."""

import ctypes.util
import json
import subprocess
import sys

import pytest

from handbook_press import nativelibs

# What a process that imports WeasyPrint reports: the processes it started while importing,
# the native libraries it has open, and whether the lookup was put back. Argument: "package first" or not.
IMPORT_REPORT = r"""
import ctypes.util, json, re, sys
started = []
sys.addaudithook(lambda event, args: started.append(str(args[1][0])) if event == "subprocess.Popen" else None)
stock = ctypes.util.find_library
if sys.argv[1] == "package first":
    import handbook_press
import weasyprint.text.ffi as ffi
libraries = sorted({re.sub(r".*/", "", line.split()[-1]) for line in open("/proc/self/maps")
                    if re.search(r"lib(pango|harfbuzz|fontconfig|gobject)", line)})
print(json.dumps({"started": started, "libraries": libraries, "subset": ffi.harfbuzz_subset is not None,
                  "restored": ctypes.util.find_library is stock,
                  "finders": [getattr(f, "module", type(f).__name__) for f in sys.meta_path]}))
"""

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux") or nativelibs.linker_cache_listing() is None,
                                reason="the linker-cache lookup is for Linux with ldconfig")


def _import_report(package_first: bool) -> dict:
    argument = "package first" if package_first else "weasyprint alone"
    done = subprocess.run([sys.executable, "-c", IMPORT_REPORT, argument], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


@linux_only
def test_weasyprint_opens_the_same_libraries_after_one_ldconfig():
    stock, ours = _import_report(package_first=False), _import_report(package_first=True)
    # The premise: WeasyPrint's Windows and macOS names make ctypes run ldconfig, gcc and ld for each.
    assert len(stock["started"]) > 10
    assert [name.rsplit("/", 1)[-1] for name in ours["started"]] == ["ldconfig"]
    assert ours["libraries"] == stock["libraries"] and any("pango" in name for name in ours["libraries"])
    assert ours["subset"] == stock["subset"]
    assert ours["restored"] and nativelibs.FFI_MODULE not in ours["finders"], "the hook left sys.meta_path"


@linux_only
def test_the_cache_answers_as_ctypes_does():
    find = nativelibs.finder_from_listing(nativelibs.linker_cache_listing())
    for name in ("pango-1.0", "harfbuzz", "fontconfig", "gobject-2.0", "c", "m"):
        assert find(name) == ctypes.util.find_library(name) is not None
    assert find("libpango-1.0-0") is None  # WeasyPrint's Windows name: no further search


def test_a_name_the_cache_lacks_goes_to_the_stock_search_only_with_ld_library_path(monkeypatch):
    asked = []

    def stock(name):
        asked.append(name)
        return f"lib{name}.so.7"

    assert nativelibs.finder_from_listing(b"", stock)("private") == "libprivate.so.7"
    assert nativelibs.finder_from_listing(b"", None)("private") is None
    if nativelibs.linker_cache_listing() is None:
        return
    monkeypatch.setattr(ctypes.util, "find_library", stock)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/private/lib")
    with nativelibs.libraries_from_linker_cache():
        assert ctypes.util.find_library("private") == "libprivate.so.7"
    monkeypatch.delenv("LD_LIBRARY_PATH")
    with nativelibs.libraries_from_linker_cache():
        assert ctypes.util.find_library("private") is None
    assert ctypes.util.find_library is stock and asked == ["private", "private"]
