"""What the doit tasks run: each function reports to people and returns success.

Bad input is printed as ``path:line: error[code]: message`` on stderr and the
function returns False (doit then fails the task, without a traceback).
Outputs are only replaced when the whole file was produced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import os
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from .buildpaths import Paths, cover_image_path, layout_records_path, print_check_path, unchecked_print_path
from .console import say
from .diagnostics import BuildError, Diagnostics, display_path, renderer_warning
from . import hyphenation, pagemap
from .files import write_atomic
from .gcpolicy import laying_out_a_book
from .taskinputs import layout_key

if TYPE_CHECKING:  # dodo.py imports this module: these are imported where they are used
    from .fontprograms import FontPrograms
    from .model import Book


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


def report(diagnostics: Diagnostics | list) -> None:
    for d in diagnostics:
        say(str(d))


def load(content: Path, strict: bool = False, cache: Path | None = None,
         read_one=None, read_meta=None) -> tuple[Book | None, Diagnostics]:
    """Read, number and check; with ``cache`` (a build folder), sections come from the section tasks'
    cache; ``read_one`` reads a section otherwise (`reader.read_section_source` by default);
    ``read_meta`` reads handbook.yaml (`reader.read_metadata` by default)."""
    diagnostics = Diagnostics()
    from .reader import load_book, read_metadata, read_section_source
    from .sectioncache import cached_reader

    try:
        book, _ = load_book(content, diagnostics,
                            cached_reader(cache) if cache else read_one or read_section_source,
                            read_meta or read_metadata)
    except BuildError:
        return None, diagnostics
    if strict and diagnostics.warnings:
        return None, diagnostics
    return book, diagnostics


def _metadata_or_fail(paths: Paths):
    """handbook.yaml's metadata, or None after printing what is wrong with it."""
    from .reader import read_metadata

    diagnostics = Diagnostics()
    loaded = read_metadata(paths.content, diagnostics)
    if loaded is None:
        report(diagnostics)
        return None
    return loaded[0]


def cache_section_action(content: Path, build: Path, key: str) -> bool:
    from . import headstart
    from .sectioncache import cache_section

    headstart.start()  # the layout's imports, on the other core while the sources are read
    return cache_section(content, build, key)


def run_check(content: Path, build: Path, strict: bool = False, cached: bool = False) -> bool:
    """Check the sources; print every problem and the renumbering summary.

    ``cached`` (the doit task): sections come from the section tasks' cache and
    the checked model is saved for the PDF and EPUB tasks.
    """
    from . import headstart
    from .numbering import renumbering_json, renumbering_summary
    from .sectioncache import save_book

    if cached:  # as a doit task (or the release's): the layout may come next
        headstart.start()
    book, diagnostics = load(content, strict, build if cached else None)
    report(diagnostics)
    errors, warnings = len(diagnostics.errors), len(diagnostics.warnings)
    if book is None:
        why = "errors" if errors else "warnings (strict=1)"
        say(f"check failed: {errors} error(s), {warnings} warning(s); fix the {why} above. "
             "Nothing in the build folder was changed.")
        return False
    print(renumbering_summary(book))
    write_atomic(build / "numbering.json", renumbering_json(book))
    if cached:
        save_book(build, book)
    print(f"check passed: {errors} error(s), {warnings} warning(s); "
          f"mapping written to {display_path(build / 'numbering.json')}")
    return True


def _book_or_fail(paths: Paths, strict: bool, cached: bool = False) -> Book | None:
    """The checked model: from the check task's cache (doit), or read now."""
    from .sectioncache import load_cached_book

    started = time.perf_counter()
    if cached and (book := load_cached_book(paths.build)) is not None:
        say(f"model of {len(book.sections)} sections, {len(book.chapters)} chapters from the check task")
        return book
    book, diagnostics = load(paths.content, strict)
    if book is None:
        report(diagnostics)
        say("build failed: fix the errors above (run `doit check` for every message); "
             "the previous outputs were kept.")
        return None
    say(f"parsed {len(book.sections)} sections, {len(book.chapters)} chapters "
         f"in {time.perf_counter() - started:.2f} s")
    return book


