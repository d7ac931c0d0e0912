"""Number sections and chapters in reading order, across the whole book.

The sources keep the numbers their authors wrote (often duplicated, skipped
or going backwards); the printed numbers are positions. The mapping is kept
so that maintainers can see what moved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from .model import Book


def number_book(book: Book) -> Book:
    sections = []
    chapter_number = 0
    for section_number, section in enumerate(book.sections, start=1):
        chapters = []
        for chapter in section.chapters:
            chapter_number += 1
            chapters.append(replace(chapter, number=chapter_number))
        sections.append(replace(section, number=section_number, chapters=tuple(chapters)))
    return book.replace_sections(tuple(sections))


@dataclass(frozen=True)
class Renumbering:
    """One chapter: the number its source gives and the number the book prints."""

    original: int
    printed: int
    title: str
    section: int
    location: str

    @property
    def changed(self) -> bool:
        return self.original != self.printed


def renumbering(book: Book) -> list[Renumbering]:
    return [Renumbering(c.original_number, c.number, c.title, s.number, str(c.location))
            for s in book.sections for c in s.chapters]


def renumbering_json(book: Book) -> str:
    rows = [{"section": r.section, "original": r.original, "printed": r.printed, "title": r.title,
             "source": r.location} for r in renumbering(book)]
    return json.dumps({"chapters": rows}, indent=2, ensure_ascii=False) + "\n"


def spans(numbers: list[int]) -> str:
    """Runs of consecutive numbers, in the order given: ``[9, 10, 11, 20]`` -> ``9-11, 20``."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def renumbering_summary(book: Book) -> str:
    """One line per section whose chapters change number: original -> printed."""
    rows = renumbering(book)
    changed = [r for r in rows if r.changed]
    lines = [f"numbering: {len(book.sections)} sections, {len(rows)} chapters numbered 1-{len(rows)} "
             f"in reading order; {len(changed)} chapters change number"]
    for section in book.sections:
        chapters = section.chapters
        if any(c.original_number != c.number for c in chapters):
            lines.append(f"  Section {section.number} ({section.location.path}): chapters "
                         f"{spans([c.original_number for c in chapters])} -> {spans([c.number for c in chapters])}")
    return "\n".join(lines)
