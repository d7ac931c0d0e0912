"""The book model: what every renderer consumes.

Frozen dataclasses, read once from the sources (``reader``), renumbered once
(``numbering``). Every node keeps the :class:`Location` it came from so that
checks and errors can point at the source line. No renderer re-parses text:
topics are already split into labels, items and concepts, and prose is
already turned into safe HTML.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from typing import Iterator, Literal

from .diagnostics import Location

TopicKind = Literal["plain", "labelled", "annotation"]


@dataclass(frozen=True)
class Topic:
    """One topic line of a chapter.

    ``plain``: ``Data lineage``. ``labelled``: ``Tools: MLflow, DVC`` (label
    and items; key concepts after ``; Key concepts:``). ``annotation``: ``[Tools: Feast, Tecton; feature pipelines]``
    (optional label with items, then key concepts after ``;``) or
    ``[GDPR, CCPA]`` (concepts only).
    """

    text: str
    kind: TopicKind
    location: Location
    is_new: bool = False
    label: str | None = None
    items: tuple[str, ...] = ()
    concepts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prose:
    """A block of Markdown written under a section or chapter, as safe HTML.

    ``assets`` are the content-relative files (images) the HTML refers to.
    """

    html: str
    location: Location
    assets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chapter:
    title: str
    original_number: int
    location: Location
    is_new: bool = False
    topics: tuple[Topic, ...] = ()
    prose: tuple[Prose, ...] = ()
    number: int = 0  # printed number, set by numbering

    @property
    def anchor(self) -> str:
        return f"chapter-{self.number}"

    @property
    def running_head(self) -> str:
        return self.title

    @property
    def new_topics(self) -> tuple[Topic, ...]:
        return tuple(t for t in self.topics if t.is_new)


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    location: Location  # the section file, line 1
    title_location: Location  # where the title used by the book was written
    description: str | None = None
    # The front matter's own title, when it disagrees with the outline's name
    # for the section: the book prints the outline's name (see checks).
    stray_title: str | None = None
    stray_title_location: Location | None = None
    intro: tuple[Prose, ...] = ()
    chapters: tuple[Chapter, ...] = ()
    number: int = 0  # printed number, set by numbering
    short_title: str | None = None  # handbook.yaml's, for the running heads of a long title

    @property
    def anchor(self) -> str:
        return f"section-{self.slug}"

    @property
    def running_head(self) -> str:
        return self.short_title or self.title


@dataclass(frozen=True)
class LearningStep:
    number: int
    text: str
    section_slugs: tuple[str, ...]
    location: Location


@dataclass(frozen=True)
class ReviewDate:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{calendar.month_name[self.month]} {self.year}"

    @property
    def iso(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class Metadata:
    title: str
    slug: str
    language: str
    identifier: str
    about: str
    review_date: ReviewDate
    location: Location
    subtitle: str | None = None
    creator: str | None = None
    publisher: str | None = None
    isbn: str | None = None
    edition_note: str | None = None
    learning_path_title: str = "Learning path"
    trim_width: str = "6in"
    trim_height: str = "9in"
    tool_labels: tuple[str, ...] = ("tools", "libraries", "frameworks", "platforms")
    subjects: tuple[str, ...] = ()
    version: str | None = None  # the release version; `doit release version=V` overrides it
    title_location: Location | None = None  # the `title:` line of handbook.yaml

    @property
    def title_at(self) -> Location:
        return self.title_location or self.location


@dataclass(frozen=True)
class Book:
    metadata: Metadata
    learning_path: tuple[LearningStep, ...]
    sections: tuple[Section, ...]

    @property
    def chapters(self) -> tuple[Chapter, ...]:
        return tuple(c for s in self.sections for c in s.chapters)

    def section_by_slug(self, slug: str) -> Section | None:
        return next((s for s in self.sections if s.slug == slug), None)

    def replace_sections(self, sections: tuple[Section, ...]) -> "Book":
        return replace(self, sections=sections)

    def prose(self) -> Iterator[Prose]:
        """Every prose block, in reading order (a section's introduction before its chapters')."""
        for section in self.sections:
            yield from section.intro
            for chapter in section.chapters:
                yield from chapter.prose

    def texts(self) -> Iterator[tuple[str, Location]]:
        """Each text of the book (a prose block as HTML) and where it is written, in reading order."""
        meta = self.metadata
        for value in (meta.title, meta.subtitle, meta.about, meta.creator, meta.publisher, meta.edition_note):
            if value:
                yield value, meta.location
        for step in self.learning_path:
            yield step.text, step.location
        for section in self.sections:
            yield section.title, section.title_location
            if section.description:
                yield section.description, section.location
            for prose in section.intro:
                yield prose.html, prose.location
            for chapter in section.chapters:
                yield chapter.title, chapter.location
                for topic in chapter.topics:
                    yield topic.text, topic.location
                for prose in chapter.prose:
                    yield prose.html, prose.location

    def first_written(self, text: str) -> Location | None:
        """Where ``text`` is first written in the sources, as near as the model knows (a prose
        block by its first line): for messages about what the renderer made of it."""
        return next((where for written, where in self.texts() if text in written), None)
