"""How a `doit` process ends: a successful run without Python's teardown, everything else as usual."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from handbook_press.doitprocess import DigestChecker

DODO = textwrap.dedent('''
    import atexit
    from pathlib import Path

    from handbook_press import doitprocess

    DOIT_CONFIG = {"reporter": doitprocess.Reporter, "verbosity": 2}
    HERE = Path(__file__).parent


    class FreedAtTeardown:
        """Kept by this module: Python frees it only when it tears the interpreter down."""

        def __del__(self):
            (HERE / "torn-down").write_text("")


    KEPT = FreedAtTeardown()
    atexit.register(lambda: (HERE / "exit-function-ran").write_text(""))


    def task_talk():
        def talk():
            for i in range(20000):  # more than any pipe buffer: it must all be flushed
                print(f"line {i}")
            return True
        return {"actions": [talk]}


    def task_skip():
        return {"actions": [lambda: True], "uptodate": [True]}  # doit reports it up to date ("-- skip")


    def task_fail():
        return {"actions": [lambda: False]}


    def task_leave_cycles():
        def leave():
            # A structure alive till the task's end, then garbage only a full collection frees
            # (its parts refer to it), as a laid-out book is.
            book = [[] for _ in range(50000)]
            for page in book:
                page.append(book)
        return {"actions": [leave]}


    def task_count_frozen():
        import gc
        return {"actions": [lambda: print(f"frozen {gc.get_freeze_count()}") or True], "task_dep": ["leave_cycles"]}
''')


def _doit(folder: Path, *args: str) -> subprocess.CompletedProcess:
    (folder / "dodo.py").write_text(DODO)
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    return subprocess.run([sys.executable, "-m", "doit", "-f", str(folder / "dodo.py"), "--db-file",
                           str(folder / ".doit.db"), *args], cwd=folder, capture_output=True, text=True,
                          env=buffered, timeout=120)


def test_a_successful_run_ends_without_teardown_after_the_exit_functions(tmp_path):
    result = _doit(tmp_path, "talk", "skip")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()  # the last written after the last action: flushed by no task
    assert lines[0] == ".  talk" and lines[-2] == "line 19999" and lines[-1] == "-- skip" and len(lines) == 20002
    assert (tmp_path / "exit-function-ran").exists()
    assert not (tmp_path / "torn-down").exists()


def test_what_a_task_leaves_is_left_to_the_end_not_collected_by_the_next(tmp_path):
    result = _doit(tmp_path, "count_frozen")
    assert result.returncode == 0, result.stderr
    frozen = int(result.stdout.split("frozen ")[1].split()[0])
    assert frozen >= 50000  # the cycles: no later full collection visits them


def test_a_failed_run_ends_as_usual_with_its_status(tmp_path):
    result = _doit(tmp_path, "fail")
    assert result.returncode == 1
    assert (tmp_path / "exit-function-ran").exists()
    assert (tmp_path / "torn-down").exists()  # the teardown the successful run skips


def test_doit_inside_another_program_leaves_its_end_to_it(tmp_path):
    (tmp_path / "dodo.py").write_text(DODO)
    program = textwrap.dedent(f'''
        import runpy, sys, types
        from doit.cmd_base import ModuleTaskLoader
        from doit.doit_cmd import DoitMain
        dodo = types.ModuleType("dodo")
        dodo.__file__ = {str(tmp_path / "dodo.py")!r}
        exec(compile(open(dodo.__file__).read(), dodo.__file__, "exec"), dodo.__dict__)
        sys.modules["dodo"] = dodo
        assert DoitMain(ModuleTaskLoader(dodo)).run(["--db-file", {str(tmp_path / ".doit.db")!r}, "talk"]) == 0
        import gc
        assert gc.get_freeze_count() == 0  # its memory stays its own to collect
        print("the program goes on")
        sys.exit(7)
    ''')
    result = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 7, result.stderr
    assert result.stdout.endswith("the program goes on\n")
    assert (tmp_path / "torn-down").exists()


INTERRUPTED_CLEAN_UP = textwrap.dedent('''
    import atexit, os, signal, time
    from pathlib import Path

    from handbook_press import doitprocess

    DOIT_CONFIG = {"reporter": doitprocess.Reporter, "verbosity": 2}
    HERE = Path(__file__).parent


    def clean_up():  # a Ctrl-C lands while an exit function works (as one keeping a cache writes)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)
        (HERE / "cleaned-up").write_text("")


    atexit.register(clean_up)


    def task_work():
        return {"actions": [lambda: True]}
''')


def test_a_ctrl_c_during_the_clean_up_of_a_successful_run_lets_it_finish(tmp_path):
    (tmp_path / "dodo.py").write_text(INTERRUPTED_CLEAN_UP)
    result = subprocess.run([sys.executable, "-m", "doit", "-f", str(tmp_path / "dodo.py"), "--db-file",
                             str(tmp_path / ".doit.db"), "work"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    assert (tmp_path / "cleaned-up").exists()


def test_an_interrupt_after_the_run_still_ends_the_process_as_interrupted():
    program = ("import atexit; from handbook_press import doitprocess; doitprocess.report_interrupts(); "
               "atexit.register(doitprocess._end_without_teardown); raise KeyboardInterrupt")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert result.returncode == -signal.SIGINT
    assert result.stderr.startswith("interrupted (Ctrl-C)") and "Traceback" not in result.stderr


# --- doit's file check: digests worked out once per process -----------------------------

CHECKED = textwrap.dedent('''
    from pathlib import Path

    from handbook_press import doitprocess

    DOIT_CONFIG = {"reporter": doitprocess.Reporter, "check_file_uptodate": doitprocess.DigestChecker,
                   "verbosity": 2}


    def task_copy():
        return {"actions": ["cp data.txt copy.txt"], "file_dep": ["data.txt"], "targets": ["copy.txt"]}
''')


def test_doit_runs_a_task_again_when_its_file_changed_not_when_it_was_touched(tmp_path):
    (tmp_path / "dodo.py").write_text(CHECKED)
    data = tmp_path / "data.txt"
    data.write_text("first")

    def run() -> str:
        result = subprocess.run([sys.executable, "-m", "doit", "-f", str(tmp_path / "dodo.py"), "--db-file",
                                 str(tmp_path / ".doit.db")], cwd=tmp_path, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert run() == ".  copy"
    assert run() == "-- copy"
    os.utime(data, (1_000_000_000, 1_000_000_000))  # another time, the same bytes
    assert run() == "-- copy"
    data.write_text("other")  # the same size, other bytes
    os.utime(data, (1_000_000_100, 1_000_000_100))
    assert run() == ".  copy" and (tmp_path / "copy.txt").read_text() == "other"
    data.write_text("longer text")
    assert run() == ".  copy"


def test_each_file_is_hashed_once_a_process_for_doit_and_the_keys(tmp_path, monkeypatch):
    import hashlib

    from handbook_press import doitprocess, filedigests, taskinputs

    monkeypatch.setattr(filedigests, "_known", {})
    hashed = []
    real = hashlib.file_digest

    def counting(file, digest):
        hashed.append(file.name)
        return real(file, digest)

    monkeypatch.setattr(hashlib, "file_digest", counting)
    files = [tmp_path / name for name in ("a.ttf", "b.css")]
    for path in files:
        path.write_bytes(path.name.encode() * 1000)

    checker = DigestChecker()
    states = [checker.get_state(str(path), None) for path in files]
    key = taskinputs.inputs_digest(files, "setting")
    assert taskinputs.inputs_digest(files, "setting") == key
    assert [state[2] for state in states] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in files]
    assert sorted(hashed) == sorted(str(p) for p in files)

    # A task's output is written whole and renamed: another file, hashed again.
    replacement = tmp_path / "new.css"
    replacement.write_bytes(b"changed")
    replacement.replace(files[1])
    assert taskinputs.inputs_digest(files, "setting") != key
    assert hashed.count(str(files[1])) == 2 and hashed.count(str(files[0])) == 1


def test_the_keys_of_a_layout_hash_each_file_once_a_process(tmp_path, monkeypatch):
    """The PDF task's keys (the page map's, the layout records', the cover's) and doit's check
    read the same fonts, styles and code: each is hashed once."""
    import builtins
    import collections
    import io

    from handbook_press import cover, filedigests, paging, taskinputs
    from handbook_press.pagegeometry import Geometry

    from .conftest import CONTENT, ROOT

    monkeypatch.setattr(filedigests, "_known", {})
    opened = collections.Counter()
    real_open = io.open

    def counting_open(file, *args, **kwargs):
        opened.update([str(file)])
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", counting_open)  # Path.read_bytes and friends
    monkeypatch.setattr(builtins, "open", counting_open)

    templates, styles = ROOT / "templates", ROOT / "styles"
    taskinputs.layout_key(CONTENT, tmp_path, templates, styles, "kdp", None, False, False)
    paging.environment_key(paging.PrintEdition(Geometry(6.0, 9.0)), styles=styles, content=CONTENT)
    cover.epub_cover_key(CONTENT, templates, styles)
    checker = DigestChecker()
    for path in taskinputs.cover_inputs(CONTENT, templates, styles):
        checker.get_state(str(path), None)
    monkeypatch.undo()
    fonts = {name: count for name, count in opened.items() if name.endswith((".ttf", ".otf"))}
    assert len(fonts) >= 4 and set(fonts.values()) == {1}, fonts
