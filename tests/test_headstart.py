"""The layout's head start: a worker forked by the section tasks imports WeasyPrint, then runs
the PDF task's job with what this process gives it, and the books are the same bytes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from handbook_press import fontprograms, headstart

from .conftest import CONTENT, ROOT, pdf_task_outputs


@pytest.fixture
def allowed(monkeypatch):
    """A worker may be forked in this test (as in a doit run), and none is left after it."""
    monkeypatch.setattr(headstart, "_allowed", True)
    yield
    headstart.stop()


def job_answering(word: str) -> dict:
    """A job: where it ran, and what the parent gave it."""
    stream = headstart.gift()
    given = b""
    if stream is not None:
        with os.fdopen(stream, "rb") as pipe:
            given = pipe.read()
    return {"pid": os.getpid(), "word": word, "given": given.decode()}


def job_failing() -> None:
    raise ValueError("a bug in the job")


def test_a_pdf_task_after_the_sections_is_laid_out_by_the_worker(tmp_path):
    """In a process that has not imported WeasyPrint (as doit's after the section tasks): the
    worker lays the book out and writes it, this process gives it the fonts' programs and
    never imports WeasyPrint, and the files are those of the PDF task run in one process."""
    script = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        from handbook_press import build, fontprograms, headstart
        from handbook_press.buildpaths import Paths

        given = []
        real_give = fontprograms.give
        def give(*args, **kwargs):
            given.append(kwargs.get("first") is not None)
            return real_give(*args, **kwargs)
        fontprograms.give = give
        headstart.allow()
        headstart.start()
        paths = Paths(content=Path({str(CONTENT)!r}), build=Path({str(tmp_path / 'worker')!r}),
                      templates=Path({str(ROOT / 'templates')!r}), styles=Path({str(ROOT / 'styles')!r}))
        ok = build.build_pdf(paths)
        print(json.dumps({{"ok": ok, "weasyprint_here": "weasyprint" in sys.modules, "given": given}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.splitlines()[-1])
    # The hyphenation dictionary was parsed here too (build/cache had none).
    assert answer == {"ok": True, "weasyprint_here": False, "given": [True]}, done.stderr
    assert "laid out" in done.stderr  # the worker's messages reach the same stderr

    from handbook_press.buildpaths import layout_records_path, unchecked_print_path
    from handbook_press.build import Paths

    worker = Paths(content=CONTENT, build=tmp_path / "worker", templates=ROOT / "templates", styles=ROOT / "styles")
    made_by_worker = [(worker.build / "mlops-handbook.pdf").read_bytes(),
                      unchecked_print_path(worker, "mlops-handbook").read_bytes(),
                      layout_records_path(worker).read_bytes()]
    assert made_by_worker == pdf_task_outputs(CONTENT, tmp_path / "here")


def test_a_page_map_after_an_edit_is_laid_out_by_the_worker(tmp_path):
    """The page map task after an edited section lays that section out in the worker (this
    process never imports WeasyPrint) and writes the map the task writes in one process."""
    from handbook_press.build import build_page_map, build_pdf

    from .conftest import copy_content, project_paths

    content = copy_content(tmp_path / "content")
    paths = project_paths(content, tmp_path / "build")
    assert build_pdf(paths)  # the layout records
    section = sorted((content / "sections").glob("*.md"))[3]
    section.write_text(section.read_text(encoding="utf-8") + "\nA sentence added to the section.\n",
                       encoding="utf-8")
    script = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        from handbook_press import build, headstart
        from handbook_press.buildpaths import Paths

        headstart.allow()
        headstart.start()
        paths = Paths(content=Path({str(content)!r}), build=Path({str(paths.build)!r}),
                      templates=Path({str(ROOT / 'templates')!r}), styles=Path({str(ROOT / 'styles')!r}))
        ok = build.build_page_map(paths)
        print(json.dumps({{"ok": ok, "weasyprint_here": "weasyprint" in sys.modules}}))
    """)
    records = (paths.build / "cache" / "layout.json").read_bytes()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"ok": True, "weasyprint_here": False}, done.stderr
    assert "1 of 19 parts laid out here" in done.stderr
    by_worker = (paths.build / "mlops-handbook.pages.json").read_bytes()
    (paths.build / "cache" / "layout.json").write_bytes(records)  # as before the worker's run
    assert build_page_map(paths)
    assert (paths.build / "mlops-handbook.pages.json").read_bytes() == by_worker


