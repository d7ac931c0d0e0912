"""Build tasks for handbook-press. Run `doit list` to see them.

Variables (doit NAME=VALUE): content=DIR (sources, default content/),
build=DIR (outputs, default build/), strict=1 (warnings fail), version=V.
Logic lives in the handbook_press package; this file only declares tasks.
"""

from pathlib import Path

from doit import get_var
from doit.exceptions import TaskFailed
from doit.tools import config_changed

from handbook_press import doitprocess, ffideclarations, headstart
from handbook_press.buildpaths import Paths, cover_image_path, print_check_path, unchecked_print_path
from handbook_press.sectioncache import book_cache_path, section_cache_path
from handbook_press.taskinputs import (code_stamp_path, cover_inputs, layout_inputs, section_listing,
                                       template_files, write_code_stamp)

DOIT_CONFIG = {"default_tasks": ["check", "pdf", "print", "epub"], "verbosity": 2,
               "reporter": doitprocess.Reporter,  # doit's output; a run that succeeded ends at once
               "check_file_uptodate": doitprocess.DigestChecker}  # each file hashed once a run

ROOT = Path(__file__).parent
CONTENT = Path(get_var("content", "content"))
BUILD = Path(get_var("build", "build"))
STRICT = get_var("strict", "0") not in ("0", "", "no", "false")
VERSION = get_var("version", None)
PROFILE = get_var("profile", "kdp")
PATHS = Paths(content=CONTENT, build=BUILD, templates=ROOT / "templates", styles=ROOT / "styles")
LISTING = section_listing(CONTENT, BUILD)  # handbook.yaml read once (remembered in build/cache)
SLUG = LISTING.slug
doitprocess.report_interrupts()  # Ctrl-C: one line, not a traceback
ffideclarations.keep_in(BUILD / "cache")  # WeasyPrint's C declarations parsed once, not in every task
headstart.allow()  # the section tasks fork a worker that imports WeasyPrint for the PDF task


def _build(name: str):
    """A doit action calling ``name`` of handbook_press.build, which prints its own messages and
    returns success; the module is imported when the task runs (a run with nothing to do never
    loads it)."""

    def action(*args):
        from handbook_press import build

        return True if getattr(build, name)(*args) else TaskFailed("see the messages above")

    action.__name__ = name
    return action


def _files(folder: Path, pattern: str = "*") -> list[str]:
    return sorted(str(p) for p in folder.rglob(pattern) if p.is_file())


SOURCES = _files(CONTENT)
METADATA = str(CONTENT / "handbook.yaml")
SECTIONS = LISTING.sections  # (key, file) of each section file
SECTION_CACHES = [str(section_cache_path(BUILD, key)) for key, _ in SECTIONS]
BOOK_CACHE = str(book_cache_path(BUILD))
# Files the books embed besides the text (images): the text reaches them through the model.
ASSETS = [f for f in SOURCES if not f.endswith((".md", ".yaml"))]
CODE = _files(ROOT / "src" / "handbook_press", "*.py")
CODE_STAMP = str(code_stamp_path(BUILD))
CONFIG = {"strict": STRICT, "version": VERSION}
PRINT_CONFIG = {**CONFIG, "profile": PROFILE}


def task_code():
    """Stamp the package's code (build/cache/code.sha256): one dependency for each section task."""
    return {
        "actions": [(write_code_stamp, [CODE, CODE_STAMP])],
        "file_dep": CODE,
        "targets": [CODE_STAMP],
        "verbosity": 1,
    }


def task_sections():
    """Read each section file into the model cache (one task per section: an edit re-reads one)."""
    for key, file in SECTIONS:
        yield {
            "name": key,
            "actions": [(_build("cache_section_action"), [CONTENT, BUILD, key])],
            "file_dep": [str(file), METADATA, CODE_STAMP],
            "targets": [str(section_cache_path(BUILD, key))],
            "verbosity": 1,
        }


def task_check():
    """Check the sources and write the chapter renumbering (build/numbering.json)."""
    return {
        "actions": [(_build("run_check"), [CONTENT, BUILD, STRICT, True])],
        "file_dep": [METADATA] + SECTION_CACHES + CODE,
        "targets": [str(BUILD / "numbering.json"), BOOK_CACHE],
        # strict=1 checks again (warnings then fail); a Markdown file added or removed is checked
        # against the listing (one handbook.yaml does not list is left out of the book: a warning)
        "uptodate": [config_changed({"strict": STRICT, "markdown": [f for f in SOURCES if f.endswith(".md")]})],
    }


# The model, images, the book's templates, styles, fonts and code: what the layout is made from.
LAYOUT_INPUTS = [str(p) for p in layout_inputs(CONTENT, BUILD, PATHS.templates, PATHS.styles)]
PAGE_MAP = str(BUILD / f"{SLUG}.pages.json")


def task_pdf():
    """Lay the book out once: the reading edition build/<slug>.pdf and the print interior.

    The layout uses the print geometry of profile=NAME (kdp by default); the print interior
    waits in build/cache, preflighted as it was written, for the print task to publish it."""
    return {
        "actions": [(_build("build_pdf"), [PATHS, VERSION, STRICT, PROFILE, True])],
        "file_dep": LAYOUT_INPUTS,
        "targets": [str(BUILD / f"{SLUG}.pdf"), str(unchecked_print_path(PATHS, SLUG)),
                    str(print_check_path(PATHS, SLUG))],
        "uptodate": [config_changed(PRINT_CONFIG)],
        "clean": True,
    }


