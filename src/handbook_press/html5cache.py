"""tinyhtml5 2.1.0 (WeasyPrint's HTML parser) builds a regular expression on every call of
``chars_until``, the call that reads each run of text and attribute value.

Its cache stores each expression under the wrong key (``characters = cache[key] = regex``
rebinds ``characters`` before the key is made of it), so every lookup misses and the
expression is spelled out character by character again: about a sixth of parsing a
section's HTML. A cache that answers the lookup itself never lets the miss happen. The
expressions, and so the parsed documents, are the ones tinyhtml5 builds (tested).

Tied to the pinned tinyhtml5: with any other version nothing is changed.
"""

from __future__ import annotations

import re

import tinyhtml5
from tinyhtml5 import inputstream

PATCHED_VERSION = "2.1.0"


def _version() -> str:
    return tinyhtml5.__version__  # not importlib.metadata: that scans every installed package (30 ms)


class _CharsUntilCache(dict):
    """``(characters, opposite)`` -> the compiled expression ``chars_until`` builds for them."""

    def __missing__(self, key):
        characters, opposite = key
        regex = "".join([f"\\x{ord(character):02x}" for character in characters])
        if not opposite:
            regex = f"^{regex}"
        compiled = self[key] = re.compile(f"[{regex}]+")
        return compiled


def install() -> bool:
    """Give tinyhtml5 the working cache, if it is the version this was written for; True when done."""
    if _version() != PATCHED_VERSION:
        return False
    if not isinstance(inputstream.characters_until_regex, _CharsUntilCache):
        inputstream.characters_until_regex = _CharsUntilCache()
    return True


def uninstall() -> None:
    """Back to tinyhtml5's own (missing) cache; the tests compare both."""
    inputstream.characters_until_regex = {}

