"""An interrupted build leaves the old output or none — never a truncated one.

`doit pdf` / `doit epub` run in a subprocess over a build folder that holds an
old output, and are killed with SIGKILL: while the new file is being written
(the writes are slowed down by a small module loaded before doit, so that the
moment can be hit), after it was written but before the rename, and at
moments spread over a whole build. After each kill the target holds either
the old bytes or a complete, valid new file. `files.write_atomic` is also
tested on its own with failures injected in the middle of a write.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pypdf
import pytest

from handbook_press import files
from handbook_press.files import write_atomic

from .conftest import ROOT

OLD_PDF = b"%PDF-1.4\n% the old build: not the new one\n%%EOF\n"
OLD_EPUB = b"PK\x03\x04 the old build's EPUB"

HANDBOOK = """\
title: Interrupted Handbook
slug: interrupted
language: en
identifier: urn:uuid:00000000-0000-4000-8000-0000000000ab
about: A handbook whose builds get killed.
review_date: 2025-05
sections:
  - file: sections/one.md
    title: One
  - file: sections/two.md
    title: Two
"""

# Loaded before doit: slows down the writes (and the fsync) of one target's
# temporary file, so that a kill can land in the middle of them.
SLOW_WRITES = textwrap.dedent('''
    import os, time

    TARGET = os.environ["SLOW_TARGET"]          # e.g. interrupted.pdf
    CHUNKS = int(os.environ.get("SLOW_CHUNKS", "20"))
    DELAY = float(os.environ.get("SLOW_DELAY", "0"))
    FSYNC_DELAY = float(os.environ.get("SLOW_FSYNC_DELAY", "0"))


    def _ours(fd):
        try:
            name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            return False
        return name.startswith(f".{TARGET}.") and name.endswith(".part")


    class _SlowFile:
        def __init__(self, file):
            self._file = file

        def write(self, data):
            view = memoryview(data)
            step = max(1, len(view) // CHUNKS)
            for start in range(0, len(view), step):
                self._file.write(view[start:start + step])
                self._file.flush()
                time.sleep(DELAY)
            return len(view)

        def __getattr__(self, name):
            return getattr(self._file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self._file.__exit__(*exc)


    _fdopen, _fsync = os.fdopen, os.fsync


    def fdopen(fd, *args, **kwargs):
        file = _fdopen(fd, *args, **kwargs)
        return _SlowFile(file) if DELAY and _ours(fd) else file


    def fsync(fd):
        if FSYNC_DELAY and _ours(fd):
            time.sleep(FSYNC_DELAY)
        return _fsync(fd)


    os.fdopen, os.fsync = fdopen, fsync
''')


@pytest.fixture
def project(tmp_path):
    content = tmp_path / "content"
    (content / "sections").mkdir(parents=True)
    (content / "handbook.yaml").write_text(HANDBOOK, encoding="utf-8")
    (content / "sections" / "one.md").write_text(
        '---\ntitle: "One"\n---\nChapter 1: Starting\nA topic\nTools: MLflow, DVC\n\nSome *prose*.\n', encoding="utf-8")
    (content / "sections" / "two.md").write_text(
        '---\ntitle: "Two"\n---\nChapter 2: Going On (New)\nAnother topic\n', encoding="utf-8")
    (tmp_path / "inject").mkdir()
    (tmp_path / "inject" / "slow_writes.py").write_text(SLOW_WRITES, encoding="utf-8")
    return tmp_path


def start_doit(root: Path, task: str, temporary: Path | None = None, **slow) -> subprocess.Popen:
    """`python -m doit <task>` as run_doit runs it, optionally with slowed writes or its own
    temporary folder, in its own process group."""
    inject = "import slow_writes; " if slow else ""
    code = (f"import runpy, sys; sys.path.insert(0, {str(root / 'inject')!r}); {inject}"
            "sys.argv = ['doit'] + sys.argv[1:]; runpy.run_module('doit', run_name='__main__', alter_sys=True)")
    command = [sys.executable, "-c", code, "-f", str(ROOT / "dodo.py"), "--dir", str(root),
               "--db-file", str(root / ".doit-kill.db"), task, f"content={root / 'content'}",
               f"build={root / 'build'}"]
    env = {**os.environ, **{f"SLOW_{key.upper()}": str(value) for key, value in slow.items()}}
    if temporary is not None:
        env["TMPDIR"] = str(temporary)
    with open(root / "doit.log", "wb") as out:  # a file, not a pipe that could fill up and block doit
        # Ctrl-C as in a terminal's shell, also when these tests run in the background (`pytest &`),
        # where the shell leaves SIGINT ignored, and the child would inherit that.
        return subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def log(root: Path) -> str:
    return (root / "doit.log").read_text(errors="replace")


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)


def reset(root: Path, name: str, old: bytes) -> Path:
    """A build folder with only the old output (and a fresh doit state)."""
    build = root / "build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    for path in root.glob(".doit-kill.db*"):
        path.unlink()
    (build / name).write_bytes(old)
    return build / name


def wait_for_part(build: Path, name: str, process: subprocess.Popen, partial: bool) -> Path:
    """Poll until the target's temporary file exists (and holds some bytes when ``partial``)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for part in build.glob(f".{name}.*.part"):
            try:
                size = part.stat().st_size
            except FileNotFoundError:
                continue
            if not partial or size > 0:
                return part
        assert process.poll() is None, log(build.parent)
        time.sleep(0.005)
    raise AssertionError("the temporary file never appeared")