def print_geometry(book: Book, profile, pages: int):
    """The design's geometry with the profile's bleed, its margins widened to
    `profiles.text_block_margins` for ``pages`` pages (the printer's minimums and
    gutter, and room for glyph ink). The text block keeps its width when
    it can (the gutter grows, the outside margin shrinks), so that the print
    interior breaks its pages exactly where the reading edition does."""
    from .pagegeometry import Geometry
    from .profiles import text_block_margins

    design = Geometry.for_book(book)
    needed = text_block_margins(profile, pages)  # the printer's minimums, and room for glyph ink
    inside = max(design.inside, needed.inside)
    outside = max(needed.outside, design.outside - (inside - design.inside))
    b = profile.bleed
    return dataclasses.replace(design, inside=inside, outside=outside, top=max(design.top, needed.top),
                               bottom=max(design.bottom, needed.bottom)).with_bleed(
        b.top, b.outside, b.bottom, b.inside, marks=profile.marks)


def _settled_layout(book: Book, profile, lay_out, recorded_count=None):
    """``lay_out(edition, settles)`` -> (result, print pages), with the profile's
    geometry for the book's page count: the gutter depends on the final count,
    so lay out again when the count moves it to another band (it settles at once
    in practice). ``settles(pages)`` tells ``lay_out`` whether its layout is the
    one kept (the PDF task writes no PDF from one that is not). Starts from the
    profile's fewest pages, so that the same sources always settle on the same
    geometry. ``recorded_count(edition)`` (print pages, or None) may tell the
    count without the full layout: a geometry the book moves on from is then
    not laid out at all."""
    from .paging import PrintEdition

    attempts = 4
    pages, result, edition = profile.min_pages, None, None
    for attempt in range(attempts):
        geometry = print_geometry(book, profile, pages)
        edition = PrintEdition(geometry, pdf_variant=profile.pdf_variant,
                               output_intent_icc="icc/artifex-swop-cmyk.icc" if profile.pdf_variant else None,
                               links=profile.allow_annotations, bookmarks=profile.allow_outlines,
                               even_pages=profile.even_pages)
        last = attempt == attempts - 1

        def settles(count: int, geometry=geometry, last=last) -> bool:
            return last or print_geometry(book, profile, count) == geometry

        known = recorded_count(edition) if recorded_count and not last else None
        if known is not None and not settles(known):
            say(f"{known} pages at a {geometry.inside:g} in inside margin ({profile.name}), by the last "
                 "build's layout records: the gutter grows, that layout is skipped")
            pages = known
            continue
        result, pages = lay_out(edition, settles)
        if settles(pages):
            break
        say(f"{pages} pages at a {geometry.inside:g} in inside margin: {profile.name} asks for a wider gutter, "
             "laying the book out again")
    return edition, result


def _pages_from_records(paths: Paths, book_html, book: Book, edition, records, refused: list[str]):
    """The book's pages (`paging.BookPages`) from ``records``, laying out, without
    drawing, only the parts they miss; of those, only the anchors are kept (a
    book's worth of laid-out pages is most of the PDF task's memory)."""
    from .paging import BLANK_PAGE, assemble, body_parts, lay_out_in_order

    body = body_parts(book_html, book, edition.geometry)
    typesetter = None  # made at the first part without a record (WeasyPrint's import and fonts)

    def setter():
        nonlocal typesetter
        if typesetter is None:
            from .pdf import Typesetter

            typesetter = Typesetter(edition, content=paths.content, templates=paths.templates, styles=paths.styles)
        return typesetter

    refused.extend(_lay_out_missing_sections(setter, body, records))

    def lay_out(html: str, css: str, first_folio: int | None):
        part = records.get(html, css)
        if part is None:
            part = records.put(html, css, setter().lay_out(html, css, first_folio))
        return part

    def lay_out_matter(front, contents, back):
        """The contents and index laid out in a forked child beside the front matter (only their
        anchors come back: a part's page breaks do not depend on its folios), when none is recorded."""
        from .sidebyside import can_fork, side_by_side

        if any(records.has(*part[:2]) for part in (front, contents, back)) or not can_fork():
            return lay_out_in_order(lay_out, front, contents, back)
        here = setter()  # made before the fork: the child has it too

        def anchors_beside():
            refused_before = len(here.fetcher.refused)
            return ([[list(page.anchors) for page in here.lay_out(*part).pages] for part in (contents, back)],
                    here.fetcher.refused[refused_before:])

        ((contents_anchors, back_anchors), refused_beside), front_laid = side_by_side(anchors_beside,
                                                                                     lambda: lay_out(*front))
        refused.extend(refused_beside)
        records.missed += 2
        return (front_laid, records.put_anchors(contents[0], contents[1], contents_anchors),
                records.put_anchors(back[0], back[1], back_anchors))

    # WeasyPrint's warnings (logged, not printed) are the PDF task's to report.
    laid = assemble(book_html, book, edition.geometry, lay_out, BLANK_PAGE, body, lay_out_matter)
    refused.extend(typesetter.fetcher.refused if typesetter else [])
    return laid


