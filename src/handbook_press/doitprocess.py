"""The books' `doit` process besides its tasks: how it checks files, how it ends.

doit checks the files each task depends on as it always does, with each file's digest worked
out once per process (`filedigests`). Ctrl-C ends a run with one line instead of a traceback.

A run whose every task succeeded ends without Python's teardown. Python's normal exit frees
every object and module one by one: after a build that is the laid-out book, WeasyPrint's and
Pango's state, the fonts; 0.2-0.3 s of a cold build at x1 and 30 ms of a `doit` with nothing to
do, spent after the work is done while the person waits for the prompt. Nothing is written then:
the tasks write each file whole and rename it, and doit has closed its database before it reports
the run complete. So such a run ends like mypy's (its `util.hard_exit`): the exit functions run
(the fonts' temporary folder is removed, logging flushed), the output streams are flushed, then
`os._exit(0)`. A run with a failure, an interrupt or an uncaught exception ends the usual way,
with its status.
"""

from __future__ import annotations

import atexit
import gc
import os
import signal
import sys

from doit.dependency import MD5Checker
from doit.reporter import ConsoleReporter

from .console import say
from .filedigests import sha256_of


def report_interrupts() -> None:
    """Ctrl-C ends a `doit` run with one line instead of a traceback; the process still ends
    as interrupted (status 130 in a shell), and other errors still show theirs."""
    default = sys.excepthook

    def hook(kind, value, traceback):
        if issubclass(kind, KeyboardInterrupt):
            say("interrupted (Ctrl-C): no file is left half-written (each is written whole, then "
                 "renamed); run doit again to finish the build")
        else:
            default(kind, value, traceback)

    sys.excepthook = hook


class Reporter(ConsoleReporter):
    """doit's console output, unchanged; a run it saw succeed ends without the teardown.

    doit's status is 0 exactly when no task failed (`add_failure`, also for failures it does not
    print) and the run was not aborted (`runtime_error`); `complete_run` is the last thing doit
    does, after closing its database.

    What a task leaves in memory is left to the process's end too (`gc.freeze` after each task):
    the PDF task leaves the laid-out book's cycles, and the garbage collector's next full pass,
    in whichever task came next, visited and freed them all (0.7 s of the EPUB's 1.1 s in a cold
    x10 build, counted with `gc.callbacks`). Their memory is not used again in this process; the
    later tasks need far less than the layout took."""

    desc = "console output (doit's), ending a successful run without Python's teardown"

    def __init__(self, outstream, options):
        super().__init__(outstream, options)
        self.failed = False
        self.ends_with_the_run = _doit_is_the_program()

    def add_success(self, task):
        super().add_success(task)
        if self.ends_with_the_run:
            gc.freeze()

    def add_failure(self, task, fail):
        self.failed = True
        super().add_failure(task, fail)

    def runtime_error(self, msg):
        self.failed = True
        super().runtime_error(msg)

    def complete_run(self):
        super().complete_run()
        if not self.failed and self.ends_with_the_run:
            atexit.register(_end_without_teardown)


def _doit_is_the_program() -> bool:
    """True in `doit` and `python -m doit`, whose `main` exits with the run's status; not when
    doit runs inside another program (a test, a script), which goes on and ends its own way."""
    from doit import __main__ as doit_main

    program = sys.modules.get("__main__")
    spec = getattr(program, "__spec__", None)
    return (spec is not None and spec.name == "doit.__main__") or getattr(program, "main", None) is doit_main.main


def _end_without_teardown() -> None:
    # Registered last, this runs first of the exit functions, after Python has joined the threads.
    atexit.unregister(_end_without_teardown)
    if getattr(sys, "last_type", None) is not None:
        return  # an uncaught exception (Ctrl-C after the run): Python ends the process with its status
    # The run succeeded and every file it wrote is whole: a Ctrl-C now would only cut the clean-up
    # in two (a font folder left behind, a traceback from an exit function that keeps a cache).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    atexit._run_exitfuncs()  # the others, in their order
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
            pass
    os._exit(0)


class DigestChecker(MD5Checker):
    """doit's default file check (the same time, the file is unchanged; another size, it
    changed; else compare digests), with `filedigests.sha256_of` for the digests (doit's `check_file_uptodate`)."""

    def check_modified(self, file_path, file_stat, state):
        timestamp, size, digest = state
        if file_stat.st_mtime == timestamp:
            return False
        if file_stat.st_size != size:
            return True
        return digest != sha256_of(file_path)

    def get_state(self, dep, current_state):
        timestamp = os.path.getmtime(dep)
        if current_state and current_state[0] == timestamp:
            return None  # recorded at this time already: unchanged
        return timestamp, os.path.getsize(dep), sha256_of(dep)