def task_pagemap():
    """Where each printed page begins (build/<slug>.pages.json), for the EPUB's page list.

    Taken from the PDF task's layout; only sections changed since the last PDF are laid out
    again (without drawing), so that an edit reaches the EPUB without the whole PDF."""
    return {
        "actions": [(_build("build_page_map"), [PATHS, VERSION, STRICT, PROFILE, True])],
        "file_dep": LAYOUT_INPUTS,
        "targets": [PAGE_MAP],
        "uptodate": [config_changed(PRINT_CONFIG)],
        "clean": True,
    }


def task_print():
    """Preflight the print interior (profile=NAME); write build/<slug>-print.pdf only if it passes.

    The report goes to build/<slug>-print-preflight.md and .json either way."""
    stem = BUILD / f"{SLUG}-print"
    return {
        "actions": [(_build("publish_print"), [PATHS, PROFILE])],
        "file_dep": [str(unchecked_print_path(PATHS, SLUG))] + CODE,
        "targets": [f"{stem}.pdf", f"{stem}-preflight.md", f"{stem}-preflight.json"],
        "clean": True,
    }


def task_preview():
    """Render one section's pages for a quick look: doit preview section=N [watch=1] (build/preview/).

    With watch=1 it stays up and previews again each time a file of the book is saved (Ctrl-C stops)."""
    templates = [str(p) for p in template_files(PATHS.templates, "pdf/preview.html.j2")]
    watch = get_var("watch", "0") not in ("0", "", "no", "false")
    return {
        "actions": [(_build("run_preview"), [PATHS, get_var("section", None), True, watch])],
        # the checked model: after an edit, doit re-reads that section alone first
        "file_dep": [BOOK_CACHE] + ASSETS + CODE + templates + _files(PATHS.styles),
        "uptodate": [False],
    }


def task_preflight():
    """Check the print interior against its profile again and show the report (profile=NAME)."""
    return {
        "actions": [(_build("run_preflight"), [PATHS, SLUG, PROFILE])],
        "file_dep": [str(BUILD / f"{SLUG}-print.pdf")],
        "uptodate": [False],
    }


def task_proof():
    """Render the print interior's spreads to a contact sheet (build/<slug>-proof.png) and one spread."""
    return {
        "actions": [(_build("run_proof"), [PATHS, SLUG])],
        "file_dep": [str(BUILD / f"{SLUG}-print.pdf"), PAGE_MAP],
        "targets": [str(BUILD / f"{SLUG}-proof.png"), str(BUILD / f"{SLUG}-spread.png")],
        "clean": True,
    }


def task_pod():
    """Write the print-on-demand submission package build/pod/<profile>/ (profile=NAME).

    Interior, wrap cover, preflight report, proof and the submission sheet."""
    stem = BUILD / f"{SLUG}-print"
    return {
        "actions": [(_build("run_pod"), [PATHS, SLUG, PROFILE])],
        "file_dep": [f"{stem}.pdf", f"{stem}-preflight.md", f"{stem}-preflight.json"] + CODE,
        "task_dep": ["proof"],
        "uptodate": [config_changed(PRINT_CONFIG)],
    }


def task_cover():
    """The EPUB's cover image, rendered from the front cover design (build/cache/cover.png)."""
    return {
        "actions": [(_build("build_cover_image"), [PATHS])],
        # The cover shows the title, subtitle, review date and one tab per section.
        "file_dep": [str(p) for p in cover_inputs(CONTENT, PATHS.templates, PATHS.styles)],
        "targets": [str(cover_image_path(PATHS))],
        "clean": True,
    }


def task_epub():
    """Build the EPUB 3 (build/<slug>.epub)."""
    templates = [str(p) for name in ("epub/document.xhtml.j2", "epub/nav.xhtml.j2")
                 for p in template_files(PATHS.templates, name)]
    styles = [str(PATHS.styles / "epub.css")]
    return {
        "actions": [(_build("build_epub"), [PATHS, VERSION, STRICT, True])],
        # The page list follows the print layout (the page map).
        "file_dep": [BOOK_CACHE] + ASSETS + CODE + templates + styles + [PAGE_MAP, str(cover_image_path(PATHS))],
        "targets": [str(BUILD / f"{SLUG}.epub")],
        "uptodate": [config_changed(CONFIG)],
        "clean": True,
    }


def task_validate():
    """Validate the EPUB with EPUBCheck and DAISY Ace (fails on errors, warnings, serious violations)."""
    return {
        "actions": [(_build("run_validate"), [PATHS, SLUG])],
        "file_dep": [str(BUILD / f"{SLUG}.epub")],
        "uptodate": [False],
    }


def task_release():
    """Build a release into dist/V/: doit release version=V [dist=DIR] [previous=S.json]."""
    previous = get_var("previous", None)
    return {
        "actions": [(_build("run_release"), [PATHS, VERSION, Path(get_var("dist", "dist")),
                                                    Path(previous) if previous else None, PROFILE, STRICT])],
        "uptodate": [False],
    }


def task_import():
    """Import an outline file: doit import outline=FILE content=DIR [title=T slug=S]."""
    outline = get_var("outline", None)
    return {
        "actions": [(_build("run_import"), [Path(outline) if outline else None, CONTENT,
                                        get_var("title", None), get_var("slug", None)])],
        "uptodate": [False],
        "verbosity": 2,
    }
