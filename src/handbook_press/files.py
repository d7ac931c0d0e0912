"""Safe writes: a target is either its old content or its complete new content.

Everything is written to a temporary file in the target's folder, flushed to
disk, then renamed over the target (atomic on POSIX). An interrupted or
failed build leaves the previous good file in place.
"""

from __future__ import annotations

import os
import tempfile
from glob import escape as glob_escape
from pathlib import Path


def write_atomic(target: Path, data: bytes | str) -> None:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    # A build killed mid-write leaves its temporary file: the next write of
    # the same target clears it.
    for stale in target.parent.glob(f".{glob_escape(target.name)}.*.part"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