def _lay_out_missing_sections(setter, body: list[tuple[str, str]], records) -> list[str]:
    """Record the sections ``records`` miss, laid out on two cores when the machine has
    them: a section's pages break the same wherever its folios start, and only their
    anchors cross from the forked child. Returns the URLs the renderer refused there
    (this process's own stay in the typesetter's fetcher)."""
    from .sidebyside import can_fork, side_by_side

    missing = [(html, css) for html, css in body if not records.has(html, css)]
    if len(missing) < 2 or not can_fork():
        return []  # `assemble` lays them out as it meets them
    # Made before the fork, so the child shares its fonts and style sheets; the fonts'
    # temporary folder is then this process's, removed when it is done with it (a folder
    # the child made would outlive it: a forked child exits without clean-up).
    typesetter = setter()

    def lay_out(share: list[tuple[str, str]]):
        return [[list(page.anchors) for page in typesetter.lay_out(html, css).pages] for html, css in share]

    def lay_out_beside():
        refused_before = len(typesetter.fetcher.refused)
        return lay_out(theirs), typesetter.fetcher.refused[refused_before:]

    # Every other section each, so that both halves take about as long.
    theirs, mine = missing[1::2], missing[0::2]
    (their_pages, their_refused), my_pages = side_by_side(lay_out_beside, lambda: lay_out(mine))
    for (html, css), pages in [*zip(theirs, their_pages), *zip(mine, my_pages)]:
        records.put_anchors(html, css, pages)
    records.missed += len(missing)
    return their_refused


def _refused(paths: Paths, urls: list[str]) -> bool:
    for url in urls:
        say(f"{display_path(paths.content)}:1: error[unsafe-url]: the renderer was asked for {url!r}, "
             "which is outside the project; nothing was written")
    return bool(urls)


def _profile_or_fail(profile_name: str, task: str):
    from .profiles import PROFILES, get_profile

    if profile_name not in PROFILES:
        say(f"{task}: unknown print profile {profile_name!r}; choose one of {', '.join(PROFILES)}")
        return None
    return get_profile(profile_name)


def _layout_inputs(paths: Paths, task: str, profile_name: str, version: str | None, strict: bool, cached: bool):
    """(profile, book, its HTML) for laying the book out; None after telling what is wrong."""
    from .html import BookHtml, RenderContext
    from .timestamps import iso_timestamp

    profile = _profile_or_fail(profile_name, task)
    book = _book_or_fail(paths, strict, cached) if profile else None
    if book is None:
        return None
    return profile, book, BookHtml(paths.templates,
                                   RenderContext(book, version, iso_timestamp(book.metadata.review_date)),
                                   cache=paths.build / "cache")


def build_pdf(paths: Paths, version: str | None = None, strict: bool = False, profile_name: str = "kdp",
              cached: bool = False) -> bool:
    """Lay the book out once, with the print profile's geometry, and write from
    that one layout the reading edition and the print interior waiting for
    preflight (`publish_print`); record what each part's pages hold, for the
    page map (`build_page_map`)."""
    from . import fontprograms, headstart
    from .taskinputs import section_listing

    # The hyphenation dictionary is parsed (when build/cache has none; the language as dodo.py's
    # listing read it: a wrong guess costs only a parse) and the fonts worked out beside the
    # process that imports WeasyPrint and lays out: by this one, when the section tasks started
    # a worker that has been importing it meanwhile (`headstart`), else by a forked helper.
    first = hyphenation.ahead(section_listing(paths.content, paths.build).language, paths.build / "cache")
    ran, result = headstart.run(_build_pdf_in_worker, (paths, version, strict, profile_name, cached),
                                give=functools.partial(fontprograms.give, styles=paths.styles, first=first))
    if ran:
        return result
    font_programs = fontprograms.FontPrograms.beside(paths.styles, first=first)
    try:
        return _build_pdf(paths, version, strict, profile_name, cached, font_programs)
    finally:
        font_programs.close()


