"""Located messages for people: ``path:line: severity[code]: message``.

Bad input is reported, never raised as a traceback: every stage adds what it
finds to a :class:`Diagnostics` collection so that one run shows every
problem, and the caller decides (from the errors, or with ``strict``) whether
to fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Literal

if TYPE_CHECKING:
    from .model import Book

Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True, order=True)
class Location:
    """Where something was read: a file and a 1-based line number."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Diagnostic:
    location: Location
    severity: Severity
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}[{self.code}]: {self.message}"


@dataclass
class Diagnostics:
    """An ordered collection of diagnostics, filled by every stage."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, location: Location, code: str, message: str) -> None:
        self.items.append(Diagnostic(location, "error", code, message))

    def warning(self, location: Location, code: str, message: str) -> None:
        self.items.append(Diagnostic(location, "warning", code, message))

    def note(self, location: Location, code: str, message: str) -> None:
        self.items.append(Diagnostic(location, "note", code, message))

    def extend(self, other: "Diagnostics") -> None:
        self.items.extend(other.items)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def failed(self, strict: bool = False) -> bool:
        return bool(self.errors or (strict and self.warnings))

    def codes(self) -> list[str]:
        return [d.code for d in self.items]


class BuildError(Exception):
    """Bad input that stops a build; carries the diagnostics to show."""

    def __init__(self, diagnostics: Diagnostics | list[Diagnostic]):
        items = list(diagnostics)
        super().__init__("\n".join(str(d) for d in items))
        self.diagnostics = items


def display_path(path: Path, root: Path | None = None) -> str:
    """A path as people will type it: relative to ``root`` (or the working folder) when inside it."""
    path = Path(path)
    for base in (root, Path.cwd()):
        if base is None:
            continue
        try:
            return path.resolve().relative_to(Path(base).resolve()).as_posix()
        except ValueError:
            continue
    return path.as_posix()



# WeasyPrint's words (draw/text.py) when the fonts have no glyph for a character.
_MISSING_GLYPH = re.compile(
    r'\.notdef glyph rendered for Unicode string unsupported by fonts: "(.+)" \((U\+[0-9A-F]+)\)', re.S)


def renderer_warning(message: str, book: "Book", styles: Path) -> str:
    """One of WeasyPrint's warnings as a line for people: a character the book's fonts lack is
    told where it is written; any other at the style sheet the layout starts from."""
    missing = _MISSING_GLYPH.fullmatch(message)
    where = book.first_written(missing.group(1)) if missing else None
    if missing and where is not None:
        character, code = missing.groups()
        return (f"{where}: warning[missing-glyph]: the book's fonts have no glyph for {character!r} ({code}), "
                "so the PDF shows an empty box there: write it another way, or add a font that has it "
                "(styles/fonts and styles/fonts.css)")
    return f"{display_path(styles / 'print.css')}:1: warning[weasyprint]: {message}"
