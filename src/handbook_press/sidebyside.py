"""Run two jobs on two cores when the machine has them.

Writing a PDF from a laid-out document (drawing every page, compressing the
streams) takes about as long for the print interior as for the reading
edition, and the two writes need nothing from each other. A forked child
shares the layout with its parent through copy-on-write pages, so only the
child's result (bytes) crosses a pipe: nothing is laid out twice.
"""

from __future__ import annotations

import os
import pickle
import signal
import tempfile
import threading
from contextlib import contextmanager
from typing import Callable, TypeVar

A = TypeVar("A")
B = TypeVar("B")


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    # Forking a process that runs other threads can deadlock the child on a lock one of them held.
    return hasattr(os, "fork") and usable_cores() > 1 and threading.active_count() == 1


def die_with(parent: int) -> None:
    """In the child: be killed with the build (Ctrl-C, SIGKILL) rather than finish a write nobody reads."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG, Linux only
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


@contextmanager
def ctrl_c_held():
    """Run a block that a Ctrl-C must not cut in two: a SIGINT received before it is raised
    first, one received during it when it ends."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        _handlers_run()
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _handlers_run() -> None:
    """Nothing: CPython runs the handlers of signals already received when a Python function
    starts, so that calling this raises a KeyboardInterrupt received before it."""


def fork() -> int:
    """``os.fork()`` where a Ctrl-C cannot land in CPython's fork hooks.

    A SIGINT whose handler runs in one of those hooks (logging's lock, taken before the
    fork and released after it in both processes) raises there, where CPython prints
    "Exception ignored" with a traceback and drops it: the build would go on. Held back
    across the fork, it is raised in this process once the fork is done (a child inherits
    no pending signal).

    A Ctrl-C sent to the process group just after the fork reaches the child too, while it still
    holds SIGINT back: raised in Python when it lets it through, it would unwind the child through
    this process's callers, their clean-up and doit's report (a traceback from a process that
    should not exist). So the child dies of SIGINT as a process does without Python's handler,
    unless SIGINT was ignored (a background job), which stays so."""
    # Python finds the temporary folder at its first use by writing a probe file there: found
    # here, it is the child's too, so a child killed with this process leaves no probe behind.
    tempfile.gettempdir()
    with ctrl_c_held():
        pid = os.fork()
        if pid == 0 and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
    return pid


def _read_all(fd: int, into: list[bytes]) -> None:
    with os.fdopen(fd, "rb", closefd=False) as pipe:
        into.append(pipe.read())


def fork_pickling(work: Callable[[], A]) -> tuple[int, int]:
    """Fork a child that pickles ``work()`` into a pipe and exits: (its pid, the pipe's read end).

    The child never returns and never runs this process's clean-up or atexit handlers; if
    ``work`` fails there, it exits with status 1 having written nothing. The caller reads the
    pipe to its end and waits for the pid."""
    read_end, write_end = os.pipe()
    parent = os.getpid()
    pid = fork()
    if pid == 0:
        status = 1
        try:
            die_with(parent)
            os.close(read_end)
            payload = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
            status = 0
        except BaseException:
            pass
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def side_by_side(background: Callable[[], A], foreground: Callable[[], B]) -> tuple[A, B]:
    """``(background(), foreground())``, the first computed in a forked child while this process computes the second.

    ``background``'s result must pickle. If the child fails in any way, ``background``
    runs again here, after ``foreground``, so that its error surfaces exactly as
    it would without the child.
    """
    if not can_fork():
        return background(), foreground()
    pid, read_end = fork_pickling(background)
    received: list[bytes] = []
    # The pipe is drained while this process works, so the child never blocks on a full pipe.
    reader = threading.Thread(target=_read_all, args=(read_end, received), daemon=True)
    reader.start()
    try:
        foreground_result = foreground()
    except BaseException:
        os.kill(pid, signal.SIGKILL)  # its result is not wanted any more
        raise
    finally:
        reader.join()
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
    if status == 0 and received and received[0]:
        return pickle.loads(received[0]), foreground_result
    return background(), foreground_result