def _build_pdf_in_worker(paths: Paths, version: str | None, strict: bool, profile_name: str, cached: bool) -> bool:
    from . import headstart
    from .fontprograms import FontPrograms

    font_programs = FontPrograms.from_parent(headstart.gift())
    try:
        return _build_pdf(paths, version, strict, profile_name, cached, font_programs)
    finally:
        font_programs.close()


def _build_pdf(paths: Paths, version: str | None, strict: bool, profile_name: str, cached: bool,
               font_programs: FontPrograms) -> bool:
    from .pagegeometry import inches
    from .paging import LayoutRecords, environment_key, save_records
    from .pdf import render_pdf
    from .preflight import preflight, report_record
    from .timestamps import source_date_epoch

    # Before the inputs are read: the page map kept under this key is of the inputs laid out.
    key = layout_key(paths.content, paths.build, paths.templates, paths.styles, profile_name, version, strict,
                     cached)
    inputs = _layout_inputs(paths, "pdf", profile_name, version, strict, cached)
    if inputs is None:
        return False
    profile, book, book_html = inputs
    font_programs.first_done()  # the dictionary kept by the helper
    hyphenation.preload(book.metadata.language, paths.build / "cache")  # before any child is forked
    trim = inches(book.metadata.trim_width), inches(book.metadata.trim_height)

    def check_print(data: bytes) -> str:  # beside the reading edition's write: the print task publishes
        return report_record(data, preflight(data, profile, *trim))
    started = time.perf_counter()
    records_path = layout_records_path(paths)
    earlier, settled = LayoutRecords.saved_environments(records_path)
    tried: list[LayoutRecords] = []  # saved in order: a geometry laid out here replaces its old records

    @functools.cache  # it hashes the package, styles and fonts: once per geometry
    def environment_of(edition) -> str:
        return environment_key(edition, styles=paths.styles, content=paths.content)

    def recorded_count(edition):
        # Only a geometry the last build tried and moved on from is worth counting from its
        # records (and the parts changed since): the one it settled on is laid out in full anyway.
        environment = environment_of(edition)
        if environment not in earlier or environment == settled:
            return None
        records = LayoutRecords.load(records_path, environment)
        laid = _pages_from_records(paths, book_html, book, edition, records, [])
        tried.append(records)  # kept for the next build and the page map
        return laid.print_page_count(edition.even_pages)

    def lay_out(edition, settles):
        tried.append(LayoutRecords(environment_of(edition)))
        result = render_pdf(book_html, book, content=paths.content, templates=paths.templates, styles=paths.styles,
                            edition=edition, records=tried[-1], keep=settles, check_print=check_print,
                            before_writes=font_programs.receive,
                            meanwhile=functools.partial(_cover_meanwhile, paths))
        return result, result.pages

    with source_date_epoch_set(source_date_epoch(book.metadata.review_date)), laying_out_a_book():
        _, result = _settled_layout(book, profile, lay_out, recorded_count)
    for message in result.warnings:
        say(renderer_warning(message, book, paths.styles))
    if _refused(paths, result.refused_urls):
        return False
    slug = book.metadata.slug
    write_atomic(paths.build / f"{slug}.pdf", result.reading_data)
    write_atomic(unchecked_print_path(paths, slug), result.print_data)
    if result.print_check is not None:
        write_atomic(print_check_path(paths, slug), result.print_check)
    save_records(records_path, tried)
    _keep_page_map(paths, key, slug, result.page_map)
    stages = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in result.stages.items())
    say(f"laid out {result.reading_pages} pages ({profile.name} geometry) in "
         f"{time.perf_counter() - started:.2f} s ({stages}); wrote {display_path(paths.build / f'{slug}.pdf')}")
    return True


def kept_page_map_path(paths: Paths) -> Path:
    return paths.build / "cache" / "pages.json"


def _keep_page_map(paths: Paths, key: str, slug: str, pages: list[pagemap.PrintPage]) -> None:
    """The PDF task's page map, kept for the page map task under the key of the inputs laid out."""
    import json

    write_atomic(kept_page_map_path(paths), json.dumps({"key": key, "slug": slug,
                                                        "map": pagemap.to_json(pages)}).encode())


