"""Python's garbage collector, tuned while a book is laid out.

A laid-out book is millions of objects (boxes, styles, text) that live until its
files are written. CPython (3.11) runs a full collection, which visits every one
of them, whenever that heap has grown by a quarter: 15 of them in the x10
benchmark book's PDF task, 3.8–4.5 s in the main process alone and as much
again in the forked children, which inherit the heap (counted with
``gc.callbacks``; benchmarks/gaps.md). Inside ``laying_out_a_book``, young
collections are rarer and larger (every 10,000 allocations instead of 700: the
layout's short-lived cycles still die young, and fewer objects are promoted),
and a full collection waits for 100 of them instead of 10 (the x10 book's PDF
task runs 34 in its main process, and two full collections, both before the
layout). Peak memory stayed where it was (809 MB against 800 MB at x10).
Forked children inherit the thresholds; the previous ones come back on exit.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BOOK_THRESHOLDS = (10_000, 10, 100)  # gc.set_threshold's three (CPython's defaults: 700, 10, 10)


@contextmanager
def laying_out_a_book() -> Iterator[None]:
    previous = gc.get_threshold()
    gc.set_threshold(*BOOK_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
