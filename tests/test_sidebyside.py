"""Two jobs on two cores: the results are those of running them one after the other."""

import os

import pytest

from handbook_press import sidebyside


def test_results_come_back_in_order_and_the_background_job_ran_in_a_child():
    if not sidebyside.can_fork():
        pytest.skip("one core, or no fork: the jobs run one after the other")
    parent = os.getpid()
    background, foreground = sidebyside.side_by_side(lambda: (os.getpid(), b"x" * 5_000_000), os.getpid)
    child, data = background
    assert foreground == parent and child != parent
    assert data == b"x" * 5_000_000  # larger than a pipe's buffer: drained while the parent works


def test_a_failing_background_job_fails_here_as_it_would_alone():
    calls = []

    def background():
        calls.append(os.getpid())
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        sidebyside.side_by_side(background, lambda: "done")
    assert calls[-1] == os.getpid()  # the error surfaced from a run in this process


def test_a_failing_foreground_job_stops_the_child(tmp_path):
    if not sidebyside.can_fork():
        pytest.skip("one core, or no fork")
    marker = tmp_path / "finished"

    def slow():
        import time

        time.sleep(3)
        marker.write_text("finished")

    def fail():
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        sidebyside.side_by_side(slow, fail)
    assert not marker.exists()


def test_without_a_second_core_the_jobs_run_here(monkeypatch):
    monkeypatch.setattr(sidebyside, "usable_cores", lambda: 1)
    pid = os.getpid()
    assert sidebyside.side_by_side(os.getpid, os.getpid) == (pid, pid)


def test_the_child_dies_with_a_killed_parent(tmp_path):
    """A build killed while writing leaves no process behind finishing a PDF nobody will read."""
    import signal
    import subprocess
    import sys
    import time

    if not sidebyside.can_fork() or not os.path.exists("/proc/self/stat"):
        pytest.skip("one core, no fork, or not Linux")
    pids = tmp_path / "child.pid"
    script = (
        "import os, time\n"
        "from handbook_press import sidebyside\n"
        f"def slow():\n    open({str(pids)!r}, 'w').write(str(os.getpid())); time.sleep(30)\n"
        "sidebyside.side_by_side(slow, lambda: time.sleep(30))\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    for _ in range(100):
        if pids.exists() and pids.read_text():
            break
        time.sleep(0.1)
    child = int(pids.read_text())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    def alive(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, waiting to be reaped
        except FileNotFoundError:
            return False

    for _ in range(50):
        if not alive(child):
            return
        time.sleep(0.1)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the child outlived its parent")


def test_a_ctrl_c_during_a_fork_is_raised_here_not_dropped_in_a_fork_hook():
    """A SIGINT that lands while CPython runs its fork hooks (logging's lock, in every build)
    was printed as "Exception ignored" and dropped: the build went on. It is raised in the
    parent once the fork is done, and the child never sees it."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import logging, os, signal
        from handbook_press import sidebyside

        sent = []

        def ctrl_c_now():  # a fork hook, run before logging's (hooks run last registered first)
            if not sent:
                sent.append(1)
                os.kill(os.getpid(), signal.SIGINT)

        os.register_at_fork(before=ctrl_c_now)
        try:
            pid = sidebyside.fork()
            if pid == 0:
                os._exit(7)
            _, status = os.waitpid(pid, 0)
            print("the build went on; child status", os.waitstatus_to_exitcode(status))
        except KeyboardInterrupt:
            _, status = os.waitpid(-1, 0)
            print("interrupted here; child status", os.waitstatus_to_exitcode(status))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "interrupted here; child status 7", result.stdout + result.stderr
    assert "Exception ignored" not in result.stderr, result.stderr


@pytest.mark.parametrize("ignored", [False, True])
def test_a_ctrl_c_reaching_the_child_as_it_is_forked_ends_the_child_not_the_build_twice(ignored):
    """Ctrl-C goes to the whole process group: one landing just after the fork reaches the child
    while SIGINT is still held back there. Raised in Python, it unwound the child through the
    parent's callers (in CI: the PDF task's clean-up and doit's report, a traceback, from the
    child). The child dies of it instead; a background job, which ignores SIGINT, still does."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import os, signal, sys
        from handbook_press import sidebyside

        if sys.argv[1] == "ignored":
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        parent = os.getpid()
        os.register_at_fork(after_in_child=lambda: os.kill(os.getpid(), signal.SIGINT))
        try:
            pid = sidebyside.fork()
        except KeyboardInterrupt:
            print("interrupted in the", "parent" if os.getpid() == parent else "child", flush=True)
            os._exit(3)
        if pid == 0:
            print("the child goes on", flush=True)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        print("child status", os.waitstatus_to_exitcode(status), flush=True)
    """)
    result = subprocess.run([sys.executable, "-c", script, "ignored" if ignored else "handled"],
                            capture_output=True, text=True, timeout=60)
    expected = ["the child goes on", "child status 0"] if ignored else ["child status -2"]
    assert result.stdout.split("\n")[:-1] == expected, result.stdout + result.stderr
