"""WeasyPrint's C declarations parsed once and kept in build/cache (ffideclarations.py)."""

import json
import pickle
import subprocess
import sys
from contextlib import contextmanager

from handbook_press import ffideclarations, importhook

# A new process importing WeasyPrint with the declarations kept in argv[1] (or nowhere): what it
# parsed, every declaration as cffi names it, and a call into Pango through the declarations.
IMPORT = """
import json, sys
import cffi, cffi.cparser
from handbook_press import ffideclarations
parses = []
stock = cffi.cparser.Parser.parse
cffi.cparser.Parser.parse = lambda self, *a, **k: parses.append(1) or stock(self, *a, **k)
type_parses = []
stock_type = cffi.cparser.Parser.parse_type_and_quals
cffi.cparser.Parser.parse_type_and_quals = lambda self, c: type_parses.append(c) or stock_type(self, c)
if sys.argv[1]:
    ffideclarations.keep_in(sys.argv[1])
from weasyprint.text.ffi import ffi, pango
declarations = {name: [getattr(tp, "_get_c_name", lambda: tp)(), quals]
                for name, (tp, quals) in ffi._parser._declarations.items()}
def size(name):
    try:
        return ffi.sizeof(name)
    except (ValueError, TypeError, cffi.FFIError):  # opaque structs, functions
        return None
sizes = {name: size(name[len("typedef "):]) for name in declarations if name.startswith("typedef ")}
type_parses.clear()
named = {cdecl: [ffi.typeof(cdecl).cname, ffi.sizeof(cdecl)]
         for cdecl in ["PangoRectangle *", "hb_codepoint_t[%s]" % sys.argv[2], "const char *[3]", "int[2][3]"]}
rectangle = ffi.new("PangoRectangle *")
rectangle.width = 7
print(json.dumps({"parses": len(parses), "declarations": declarations, "sizes": sizes,
                  "type_parses": type_parses, "named": named, "rectangle": rectangle.width,
                  "pango": [pango.pango_version(), pango.pango_units_from_double(1.5)]}))
"""


def _import_weasyprint(folder, array_length=26) -> dict:
    done = subprocess.run([sys.executable, "-c", IMPORT, str(folder or ""), str(array_length)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_second_process_takes_the_same_declarations_without_parsing(tmp_path):
    parsed = _import_weasyprint(None)
    assert parsed["parses"] == 1 and not list(tmp_path.iterdir())
    first = _import_weasyprint(tmp_path)
    assert first["parses"] == 1
    [kept] = tmp_path.glob("cffi-declarations-*.pickle")
    second = _import_weasyprint(tmp_path)
    assert second["parses"] == 0
    assert second["declarations"] == first["declarations"] == parsed["declarations"]
    assert len(second["declarations"]) > 200 and second["sizes"] == parsed["sizes"]
    assert sum(size is not None for size in second["sizes"].values()) > 20
    assert second["pango"] == parsed["pango"]


def test_the_types_weasyprint_names_are_parsed_once_and_kept(tmp_path):
    parsed = _import_weasyprint(None)
    assert len(parsed["type_parses"]) == 4  # each type's first time in a process
    first = _import_weasyprint(tmp_path)
    # the arrays built from their item types ("hb_codepoint_t" may come first in WeasyPrint's import)
    assert set(first["type_parses"]) <= {"PangoRectangle *", "hb_codepoint_t", "const char *", "int[2][3]"}
    assert "int[2][3]" in first["type_parses"]
    second = _import_weasyprint(tmp_path, array_length=9)  # another length: its item type is known
    assert second["type_parses"] == []
    assert first["named"] == parsed["named"] and second["rectangle"] == parsed["rectangle"] == 7
    assert second["named"]["hb_codepoint_t[9]"] == ["uint32_t[9]", 36]
    assert {cdecl: named for cdecl, named in second["named"].items() if "[9]" not in cdecl} == \
        {cdecl: named for cdecl, named in parsed["named"].items() if "[26]" not in cdecl}


def test_an_array_is_the_type_cffi_would_parse(tmp_path, monkeypatch):
    import cffi

    at_exit: list = []
    monkeypatch.setattr(ffideclarations.atexit, "register", at_exit.append)

    ffi = cffi.FFI()
    ffi.cdef("typedef unsigned int hb_codepoint_t; typedef struct { int x, y; } PangoRectangle;")
    stock = ffi._parser.parse_type_and_quals
    types: dict = {}
    ffideclarations._remember_types(ffi._parser, types, tmp_path / "kept.pickle", "key")
    for cdecl in ["hb_codepoint_t[26]", "char *[3]", "const char[0]", "char * const [4]", "PangoRectangle *[2]",
                  "unsigned  int[12]", "int[2][3]", "int (*)[3]", "char[]", "char[010]"]:
        assert ffi._parser.parse_type_and_quals(cdecl) == stock(cdecl), cdecl
    assert ffi._parser.parse_type_and_quals("PangoRectangle *[2]")[0].item.totype is \
        stock("PangoRectangle")[0]  # the struct's own type: cffi tells structs apart by identity
    assert "hb_codepoint_t[26]" not in types and "hb_codepoint_t" in types and "char[010]" in types
    assert not tmp_path.joinpath("kept.pickle").exists() and len(at_exit) == 1  # kept once, at exit
    at_exit[0]()
    assert set(pickle.loads(tmp_path.joinpath("kept.pickle").read_bytes())["types"]) == set(types)


def test_damaged_or_stale_declarations_are_parsed_again_and_rewritten(tmp_path):
    _import_weasyprint(tmp_path)
    [kept] = tmp_path.glob("cffi-declarations-*.pickle")
    good = kept.read_bytes()
    for damage in (b"", b"not a pickle", good[: len(good) // 2]):
        kept.write_bytes(damage)
        assert _import_weasyprint(tmp_path)["parses"] == 1
        assert kept.read_bytes() == good


def test_the_key_follows_the_source_and_cffi(monkeypatch):
    import cffi

    key = ffideclarations.declarations_key("int f(void);")
    assert ffideclarations.declarations_key("int g(void);") != key
    monkeypatch.setattr(cffi, "__version__", "0.0-another")
    assert ffideclarations.declarations_key("int f(void);") != key


def test_several_patches_to_one_module_all_apply_in_the_order_installed(tmp_path, monkeypatch):
    (tmp_path / "patched_module_for_test.py").write_text("import builtins\nbuiltins.SEEN_WHILE_RUNNING = list(builtins.SETTINGS)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import builtins

    monkeypatch.setattr(builtins, "SETTINGS", [], raising=False)

    def setting(name):
        @contextmanager
        def entered():
            builtins.SETTINGS.append(name)
            yield
            builtins.SETTINGS.remove(name)
        return entered

    first = importhook.WhileImporting("patched_module_for_test", setting("first"))
    second = importhook.WhileImporting("patched_module_for_test", setting("second"))
    first.install()
    second.install()
    try:
        import patched_module_for_test  # noqa: F401
    finally:
        first.uninstall()
        second.uninstall()
        sys.modules.pop("patched_module_for_test", None)
    assert builtins.SEEN_WHILE_RUNNING == ["first", "second"] and builtins.SETTINGS == []
    assert first not in sys.meta_path and second not in sys.meta_path
    del builtins.SEEN_WHILE_RUNNING
