import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from handbook_press.build import Paths, build_epub, build_page_map, build_pdf

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content"
SEED = ROOT / "tests" / "data" / "mlops-outline.txt"


def without(patch):
    """A fixture running its test with one of the package's patches to WeasyPrint or its
    libraries (a module with ``install`` and ``uninstall``) taken out, and put back after."""

    @pytest.fixture
    def unpatched():
        patch.uninstall()
        yield
        assert patch.install()

    return unpatched


def project_paths(content: Path, build: Path) -> Paths:
    return Paths(content=content, build=build, templates=ROOT / "templates", styles=ROOT / "styles")


def pdf_task_outputs(content: Path, build: Path) -> list[bytes]:
    """The PDF task run on ``content`` into ``build``: the reading edition, the print interior and
    the layout records (the page map's source), for builds compared byte for byte."""
    from handbook_press.buildpaths import layout_records_path, unchecked_print_path

    paths = project_paths(content, build)
    assert build_pdf(paths)
    return [(paths.build / "mlops-handbook.pdf").read_bytes(),
            unchecked_print_path(paths, "mlops-handbook").read_bytes(), layout_records_path(paths).read_bytes()]


@pytest.fixture(scope="session")
def built_books(tmp_path_factory):
    """The handbook built once from content/: (pdf path, epub path)."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("build")
    paths = project_paths(CONTENT, out)
    messages = io.StringIO()
    with contextlib.redirect_stderr(messages):
        assert build_pdf(paths)
        assert build_page_map(paths)
        assert build_epub(paths)
    (out / "build-messages.txt").write_text(messages.getvalue())
    return out / "mlops-handbook.pdf", out / "mlops-handbook.epub"


def run_doit(*args: str, cwd: Path = ROOT, env: dict | None = None, keep_state: bool = False) -> subprocess.CompletedProcess:
    """Run `doit` as a user would, with a private state file (kept between runs with ``keep_state``)."""
    state = Path(cwd) / ".doit-test.db"
    commands = {"list", "clean", "info", "forget", "ignore", "help", "strace", "dumpdb", "reset-dep"}
    command_name = [args[0]] if args and args[0] in commands else []
    rest = args[len(command_name):]
    command = [sys.executable, "-m", "doit", *command_name, "-f", str(ROOT / "dodo.py"), "--dir", str(cwd),
               "--db-file", str(state), *rest]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, timeout=600)
    if not keep_state:
        for leftover in Path(cwd).glob(".doit-test.db*"):
            leftover.unlink()
    return result


def copy_content(target: Path) -> Path:
    shutil.copytree(CONTENT, target)
    return target
