"""Checks on the whole book: what the reader cannot see in one file alone.

Numbering defects are warnings (the build fixes them); broken references are
errors. Codes are stable: tests, CI and people filter on them.
"""

from __future__ import annotations

from .diagnostics import Diagnostics
from .model import Book
from .numbering import spans
from .sources import closest


def check_chapter_numbers(book: Book, diagnostics: Diagnostics) -> None:
    first_use: dict[int, object] = {}
    previous = 0
    for chapter in book.chapters:
        n = chapter.original_number
        if n == 0:  # unreadable number, already an error
            continue
        if n in first_use:
            diagnostics.warning(chapter.location, "chapter-number-duplicate",
                                f"Chapter {n} is used again (first at {first_use[n]}); "
                                f"the book prints it as Chapter {chapter.number}")
        elif n < previous:
            diagnostics.warning(chapter.location, "chapter-number-backward",
                                f"Chapter {n} comes after Chapter {previous}; "
                                f"the book prints it as Chapter {chapter.number}")
        first_use.setdefault(n, chapter.location)
        previous = n
    used = sorted(first_use)
    if used:
        missing = set(range(1, max(used) + 1)) - set(used)
        # Report each gap at the first chapter written after it.
        for gap_start in sorted(m for m in missing if m - 1 not in missing):
            gap = [gap_start]
            while gap[-1] + 1 in missing:
                gap.append(gap[-1] + 1)
            after = next((c for c in book.chapters if c.original_number > gap[-1]), None)
            location = after.location if after else book.chapters[-1].location
            numbers = spans(gap)
            diagnostics.warning(location, "chapter-number-missing",
                                f"chapter number{'s' if len(gap) > 1 else ''} {numbers} "
                                f"{'are' if len(gap) > 1 else 'is'} never used; the book numbers chapters 1-"
                                f"{len(book.chapters)} in reading order")


def check_sections(book: Book, diagnostics: Diagnostics) -> None:
    seen_titles: dict[str, object] = {}
    seen_slugs: dict[str, object] = {}
    for section in book.sections:
        if section.stray_title is not None:
            diagnostics.warning(section.stray_title_location, "section-title-mismatch",
                                f"front matter title {section.stray_title!r} disagrees with the outline's name "
                                f"{section.title!r} ({section.title_location}); the book prints "
                                f"{section.title!r} and leaves out this front matter's description, "
                                "which looks copied from another page: correct the title and description")
        if not section.chapters:
            diagnostics.warning(section.location, "section-empty",
                                f"section {section.title!r} has no chapters; add `Chapter N: Title` lines")
        key = section.title.casefold()
        if key in seen_titles:
            diagnostics.error(section.title_location, "duplicate-section",
                              f"two sections are titled {section.title!r} (the other at {seen_titles[key]}); "
                              "give each section its own title")
        seen_titles.setdefault(key, section.title_location)
        if section.slug in seen_slugs:
            diagnostics.error(section.location, "duplicate-section",
                              f"two section files give the slug {section.slug!r} (the other is {seen_slugs[section.slug]}); "
                              "rename one file")
        seen_slugs.setdefault(section.slug, section.location)


def check_learning_path(book: Book, diagnostics: Diagnostics) -> None:
    slugs = [s.slug for s in book.sections]
    for step in book.learning_path:
        if not step.section_slugs:
            diagnostics.warning(step.location, "learning-path-no-section",
                                f"learning-path step {step.number} names no section; add `sections: [slug]`")
        for slug in step.section_slugs:
            if slug not in slugs:
                suggestion = closest(slug, slugs)
                hint = f"; did you mean `{suggestion}`?" if suggestion else f"; sections are: {', '.join(slugs)}"
                diagnostics.error(step.location, "learning-path-unknown-section",
                                  f"learning-path step {step.number} refers to section `{slug}`, "
                                  f"which does not exist{hint}")


def check_book(book: Book, diagnostics: Diagnostics) -> None:
    check_sections(book, diagnostics)
    check_chapter_numbers(book, diagnostics)
    check_learning_path(book, diagnostics)
