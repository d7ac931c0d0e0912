"""How a `doit` process of the books ends: Ctrl-C in one line, success without the teardown.

Python's normal exit frees every object and module one by one: after a build that is the
laid-out book, WeasyPrint's and Pango's state, the fonts. That is 0.2-0.3 s of a cold build at
x1 and 30 ms of a `doit` with nothing to do (BENCHMARKS.md), spent after the work is done, while
the person waits for the prompt. Nothing is written then: the tasks write each file whole and
rename it, doit has closed its database before it reports the run complete. So a run whose every
task succeeded ends like mypy's (its `util.hard_exit`): the exit functions are run (the fonts'
temporary folder is removed, logging flushed), the output streams flushed, then `os._exit(0)`.
A run with a failure, an interrupt or an uncaught exception ends the usual way, with its status.
"""

from __future__ import annotations

import atexit
import os
import sys

from doit.reporter import ConsoleReporter

from .diagnostics import say


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
    does, after closing its database."""

    desc = "console output (doit's), ending a successful run without Python's teardown"

    def __init__(self, outstream, options):
        super().__init__(outstream, options)
        self.failed = False

    def add_failure(self, task, fail):
        self.failed = True
        super().add_failure(task, fail)

    def runtime_error(self, msg):
        self.failed = True
        super().runtime_error(msg)

    def complete_run(self):
        super().complete_run()
        if not self.failed and _doit_is_the_program():
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
    atexit._run_exitfuncs()  # the others, in their order
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
            pass
    os._exit(0)
