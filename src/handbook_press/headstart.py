"""A head start for the layout: a worker forked at the build's first section task imports
WeasyPrint while this process reads the sources.

`doit` runs the section tasks and the check before the PDF task, one after the other in
this process: the second core has nothing to do. The PDF task then imported WeasyPrint and
the preflight (about 0.2 s) before it could lay anything out. `start`, called by the section
and check tasks, forks a worker that imports them at once and waits. The PDF task hands it
its job (`run`): the worker runs it as this process would have (its messages on the same
stderr, its files written the same way, its own children forked from it) and sends back what
it returned, while this process, idle otherwise, does what a forked helper did before (`give`:
the hyphenation dictionary and the fonts' programs, down a pipe that the job reads with
`gift`). A worker never handed a job dies with this process.

Where there is no worker (one core, a task run alone, doit's own worker processes with
`-n 2`), `run` says so and the caller does the job here, as before.
"""

from __future__ import annotations

import atexit
import os
import pickle
import signal
from typing import Any, Callable

from . import sidebyside

# Imported by the worker before it waits, in this order: what the layout tasks import first
# (the page map needs only the first, the PDF task both).
HEAVY_MODULES = ("handbook_press.pdf", "handbook_press.preflight")


class WorkerFailed(RuntimeError):
    """The job raised an exception in the worker: its traceback is the message."""


class _Worker:
    """The worker as its parent sees it (a plain class: dodo.py imports this module at every run)."""

    def __init__(self, pid: int, parent: int, jobs: int, results: int, gifts: int):
        self.pid = pid
        self.parent = parent  # the process that forked it: only that one can hand it a job
        self.jobs = jobs  # write end: the job, pickled
        self.results = results  # read end: what the job returned, pickled
        self.gifts = gifts  # write end: what this process works out for the job (`give`)


_allowed = False  # by dodo.py: only a doit run forks a worker
_worker: _Worker | None = None
_gift: int | None = None  # in the worker, during its job: the read end of the gifts' pipe


def allow() -> None:
    """Let `start` fork a worker in this process (dodo.py: a doit run, whose later task takes the
    job; never a process that goes on doing other things, as a test run)."""
    global _allowed
    _allowed = True


def start() -> None:
    """Fork the worker, once per process, where allowed and where it can run beside this one."""
    global _worker
    if not _allowed or _worker is not None or not sidebyside.can_fork():
        return
    import multiprocessing  # doit imports it: free

    if multiprocessing.current_process().name != "MainProcess":  # doit -n: a busy machine
        return
    jobs_read, jobs_write = os.pipe()
    results_read, results_write = os.pipe()
    gifts_read, gifts_write = os.pipe()
    parent = os.getpid()
    ignores_ctrl_c = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    pid = sidebyside.fork()
    if pid == 0:  # never returns
        os.close(jobs_write)
        os.close(results_read)
        os.close(gifts_write)
        _serve(parent, jobs_read, results_write, gifts_read, ignores_ctrl_c)
    for end in (jobs_read, results_write, gifts_read):
        os.close(end)
    _worker = _Worker(pid, parent, jobs_write, results_read, gifts_write)


def _serve(parent: int, jobs: int, results: int, gifts: int, ignores_ctrl_c: bool) -> None:
    """The worker: import, wait for one job, run it, send back its result, exit."""
    global _gift
    status = 1
    try:
        sidebyside.die_with(parent)
        # This process's exit functions are the parent's; the job's own (its font folders,
        # the C declarations it parsed) run as it ends.
        atexit._clear()
        import importlib
        import select

        for module in HEAVY_MODULES:  # the job imports what is left when it comes sooner
            if select.select([jobs], [], [], 0)[0]:
                break
            importlib.import_module(module)
        with os.fdopen(jobs, "rb") as pipe:
            job = pipe.read()
        if not job:  # the parent ended without a job for it
            os._exit(0)
        # From here a Ctrl-C interrupts the job as it would the parent's (its clean-up runs),
        # unless the parent ignores it (a background job).
        if ignores_ctrl_c:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        else:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        function, args = pickle.loads(job)
        _gift = gifts
        try:
            answer = ("returned", function(*args))
        except Exception:  # noqa: BLE001 - a bug: the parent raises it with this traceback
            import traceback

            answer = ("raised", traceback.format_exc())
        finally:
            atexit._run_exitfuncs()
        with os.fdopen(results, "wb") as pipe:
            pipe.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
        status = 0
    except BaseException:  # noqa: BLE001 - interrupted: the parent was too, and reports it
        pass
    finally:
        os._exit(status)


def gift() -> int | None:
    """In the worker, while it runs a job: the read end of what the parent gives (`run`)."""
    return _gift


def run(function: Callable[..., Any], args: tuple, give: Callable[[int], None] | None = None) -> tuple[bool, Any]:
    """``(True, function(*args))`` computed by the worker, or ``(False, None)`` when there is
    none or it died without an answer: the caller then does the job itself (an exception the
    job raised is raised here, as `WorkerFailed`). ``give(fd)`` runs here meanwhile, writing what the
    job reads from `gift` (the pipe is closed after it; without ``give`` the job reads nothing).
    ``function`` must be importable by name and its result must pickle."""
    global _worker
    worker = _worker
    if worker is None or worker.parent != os.getpid():
        return False, None
    _worker = None  # one job a worker
    payload = b""
    try:
        try:
            _write_all(worker.jobs, pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL))
        except BrokenPipeError:  # the worker died before its job (killed, its imports failed)
            return False, None
        finally:
            os.close(worker.jobs)
        try:
            if give is not None:
                give(worker.gifts)
        except BrokenPipeError:  # the job ended without reading all of it
            pass
        finally:
            os.close(worker.gifts)
        with os.fdopen(worker.results, "rb", closefd=False) as pipe:
            payload = pipe.read()
    finally:
        os.close(worker.results)
        # Also on Ctrl-C: the worker, interrupted too, removes what it wrote before this goes on.
        _, status = os.waitpid(worker.pid, 0)
    if status != 0 or not payload:  # killed before or during its job: done again here
        return False, None
    kind, value = pickle.loads(payload)
    if kind == "raised":
        raise WorkerFailed(value)
    return True, value


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def stop() -> None:
    """End the worker if it has no job (nothing of its own to clean: it only imported)."""
    global _worker
    worker, _worker = _worker, None
    if worker is None or worker.parent != os.getpid():
        return
    for end in (worker.jobs, worker.results, worker.gifts):
        os.close(end)
    try:
        os.kill(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(worker.pid, 0)
