"""pyproject.toml declares what the package and dodo.py import: `pip install .` alone gives a
working `doit` (the test extra is for the tests, not for building or releasing a book)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Declared without being imported: each shapes the books' bytes through WeasyPrint, so it is pinned.
PINNED_FOR_OUTPUT_BYTES = {"tinycss2", "cssselect2"}


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normalised(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement).group())


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _imported_modules(files: list[Path]) -> dict[str, set[str]]:
    """Top-level modules imported anywhere in ``files`` (at the top or inside a function), with
    the files that import them; the standard library and the package itself left out."""
    imported: dict[str, set[str]] = {}
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "handbook_press":
                    imported.setdefault(top, set()).add(file.name)
    return imported


def _code_files() -> list[Path]:
    return sorted((ROOT / "src" / "handbook_press").glob("*.py")) + [ROOT / "dodo.py"]


def _distributions_of(imported: dict[str, set[str]]) -> dict[str, set[str]]:
    """Imported module -> the installed distributions that provide it."""
    providers = importlib.metadata.packages_distributions()
    return {module: {_normalised(d) for d in providers.get(module, [])} for module in imported}


def test_every_module_the_package_imports_is_a_runtime_dependency():
    declared = {_requirement_name(r) for r in _project()["dependencies"]}
    imported = _imported_modules(_code_files())
    assert {"weasyprint", "pypdf", "yaml"} <= imported.keys()  # the scan sees imports inside functions
    missing = {module: sorted(files) for module, files in imported.items()
               if not (_distributions_of({module: files})[module] & declared)}
    assert not missing, (f"imported by the package but not in pyproject.toml's dependencies (a test extra "
                         f"is not installed by `pip install .`): {missing}")


def test_every_runtime_dependency_is_imported_or_pinned_for_the_output():
    declared = {_requirement_name(r) for r in _project()["dependencies"]}
    providing = set().union(*_distributions_of(_imported_modules(_code_files())).values())
    unused = declared - providing - PINNED_FOR_OUTPUT_BYTES
    assert not unused, f"declared in pyproject.toml's dependencies but imported nowhere: {sorted(unused)}"


def test_versions_that_shape_the_output_are_pinned_exactly():
    pins = {_requirement_name(r): r for r in _project()["dependencies"]}
    for name in ("weasyprint", "pydyf", "tinycss2", "cssselect2", "tinyhtml5", "pyphen", "fonttools",
                 "pillow", "ebooklib", "lxml", "jinja2", "markupsafe", "markdown-it-py", "pyyaml", "pypdfium2",
                 "pypdf"):
        assert "==" in pins[name], (f"{pins[name]!r}: pin it exactly (the books' bytes, or their preflight, "
                                    "depend on its version)")