def assert_old_or_complete(target: Path, old: bytes) -> str:
    """The target is the old bytes, or a complete and valid new file; says which."""
    if not target.exists():
        return "none"
    data = target.read_bytes()
    if data == old:
        return "old"
    if target.suffix == ".pdf":
        assert data.rstrip().endswith(b"%%EOF")
        reader = pypdf.PdfReader(target, strict=True)
        assert len(reader.pages) > 0
        assert "Starting" in "".join(page.extract_text() for page in reader.pages)
    else:
        with zipfile.ZipFile(target) as book:
            assert book.testzip() is None
            assert book.read("mimetype") == b"application/epub+zip"
    return "new"


@pytest.mark.parametrize("task, name, old", [("pdf", "interrupted.pdf", OLD_PDF),
                                             ("epub", "interrupted.epub", OLD_EPUB)], ids=["pdf", "epub"])
def test_killed_in_the_middle_of_writing_keeps_the_old_file(project, task, name, old):
    target = reset(project, name, old)
    process = start_doit(project, task, target=name, chunks=40, delay=0.05)
    try:
        part = wait_for_part(target.parent, name, process, partial=True)
        time.sleep(0.1)  # a few more chunks
    finally:
        kill(process)
    assert 0 < part.stat().st_size, "the kill did not land while writing"
    assert assert_old_or_complete(target, old) == "old"
    assert target.read_bytes() == old


def test_killed_after_writing_before_the_rename_keeps_the_old_file(project):
    task, name, old = "pdf", "interrupted.pdf", OLD_PDF
    target = reset(project, name, old)
    process = start_doit(project, task, target=name, fsync_delay=30)
    try:
        part = wait_for_part(target.parent, name, process, partial=True)
        # The whole new file is in the temporary file; the rename has not happened.
        deadline = time.monotonic() + 30
        while not part.read_bytes().rstrip().endswith(b"%%EOF") and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        kill(process)
    assert part.read_bytes().rstrip().endswith(b"%%EOF")
    assert target.read_bytes() == old


def test_killed_at_moments_spread_over_a_build(project):
    """No injection: a real `doit pdf`, killed at fractions of the time a whole build takes."""
    name = "interrupted.pdf"
    target = reset(project, name, OLD_PDF)
    started = time.monotonic()
    process = start_doit(project, "pdf")
    process.wait(timeout=300)
    duration = time.monotonic() - started
    assert process.returncode == 0, log(project)
    assert assert_old_or_complete(target, OLD_PDF) == "new"

    outcomes = []
    for fraction in (0.15, 0.5, 0.8, 0.95, 1.05):
        target = reset(project, name, OLD_PDF)
        process = start_doit(project, "pdf")
        time.sleep(duration * fraction)
        kill(process)
        outcomes.append(assert_old_or_complete(target, OLD_PDF))
    assert "old" in outcomes, outcomes
    assert set(outcomes) <= {"old", "new"}, outcomes