def _kept_page_map(paths: Paths, key: str) -> tuple[str, str] | None:
    """(slug, page map) the PDF task kept under ``key``, or None."""
    import json

    try:
        kept = json.loads(kept_page_map_path(paths).read_text(encoding="utf-8"))
        if kept["key"] == key:
            return str(kept["slug"]), str(kept["map"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def build_page_map(paths: Paths, version: str | None = None, strict: bool = False, profile_name: str = "kdp",
                   cached: bool = False) -> bool:
    """Write where each printed page begins (build/<slug>.pages.json), for the EPUB's page list.

    The pages are those of the PDF task's layout: its map, when the inputs are
    those it laid out (`taskinputs.layout_key`), else assembled from its records
    (`paging.LayoutRecords`): only parts the PDF task has not laid out as they
    are now (an edited section, or everything before the first PDF) are laid
    out here, and nothing is drawn or written but the map."""
    started = time.perf_counter()
    kept = _kept_page_map(paths, layout_key(paths.content, paths.build, paths.templates, paths.styles,
                                            profile_name, version, strict, cached))
    if kept is not None:
        slug, text = kept
        write_atomic(page_map_path(paths, slug), text)
        say(f"mapped {len(pagemap.from_json(text))} pages in {time.perf_counter() - started:.2f} s: the PDF "
             f"task's layout of these inputs; wrote {display_path(page_map_path(paths, slug))}")
        return True
    # Parts to lay out (an edited section, or the book before a PDF): in the worker that has been
    # importing WeasyPrint while the section tasks ran, when there is one.
    from . import headstart

    args = (paths, version, strict, profile_name, cached, started)
    ran, result = headstart.run(_page_map_from_records, args)
    return result if ran else _page_map_from_records(*args)


def _page_map_from_records(paths: Paths, version: str | None, strict: bool, profile_name: str, cached: bool,
                           started: float) -> bool:
    from .paging import LayoutRecords, environment_key, save_records

    inputs = _layout_inputs(paths, "pagemap", profile_name, version, strict, cached)
    if inputs is None:
        return False
    profile, book, book_html = inputs
    hyphenation.preload(book.metadata.language, paths.build / "cache")
    records_path = layout_records_path(paths)
    tried: list[LayoutRecords] = []
    refused: list[str] = []

    def lay_out_book(edition, settles):
        records = LayoutRecords.load(records_path, environment_key(edition, styles=paths.styles,
                                                                   content=paths.content))
        tried.append(records)
        laid = _pages_from_records(paths, book_html, book, edition, records, refused)
        return laid, laid.print_page_count(edition.even_pages)

    with laying_out_a_book():
        _, laid = _settled_layout(book, profile, lay_out_book)
    if _refused(paths, list(dict.fromkeys(refused))):
        return False
    pages = pagemap.build_page_map(laid.html, [set(page.anchors) for page in laid.pages], laid.body_start)
    write_atomic(page_map_path(paths, book.metadata.slug), pagemap.to_json(pages))
    missed = sum(records.missed for records in tried)
    if missed:
        save_records(records_path, tried)
    parts = sum(len(records.used) for records in tried)
    others = "" if missed == parts else ", the others as the PDF task laid them out"
    say(f"mapped {len(pages)} pages in {time.perf_counter() - started:.2f} s: {missed} of {parts} parts laid "
         f"out here{others}; wrote {display_path(page_map_path(paths, book.metadata.slug))}")
    return True


def publish_print(paths: Paths, profile_name: str = "kdp") -> bool:
    """Preflight the print interior; write build/<slug>-print.pdf only when it passes."""
    from .pagegeometry import inches
    from .preflightreport import recorded_report
    from .profiles import get_profile

    metadata = _metadata_or_fail(paths)
    if metadata is None:
        return False
    candidate = unchecked_print_path(paths, metadata.slug)
    if not candidate.exists():
        say(f"{display_path(candidate)}:1: error[no-layout]: run `doit pdf` first")
        return False
    data = candidate.read_bytes()
    trim = inches(metadata.trim_width), inches(metadata.trim_height)
    recorded = print_check_path(paths, metadata.slug)
    # The PDF task preflights the interior as it writes it; checked again here when that report
    # is not of these bytes, this profile and this checker.
    report = recorded_report(recorded.read_text(encoding="utf-8"), data, profile_name, *trim) \
        if recorded.exists() else None
    if report is None:
        from .preflight import preflight  # pypdf and pdfium: only to check again

        report = preflight(data, get_profile(profile_name), *trim)
    stem = paths.build / f"{metadata.slug}-print"
    report_file = stem.with_name(stem.name + "-preflight.md")
    write_atomic(report_file, report.to_markdown())
    write_atomic(stem.with_name(stem.name + "-preflight.json"), report.to_json())
    if not report.passed:
        for failure in report.failures:
            say(f"{display_path(stem.with_suffix('.pdf'))}:1: error[preflight]: {failure}: "
                 f"{report.check(failure).message}")
        say(f"preflight FAILED for {profile_name} (report: {display_path(report_file)}); the print interior "
             "was not written: the printer would reject it")
        return False
    write_atomic(stem.with_suffix(".pdf"), data)
    say(f"preflight passed for {profile_name} ({display_path(report_file)}); wrote "
         f"{display_path(stem.with_suffix('.pdf'))}")
    return True


def build_print(paths: Paths, profile_name: str = "kdp", version: str | None = None, strict: bool = False) -> bool:
    """Both PDFs for a profile, the print interior only if it passes preflight."""
    return build_pdf(paths, version, strict, profile_name) and publish_print(paths, profile_name)


def run_preflight(paths: Paths, slug: str, profile_name: str) -> bool:
    """Check the existing print interior against its profile again and print the report."""
    from .pagegeometry import inches
    from .preflight import preflight

    metadata = _metadata_or_fail(paths)
    if metadata is None:
        return False
    pdf_file = paths.build / f"{slug}-print.pdf"
    report = preflight(pdf_file, profile_name, inches(metadata.trim_width), inches(metadata.trim_height))
    print(report.to_markdown())
    return report.passed


def run_proof(paths: Paths, slug: str) -> bool:
    """A contact sheet of the print interior's spreads, and the spread where Section 1 continues."""
    from .proof import contact_sheet, spread

    pdf_file = paths.build / f"{slug}-print.pdf"
    write_atomic(paths.build / f"{slug}-proof.png", contact_sheet(pdf_file))
    map_file = page_map_path(paths, slug)
    first_body_page = pagemap.body_start_index(pagemap.from_json(map_file.read_text())) if map_file.exists() else 0
    # The verso after the first section's opener and the recto facing it.
    write_atomic(paths.build / f"{slug}-spread.png", spread(pdf_file, first_body_page + 1))
    say(f"wrote {display_path(paths.build / f'{slug}-proof.png')} and {display_path(paths.build / f'{slug}-spread.png')}")
    return True


def run_preview(paths: Paths, section_number: str | None, cached: bool = False, watch: bool = False) -> bool:
    """One section's pages as a PDF and PNGs in build/preview/, for a quick look while editing
    (`preview.SectionPreview`); with ``watch``, again after each saved edit until Ctrl-C
    (`preview.watch`). ``cached``: the model from the check task (under doit, which re-reads
    only the edited section)."""
    from . import preview

    book = _book_or_fail(paths, False, cached)
    if book is None:
        return False
    numbers = [str(s.number) for s in book.sections]
    if section_number not in numbers:
        say(f"preview: name a section: doit preview section=N, with N from 1 to {len(numbers)}")
        return False
    if watch:
        return preview.watch(paths, int(section_number), first=book)
    return preview.SectionPreview(paths, int(section_number)).render(book)


def _cover_record_path(paths: Paths) -> Path:
    return paths.build / "cache" / "cover.json"


def cover_image(paths: Paths) -> tuple[bool, list[str]]:
    """The EPUB's cover image (1600 x 2560 px, from the front cover design) in build/cache,
    rendered unless the image there was made from the same files (`cover.epub_cover_key`), by
    the cover task or, ahead of it, by the PDF task. It shows handbook.yaml's facts only (a
    tab per listed section), so it reads handbook.yaml and none of the sections. (True, the
    warnings its rendering gave), or (False, []) after telling what is wrong with handbook.yaml."""
    import json

    from .cover import epub_cover_key

    key = epub_cover_key(paths.content, paths.templates, paths.styles)
    image_path, record_path = cover_image_path(paths), _cover_record_path(paths)
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if record["key"] == key and image_path.is_file():
            return True, list(record["warnings"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    # Only now the reader and the renderer: a kept image needs neither.
    from .cover import CoverTooFull, epub_cover_png
    from .reader import read_metadata, section_sources
    from .timestamps import iso_timestamp

    diagnostics = Diagnostics()
    loaded = read_metadata(paths.content, diagnostics)
    if loaded is None:
        report(diagnostics)
        say("cover: fix handbook.yaml (the errors above); the previous cover image was kept.")
        return False, []
    metadata, data, node, shown = loaded
    sections = section_sources(paths.content, data, node, shown, Diagnostics())  # the check task reports these
    messages: list[str] = []
    try:
        image = epub_cover_png(paths.templates, paths.styles, metadata, len(sections),
                               iso_timestamp(metadata.review_date), messages)
    except CoverTooFull as problem:
        say(f"{metadata.title_at}: error[cover]: {problem}; the previous outputs were kept")
        return False, []
    warnings = [f"{metadata.location}: warning[cover]: {message} (the cover's fonts lack a character "
                "of the title: the cover image shows an empty box for it)" for message in messages]
    write_atomic(image_path, image)
    # After the image: a record never vouches for an image that was not written.
    write_atomic(record_path, json.dumps({"key": key, "warnings": warnings}).encode())
    return True, warnings


def _cover_meanwhile(paths: Paths) -> None:
    """The PDF task's spare core renders the EPUB's cover image ahead of the cover task, which
    then reports its warnings. Anything wrong is left for the cover task to meet again."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            cover_image(paths)
    except Exception:  # noqa: BLE001 - the cover task renders it again and reports what is wrong
        pass


def build_cover_image(paths: Paths) -> bool:
    """The `cover` task: the cover image, kept in build/cache for the EPUB."""
    made, warnings = cover_image(paths)
    for message in warnings:
        say(message)
    return made


def page_map_path(paths: Paths, slug: str) -> Path:
    return paths.build / f"{slug}.pages.json"


def build_epub(paths: Paths, version: str | None = None, strict: bool = False, cached: bool = False) -> bool:
    from .epub import build_epub as make_epub

    book = _book_or_fail(paths, strict, cached)
    if book is None:
        return False
    started = time.perf_counter()
    map_file = page_map_path(paths, book.metadata.slug)
    pages = pagemap.from_json(map_file.read_text()) if map_file.exists() else None
    if pages is None:
        say(f"{display_path(map_file)}:1: warning[no-page-map]: build the PDF first (`doit pdf`) so that "
             "the EPUB's page list matches the print edition; this EPUB has no page list")
    cover_file = cover_image_path(paths)
    # made by the `cover` task when doit runs: the design changes far less often than the text
    if not cover_file.exists() and not build_cover_image(paths):
        return False
    cover = cover_file.read_bytes()
    data = make_epub(book, templates=paths.templates, styles=paths.styles, content=paths.content, version=version,
                     pages=pages, cover_png=cover, template_cache=paths.build / "cache")
    target = paths.build / f"{book.metadata.slug}.epub"
    write_atomic(target, data)
    say(f"packed {len(book.sections)} section documents in {time.perf_counter() - started:.2f} s; "
         f"wrote {display_path(target)}")
    return True


def run_import(outline: Path, content: Path, title: str | None, slug: str | None) -> bool:
    from .outline import import_outline

    if outline is None:
        say("import: name the outline file: doit import outline=FILE content=DIR [title=T slug=S]")
        return False
    try:
        diagnostics = import_outline(outline, content, title=title, slug=slug)
    except BuildError as exc:
        report(exc.diagnostics)
        say(f"import failed: nothing was written to {display_path(content)}")
        return False
    report(diagnostics)
    print(f"imported {display_path(outline)} into {display_path(content)}")
    return True


def run_validate(paths: Paths, slug: str) -> bool:
    """EPUBCheck and Ace on the built EPUB; fails on what retailers reject."""
    from . import validate

    epub_file = paths.build / f"{slug}.epub"
    findings = validate.epubcheck(epub_file)
    say(f"EPUBCheck 5 and 4.2.6 (Kobo's): {len(findings)} message(s)")
    try:
        ace_findings = validate.ace(epub_file, paths.build / "ace")
        say(f"Ace: {len(ace_findings)} violation(s); report in {display_path(paths.build / 'ace' / 'report.html')}")
        findings += ace_findings
    except validate.AceUnavailable as reason:
        say(f"{display_path(epub_file)}:1: error[ace-missing]: {reason}")
        return False
    for finding in findings:
        say(str(finding))
    bad = validate.failing(findings)
    say(f"validate {'failed' if bad else 'passed'}: {len(bad)} blocking finding(s)")
    return not bad


def run_release(paths: Paths, version: str | None, dist: Path, previous: Path | None = None,
                profile_name: str = "kdp", strict: bool = False) -> bool:
    """dist/V/: every asset built, checked and checksummed in a staging folder, then moved into place.
    ``strict``: a warning about the sources fails the release too."""
    import shutil
    import tempfile

    from . import release

    root = Path(__file__).resolve().parents[2]
    metadata = _metadata_or_fail(paths)
    if metadata is None:
        return False
    version = release.release_version(version, metadata.version, root)
    if not version or not release.VERSION.match(version):
        say(f"release: {'invalid version ' + repr(version) if version else 'no version'}: "
             "run `doit release version=V` (letters, digits, . - + _), set `version:` in handbook.yaml, "
             "or tag the commit v<V>")
        return False
    epoch = os.environ.get("SOURCE_DATE_EPOCH") or release.git_commit_time(root)
    dist.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=dist))
    try:
        with source_date_epoch_set(int(epoch)) if epoch else nullcontext():
            ok = _release_into(paths, staging, version, metadata.slug, dist, previous, profile_name, strict)
        if not ok:
            say(f"release {version} failed: {display_path(dist)} was left as it was")
            return False
        release.install(staging / "assets", dist / version)
        say(f"released {version}: {display_path(dist / version)} (verify with `sha256sum -c SHA256SUMS` there)")
        return True
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _release_into(paths: Paths, staging: Path, version: str, slug: str, dist: Path, previous: Path | None,
                  profile_name: str, strict: bool = False) -> bool:
    import json
    import shutil

    from . import release, validate
    from .profiles import get_profile

    from pypdf import PdfReader

    from .cover import CoverTooFull
    from .sectioncache import load_cached_book
    from .wrapcover import render_wrap_cover

    work = Paths(content=paths.content, build=staging / "build", templates=paths.templates, styles=paths.styles)
    assets = staging / "assets"
    assets.mkdir()
    # As under doit: the check step reads and saves the model once; every asset renders from it.
    if not (run_check(paths.content, work.build, strict, cached=True)
            and build_pdf(work, version, False, profile_name, cached=True) and publish_print(work, profile_name)
            and build_page_map(work, version, False, profile_name, cached=True)
            and build_epub(work, version, cached=True)):
        return False
    problems = validate.failing(validate.epubcheck(work.build / f"{slug}.epub"))
    for finding in problems:
        say(str(finding))
    if problems:
        return False
    book = load_cached_book(work.build)
    for name in (f"{slug}.pdf", f"{slug}.epub", f"{slug}-print.pdf"):
        shutil.copyfile(work.build / name, assets / name)
    pages = len(PdfReader(work.build / f"{slug}-print.pdf").pages)
    try:
        cover = render_wrap_cover(book, get_profile(profile_name), pages, templates=paths.templates,
                                  styles=paths.styles)
    except CoverTooFull as problem:
        say(f"{book.metadata.title_at}: error[cover]: {problem}")
        return False
    (assets / f"{slug}-cover.pdf").write_bytes(cover)
    data = release.book_data(book, version)
    (assets / f"{slug}.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if previous is not None:
        previous_data = json.loads(Path(previous).read_text(encoding="utf-8"))
        previous_version = previous_data.get("version")
    else:
        previous_data, previous_version = release.newest_previous(dist, slug, version)
    (assets / "RELEASE-NOTES.md").write_text(
        release.release_notes(book, version, previous_data, previous_version), encoding="utf-8")
    (assets / "SHA256SUMS").write_text(release.sha256sums(assets), encoding="utf-8")
    return True


def run_pod(paths: Paths, slug: str, profile_name: str) -> bool:
    """build/pod/NAME/: everything a person types into the print service's form, and uploads."""
    from .cover import CoverTooFull
    from .pod import PodError, write_pod_package

    book = _book_or_fail(paths, False)
    if book is None:
        return False
    stem = paths.build / f"{slug}-print"
    proof = paths.build / f"{slug}-proof.png"
    try:
        folder = write_pod_package(paths, profile_name, interior_pdf=stem.with_suffix(".pdf"),
                                   preflight_report_md=stem.with_name(stem.name + "-preflight.md"),
                                   preflight_report_json=stem.with_name(stem.name + "-preflight.json"),
                                   proof_png=proof if proof.exists() else None, book=book)
    except PodError as problem:
        say(f"{display_path(stem.with_suffix('.pdf'))}:1: error[pod]: {problem}")
        return False
    except CoverTooFull as problem:
        say(f"{book.metadata.title_at}: error[cover]: {problem}; nothing in build/pod was changed")
        return False
    say(f"wrote the {profile_name} submission package: {display_path(folder)} "
         f"(start with {display_path(folder / 'submission.md')})")
    return True
