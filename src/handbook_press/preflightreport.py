"""A preflight report, and the record that keeps it with what it was made of.

Apart from the checker (`preflight`) so that publishing a report the PDF task already made
(`doit print` after `doit pdf`) reads it back without importing pypdf.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any, Literal

Status = Literal["pass", "warn", "fail"]

CHECK_TITLES = {
    "readable": "Readable as a PDF",
    "file-size": "File size",
    "page-count": "Page count",
    "page-parity": "Even page count",
    "page-size": "Page size (MediaBox)",
    "boxes": "Trim and bleed boxes",
    "fonts": "Fonts embedded",
    "colour-spaces": "Colour spaces",
    "text-colour": "Text in black ink only",
    "transparency": "Transparency",
    "image-resolution": "Image resolution",
    "marks": "Printer's marks",
    "annotations": "Annotations",
    "outlines": "Bookmarks (outlines)",
    "interactive": "Forms and JavaScript",
    "encryption": "Encryption",
    "pdfx": "PDF/X identity",
    "safe-area": "Text inside the safe area",
}


@dataclass
class CheckResult:
    id: str
    title: str
    status: Status
    message: str
    details: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status, "message": self.message,
                "details": list(self.details)}


@dataclass
class PreflightReport:
    path: str
    profile: str
    trim_in: tuple[float, float]
    pages: int
    checks: list[CheckResult]

    @property
    def passed(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    @property
    def failures(self) -> list[str]:
        return [check.id for check in self.checks if check.status == "fail"]

    @property
    def warnings(self) -> list[str]:
        return [check.id for check in self.checks if check.status == "warn"]

    def check(self, check_id: str) -> CheckResult:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)

    def to_dict(self) -> dict[str, Any]:
        counts = Counter(check.status for check in self.checks)
        return {
            "file": self.path,
            "profile": self.profile,
            "trim_in": [self.trim_in[0], self.trim_in[1]],
            "pages": self.pages,
            "passed": self.passed,
            "summary": {"pass": counts["pass"], "warn": counts["warn"], "fail": counts["fail"]},
            "checks": [check.to_dict() for check in self.checks],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PreflightReport":
        """The report `to_dict` gave."""
        return cls(data["file"], data["profile"], (data["trim_in"][0], data["trim_in"][1]), data["pages"],
                   [CheckResult(**check) for check in data["checks"]])

    def to_markdown(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        width, height = self.trim_in
        lines = [
            f"# Preflight {verdict}: {Path(self.path).name}",
            "",
            f"Profile **{self.profile}**, trim {width:g} x {height:g} in, {self.pages} pages.",
            "",
            "| Check | Result | Message |",
            "|---|---|---|",
        ]
        marks = {"pass": "pass", "warn": "**warn**", "fail": "**FAIL**"}
        for check in self.checks:
            lines.append(f"| {_cell(check.title)} (`{check.id}`) | {marks[check.status]} | {_cell(check.message)} |")
        for check in self.checks:
            if check.status != "pass" and check.details:
                lines += ["", f"## {check.title} (`{check.id}`): {check.status}", ""]
                lines += [f"- {detail}" for detail in check.details]
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


RECORD_FORMAT = 1


def checker_version() -> str:
    """What a report depends on besides the PDF, the profile and the trim: this checker's code
    and the PDF reader under it."""
    package = Path(__file__).parent
    digest = hashlib.sha256(f"format {RECORD_FORMAT} pypdf {installed_version('pypdf')}".encode())
    for name in ("preflight.py", "preflightreport.py", "contentstream.py", "profiles.py"):
        digest.update((package / name).read_bytes())
    return digest.hexdigest()


def report_record(data: bytes, report: PreflightReport) -> str:
    """The report, with what it was made from: `recorded_report` takes it back for the same PDF
    only (the PDF task preflights the interior as it writes it, the print task publishes it)."""
    return json.dumps({"format": RECORD_FORMAT, "pdf_sha256": hashlib.sha256(data).hexdigest(),
                       "checker": checker_version(), "report": report.to_dict()}, sort_keys=True) + "\n"


def recorded_report(record: str, data: bytes, profile: str, trim_w_in: float, trim_h_in: float) -> PreflightReport | None:
    """The report in ``record`` if it was made of ``data``, for this profile and trim, by this checker."""
    try:
        saved = json.loads(record)
        if (saved["format"] != RECORD_FORMAT or saved["pdf_sha256"] != hashlib.sha256(data).hexdigest()
                or saved["checker"] != checker_version()):
            return None
        report = PreflightReport.from_dict(saved["report"])
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    if report.profile != profile or report.trim_in != (float(trim_w_in), float(trim_h_in)):
        return None
    return report