def test_the_worker_runs_the_job_with_what_this_process_gives(allowed):
    headstart.start()
    ran, answer = headstart.run(job_answering, ("drift",), give=lambda stream: os.write(stream, b"programs"))
    assert ran
    assert answer["pid"] != os.getpid()
    assert answer == {"pid": answer["pid"], "word": "drift", "given": "programs"}
    # One job a worker: the next one is this process's.
    assert headstart.run(job_answering, ("again",)) == (False, None)


def test_a_job_given_nothing_reads_an_empty_pipe(allowed):
    headstart.start()
    ran, answer = headstart.run(job_answering, ("plain",))
    assert ran and answer["given"] == ""


def test_without_a_worker_the_caller_does_the_job():
    assert headstart.run(job_answering, ("here",)) == (False, None)


def test_no_worker_unless_a_doit_run_allows_it(monkeypatch):
    monkeypatch.setattr(headstart, "_allowed", False)
    headstart.start()
    assert headstart._worker is None


def test_no_worker_in_doits_own_worker_processes(allowed, monkeypatch):
    import multiprocessing

    class Worker:
        name = "Process-1"  # doit -n 2 runs tasks in multiprocessing's processes

    monkeypatch.setattr(multiprocessing, "current_process", lambda: Worker())
    headstart.start()
    assert headstart._worker is None


def test_no_worker_on_one_core(allowed, monkeypatch):
    from handbook_press import sidebyside

    monkeypatch.setattr(sidebyside, "usable_cores", lambda: 1)
    headstart.start()
    assert headstart._worker is None


def test_an_exception_in_the_job_is_raised_here_with_its_traceback(allowed):
    headstart.start()
    with pytest.raises(headstart.WorkerFailed, match=r"(?s)Traceback.*job_failing.*ValueError: a bug in the job"):
        headstart.run(job_failing, ())


def test_a_worker_killed_leaves_the_job_here(allowed):
    headstart.start()
    pid = headstart._worker.pid
    os.kill(pid, signal.SIGKILL)  # before or after it reads its job: either way it gives no answer
    assert headstart.run(job_answering, ("here",)) == (False, None)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_an_unused_worker_is_stopped(allowed):
    headstart.start()
    pid = headstart._worker.pid
    headstart.stop()
    assert headstart._worker is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped


def test_the_programs_given_by_the_parent_are_those_a_helper_works_out(tmp_path):
    """`give` (this process, for a worker) and `FontPrograms.from_parent` (the worker) carry the
    same programs as the forked helper's, after ``first``."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker's side
        status = 1
        try:
            fontprograms.forget()
            pending = fontprograms.FontPrograms.from_parent(read_end)
            os.close(write_end)
            pending.first_done()
            first_seen = (tmp_path / "first").exists()
            pending.receive()
            (tmp_path / "answer.json").write_text(json.dumps(
                {"first_seen": first_seen, "digests": sorted(d.hex() for d in fontprograms._known)}))
            status = 0
        finally:
            os._exit(status)
    os.close(read_end)
    try:
        fontprograms.give(write_end, ROOT / "styles", first=lambda: (tmp_path / "first").write_text("done"))
    finally:
        os.close(write_end)
    _, status = os.waitpid(pid, 0)
    assert status == 0
    answer = json.loads((tmp_path / "answer.json").read_text())
    expected = fontprograms.work_out(fontprograms.font_files(ROOT / "styles"))
    assert answer == {"first_seen": True, "digests": sorted(d.hex() for d in expected)}


def test_a_failed_first_job_still_gives_the_programs():
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(write_end)
            fontprograms.forget()
            pending = fontprograms.FontPrograms.from_parent(read_end)
            pending.first_done()
            pending.receive()
            status = 0 if fontprograms._known else 2
        finally:
            os._exit(status)
    os.close(read_end)

    def first():
        raise OSError("no room for the dictionary")

    try:
        fontprograms.give(write_end, ROOT / "styles", first=first)
    finally:
        os.close(write_end)
    assert os.waitpid(pid, 0)[1] == 0


def test_a_worker_that_stops_reading_ends_the_parents_gift():
    """The job failed before the writes: its pipe is closed, and `give` stops (BrokenPipeError,
    which `headstart.run` takes as the end) instead of waiting forever."""
    read_end, write_end = os.pipe()
    pending = fontprograms.FontPrograms.from_parent(read_end)
    pending.close()
    with pytest.raises(BrokenPipeError):
        fontprograms.give(write_end, ROOT / "styles")
    os.close(write_end)
