"""Checks on the whole book: what the reader cannot see in one file alone.

Numbering defects are warnings (the build fixes them); broken references are
errors. Codes are stable: tests, CI and people filter on them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from pathlib import Path

from .diagnostics import Diagnostics
from .model import Book
from .numbering import spans
from .sources import closest


def check_chapter_numbers(book: Book, diagnostics: Diagnostics, sections_unread: bool = False) -> None:
    """Duplicate, backward and missing chapter numbers (warnings: the book renumbers). With a
    section that could not be read (``sections_unread``), the numbers it uses would look missing:
    not reported until it reads."""
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
    if used and not sections_unread:
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


def check_learning_path(book: Book, diagnostics: Diagnostics, unread: Collection[str] = ()) -> None:
    """Each step names sections of the book. ``unread``: listed sections that could not be read,
    whose errors were told: naming one is no second error."""
    slugs = [s.slug for s in book.sections]
    for step in book.learning_path:
        if not step.section_slugs:
            diagnostics.warning(step.location, "learning-path-no-section",
                                f"learning-path step {step.number} names no section; add `sections: [slug]`")
        for slug in step.section_slugs:
            if slug not in slugs and slug not in unread:
                suggestion = closest(slug, slugs)
                hint = f"; did you mean `{suggestion}`?" if suggestion else f"; sections are: {', '.join(slugs)}"
                diagnostics.error(step.location, "learning-path-unknown-section",
                                  f"learning-path step {step.number} refers to section `{slug}`, "
                                  f"which does not exist{hint}")


#: CSS pixels to the inch: an image is laid out this size, at most as wide as the text block.
CSS_PX_PER_INCH = 96


def check_image_resolution(book: Book, content: Path, diagnostics: Diagnostics) -> None:
    """A raster image prints at 96 pixels to the inch (its CSS size) unless the text block is
    narrower, which scales it down: warn, where the section refers to it, of one that prints
    under the printers' resolution (they refuse under 200 ppi and advise 300), so the print
    preflight's failure is not the first word of it."""
    from . import images
    from .pagegeometry import Geometry
    from .profiles import PROFILES

    refused = max(profile.image_ppi[0] for profile in PROFILES.values())
    advised = max(profile.image_ppi[1] for profile in PROFILES.values())
    text_width = Geometry.for_book(book).text_width
    seen: set[str] = set()
    for prose in book.prose():
        for asset in prose.assets:
            if asset in seen:
                continue
            seen.add(asset)
            try:
                size = images.pixel_size(content / asset)
            except Exception:  # noqa: BLE001 - the reader refused it already, where it is used
                continue
            if size is None:  # SVG: drawn at any size
                continue
            width, height = size
            shown = min(width / CSS_PX_PER_INCH, text_width)
            ppi = width / shown
            if ppi >= advised:
                continue
            verdict = (f"printers refuse images under {refused} ppi" if ppi < refused
                       else f"printers advise {advised} ppi")
            diagnostics.warning(prose.location, "image-resolution",
                                f"the image {asset!r} is {width} x {height} px: printed {shown:.2f} in wide "
                                f"(at {CSS_PX_PER_INCH} px to the inch, at most the text block's "
                                f"{text_width:.2f} in), that is {ppi:.0f} ppi, and {verdict}: use one at least "
                                f"{math.ceil(advised * text_width)} px wide (it fills the text block), "
                                "or an SVG")


def check_running_heads(book: Book, diagnostics: Diagnostics) -> None:
    """A section title too long for a one-line running head is cut short there (`pagegeometry.running_head`):
    say so, and how to choose the head. (A chapter's is cut the same way; its title is its own.)"""
    from .pagegeometry import Geometry, running_head

    limit = Geometry.for_book(book).running_head_chars
    for section in book.sections:
        if len(section.running_head) > limit:
            what = "short_title" if section.short_title else "title"
            diagnostics.warning(section.title_location, "running-head-shortened",
                                f"the {what} of Section {section.number} is too long for a one-line running "
                                f"head ({len(section.running_head)} characters, {limit} fit): the pages print "
                                f"{running_head(section.running_head, limit)!r}; give the section a shorter "
                                "`short_title:` in handbook.yaml for its running heads")


def check_tool_spellings(book: Book, diagnostics: Diagnostics) -> None:
    """One tool, one spelling: the index lists each spelling apart (`KubeFlow 61` beside
    `Kubeflow 19`). Each mention of a rarer spelling is told where it is written, with the most
    used one (the first written, if as many)."""
    from collections import Counter

    from .derived import spelling_key, tool_mentions

    mentions: dict[str, list] = {}
    for name, _, topic in tool_mentions(book):
        if key := spelling_key(name):
            mentions.setdefault(key, []).append((name, topic.location))
    for found in mentions.values():
        counts = Counter(name for name, _ in found)
        if len(counts) < 2:
            continue
        usual = max(counts, key=counts.get)  # a Counter keeps the order written: a tie goes to the first
        where = next(location for name, location in found if name == usual)
        for name, location in found:
            if name != usual:
                diagnostics.warning(location, "index-spelling",
                                    f"{name!r} is spelled {usual!r} at {where}: the index of tools would list "
                                    "both; write one spelling")


_FRAGMENT_HREF = re.compile(r'href="#([^"]+)"')


def check_links(book: Book, diagnostics: Diagnostics) -> None:
    """A prose link to a #anchor must lead to a section or chapter of the book (a link to a
    section's file has become its anchor): anything else is a dead link in both books."""
    anchors = {s.anchor for s in book.sections} | {c.anchor for c in book.chapters}
    for prose in book.prose():
        for fragment in dict.fromkeys(_FRAGMENT_HREF.findall(prose.html)):
            if fragment in anchors:
                continue
            what = (f"a file that is no section of the book ({fragment.removeprefix('section-')}.md: list it in "
                    "handbook.yaml's `sections`, or correct the name)" if fragment.startswith("section-")
                    else f"nowhere in the book")
            diagnostics.error(prose.location, "link-unknown-anchor",
                              f"the link to #{fragment} leads to {what}; link to a section by its file "
                              "(`other-section.md`) or to `#chapter-N` with N as printed")


def check_book(book: Book, diagnostics: Diagnostics, content: Path | None = None,
               unread: Collection[str] = ()) -> None:
    check_sections(book, diagnostics)
    check_running_heads(book, diagnostics)
    check_tool_spellings(book, diagnostics)
    check_links(book, diagnostics)
    check_chapter_numbers(book, diagnostics, sections_unread=bool(unread))
    check_learning_path(book, diagnostics, unread)
    if content is not None:
        check_image_resolution(book, content, diagnostics)
