"""WeasyPrint's C declarations parsed once and kept in build/cache (ffideclarations.py)."""

import json
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
print(json.dumps({"parses": len(parses), "declarations": declarations, "sizes": sizes,
                  "pango": [pango.pango_version(), pango.pango_units_from_double(1.5)]}))
"""


def _import_weasyprint(folder) -> dict:
    done = subprocess.run([sys.executable, "-c", IMPORT, str(folder or "")], capture_output=True, text=True,
                          timeout=120)
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
