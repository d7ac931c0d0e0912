"""What the doit tasks run: each function reports to people and returns success.

Bad input is printed as ``path:line: error[code]: message`` on stderr and the
function returns False (doit then fails the task, without a traceback).
Outputs are only replaced when the whole file was produced.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .diagnostics import BuildError, Diagnostics, display_path
from . import pagemap
from .files import write_atomic
from .model import Book


@dataclass(frozen=True)
class Paths:
    """Where a build reads and writes."""

    content: Path
    build: Path
    templates: Path
    styles: Path


@contextmanager
def source_date_epoch_set(epoch: int):
    """fontTools stamps the fonts it writes with SOURCE_DATE_EPOCH: make sure it is set."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def report(diagnostics: Diagnostics | list) -> None:
    for d in diagnostics:
        _say(str(d))


def load(content: Path, strict: bool = False) -> tuple[Book | None, Diagnostics]:
    diagnostics = Diagnostics()
    from .reader import load_book

    try:
        book, _ = load_book(content, diagnostics)
    except BuildError:
        return None, diagnostics
    if strict and diagnostics.warnings:
        return None, diagnostics
    return book, diagnostics


def output_slug(content: Path) -> str:
    """The handbook's slug, for naming outputs when doit lists tasks; a fallback if unreadable."""
    from .reader import read_metadata

    loaded = read_metadata(Path(content), Diagnostics())
    return loaded[0].slug if loaded else "handbook"


def run_check(content: Path, build: Path, strict: bool = False) -> bool:
    from .numbering import renumbering_json, renumbering_summary

    book, diagnostics = load(content, strict)
    report(diagnostics)
    errors, warnings = len(diagnostics.errors), len(diagnostics.warnings)
    if book is None:
        why = "errors" if errors else "warnings (strict=1)"
        _say(f"check failed: {errors} error(s), {warnings} warning(s); fix the {why} above. "
             "Nothing in the build folder was changed.")
        return False
    print(renumbering_summary(book))
    write_atomic(build / "numbering.json", renumbering_json(book))
    print(f"check passed: {errors} error(s), {warnings} warning(s); "
          f"mapping written to {display_path(build / 'numbering.json')}")
    return True


def _book_or_fail(paths: Paths, strict: bool) -> Book | None:
    started = time.perf_counter()
    book, diagnostics = load(paths.content, strict)
    if book is None:
        report(diagnostics)
        _say("build failed: fix the errors above (run `doit check` for every message); "
             "the previous outputs were kept.")
        return None
    _say(f"parsed {len(book.sections)} sections, {len(book.chapters)} chapters "
         f"in {time.perf_counter() - started:.2f} s")
    return book


def build_pdf(paths: Paths, version: str | None = None, strict: bool = False) -> bool:
    from .html import RenderContext, render_book_html
    from .pdf import render_pdf
    from .timestamps import iso_timestamp, source_date_epoch

    book = _book_or_fail(paths, strict)
    if book is None:
        return False
    started = time.perf_counter()
    html = render_book_html(paths.templates, RenderContext(book, version, iso_timestamp(book.metadata.review_date)))
    body_anchor = book.sections[0].anchor if book.sections else "contents"
    with source_date_epoch_set(source_date_epoch(book.metadata.review_date)):
        result = render_pdf(html, book, content=paths.content, templates=paths.templates, styles=paths.styles,
                            body_anchor=body_anchor)
    for message in result.warnings:
        _say(f"{display_path(paths.styles / 'print.css')}:1: warning[weasyprint]: {message}")
    if result.refused_urls:
        for url in result.refused_urls:
            _say(f"{display_path(paths.content)}:1: error[unsafe-url]: the renderer was asked for {url!r}, "
                 "which is outside the project; the PDF was not written")
        return False
    target = paths.build / f"{book.metadata.slug}.pdf"
    write_atomic(target, result.data)
    # Where the printed pages begin, for the EPUB's page list.
    write_atomic(page_map_path(paths, book.metadata.slug),
                 pagemap.to_json(pagemap.build_page_map(html, result.page_anchors, body_anchor)))
    _say(f"laid out {result.pages} pages in {time.perf_counter() - started:.2f} s; wrote {display_path(target)}")
    return True


def page_map_path(paths: Paths, slug: str) -> Path:
    return paths.build / f"{slug}.pages.json"


def build_epub(paths: Paths, version: str | None = None, strict: bool = False) -> bool:
    from .cover import epub_cover_png
    from .epub import build_epub as make_epub
    from .html import RenderContext
    from .timestamps import iso_timestamp

    book = _book_or_fail(paths, strict)
    if book is None:
        return False
    started = time.perf_counter()
    map_file = page_map_path(paths, book.metadata.slug)
    pages = pagemap.from_json(map_file.read_text()) if map_file.exists() else None
    if pages is None:
        _say(f"{display_path(map_file)}:1: warning[no-page-map]: build the PDF first (`doit pdf`) so that "
             "the EPUB's page list matches the print edition; this EPUB has no page list")
    cover = epub_cover_png(paths.templates, paths.styles,
                           RenderContext(book, version, iso_timestamp(book.metadata.review_date)))
    data = make_epub(book, templates=paths.templates, styles=paths.styles, content=paths.content, version=version,
                     pages=pages, cover_png=cover)
    target = paths.build / f"{book.metadata.slug}.epub"
    write_atomic(target, data)
    _say(f"packed {len(book.sections)} section documents in {time.perf_counter() - started:.2f} s; "
         f"wrote {display_path(target)}")
    return True


def run_import(outline: Path, content: Path, title: str | None, slug: str | None) -> bool:
    from .outline import import_outline

    if outline is None:
        _say("import: name the outline file: doit import outline=FILE content=DIR [title=T slug=S]")
        return False
    try:
        diagnostics = import_outline(outline, content, title=title, slug=slug)
    except BuildError as exc:
        report(exc.diagnostics)
        _say(f"import failed: nothing was written to {display_path(content)}")
        return False
    report(diagnostics)
    print(f"imported {display_path(outline)} into {display_path(content)}")
    return True


def run_validate(paths: Paths, slug: str) -> bool:
    """EPUBCheck and Ace on the built EPUB; fails on what retailers reject."""
    from . import validate

    epub_file = paths.build / f"{slug}.epub"
    findings = validate.epubcheck(epub_file)
    _say(f"EPUBCheck: {len(findings)} message(s)")
    try:
        ace_findings = validate.ace(epub_file, paths.build / "ace")
        _say(f"Ace: {len(ace_findings)} violation(s); report in {display_path(paths.build / 'ace' / 'report.html')}")
        findings += ace_findings
    except validate.AceUnavailable as reason:
        _say(f"{display_path(epub_file)}:1: error[ace-missing]: {reason}")
        return False
    for finding in findings:
        _say(str(finding))
    bad = validate.failing(findings)
    _say(f"validate {'failed' if bad else 'passed'}: {len(bad)} blocking finding(s)")
    return not bad
