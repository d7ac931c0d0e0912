"""Each input file's digest, worked out once per process, for doit (`doitprocess.DigestChecker`)
and for the tasks' keys.

doit records the digest of every file a task depends on for each task that ran, and works it out
again for each: the fonts (4 MB) were hashed by the PDF, page map and cover tasks in turn, and
once more for each key under which the PDF task keeps the page map and cover image
(`taskinputs.inputs_digest`, `paging.environment_key`): about 20 ms of `doit epub`'s 0.23 s after
`doit pdf` at x1. Here a file
is hashed once per process, while its inode, time and size stay the same (a task's output is
written to a temporary file and renamed, a new inode). SHA-256 as in the keys, not doit's MD5
(twice as fast on a processor with SHA instructions, as this one).
"""

from __future__ import annotations

import hashlib
import os

_known: dict[tuple, str] = {}


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of the file's bytes, in hex."""
    status = os.stat(path)
    key = (os.fspath(path), status.st_dev, status.st_ino, status.st_mtime_ns, status.st_size)
    digest = _known.get(key)
    if digest is None:
        with open(path, "rb") as file:
            digest = hashlib.file_digest(file, "sha256").hexdigest()
        _known[key] = digest
    return digest
