"""The font configuration every layout uses: the book's fonts only, in a temporary folder
that does not outlive the build.

WeasyPrint's own loads the machine's Fontconfig configuration and with it every installed
font, which Pango then takes for any character the book's fonts lack: a machine's font in
the book, and other bytes on another machine. And it copies each font the style sheets load
into a temporary folder that it removes only when the configuration is collected, which a
process ended by Ctrl-C or a kill never does.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import weakref
from pathlib import Path

from weasyprint.text.fonts import FontConfiguration

from .sidebyside import ctrl_c_held

#: Fontconfig's configuration for every WeasyPrint font configuration: no font directory.
FONTS_ONLY_CONF = Path(__file__).with_name("fonts-only.conf")


def font_configuration() -> FontConfiguration:
    """A WeasyPrint font configuration that knows only the fonts the style sheets load, its
    temporary folder removed when this process ends (also on Ctrl-C).

    Fontconfig reads FONTCONFIG_FILE when the configuration is made, so it is set for that
    moment only (Fontconfig may keep to it in this process afterwards: every font
    configuration of the books is made here anyway)."""
    before = os.environ.get("FONTCONFIG_FILE")
    os.environ["FONTCONFIG_FILE"] = str(FONTS_ONLY_CONF)
    try:
        fonts = FontConfiguration()
    finally:
        if before is None:
            del os.environ["FONTCONFIG_FILE"]
        else:
            os.environ["FONTCONFIG_FILE"] = before
    _remove_font_folders_of_dead_processes()
    # The folder made here, not at WeasyPrint's first font, with its removal registered in
    # the same breath: a Ctrl-C between the two would leave it behind. Named for this
    # process, so that a later build removes it if this one is killed outright (SIGKILL).
    with ctrl_c_held():
        fonts._folder = Path(tempfile.mkdtemp(prefix=f"{FONT_FOLDER_PREFIX}{os.getpid()}-"))
        atexit.register(_remove_font_folder, weakref.ref(fonts), os.getpid())
    return fonts


FONT_FOLDER_PREFIX = "handbook-press-fonts-"


@functools.cache  # once per process
def _remove_font_folders_of_dead_processes() -> None:
    """The font folders of builds that were killed (their process is gone)."""
    try:
        folders = list(Path(tempfile.gettempdir()).glob(f"{FONT_FOLDER_PREFIX}*-*"))
    except OSError:
        return
    for folder in folders:
        owner = folder.name[len(FONT_FOLDER_PREFIX):].split("-")[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        pass
    return True


def _remove_font_folder(fonts: weakref.ref, owner: int) -> None:
    alive = fonts()
    # A forked child sharing the configuration exits without running atexit; this is a guard.
    if alive is not None and alive._folder and os.getpid() == owner:
        shutil.rmtree(alive._folder, ignore_errors=True)