def wait_for_line(root: Path, text: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while text not in log(root):
        assert process.poll() is None and time.monotonic() < deadline, log(root)
        time.sleep(0.005)


def test_ctrl_c_ends_a_build_with_a_line_and_leaves_no_temporary_files(project):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) at moments spread over the
    PDF task: a line says so, no traceback, the process ends as interrupted, the target is the
    old file or a complete new one, and WeasyPrint's font folders are gone from the temporary folder."""
    name, started_line = "interrupted.pdf", "from the check task"  # the PDF task's first line
    temporary = project / "tmp"
    temporary.mkdir()
    target = reset(project, name, OLD_PDF)
    process = start_doit(project, "pdf", temporary)
    wait_for_line(project, started_line, process)
    started = time.monotonic()
    assert process.wait(timeout=300) == 0, log(project)
    duration = time.monotonic() - started

    interrupted, ends = 0, []
    for fraction in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85):
        target = reset(project, name, OLD_PDF)
        process = start_doit(project, "pdf", temporary)
        wait_for_line(project, started_line, process)
        time.sleep(duration * fraction)
        os.killpg(process.pid, signal.SIGINT)
        status = process.wait(timeout=60)
        printed = log(project)
        output = printed + f"\n[status {status}, {fraction} of the way]"
        ends.append(output[-300:])
        assert "Traceback" not in output, output
        assert sorted(p.name for p in temporary.iterdir()) == [], output
        assert_old_or_complete(target, OLD_PDF)
        # Unless the build was over before the signal came (Python may die of it at exit)
        if status != 0 and not printed.rstrip().endswith(f"wrote build/{name}"):
            assert status == -signal.SIGINT, output
            assert printed.rstrip().endswith("run doit again to finish the build"), output
            interrupted += 1
    assert interrupted >= 5, f"the first build took {duration:.2f} s; " + "\n".join(ends)


# --- write_atomic on its own ----------------------------------------------------------

class _FailingFile:
    """A file that writes ``limit`` bytes, then fails as a full disk (or an interrupt) would."""

    def __init__(self, file, limit: int, error: BaseException):
        self._file, self._limit, self._error = file, limit, error

    def write(self, data):
        self._file.write(bytes(data[: self._limit]))
        self._file.flush()
        raise self._error

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._file.__exit__(*exc)


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
@pytest.mark.parametrize("had_old", [True, False], ids=["over-old", "new-target"])
def test_write_atomic_failing_mid_write_leaves_the_old_file(tmp_path, monkeypatch, error, had_old):
    target = tmp_path / "out" / "book.pdf"
    target.parent.mkdir()
    if had_old:
        target.write_bytes(OLD_PDF)
    real_fdopen = os.fdopen
    seen = []

    def failing_fdopen(fd, *args, **kwargs):
        seen.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        return _FailingFile(real_fdopen(fd, *args, **kwargs), 1000, error)

    monkeypatch.setattr(files.os, "fdopen", failing_fdopen)
    with pytest.raises(type(error)):
        write_atomic(target, b"%PDF-1.7 new " + b"x" * 100_000)
    [part] = seen
    assert part.parent == target.parent and part.name.endswith(".part")
    assert not part.exists(), "the truncated temporary file was left behind"
    assert sorted(p.name for p in target.parent.iterdir()) == (["book.pdf"] if had_old else [])
    if had_old:
        assert target.read_bytes() == OLD_PDF


@pytest.mark.parametrize("step", ["fsync", "chmod", "replace"])
def test_write_atomic_failing_after_the_write_leaves_the_old_file(tmp_path, monkeypatch, step):
    target = tmp_path / "book.epub"
    target.write_bytes(OLD_EPUB)

    def fail(*args, **kwargs):
        raise OSError(5, f"Input/output error in {step}")

    monkeypatch.setattr(files.os, step, fail)
    with pytest.raises(OSError):
        write_atomic(target, b"PK new")
    assert target.read_bytes() == OLD_EPUB
    assert [p.name for p in tmp_path.iterdir()] == ["book.epub"]


def test_write_atomic_replaces_the_whole_file(tmp_path):
    target = tmp_path / "deep" / "book.pdf"
    write_atomic(target, "first version, longer than the second")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)
    assert [p.name for p in target.parent.iterdir()] == ["book.pdf"]
