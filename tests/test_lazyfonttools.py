"""WeasyPrint's imports of fontTools' subsetter and instancer wait for their first use (lazyfonttools.py)."""

import json
import subprocess
import sys

from .conftest import CONTENT, ROOT

# A process as the PDF task's: the package, then WeasyPrint; argv[1] a build folder for the book's PDF, or "-".
REPORT = r"""
import json, sys
from pathlib import Path
import handbook_press
import weasyprint.pdf.fonts as fonts
report = {"after import": sorted(name for name in ("fontTools.subset", "fontTools.varLib", "fontTools.varLib.instancer")
                                 if name in sys.modules),
          "stand-ins left": sorted(name for name, module in sys.modules.items()
                                   if type(module).__name__ == "StandIn"),
          "hooks left": [f.module for f in sys.meta_path if hasattr(f, "module")]}
if sys.argv[1] != "-":
    import contextlib, io
    from handbook_press import build
    paths = build.Paths(content=Path(sys.argv[2]), build=Path(sys.argv[1]), templates=Path(sys.argv[3]) / "templates",
                        styles=Path(sys.argv[3]) / "styles")
    with contextlib.redirect_stderr(io.StringIO()):
        assert build.build_pdf(paths)
    report["after the book"] = sorted(name for name in ("fontTools.subset", "fontTools.varLib") if name in sys.modules)
import fontTools.subset
import fontTools.varLib.instancer as instancer
report["real subset"] = fonts.subset.Subsetter is fontTools.subset.Subsetter
instancer.instantiateVariableFont = lambda *args, **kwargs: ["instanced", list(args), kwargs]
report["instancer called"] = fonts.instantiateVariableFont("font", {"wght": 400}, static=True)
print(json.dumps(report))
"""


def _report(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", REPORT, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_weasyprint_imports_neither_until_it_uses_them(tmp_path):
    report = _report(str(tmp_path), str(CONTENT), str(ROOT))
    assert report["after import"] == [] and report["stand-ins left"] == [] and report["hooks left"] == []
    assert report["after the book"] == [], "both PDFs and the cover are written without them"
    # Other imports get the real modules, and WeasyPrint's names reach them at first use.
    assert report["real subset"] is True
    assert report["instancer called"] == ["instanced", ["font", {"wght": 400}], {"static": True}]


def test_the_stand_ins_answer_the_import_system_as_a_plain_module():
    from handbook_press.lazyfonttools import StandIn

    stand_in = StandIn("fontTools.subset")
    assert not hasattr(stand_in, "__path__") and stand_in.__spec__ is None
    assert stand_in.Options.__module__ == "fontTools.subset"  # an attribute: the real module's
