"""A watching preview woken by a save (savealarm.py), and blind to editors' own files (preview.py)."""

import ctypes
import sys
import threading
import time

import pytest

from handbook_press import savealarm

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")


def saved_after(path, seconds: float, text: str = "saved\n") -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(seconds), path.write_text(text)))
    thread.start()
    return thread


@linux
def test_a_save_wakes_the_alarm_at_once(tmp_path):
    (tmp_path / "sections").mkdir()
    with savealarm.SaveAlarm([tmp_path]) as alarm:
        assert alarm.live
        writer = saved_after(tmp_path / "sections" / "one.md", 0.3)
        started = time.monotonic()
        assert alarm.wait(30)
        assert 0.25 < time.monotonic() - started < 5, "woken by the save, not by the time running out"
        writer.join()
        started = time.monotonic()
        assert not alarm.wait(0.3), "nothing saved since"
        assert time.monotonic() - started >= 0.29


@linux
def test_a_folder_made_while_watching_is_watched_too(tmp_path):
    with savealarm.SaveAlarm([tmp_path]) as alarm:
        (tmp_path / "images").mkdir()
        assert alarm.wait(30)
        writer = saved_after(tmp_path / "images" / "figure.svg", 0.2, "<svg/>")
        started = time.monotonic()
        assert alarm.wait(30) and time.monotonic() - started < 5
        writer.join()


def test_without_inotify_the_alarm_sleeps_its_time(tmp_path, monkeypatch):
    def no_libc(*args, **kwargs):
        raise OSError("no C library here")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    alarm = savealarm.SaveAlarm([tmp_path])
    assert not alarm.live
    writer = saved_after(tmp_path / "one.md", 0.05)
    started = time.monotonic()
    assert not alarm.wait(0.4)
    assert time.monotonic() - started >= 0.39
    writer.join()
    alarm.close()


def test_the_watch_does_not_see_editors_own_files(tmp_path):
    """Vim's swap file (written every few seconds while one types), emacs' lock and auto-save,
    backups: none of them previews the section again; the save itself does."""
    from handbook_press import preview
    from handbook_press.build import Paths

    from .conftest import ROOT, copy_content

    content = copy_content(tmp_path / "content")
    watcher = preview.Watcher(Paths(content=content, build=tmp_path / "build", templates=ROOT / "templates",
                                    styles=ROOT / "styles"), 4)
    sections = content / "sections"
    for name in (".model-deployment.md.swp", ".model-deployment.md.swo", ".#model-deployment.md",
                 "#model-deployment.md#", "model-deployment.md~", "4913"):
        (sections / name).write_text("an editor's own file")
    assert not watcher.changed()
    target = sections / "model-deployment.md"
    target.write_text(target.read_text() + "\nSaved.\n")
    assert watcher.changed()
    (sections / "#notes.md").write_text("a file whose name starts with # but is no auto-save")
    assert watcher.changed()
