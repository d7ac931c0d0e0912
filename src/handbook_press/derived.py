"""What the front and back matter show, derived from the model once.

The learning path's references resolved to sections, the "what's new" list,
and the index of tools. Every renderer (PDF, EPUB, release data) uses these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Book, Chapter, LearningStep, Section, Topic


@dataclass(frozen=True)
class ResolvedStep:
    step: LearningStep
    sections: tuple[Section, ...]

    @property
    def label(self) -> str:
        """``Section 1``, ``Sections 2–4`` or ``Sections 2, 5 and 7``, from the current numbers."""
        numbers = sorted(s.number for s in self.sections)
        if not numbers:
            return ""
        if len(numbers) == 1:
            return f"Section\u00a0{numbers[0]}"
        if numbers == list(range(numbers[0], numbers[-1] + 1)):
            return f"Sections\u00a0{numbers[0]}\u2013{numbers[-1]}"
        return "Sections\u00a0" + ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"


def resolved_learning_path(book: Book) -> tuple[ResolvedStep, ...]:
    by_slug = {s.slug: s for s in book.sections}
    return tuple(ResolvedStep(step, tuple(by_slug[slug] for slug in step.section_slugs if slug in by_slug))
                 for step in book.learning_path)


@dataclass(frozen=True)
class NewEntry:
    chapter: Chapter
    section: Section
    topics: tuple[Topic, ...]  # new topics of a chapter that is not itself new


def whats_new(book: Book) -> tuple[NewEntry, ...]:
    entries = []
    for section in book.sections:
        for chapter in section.chapters:
            if chapter.is_new or chapter.new_topics:
                entries.append(NewEntry(chapter, section, () if chapter.is_new else chapter.new_topics))
    return tuple(entries)


@dataclass(frozen=True)
class IndexEntry:
    name: str
    chapters: tuple[Chapter, ...]
    subentries: tuple["IndexEntry", ...] = ()

    @property
    def all_chapters(self) -> tuple[Chapter, ...]:
        seen = {c.number: c for c in self.chapters}
        for sub in self.subentries:
            seen.update({c.number: c for c in sub.chapters})
        return tuple(seen[n] for n in sorted(seen))


def _is_tool_label(label: str | None, tool_labels: tuple[str, ...]) -> bool:
    if not label:
        return False
    words = label.lower().split()
    return label.lower() in tool_labels or (bool(words) and words[-1] in tool_labels)


def tool_mentions(book: Book):
    """(name, chapter, topic) for each tool named under a tool label, in reading order."""
    for chapter in book.chapters:
        for topic in chapter.topics:
            if _is_tool_label(topic.label, book.metadata.tool_labels):
                for name in topic.items:
                    yield name, chapter, topic


def spelling_key(name: str) -> str:
    """What two spellings of one name share: ``Kubeflow``, ``KubeFlow`` and ``Kube-flow``."""
    return re.sub(r"[^0-9a-z]+", "", name.casefold())


def _sort_key(name: str) -> tuple:
    return (re.sub(r"[^0-9a-z]+", " ", name.casefold()).strip(), name)


def tools_index(book: Book) -> tuple[IndexEntry, ...]:
    """Every tool, library, framework or platform named under a tool label, with its chapters.

    A name that extends another indexed name (``MLflow Model Registry`` after
    ``MLflow``) becomes a sub-entry, as in a printed index.
    """
    chapters_by_name: dict[str, dict[int, Chapter]] = {}
    for name, chapter, _ in tool_mentions(book):
        chapters_by_name.setdefault(name, {})[chapter.number] = chapter
    names = sorted(chapters_by_name, key=_sort_key)
    parent_of = {}
    for name in names:
        parents = [p for p in names if p != name and name.startswith(p + " ")]
        if parents:
            parent_of[name] = max(parents, key=len)
    entries = []
    for name in names:
        if name in parent_of:
            continue
        subs = tuple(IndexEntry(sub[len(name):].strip(), _ordered(chapters_by_name[sub]))
                     for sub in names if parent_of.get(sub) == name)
        entries.append(IndexEntry(name, _ordered(chapters_by_name[name]), subs))
    return tuple(entries)


def _ordered(chapters: dict[int, Chapter]) -> tuple[Chapter, ...]:
    return tuple(chapters[n] for n in sorted(chapters))
