"""Dot leaders as one text run each (WeasyPrint 70).

WeasyPrint fills a ``leader(". ")`` with one text box per ". ", about sixty on
a contents line, and each box is shaped by Pango once more whenever a page is
drawn, for each PDF written: drawing the x10 benchmark book's 45 pages of
contents took 7.0 s, 2.4 s with one box per leader. The boxes WeasyPrint
places are contiguous, a copy's width apart from the line's right edge, so
one box at the leftmost copy's place with the string repeated draws the same
dots (Pango's advances add up to within a hundredth of a point) and extracts
to the same text.

Tied to the pinned WeasyPrint version (pyproject.toml): with any other version
nothing is patched and leaders are only slower.
"""

from __future__ import annotations

import copy

import weasyprint
from weasyprint.layout import inline
from weasyprint.layout.leader import leader_index

PATCHED_VERSION = "70.0"

_original_handle_leader = inline.handle_leader


def one_run(copies: tuple) -> tuple:
    """WeasyPrint's contiguous copies of a leader's text box as one box."""
    if len(copies) < 2:
        return copies
    leftmost = min(copies, key=lambda box: box.position_x)
    run = leftmost.copy()
    run.text = leftmost.text * len(copies)
    run.width = leftmost.width * len(copies)
    # The copies share one (deactivated) Pango layout holding the text to shape when drawn.
    run.pango_layout = copy.copy(leftmost.pango_layout)
    run.pango_layout.text = run.text
    return (run,)


def _handle_leader(context, line, containing_block):
    _original_handle_leader(context, line, containing_block)
    _, leader_box = leader_index(line)
    if leader_box is not None:
        leader_box.children = one_run(leader_box.children)


def install() -> bool:
    """Patch WeasyPrint if it is the version this was written for; True when patched."""
    if weasyprint.__version__ != PATCHED_VERSION:
        return False
    inline.handle_leader = _handle_leader
    return True


def uninstall() -> None:
    """Back to WeasyPrint as shipped (the tests compare both)."""
    inline.handle_leader = _original_handle_leader
