"""The one way a line reaches the person running the build.

Its own module so that what every `doit` run loads (dodo.py, doitprocess) reaches it without the
diagnostics' classes.
"""

from __future__ import annotations

import sys


def say(message: str) -> None:
    """A line for the person running the build (stderr, at once: long tasks tell their stages)."""
    print(message, file=sys.stderr, flush=True)
