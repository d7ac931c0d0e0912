"""While a book is laid out, Python's full collections stop revisiting the laid-out pages (gcpolicy.py)."""

import gc
import json
import subprocess
import sys

import pytest

from handbook_press import build, gcpolicy

from .conftest import CONTENT, ROOT, project_paths

# Builds the handbook's PDF in a fresh process and reports the full collections this process ran
# while it laid the book out and wrote it. Arguments: the repository, content, build folder, "policy".
FULL_COLLECTIONS = r"""
import gc, json, sys, contextlib, io
from pathlib import Path
from handbook_press import build, gcpolicy
root, content, out, policy = sys.argv[1:5]
sys.path.insert(0, root)
from tests.conftest import project_paths
if policy != "policy":
    gcpolicy.BOOK_THRESHOLDS = gc.get_threshold()  # CPython's own
full, laying_out = [], []
gc.callbacks.append(lambda phase, info: full.append(1) if phase == "stop" and info["generation"] == 2
                    and laying_out else None)
settled_layout = build._settled_layout
def counted(*args, **kwargs):  # the layout and both writes (imports before it are not the book's)
    laying_out.append(1)
    try:
        return settled_layout(*args, **kwargs)
    finally:
        laying_out.clear()
build._settled_layout = counted
before = gc.get_threshold()
with contextlib.redirect_stderr(io.StringIO()):
    assert build.build_pdf(project_paths(Path(content), Path(out)))
print(json.dumps({"full": len(full), "restored": gc.get_threshold() == before}))
"""


def _full_collections(tmp_path, policy: bool) -> dict:
    arguments = [str(ROOT), str(CONTENT), str(tmp_path / f"build-{policy}"), "policy" if policy else "stock"]
    done = subprocess.run([sys.executable, "-c", FULL_COLLECTIONS, *arguments], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_laying_out_the_book_runs_no_full_collection(tmp_path):
    with_policy, without = _full_collections(tmp_path, True), _full_collections(tmp_path, False)
    assert without["full"] > 0  # the premise: CPython's thresholds revisit the heap as it grows
    assert with_policy["full"] == 0
    assert with_policy["restored"] and without["restored"]


@pytest.mark.parametrize("task", [build.build_pdf, build.build_page_map])
def test_both_layout_tasks_lay_out_under_the_policy(task, tmp_path, monkeypatch):
    seen = []

    class Stop(Exception):
        pass

    def settled_layout(*args, **kwargs):
        seen.append(gc.get_threshold())
        raise Stop

    monkeypatch.setattr(build, "_settled_layout", settled_layout)
    before = gc.get_threshold()
    paths = project_paths(CONTENT, tmp_path)
    assert build.run_check(paths.content, paths.build)
    with pytest.raises(Stop):
        task(paths, cached=True)
    assert seen == [gcpolicy.BOOK_THRESHOLDS]
    assert gc.get_threshold() == before  # put back, even when the layout fails
