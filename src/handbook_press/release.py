"""Releases: versioned, reproducible assets with checksums and release notes.

``dist/V/`` gets, for the handbook's slug S: S.pdf (reading edition), S.epub,
S-print.pdf and S-cover.pdf (default print profile), S.json (the outline as
data), RELEASE-NOTES.md and SHA256SUMS. Everything is built in a temporary
folder beside the target and moved into place only when every asset was
built and passed its checks, so a failed release leaves dist/ as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import derived
from .model import Book

VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$")


def git_version(root: Path) -> str | None:
    """The tag of the current commit, if any (v1.2.0 -> 1.2.0)."""
    try:
        tag = subprocess.run(["git", "describe", "--tags", "--exact-match"], cwd=root, capture_output=True,
                             text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return tag.removeprefix("v") or None


def release_version(requested: str | None, metadata_version: str | None, root: Path) -> str | None:
    """The version of a release: as asked (version=V), else handbook.yaml's, else the commit's tag."""
    return requested or metadata_version or git_version(root)


def git_commit_time(root: Path) -> int | None:
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=root, capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return int(out) if out.isdigit() else None


def book_data(book: Book, version: str) -> dict:
    """The outline as data, for websites and tooling downstream."""
    meta = book.metadata
    return {
        "title": meta.title,
        "slug": meta.slug,
        "version": version,
        "language": meta.language,
        "identifier": meta.identifier,
        "review_date": meta.review_date.iso,
        "about": meta.about,
        "learning_path": [{"step": r.step.number, "text": r.step.text, "sections": [s.number for s in r.sections]}
                          for r in derived.resolved_learning_path(book)],
        "sections": [{
            "number": s.number, "slug": s.slug, "title": s.title, "description": s.description,
            "chapters": [{
                "number": c.number, "original_number": c.original_number, "title": c.title, "new": c.is_new,
                "topics": [{"text": t.text, "kind": t.kind, "label": t.label, "items": list(t.items),
                            "concepts": list(t.concepts), "new": t.is_new} for t in c.topics],
            } for c in s.chapters],
        } for s in book.sections],
        "tools": [{"name": e.name, "chapters": [c.number for c in e.chapters],
                   "subentries": [{"name": sub.name, "chapters": [c.number for c in sub.chapters]}
                                  for sub in e.subentries]} for e in derived.tools_index(book)],
    }


@dataclass(frozen=True)
class ChapterRef:
    section: str  # section slug
    title: str
    number: int
    position: int  # index within its section


def _chapters(data: dict) -> list[ChapterRef]:
    return [ChapterRef(s["slug"], c["title"], c["number"], i)
            for s in data["sections"] for i, c in enumerate(s["chapters"])]


def changes(previous: dict, current: dict) -> dict[str, list]:
    """Chapters added, removed, renamed or moved between two releases' outlines.

    The same title is the same chapter (moved if its section changed); of the
    rest, a chapter at the same place of the same section under a new title
    was renamed; what is left was added or removed.
    """
    old, new = _chapters(previous), _chapters(current)
    old_by_title = {c.title: c for c in old}
    new_titles = {c.title for c in new}
    moved = [(old_by_title[c.title], c) for c in new if c.title in old_by_title
             and old_by_title[c.title].section != c.section]
    gone = [c for c in old if c.title not in new_titles]
    fresh = [c for c in new if c.title not in old_by_title]
    renamed = []
    for c in list(fresh):
        match = next((o for o in gone if o.section == c.section and o.position == c.position), None)
        if match:
            renamed.append((match, c))
            gone.remove(match)
            fresh.remove(c)
    return {"added": fresh, "removed": gone, "renamed": renamed, "moved": moved}


def release_notes(book: Book, version: str, previous: dict | None, previous_version: str | None) -> str:
    meta = book.metadata
    lines = [f"# {meta.title} {version}", "", f"Last major review: {meta.review_date}.", ""]
    entries = derived.whats_new(book)
    if entries:
        lines += ["## What's new in this edition", ""]
        for e in entries:
            if e.chapter.is_new:
                lines.append(f"- New chapter {e.chapter.number}: {e.chapter.title} (Section {e.section.number})")
            else:
                topics = "; ".join(t.text for t in e.topics)
                lines.append(f"- Chapter {e.chapter.number}: {e.chapter.title}: new topic(s): {topics}")
        lines.append("")
    lines += [f"## Changes since {previous_version}" if previous_version else "## Changes", ""]
    if previous is None:
        lines += ["First release: no earlier release to compare with.", ""]
    else:
        diff = changes(previous, book_data(book, version))
        titles = {s["slug"]: s["title"] for s in previous["sections"]}
        titles.update({s.slug: s.title for s in book.sections})
        for c in diff["added"]:
            lines.append(f"- Added: Chapter {c.number}: {c.title} ({titles[c.section]})")
        for c in diff["removed"]:
            lines.append(f"- Removed: {c.title} (was Chapter {c.number}, {titles[c.section]})")
        for old, new in diff["renamed"]:
            lines.append(f"- Renamed: {old.title} → {new.title} (Chapter {new.number})")
        for old, new in diff["moved"]:
            lines.append(f"- Moved: {new.title}: {titles[old.section]} → {titles[new.section]} "
                         f"(Chapter {old.number} → {new.number})")
        if not any(diff.values()):
            lines.append("- No chapter was added, removed, renamed or moved.")
        lines.append("")
    return "\n".join(lines)


def newest_previous(dist: Path, slug: str, version: str) -> tuple[dict, str] | tuple[None, None]:
    """The newest release in dist/ older than ``version`` (by version order)."""
    def key(v: str):
        return [int(p) if p.isdigit() else p for p in re.split(r"[.\-+]", v)]

    candidates = []
    for folder in dist.iterdir() if dist.is_dir() else ():
        data_file = folder / f"{slug}.json"
        if folder.is_dir() and data_file.is_file() and folder.name != version:
            try:
                if key(folder.name) < key(version):
                    candidates.append(folder.name)
            except TypeError:
                continue
    if not candidates:
        return None, None
    best = max(candidates, key=key)
    return json.loads((dist / best / f"{slug}.json").read_text(encoding="utf-8")), best


def sha256sums(folder: Path) -> str:
    lines = []
    for file in sorted(folder.iterdir()):
        if file.is_file() and file.name != "SHA256SUMS":
            lines.append(f"{hashlib.sha256(file.read_bytes()).hexdigest()}  {file.name}")
    return "\n".join(lines) + "\n"


def install(staging: Path, target: Path) -> None:
    """Move a finished release folder into place; an older one of the same version is replaced."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
        os.replace(target, old / target.name)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old)
