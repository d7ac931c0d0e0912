"""Render the book model through the Jinja templates.

Autoescaping is on and undefined variables are errors. Content is only ever
passed as data: no source text is compiled as a template, so `{{ … }}` in a
chapter title is printed as written. The one value marked safe is prose HTML,
which the reader produced with raw HTML disabled.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Callable

import jinja2

from . import derived
from .files import write_atomic
from .model import Book, Chapter, Section


#: How templates are read and compiled; compiled templates are kept apart for other settings.
SETTINGS = {"autoescape": True, "undefined": jinja2.StrictUndefined, "keep_trailing_newline": True}


def environment(templates: Path, cache: Path | None = None) -> jinja2.Environment:
    """``cache``: a build's cache folder, where each template is kept compiled for the next process."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), **SETTINGS,
                              bytecode_cache=CompiledTemplates(cache) if cache is not None else None)


class CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once, not by every process that renders (10 ms for the EPUB's, as many
    for the book's: a twentieth of `doit epub`). Jinja files each under its path and checks the
    source's checksum and Python's version; the folder is Jinja's version's and the settings'.
    A damaged file is compiled again; each is written whole (a parallel `doit -n 2` may write too)."""

    def __init__(self, cache: Path):
        settings = f"{jinja2.__version__} {sorted((k, repr(v)) for k, v in SETTINGS.items())}"
        self.folder = cache / f"templates-{hashlib.sha256(settings.encode()).hexdigest()[:16]}"

    def _path(self, bucket: jinja2.bccache.Bucket) -> Path:
        return self.folder / f"{bucket.key}.jinja"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            bucket.bytecode_from_string(self._path(bucket).read_bytes())
        except Exception:  # missing or damaged (pickle and marshal raise many kinds): compile it
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            write_atomic(self._path(bucket), bucket.bytecode_to_string())
        except OSError:  # a read-only build folder: the next process compiles it again
            pass


@dataclass(frozen=True)
class RenderContext:
    """Everything a template may use, derived from the book once."""

    book: Book
    version: str | None
    timestamp: str  # ISO 8601, from SOURCE_DATE_EPOCH

    @cached_property
    def derived_lists(self) -> dict:
        # Once per book: the EPUB renders one document per section from the same context.
        return {
            "learning_path": derived.resolved_learning_path(self.book),
            "new_entries": derived.whats_new(self.book),
            "index_entries": derived.tools_index(self.book),
        }

    @cached_property
    def running_head(self) -> Callable[[Section | Chapter], str]:
        """The PDF's running head for a section or chapter, on one line (`running_head`)."""
        from .pagegeometry import Geometry

        return partial(_running_head_of, limit=Geometry.for_book(self.book).running_head_chars)

    def variables(self, href: Callable[[Section | Chapter], str]) -> dict:
        return {
            "part": "all",
            "page_of": None,
            "body_sections": None,
            "meta": self.book.metadata,
            "sections": self.book.sections,
            **self.derived_lists,
            "version": self.version,
            "timestamp": self.timestamp,
            "href": href,
            "running_head": self.running_head,
        }


def _running_head_of(node: Section | Chapter, limit: int) -> str:
    from .pagegeometry import running_head

    return running_head(node.running_head, limit)


def fragment_href(node: Section | Chapter) -> str:
    return "#" + node.anchor


BOOK_PARTS = ("front", "contents", "body", "back")


class BookHtml:
    """The book for the PDF as HTML documents, from one Jinja environment: the
    whole book (``part="all"``), or one of ``BOOK_PARTS`` to be laid out alone.
    ``page_of`` gives the folio printed beside a link (contents, learning path,
    what's new, index)."""

    def __init__(self, templates: Path, context: RenderContext, cache: Path | None = None):
        self.template = environment(templates, cache).get_template("pdf/book.html.j2")
        self.context = context

    def render(self, part: str = "all", page_of: Callable[[Section | Chapter], str] | None = None,
               sections: list[Section] | None = None) -> str:
        """``sections``: the body's sections to render (all by default)."""
        if part not in ("all", *BOOK_PARTS):
            raise ValueError(f"no part {part!r} in the book")
        return self.template.render({**self.context.variables(fragment_href), "part": part, "page_of": page_of,
                                     "body_sections": sections})


def render_book_html(templates: Path, context: RenderContext) -> str:
    """The whole book as one HTML document."""
    return BookHtml(templates, context).render()


def render_section_preview(templates: Path, context: RenderContext, section: Section,
                           env: jinja2.Environment | None = None) -> str:
    """``env``: an environment kept between previews (it compiles a template once, and again
    when its file changes)."""
    template = (env or environment(templates)).get_template("pdf/preview.html.j2")
    return template.render(meta=context.book.metadata, section=section, timestamp=context.timestamp,
                           running_head=context.running_head)


def render_epub_document(env: jinja2.Environment, kind: str, context: RenderContext,
                         href: Callable[[Section | Chapter], str], section: Section | None = None) -> str:
    template = env.get_template("epub/document.xhtml.j2")
    return template.render(context.variables(href), kind=kind, section=section)
