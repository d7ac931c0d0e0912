"""What dodo.py needs to declare its tasks, found without the renderers.

doit loads dodo.py on every run, a run with nothing to do included: this is
the part of that time that grows with the book. So the listing of section
files is remembered in ``build/cache/listing.json`` against handbook.yaml's
bytes (parsing a long handbook.yaml is most of a no-op run), and templates
are scanned for the templates they use instead of being compiled.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .files import write_atomic
from .filedigests import sha256_of
from .sectioncache import book_cache_path

METADATA_FILE = "handbook.yaml"
LISTING_FORMAT = 2
# {% import "x" %}, {% from "x" import … %}, {% extends "x" %}, {% include "x" %}: literal names,
# the only ones jinja2.meta.find_referenced_templates reports too.
TEMPLATE_REFERENCE = re.compile(r"""\{%-?\s*(?:import|from|extends|include)\s+(["'])([^"']+)\1""")


@dataclass(frozen=True)
class Listing:
    slug: str  # names the outputs; "handbook" while handbook.yaml cannot be read
    sections: list[tuple[str, Path]]  # (task key, file) of each listed section file that exists
    # The book's language: the PDF task has its hyphenation dictionary parsed ahead (`build.build_pdf`).
    language: str | None = None


def listing_cache_path(build: Path) -> Path:
    return Path(build) / "cache" / "listing.json"


def section_listing(content: Path, build: Path) -> Listing:
    """The slug, the language and the section files handbook.yaml lists and that exist."""
    content = Path(content)
    try:
        metadata = (content / METADATA_FILE).read_bytes()
    except OSError:
        return Listing("handbook", [])
    digest = hashlib.sha256(metadata).hexdigest()
    cache = listing_cache_path(build)
    try:
        saved = json.loads(cache.read_text(encoding="utf-8"))
        if saved["format"] == LISTING_FORMAT and saved["metadata"] == digest and saved["content"] == str(content):
            sections = [(key, Path(file)) for key, file in saved["sections"]]
            # A listed file created or deleted since changes the listing too.
            if all(f.is_file() for _, f in sections) and not any(Path(f).exists() for f in saved["missing"]):
                return Listing(saved["slug"], sections, saved["language"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    listing, missing = _read_listing(content)
    if listing is not None:
        try:
            write_atomic(cache, json.dumps({"format": LISTING_FORMAT, "metadata": digest, "content": str(content),
                                            "slug": listing.slug, "language": listing.language, "missing": missing,
                                            "sections": [[key, str(file)] for key, file in listing.sections]}))
        except OSError:  # a read-only build folder: parse again next time
            pass
    return listing or Listing("handbook", [])


def _read_listing(content: Path) -> tuple[Listing | None, list[str]]:
    from .diagnostics import Diagnostics
    from .reader import read_metadata, section_sources
    from .sectioncache import section_key

    loaded = read_metadata(content, Diagnostics())
    if loaded is None:
        return None, []
    metadata, data, node, shown = loaded
    sources = section_sources(content, data, node, shown, Diagnostics())
    named = [entry.get("file") if isinstance(entry, dict) else entry for entry in data["sections"]]
    missing = [str((content / name).resolve()) for name in named
               if isinstance(name, str) and not (content / name).is_file()]
    return Listing(metadata.slug, [(section_key(content, s.file), s.file) for s in sources],
                   metadata.language), missing


def template_files(templates: Path, name: str) -> list[Path]:
    """``name`` and every template it imports, extends or includes (for doit's file_dep)."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        source = (Path(templates) / current).read_text(encoding="utf-8")
        todo.extend(match[2] for match in TEMPLATE_REFERENCE.finditer(source))
    return [Path(templates) / t for t in sorted(seen)]


def inputs_digest(files: list[Path], *settings: str) -> str:
    """A digest of ``files`` (names and contents' digests; a missing file counts as empty) and ``settings``:
    the key under which a task's output made ahead by another task is kept (`cover.epub_cover_key`,
    `layout_key`)."""
    digest = hashlib.sha256()
    for setting in settings:
        digest.update(setting.encode("utf-8") + b"\0")
    for path in files:
        path = Path(path)
        digest.update(b"\0" + path.name.encode() + b"\0" + (sha256_of(path).encode() if path.is_file() else b""))
    return digest.hexdigest()


def layout_inputs(content: Path, build: Path, templates: Path, styles: Path) -> list[Path]:
    """Every file the book's layout is made from: the checked model (build/cache/book.pickle),
    the files the text embeds, the book's templates, the styles and fonts, and the package's
    code. The PDF and page map tasks depend on them; `layout_key` digests them."""
    return [book_cache_path(build), *_layout_files_besides_the_book(content, templates, styles)]


def _layout_files_besides_the_book(content: Path, templates: Path, styles: Path) -> list[Path]:
    package = Path(__file__).parent
    assets = sorted(p for p in Path(content).rglob("*") if p.is_file() and p.suffix not in (".md", ".yaml"))
    return [*assets, *template_files(templates, "pdf/book.html.j2"),
            *sorted(p for p in Path(styles).rglob("*") if p.is_file()), *sorted(package.glob("*.py"))]


def layout_key(content: Path, build: Path, templates: Path, styles: Path, profile: str, version: str | None,
               strict: bool, cached: bool) -> str:
    """The same key, the same layout: the PDF task keeps its page map under it for the page map task.
    ``cached``: the book is the checked model in build/cache, as in doit's tasks; else it is read
    from the sources, which the key then digests in its place."""
    if cached:
        files = layout_inputs(content, build, templates, styles)
    else:
        sources = sorted(p for p in Path(content).rglob("*") if p.suffix in (".md", ".yaml") and p.is_file())
        files = [*sources, *_layout_files_besides_the_book(content, templates, styles)]
    return inputs_digest(files, f"profile={profile}", f"version={version}", f"strict={strict}", f"cached={cached}")


def cover_inputs(content: Path, templates: Path, styles: Path) -> list[Path]:
    """Every file the EPUB's cover image is made from: handbook.yaml (the facts it shows), the
    cover's templates, styles and fonts, and the package's code. The cover task depends on
    them; `cover.epub_cover_key` digests them."""
    package = Path(__file__).parent
    fonts = Path(styles) / "fonts"
    return [Path(content) / METADATA_FILE, *template_files(templates, "cover/front.html.j2"),
            Path(styles) / "cover.css", Path(styles) / "fonts.css",
            *sorted(path for path in fonts.rglob("*") if path.is_file()), *sorted(package.glob("*.py"))]


def code_stamp_path(build: Path) -> Path:
    return Path(build) / "cache" / "code.sha256"


def write_code_stamp(code: list[str], target: Path) -> bool:
    """One file that changes when any of ``code`` does: the per-section tasks depend on it
    instead of on every module (doit reads and checks each dependency of each task on every run,
    a no-op too: a thousand sections times thirty modules is most of that run on a big book).
    Rewritten only when the code changed, so a checkout that touches files re-runs nothing."""
    digest = hashlib.sha256()
    for name in sorted(code):
        digest.update(Path(name).name.encode("utf-8") + b"\0" + sha256_of(name).encode() + b"\0")
    text = digest.hexdigest() + "\n"
    target = Path(target)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        write_atomic(target, text)
    return True
