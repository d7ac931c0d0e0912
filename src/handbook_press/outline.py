"""Import a one-file outline (the seed's format) into a content folder.

The outline format: an ``About this Handbook:`` line, a learning path of
numbered steps naming ``(Section N)`` / ``(Sections N-M)``, a sentence with
``Last major review: Month YYYY.``, then sections, each a heading line
followed by a ``---`` front matter block and its chapter lines.

Section front matter and bodies are copied line for line (defects included:
the build and the checks deal with them); learning-path references become
section slugs, so that they stay right when sections move.
"""

from __future__ import annotations

import calendar
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .diagnostics import BuildError, Diagnostics, Location, display_path
from .reader import METADATA_FILE, slugify
from .sources import read_text

ABOUT = re.compile(r"^About this Handbook:\s*(\S.*)$", re.I)
LEARNING_PATH = re.compile(r"^(Learning Path[^:]*):\s*$", re.I)
STEP = re.compile(r"^(\d+)[.)]?\s+(\S.*?)\s*\((Sections?)\s+(\d+)(?:\s*[-–]\s*(\d+))?\)\.?\s*$")
REVIEW = re.compile(r"^(.*?)\s*Last major review:\s*([A-Z][a-z]+)\s+(\d{4})\.?\s*$")
MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}


@dataclass
class OutlineSection:
    title: str
    title_line: int
    front_matter: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)


def _is_heading(lines: tuple[str, ...], index: int) -> bool:
    return (index + 1 < len(lines) and lines[index + 1].strip() == "---"
            and lines[index].strip() not in ("", "---"))


def parse_outline(path: Path, diagnostics: Diagnostics):
    shown = display_path(path)
    source = read_text(path, shown, diagnostics)
    if source is None:
        return None
    lines = source.lines
    meta: dict = {}
    steps: list[tuple[int, str, list[int]]] = []
    index = 0
    while index < len(lines) and not _is_heading(lines, index):
        line = lines[index].strip()
        location = Location(shown, index + 1)
        if not line:
            pass
        elif m := ABOUT.match(line):
            meta["about"] = m.group(1)
        elif m := LEARNING_PATH.match(line):
            meta["learning_path_title"] = m.group(1)
        elif m := STEP.match(line):
            first, last = int(m.group(4)), int(m.group(5) or m.group(4))
            if last < first:
                diagnostics.error(location, "learning-path-unknown-section",
                                  f"the range Sections {first}-{last} runs backwards; write it as {last}-{first}")
            steps.append((index + 1, m.group(2), list(range(first, last + 1))))
        elif m := REVIEW.match(line):
            month = MONTHS.get(m.group(2).lower())
            if month is None:
                diagnostics.error(location, "metadata-type", f"{m.group(2)!r} is not a month name")
            else:
                meta["review_date"] = f"{int(m.group(3)):04d}-{month:02d}"
            if m.group(1):
                meta["edition_note"] = m.group(1)
        else:
            diagnostics.error(location, "outline-unknown-line",
                              f"cannot place this line before the first section: {line[:60]!r}; "
                              "expected `About this Handbook: …`, a learning-path step `N text (Section N).` "
                              "or `… Last major review: Month YYYY.`")
        index += 1
    sections: list[OutlineSection] = []
    while index < len(lines):
        if _is_heading(lines, index):
            section = OutlineSection(lines[index].strip(), index + 1)
            index += 2
            while index < len(lines) and lines[index].strip() != "---":
                section.front_matter.append(lines[index])
                index += 1
            if index >= len(lines):
                diagnostics.error(Location(shown, section.title_line + 1), "front-matter-unclosed",
                                  f"the front matter of section {section.title!r} is never closed; add a `---` line")
                return None
            index += 1
            sections.append(section)
            continue
        if sections:
            sections[-1].body.append(lines[index])
        index += 1
    for key, what in (("about", "an `About this Handbook: …` line"),
                      ("review_date", "a `Last major review: Month YYYY.` sentence")):
        if key not in meta:
            diagnostics.error(Location(shown, 1), "metadata-missing-key", f"the outline has no {what}")
    if not sections:
        diagnostics.error(Location(shown, 1), "section-empty",
                          "the outline has no sections (a title line followed by a `---` front matter block)")
    return shown, meta, steps, sections


def import_outline(outline: Path, content: Path, title: str | None = None, slug: str | None = None,
                   language: str = "en") -> Diagnostics:
    """Write ``content`` from ``outline``; raise :class:`BuildError` and write nothing on errors."""
    from .reader import load_book

    diagnostics = Diagnostics()
    parsed = parse_outline(Path(outline), diagnostics)
    if parsed is None or diagnostics.errors:
        raise BuildError(diagnostics)
    shown, meta, steps, sections = parsed
    content = Path(content)
    if content.exists() and any(content.iterdir()):
        raise BuildError([_error(Location(display_path(content), 1), "content-exists",
                                 f"{display_path(content)} is not empty; import into a new folder")])
    slugs, used = [], set()
    for section in sections:
        base = slugify(section.title)
        candidate, n = base, 2
        while candidate in used:
            candidate, n = f"{base}-{n}", n + 1
        used.add(candidate)
        slugs.append(candidate)
    learning_steps = []
    for line, text, numbers in steps:
        missing = [n for n in numbers if not 1 <= n <= len(sections)]
        if missing:
            diagnostics.error(Location(shown, line), "learning-path-unknown-section",
                              f"the step names section {missing[0]}, but the outline has "
                              f"{len(sections)} sections; correct the section number")
            continue
        learning_steps.append({"text": text, "sections": [slugs[n - 1] for n in numbers]})
    if diagnostics.errors:
        raise BuildError(diagnostics)
    title = title or "Handbook"
    slug = slug or slugify(title)
    data = {
        "title": title,
        "slug": slug,
        "language": language,
        # Stable, never random: the same handbook keeps its identity across builds.
        "identifier": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'handbook-press:' + slug)}",
        "about": meta["about"],
        "review_date": meta["review_date"],
    }
    if "edition_note" in meta:
        data["edition_note"] = meta["edition_note"]
    data["learning_path"] = {"title": meta.get("learning_path_title", "Learning path"), "steps": learning_steps}
    data["sections"] = [{"file": f"sections/{s}.md", "title": section.title}
                        for s, section in zip(slugs, sections)]

    content.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{content.name}-", dir=content.parent))
    try:
        (staging / "sections").mkdir()
        (staging / METADATA_FILE).write_text(
            yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
        for s, section in zip(slugs, sections):
            text = "\n".join(["---", *section.front_matter, "---", *section.body]) + "\n"
            (staging / "sections" / f"{s}.md").write_text(text, encoding="utf-8")
        check = Diagnostics()
        try:
            load_book(staging, check)
        except BuildError:
            pass
        # Messages name the files where they will live, not the staging folder.
        for d in check:
            old, new = display_path(staging), display_path(content)
            diagnostics.items.append(type(d)(Location(d.location.path.replace(old, new, 1), d.location.line),
                                             d.severity, d.code, d.message.replace(old, new)))
        if check.errors:
            raise BuildError(diagnostics)
        if content.exists():
            content.rmdir()
        os.replace(staging, content)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return diagnostics


def _error(location: Location, code: str, message: str):
    from .diagnostics import Diagnostic

    return Diagnostic(location, "error", code, message)
