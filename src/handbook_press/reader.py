"""Read a content folder into the book model.

A content folder has ``handbook.yaml`` (metadata, learning path, section
order) and one Markdown file per section (YAML front matter, then the body).
A section body is read with markdown-it-py. Blocks that start with a chapter
line, and the lines written directly under a chapter line (no blank line in
between), are the outline: chapters and their topic lines, bare or bulleted.
Anything else (after a blank line) is prose, kept as Markdown rendered to
safe HTML (raw HTML is shown as text, never passed through).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

from . import images
from .diagnostics import BuildError, Diagnostics, Location, display_path
from .model import Book, Chapter, LearningStep, Metadata, Prose, ReviewDate, Section, Topic
from .pagegeometry import inches, trim_too_small
from .sources import closest, load_yaml, read_text, split_front_matter

METADATA_FILE = "handbook.yaml"
MAX_CHAPTER_NUMBER = 9999

REQUIRED_KEYS = {"title": str, "slug": str, "language": str, "identifier": str, "about": str,
                 "review_date": (str, datetime.date), "sections": list}
OPTIONAL_KEYS = {"subtitle": str, "creator": str, "publisher": str, "isbn": str,
                 "edition_note": str, "learning_path": dict, "trim": dict, "tool_labels": list,
                 "subjects": list, "version": str}
SECTION_KEYS = ("layout", "title", "description")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A BCP 47 tag as books use them: language, then script, region and variants (`en`, `en-GB`, `zh-Hant-TW`).
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
                          r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$")
TRIM_LENGTH = re.compile(r"^\d+(?:\.\d+)?(?:in|mm|cm|pt)$")  # what the PDF's @page size accepts

# `Chapter 12: Title`, optionally as a Markdown heading, optionally `(New)`.
CHAPTER_LINE = re.compile(r"^(#{1,6}[ \t]+)?Chapter[ \t]+([0-9]+)[ \t]*:[ \t]*(\S.*?)[ \t]*$")
# A heading's optional closing `#`s, which must follow a space (`C#` keeps its `#`).
CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
# Lines meant as chapters that cannot be read: no number, a roman numeral, no title.
# The number may be written in other digits (`٣`), mixed with letters (`1a`) or as a word.
CHAPTER_LIKE = re.compile(r"^(?:#{1,6}[ \t]+)?Chapter\b[ \t]*(?:\w*\d\w*|[IVXLCDM]+\b|[ivxlcdm]+\b"
                          r"|(?i:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b)?[ \t]*(?::.*)?$")
# Lines meant as chapters, in another case or with another mark than the colon after the
# number: `Chapter 15 - Title`, `Chapter 15. Title`, `chapter 15: Title`, `Chapter15: Title`.
CHAPTER_MISWRITTEN = re.compile(r"^(?:#{1,6}[ \t]+)?(?i:chapter)[ \t]*([0-9]+)[ \t]*(?:[-\u2013\u2014.:)][ \t]*(.*?))?[ \t]*$")
# `Chapter 15 Title` among the topics: a chapter line without its colon, or a topic that
# begins so (`Chapter 11 bankruptcy`), which stays a topic.
CHAPTER_WITHOUT_COLON = re.compile(r"^(?:#{1,6}[ \t]+)?Chapter[ \t]+([0-9]+)[ \t]+(\S.*?)[ \t]*$")
# The source's marks of new material, `(New)` and `(New subtopic)`, in any case (a topic may
# say `(New)` too): the books show a marker, never the words in brackets.
NEW_CHAPTER = re.compile(r"[ \t]*\((?i:new)\)$")
NEW_TOPIC = re.compile(r"[ \t]*\((?i:new(?:[ \t]+(?:sub)?topic)?)\)$")
BULLET = re.compile(r"^[ \t]*[-*+][ \t]+")
ANNOTATION = re.compile(r"^\[(.*)\]$")
FOOTNOTE_MARK = re.compile(r"\[\^[^\]\s]+\]")
# `Key concepts:` written out, as the books print it: after a topic's `;`.
KEY_CONCEPTS_LABEL = re.compile(r"^(?i:key[ \t]+concepts?)[ \t]*:[ \t]*")
KEY_CONCEPTS = re.compile(r";[ \t]*(?i:key[ \t]+concepts?)[ \t]*:[ \t]*")
LABELLED = re.compile(r"^([^:,\[\]()]{1,48}?):[ \t]+(\S.*)$")
STEP_REFERENCE = re.compile(r"\s*\((Sections?)\s+([0-9][0-9\s,–\-and]*)\)\s*\.?\s*$")


def slugify(text: str) -> str:
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "section"


def split_list(text: str) -> tuple[str, ...]:
    """Split ``a, b (c, d), e`` on the commas outside parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]" and depth:
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return tuple(p for p in parts if p)


def parse_topic(line: str, location: Location, diagnostics: Diagnostics | None = None) -> Topic:
    """One topic line: plain, ``Label: a, b``, or ``[Label: a, b; concept, concept]``.

    ``Key concepts:`` written out after the ``;`` is the concepts' own label (the
    books print it), in brackets or not; a bracket without its mate is read as if
    it had one, with a warning (``diagnostics``): printed, it would show raw, and
    ``Tecton]`` would be a tool of the index."""
    text = line.strip()
    is_new = bool(NEW_TOPIC.search(text))
    if is_new:
        text = NEW_TOPIC.sub("", text)
    inner = match.group(1) if (match := ANNOTATION.match(text)) else None
    if inner is None and text.startswith("[") != text.endswith("]") and len(text) > 1:
        inner = text.removeprefix("[").removesuffix("]")
        if diagnostics is not None:
            diagnostics.warning(location, "topic-bracket-unbalanced",
                                f"{'[ is never closed' if text.startswith('[') else '] was never opened'}; "
                                f"read as `[{inner.strip()}]`: write it so")
    if inner is not None:
        head, _, tail = inner.strip().partition(";")
        concepts = _concepts(tail)
        if labelled := LABELLED.match(head.strip()):
            return Topic(text, "annotation", location, is_new, labelled.group(1).strip(),
                         split_list(labelled.group(2)), concepts)
        return Topic(text, "annotation", location, is_new, None, (), split_list(head) + concepts)
    if labelled := LABELLED.match(text):
        values, key_concepts = labelled.group(2), ""
        if match := KEY_CONCEPTS.search(values):
            values, key_concepts = values[:match.start()], values[match.end():]
        return Topic(text, "labelled", location, is_new, labelled.group(1).strip(),
                     split_list(values), _concepts(key_concepts))
    return Topic(text, "plain", location, is_new)


def _concepts(text: str) -> tuple[str, ...]:
    """The key concepts after a topic's ``;``, without their label if it is written out."""
    return split_list(KEY_CONCEPTS_LABEL.sub("", text.strip()).replace(";", ","))


@dataclass
class _Draft:
    """A chapter while its lines are being read."""

    title: str
    original_number: int
    location: Location
    is_new: bool
    topics: list
    prose: list

    def freeze(self) -> Chapter:
        return Chapter(self.title, self.original_number, self.location, self.is_new,
                       tuple(self.topics), nest_headings(self.prose, CHAPTER_PROSE_HEADING))


# The books' headings: a section's title is h1, a chapter's h2. A heading in prose goes below
# the one it is written under, its top level at these, its lower levels in order: `# Notes` in a
# chapter as h1 would outrank the chapter in the PDF's tags and the EPUB's outline.
INTRO_HEADING = 2
CHAPTER_PROSE_HEADING = 3
_HEADING_TAG = re.compile(r"<(/?)h([1-6])>")


def nest_headings(prose, top: int) -> tuple[Prose, ...]:
    """``prose`` with its headings moved so that the highest is h``top`` (at most h6)."""
    levels = [int(level) for block in prose for _, level in _HEADING_TAG.findall(block.html)]
    if not levels or min(levels) == top:
        return tuple(prose)
    shift = top - min(levels)
    return tuple(replace(block, html=_HEADING_TAG.sub(lambda m: f"<{m[1]}h{min(6, int(m[2]) + shift)}>", block.html))
                 for block in prose)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")  # GFM's ~~, as Jekyll's
    md.validateLink = lambda url: True  # every URL is classified by _check_urls instead
    return md


def _chapter_like(line: str) -> bool:
    """A line written as a chapter line, readable or not (it opens the outline)."""
    return bool(CHAPTER_LIKE.match(line) or CHAPTER_MISWRITTEN.match(line.strip()))


class SectionBodyReader:
    """Reads one section body; collects chapters, intro prose and diagnostics."""

    def __init__(self, path: str, lines: tuple[str, ...], first_line: int, content_root: Path,
                 source_dir: Path, diagnostics: Diagnostics):
        self.path = path
        self.lines = lines
        self.first_line = first_line
        self.content_root = content_root
        self.source_dir = source_dir
        self.diagnostics = diagnostics
        self.md = _markdown()
        self.intro: list[Prose] = []
        self.chapters: list[_Draft] = []
        self.env: dict = {}  # what parsing the whole body found: link reference definitions

    def location(self, index: int) -> Location:
        return Location(self.path, self.first_line + index)

    def read(self) -> tuple[tuple[Prose, ...], tuple[Chapter, ...]]:
        tokens = self.md.parse("\n".join(self.lines), self.env)
        outline_ends_at = None  # line index where the outline run ended, for adjacency
        for start, end, token in self._top_level_blocks(tokens):
            if token.type == "heading_open" and token.markup in ("=", "-"):
                # A setext heading: text lines, then a `===` or `---` line. Chapter
                # and topic lines written right above a `---` separator are outline
                # (their topics would otherwise vanish into a heading).
                underline = max(i for i in range(start, end) if self.lines[i].strip())
                adjacent = outline_ends_at is not None and start == outline_ends_at and self.chapters
                if adjacent or any(_chapter_like(self._unbullet(self.lines[i])) for i in range(start, underline)):
                    token = Token("paragraph_open", "p", 1)
                    end = underline
            if token.type == "heading_open":
                heading = self.lines[start]
                if self._chapter_line(heading, start):
                    outline_ends_at = start + 1
                    continue
                outline_ends_at = None
                self._add_prose(start, end)
            elif token.type in ("paragraph_open", "bullet_list_open", "ordered_list_open"):
                adjacent = outline_ends_at is not None and start == outline_ends_at and self.chapters
                first_chapter = next((i for i in range(start, end)
                                      if _chapter_like(self._unbullet(self.lines[i]))), None)
                if not adjacent and first_chapter is None:
                    outline_ends_at = None
                    self._add_prose(start, end)
                    continue
                outline_from = start if adjacent else first_chapter
                if outline_from > start:
                    self._add_prose(start, outline_from)
                for index in range(outline_from, end):
                    line = self._unbullet(self.lines[index])
                    if line.strip() and not self._chapter_line(line, index):
                        if match := CHAPTER_WITHOUT_COLON.match(line.strip()):
                            self.diagnostics.warning(
                                self.location(index), "chapter-line-without-colon",
                                f"read as a topic of the chapter above; if it begins a chapter, write "
                                f"`Chapter {match.group(1)}: {match.group(2)}` (a colon after the number)")
                        self.chapters[-1].topics.append(parse_topic(line, self.location(index), self.diagnostics))
                # A block's map can include trailing blank lines: adjacency is
                # measured from its last written line.
                outline_ends_at = max(i for i in range(start, end) if self.lines[i].strip()) + 1
            else:
                outline_ends_at = None
                self._add_prose(start, end)
        return nest_headings(self.intro, INTRO_HEADING), tuple(c.freeze() for c in self.chapters)

    @staticmethod
    def _top_level_blocks(tokens: list[Token]):
        for token in tokens:
            if token.level == 0 and token.nesting >= 0 and token.map and token.type != "inline":
                yield token.map[0], token.map[1], token

    @staticmethod
    def _unbullet(line: str) -> str:
        return BULLET.sub("", line, count=1)

    def _chapter_line(self, line: str, index: int) -> bool:
        """Start a chapter if ``line`` is a chapter line; report malformed ones."""
        text = line.strip()
        if match := CHAPTER_LINE.match(text):
            heading, digits, title = match.group(1), match.group(2), match.group(3)
            if heading:
                title = CLOSING_HASHES.sub("", title)
            title = title.strip()
            # int() refuses more than 4300 digits: look at the length first.
            number = int(digits) if len(digits.lstrip("0")) <= len(str(MAX_CHAPTER_NUMBER)) else MAX_CHAPTER_NUMBER + 1
            if number > MAX_CHAPTER_NUMBER or number < 1:
                shown = digits if len(digits) <= 12 else f"{digits[:6]}…({len(digits)} digits)"
                self.diagnostics.error(self.location(index), "chapter-line-malformed",
                                       f"chapter number {shown} is out of range; "
                                       f"use a number from 1 to {MAX_CHAPTER_NUMBER} (the build renumbers anyway)")
                number = 0
            is_new = bool(NEW_CHAPTER.search(title))
            title = NEW_CHAPTER.sub("", title).strip()
            if not title:
                self.diagnostics.error(self.location(index), "chapter-line-malformed",
                                       "the chapter has no title; write `Chapter N: Title`")
            self.chapters.append(_Draft(title, number, self.location(index), is_new, [], []))
            return True
        if CHAPTER_LIKE.match(text):
            self.diagnostics.error(self.location(index), "chapter-line-malformed",
                                   f"cannot read the chapter line {text!r}; write `Chapter N: Title` "
                                   "with an arabic number (digits 0-9) and a title, e.g. `Chapter 12: Model Serving`")
            self.chapters.append(_Draft(text, 0, self.location(index), False, [], []))
            return True
        if match := CHAPTER_MISWRITTEN.match(text):
            # Read as a topic, its chapter would vanish into the one above without a word.
            title = (match.group(2) or "").strip() or "Title"
            self.diagnostics.error(self.location(index), "chapter-line-malformed",
                                   f"cannot read the chapter line {text!r}; write it "
                                   f"`Chapter {match.group(1)}: {title}` (the word Chapter, the number, a colon)")
            self.chapters.append(_Draft(text, 0, self.location(index), False, [], []))
            return True
        return False

    def _add_prose(self, start: int, end: int) -> None:
        source = "\n".join(self.lines[start:end])
        if not source.strip():
            return
        # Blocks are parsed one by one: give each the body's `[label]: url`
        # definitions, so that reference links and images resolve (and are checked).
        env: dict = {"references": dict(self.env.get("references", {}))}
        tokens = self.md.parse(source, env)
        assets = self._check_urls(tokens, start, end)
        self._tell_footnotes(tokens, start)
        html = self.md.renderer.render(tokens, self.md.options, env)
        if not html.strip():  # only reference definitions
            return
        prose = Prose(html, self.location(start), tuple(assets))
        (self.chapters[-1].prose if self.chapters else self.intro).append(prose)

    def _tell_footnotes(self, tokens: list[Token], start: int) -> None:
        """Footnotes (`text[^1]` and `[^1]: the note`, kramdown's and GitHub's) are not read:
        their marks print as written, which the author should know (code is left alone)."""
        for token in tokens:
            marks = [FOOTNOTE_MARK.search(child.content) for child in token.children or ()
                     if child.type == "text"]
            if any(marks) and token.map:
                mark = next(m for m in marks if m)[0]
                self.diagnostics.warning(self.location(start + token.map[0]), "footnote-unsupported",
                                         f"footnotes are not supported: {mark} prints as written; put the "
                                         "note in the text, in parentheses")

    def _check_urls(self, tokens: list[Token], start: int, end: int) -> list[str]:
        """Keep links and images inside the book: refuse what a renderer must not fetch."""
        assets = []
        for token in tokens:
            # An inline token knows its block's lines only: find the line that holds each URL.
            first, last = (start + token.map[0], start + token.map[1]) if token.map else (start, end)
            cursor = first
            for child in [token, *(token.children or [])]:
                attr = "src" if child.type == "image" else "href" if child.type == "link_open" else None
                if attr is None:
                    continue
                url = str(child.attrs.get(attr, ""))
                line = self._line_with(url, cursor, last)
                if line is None:  # written differently (entities, a reference): the previous URL's line
                    line = cursor
                cursor = line
                target = self._classify(url, image=child.type == "image", index=line)
                if target is None:
                    child.attrs[attr] = "#"
                elif child.type == "image":
                    child.attrs[attr] = quote(target)
                    assets.append(target)
                    if not "".join(c.content for c in child.children or ()).strip():
                        # Its alt text: what a screen reader says, and the EPUB's accessibility.
                        self.diagnostics.warning(self.location(line), "image-no-description",
                                                 f"the image {url!r} has no description: write what it shows "
                                                 f"in its brackets, `![what it shows]({url})`, for readers "
                                                 "who cannot see it")
                else:  # a link to a section's file now names its anchor
                    child.attrs[attr] = target
        return assets

    SEARCH_LINES = 100  # how far after the previous URL of a block the next one is looked for

    def _line_with(self, url: str, cursor: int, last: int) -> int | None:
        """The index of the first line from ``cursor`` on (in its block) that holds ``url`` as written."""
        candidates = [c for c in dict.fromkeys((url, unquote(url))) if c]
        for index in range(cursor, min(last, cursor + self.SEARCH_LINES)):
            if any(c in self.lines[index] for c in candidates):
                return index
        return None

    def _section_link(self, url: str, parts, index: int) -> str | None:
        """A link to another section's file, as Jekyll pages link to each other: the section's
        anchor (or the anchor after its #), which the PDF and the EPUB both resolve; `checks`
        tells a link to a file that is no section of the book."""
        path = unquote(parts.path)
        try:
            (self.source_dir / path).resolve().relative_to(self.content_root.resolve())
        except (ValueError, OSError):
            self.diagnostics.error(self.location(index), "unsafe-url",
                                   f"the link {url!r} points outside the content folder; link to a section's "
                                   "file in it, a #anchor or an http(s) URL")
            return None
        return "#" + (parts.fragment or f"section-{slugify(PurePosixPath(path).stem)}")

    def _classify(self, url: str, image: bool, index: int) -> str | None:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        what = "image" if image else "link"
        if not image and (url.startswith("#") or scheme in ("http", "https", "mailto")):
            return url
        if scheme in ("http", "https"):
            self.diagnostics.error(self.location(index), "remote-image",
                                   f"the image {url!r} is on the network; the build never fetches URLs, "
                                   "so copy the image into the content folder and refer to it by a relative path")
            return None
        if scheme or url.startswith("/") or parts.netloc:
            self.diagnostics.error(self.location(index), "unsafe-url",
                                   f"the {what} {url!r} points outside the book; "
                                   + ("use a path relative to the section file inside the content folder" if image
                                      else "link to a #anchor or an http(s) URL"))
            return None
        if not image and parts.path.endswith(".md"):
            return self._section_link(url, parts, index)
        if not image:
            self.diagnostics.error(self.location(index), "unsafe-url",
                                   f"the link {url!r} points at a file; link to a section's file (`other-section.md`), "
                                   "a #anchor or an http(s) URL")
            return None
        path = unquote(parts.path)  # Markdown percent-encodes spaces and non-ASCII letters
        try:
            resolved = (self.source_dir / path).resolve()
            relative = resolved.relative_to(self.content_root.resolve())
        except (ValueError, OSError):
            self.diagnostics.error(self.location(index), "unsafe-url",
                                   f"the image {url!r} is outside the content folder; move it inside")
            return None
        if not _is_file(resolved):
            self.diagnostics.error(self.location(index), "missing-image",
                                   f"the image {path!r} does not exist (paths are relative to the section file: "
                                   f"{display_path(resolved, self.content_root)}); add the file or correct the path")
            return None
        problem = images.problem_with(resolved)
        if problem:
            code, words = problem
            self.diagnostics.error(self.location(index), code, f"the image {path!r} {words}")
            return None
        return PurePosixPath(relative).as_posix()


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False (not an exception) for names too long or otherwise impossible."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _check_keys(mapping: dict, allowed, where: str, key_lines: dict, path: str,
                diagnostics: Diagnostics, default_line: int = 1) -> None:
    for key in mapping:
        if key not in allowed:
            suggestion = closest(str(key), list(allowed))
            hint = f"; did you mean `{suggestion}`?" if suggestion else f"; known keys: {', '.join(allowed)}"
            diagnostics.warning(Location(path, key_lines.get(key, default_line)), "unknown-key",
                                f"unknown {where} key `{key}` is ignored{hint}")


def _line_of(node, *path) -> int | None:
    """The 0-based line of the YAML node at ``path`` (keys and list indices)."""
    import yaml

    for step in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            return None
        if node is None:
            return None
    return node.start_mark.line


# The review date is the build's clock: EPUB (zip) timestamps hold the years
# 1980-2107 (earlier ones are raised to 1980), and dates before 1000 do not
# print as four digits.
REVIEW_YEARS = (1970, 2100)


def _parse_review_date(value, location: Location, diagnostics: Diagnostics) -> ReviewDate | None:
    review = None
    if isinstance(value, datetime.date):
        review = ReviewDate(value.year, value.month)
        # YAML reads 2025-05-14 as a date: the books name the month, so the day would vanish unsaid.
        diagnostics.warning(location, "review-date-day",
                            f"review_date {value.isoformat()} gives a day; the books print the month of the "
                            f"review ({review}): write {review.iso}")
    elif isinstance(value, str) and (m := re.fullmatch(r"(\d{4})-(\d{2})", value.strip())) and 1 <= int(m[2]) <= 12:
        review = ReviewDate(int(m[1]), int(m[2]))
    if review is None:
        diagnostics.error(location, "metadata-type",
                          f"review_date {value!r} is not a month; write it as YYYY-MM, e.g. 2025-05")
        return None
    if not REVIEW_YEARS[0] <= review.year <= REVIEW_YEARS[1]:
        diagnostics.error(location, "metadata-type",
                          f"review_date {review.iso} is out of range; write the month of the last review, "
                          f"between {REVIEW_YEARS[0]} and {REVIEW_YEARS[1]}")
        return None
    return review


def read_metadata(content: Path, diagnostics: Diagnostics):
    """Read handbook.yaml: returns (metadata, raw mapping, yaml node, shown path) or None."""
    file = content / METADATA_FILE
    shown = display_path(file)
    if not _is_file(file):
        diagnostics.error(Location(shown, 1), "metadata-missing",
                          f"no {METADATA_FILE} in {display_path(content)}; every content folder needs one "
                          "(run `doit import` to create a content folder from an outline)")
        return None
    source = read_text(file, shown, diagnostics)
    if source is None:
        return None
    text = "\n".join(source.lines)
    document = load_yaml(text, shown, 1, diagnostics)
    if document is None:
        return None
    data = document.data
    if not isinstance(data, dict):
        diagnostics.error(Location(shown, 1), "metadata-type",
                          f"{METADATA_FILE} must be a mapping of `key: value` lines")
        return None
    node = document.node
    ok = True
    for key, kind in REQUIRED_KEYS.items():
        if key not in data:
            diagnostics.error(Location(shown, 1), "metadata-missing-key",
                              f"{METADATA_FILE} has no `{key}`; add it")
            ok = False
        elif not isinstance(data[key], kind) or (isinstance(data[key], str) and not data[key].strip()):
            diagnostics.error(Location(shown, document.key_lines.get(key, 1)), "metadata-type",
                              f"`{key}` must be {_kind_name(kind)}, not {_describe(data[key])}; {_type_hint(kind)}")
            ok = False
    for key, kind in OPTIONAL_KEYS.items():
        if key in data and data[key] is not None and not isinstance(data[key], kind):
            diagnostics.error(Location(shown, document.key_lines.get(key, 1)), "metadata-type",
                              f"`{key}` must be {_kind_name(kind)}, not {_describe(data[key])}; {_type_hint(kind)}")
            ok = False
    for key in ("tool_labels", "subjects"):  # printed or matched as text
        items = data.get(key)
        if isinstance(items, list) and not all(isinstance(item, str) and item.strip() for item in items):
            diagnostics.error(Location(shown, document.key_lines.get(key, 1)), "metadata-type",
                              f"each entry of `{key}` must be text; write one `- text` per line below it")
            ok = False
    _check_keys(data, [*REQUIRED_KEYS, *OPTIONAL_KEYS], METADATA_FILE, document.key_lines, shown, diagnostics)
    if ok and not data["sections"]:
        diagnostics.error(Location(shown, document.key_lines["sections"]), "metadata-type",
                          "`sections` lists no section; list the section files in reading order, "
                          "e.g. `- file: sections/introduction.md`")
        ok = False
    ok = _check_trim(data.get("trim") or {}, node, shown, diagnostics) and ok
    if isinstance(data.get("isbn"), str) and (problem := isbn_problem(data["isbn"])):
        diagnostics.error(Location(shown, document.key_lines.get("isbn", 1)), "isbn-invalid", problem)
        ok = False
    if not ok:
        return None
    if not SLUG.match(data["slug"]):
        diagnostics.error(Location(shown, document.key_lines["slug"]), "metadata-type",
                          f"slug {data['slug']!r} must be lower-case letters, digits and hyphens (it names the output files)")
        return None
    if not LANGUAGE_TAG.match(data["language"].strip()):
        written = data["language"].strip()
        hint = written.replace("_", "-") if LANGUAGE_TAG.match(written.replace("_", "-")) else "en"
        diagnostics.error(Location(shown, document.key_lines["language"]), "metadata-type",
                          f"language {written!r} is not a language tag (BCP 47), which the EPUB's metadata, the "
                          f"PDF and hyphenation need: write e.g. `{hint}`")
        return None
    review = _parse_review_date(data["review_date"], Location(shown, document.key_lines["review_date"]), diagnostics)
    if review is None:
        return None
    learning = data.get("learning_path") or {}
    trim = data.get("trim") or {}
    metadata = Metadata(
        title=data["title"].strip(), slug=data["slug"], language=data["language"].strip(),
        identifier=data["identifier"].strip(), about=data["about"].strip(), review_date=review,
        location=Location(shown, 1), subtitle=data.get("subtitle"), creator=data.get("creator"),
        publisher=data.get("publisher"), isbn=data.get("isbn"), edition_note=data.get("edition_note"),
        learning_path_title=str(learning.get("title") or "Learning path"),
        trim_width=str(trim.get("width", "6in")).strip(), trim_height=str(trim.get("height", "9in")).strip(),
        tool_labels=tuple(str(label).lower() for label in data.get("tool_labels")
                          or ("tools", "libraries", "frameworks", "platforms")),
        subjects=tuple(str(subject) for subject in data.get("subjects") or ()),
        version=(data.get("version") or "").strip() or None,
        title_location=Location(shown, (_line_of(node, "title") or 0) + 1),
    )
    return metadata, data, node, shown


def isbn_problem(isbn: str) -> str | None:
    """What is wrong with an ISBN (printed on the edition page and the cover's submission sheet, and
    in the EPUB's metadata), or None. A wrong check digit is a typo the retailers refuse."""
    digits = re.sub(r"[\s-]", "", isbn).upper()
    if re.fullmatch(r"97[89]\d{10}", digits):
        check = (10 - sum(int(d) * (1, 3)[i % 2] for i, d in enumerate(digits[:12])) % 10) % 10
        expected = str(check)
    elif re.fullmatch(r"\d{9}[\dX]", digits):
        check = (11 - sum(int(d) * (10 - i) for i, d in enumerate(digits[:9])) % 11) % 11
        expected = "X" if check == 10 else str(check)
    else:
        prefixed = " without the word ISBN (the books print it)" if digits.startswith("ISBN") else ""
        return (f"ISBN {isbn!r} is not an ISBN: write its 13 digits (978… or 979…), hyphens allowed{prefixed}, "
                "or leave `isbn` out")
    if digits[-1] != expected:
        return f"ISBN {isbn} has the check digit {digits[-1]}, where its other digits give {expected}: correct the typo"
    return None


def _check_trim(trim: dict, node, shown: str, diagnostics: Diagnostics) -> bool:
    """The page size must be lengths WeasyPrint's ``@page size`` accepts."""
    ok = True
    for side, default in (("width", "6in"), ("height", "9in")):
        value = trim.get(side, default)
        line = _line_of(node, "trim", side)
        line = _line_of(node, "trim") if line is None else line
        if not (isinstance(value, str) and TRIM_LENGTH.match(value.strip())):
            diagnostics.error(Location(shown, (line or 0) + 1), "metadata-type",
                              f"trim {side} {value!r} is not a length; write a number and a unit, "
                              f"e.g. `{side}: {default}` (units: in, mm, cm, pt)")
            ok = False
        elif problem := trim_too_small(side, inches(value.strip())):
            diagnostics.error(Location(shown, (line or 0) + 1), "metadata-type",
                              f"trim {side} {value.strip()} {problem} (common trims: 5x8, 5.5x8.5, 6x9 in)")
            ok = False
    return ok


def _type_hint(kind) -> str:
    if kind is list:
        return "write one `- item` per line below it"
    if kind is dict:
        return "write `name: value` lines below it, indented"
    return "write it after the colon, in quotes if it holds `: ` or starts with a special character"


def _kind_name(kind) -> str:
    names = {str: "text", list: "a list", dict: "a mapping", datetime.date: "a date"}
    if isinstance(kind, tuple):
        return " or ".join(names[k] for k in kind)
    return names[kind]


def _describe(value) -> str:
    if isinstance(value, str):
        return "empty text" if not value.strip() else "text"
    return {list: "a list", dict: "a mapping", type(None): "nothing", bool: "true/false",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _read_learning_path(data: dict, node, shown: str, diagnostics: Diagnostics) -> tuple[LearningStep, ...]:
    learning = data.get("learning_path") or {}
    _check_keys(learning, ("title", "steps"), "learning_path", {}, shown, diagnostics,
                (_line_of(node, "learning_path") or 0) + 1)
    steps = learning.get("steps") or []
    if not isinstance(steps, list):
        diagnostics.error(Location(shown, (_line_of(node, "learning_path", "steps") or 0) + 1), "metadata-type",
                          "learning_path.steps must be a list of steps, each with `text` and `sections`")
        return ()
    result = []
    for index, step in enumerate(steps):
        line = (_line_of(node, "learning_path", "steps", index) or 0) + 1
        location = Location(shown, line)
        if not isinstance(step, dict) or not isinstance(step.get("text"), str):
            diagnostics.error(location, "metadata-type",
                              "a learning-path step needs `text:` (what to do) and `sections:` (section slugs)")
            continue
        _check_keys(step, ("text", "sections"), "learning-path step", {}, shown, diagnostics, line)
        slugs = step.get("sections") or []
        if isinstance(slugs, str):
            slugs = [slugs]
        if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
            numbers = [n for n in (slugs if isinstance(slugs, list) else [slugs]) if isinstance(n, int)]
            listed = _listed_slugs(data)
            meant = [listed[n - 1] for n in numbers if 0 < n <= len(listed)] or listed[:1]
            diagnostics.error(location, "metadata-type",
                              "`sections` of a learning-path step must be a list of section slugs"
                              + (" (a section file's name without `.md`), not numbers, which change when "
                                 f"sections move: e.g. `sections: [{', '.join(meant)}]`" if numbers and meant else ""))
            continue  # not also told that it names no section
        result.append(LearningStep(index + 1, step["text"].strip(), tuple(slugs), location))
    return tuple(result)


def read_section(file: Path, slug: str, outline_title: str | None, outline_location: Location | None,
                 content: Path, diagnostics: Diagnostics) -> Section | None:
    shown = display_path(file)
    source = read_text(file, shown, diagnostics)
    if source is None:
        return None
    split = split_front_matter(source, diagnostics)
    if split is None:
        return None
    front = split.front_matter.data if split.front_matter else {}
    key_lines = split.front_matter.key_lines if split.front_matter else {}
    _check_keys(front, SECTION_KEYS, "front matter", key_lines, shown, diagnostics)
    for key in ("title", "description"):
        if key in front and not isinstance(front[key], str):
            diagnostics.error(Location(shown, key_lines.get(key, 1)), "front-matter-type",
                              f"`{key}` must be text; put it in quotes")
            return None
    fm_title = (front.get("title") or "").strip() or None
    description = (front.get("description") or "").strip() or None
    title = outline_title or fm_title
    if not title:
        diagnostics.error(Location(shown, 1), "section-no-title",
                          "the section has no title; add `title:` to its front matter")
        return None
    stray_title = stray_location = None
    if outline_title and fm_title and fm_title != outline_title:
        # Front matter copied from another page: keep the outline's name, and
        # do not print a description written for that other page.
        stray_title, stray_location = fm_title, Location(shown, key_lines.get("title", 1))
        description = None
    body = SectionBodyReader(shown, split.body_lines, split.body_first_line, content, file.parent, diagnostics)
    intro, chapters = body.read()
    return Section(slug=slug, title=title, location=Location(shown, 1),
                   title_location=outline_location or Location(shown, key_lines.get("title", 1)),
                   description=description, stray_title=stray_title, stray_title_location=stray_location,
                   intro=intro, chapters=chapters)


@dataclass(frozen=True)
class SectionSource:
    """One entry of handbook.yaml's `sections`: a file and the outline's name for it."""

    file: Path
    slug: str
    title: str | None  # the outline's name; None: the front matter's title is used
    location: Location  # the entry in handbook.yaml
    short_title: str | None = None  # for the running heads, when the title is long


def section_sources(content: Path, data: dict, node, shown: str, diagnostics: Diagnostics) -> list[SectionSource]:
    """The section files handbook.yaml lists, checked; problems go to ``diagnostics``."""
    sources = []
    seen_files: dict[Path, Location] = {}
    for index, entry in enumerate(data["sections"]):
        location = Location(shown, (_line_of(node, "sections", index) or 0) + 1)
        if isinstance(entry, str):
            entry = {"file": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            diagnostics.error(location, "metadata-type",
                              "each entry of `sections` needs `file:` (a Markdown file in the content folder)")
            continue
        _check_keys(entry, ("file", "title", "short_title"), "sections entry", {}, shown, diagnostics,
                    location.line)
        file = (content / entry["file"]).resolve()
        try:
            file.relative_to(content.resolve())
        except ValueError:
            diagnostics.error(location, "unsafe-url",
                              f"section file {entry['file']!r} is outside the content folder; move it into "
                              f"{display_path(content)} and write its path relative to that folder, "
                              "e.g. `sections/<slug>.md`")
            continue
        if file in seen_files:
            diagnostics.error(location, "duplicate-section",
                              f"{entry['file']} is listed twice (first at line {seen_files[file].line}); remove one")
            continue
        seen_files[file] = location
        if not _is_file(file):
            diagnostics.error(location, "section-missing-file",
                              f"section file {entry['file']} does not exist in {display_path(content)}; "
                              "create it, or correct the path (relative to the content folder)")
            continue
        title, short_title = entry.get("title"), entry.get("short_title")
        if not all(value is None or isinstance(value, str) for value in (title, short_title)):
            key = "title" if title is not None and not isinstance(title, str) else "short_title"
            diagnostics.error(location, "metadata-type", f"a section's `{key}` must be text; put it in quotes")
            continue
        sources.append(SectionSource(file, slugify(Path(entry["file"]).stem), (title or "").strip() or None,
                                     location, (short_title or "").strip() or None))
    return sources


def read_section_source(source: SectionSource, content: Path, diagnostics: Diagnostics) -> Section | None:
    section = read_section(source.file, source.slug, source.title, source.location if source.title else None,
                           content, diagnostics)
    return replace(section, short_title=source.short_title) if section and source.short_title else section


def read_content(content: Path, diagnostics: Diagnostics, read_one=read_section_source,
                 read_meta=read_metadata, unread: set[str] | None = None) -> Book | None:
    """Read a whole content folder. Problems go to ``diagnostics``; None when nothing usable was read.

    ``read_one`` reads one section: the build passes one that uses the
    per-section cache its doit tasks keep. ``read_meta`` reads handbook.yaml
    (`read_metadata`; a watching preview keeps what it read while the bytes stay).
    ``unread``, when given, receives the slugs of the sections handbook.yaml lists
    that could not be read (each with its error told), so that the checks do not
    report them again as sections that do not exist.
    """
    content = Path(content)
    loaded = read_meta(content, diagnostics)
    if loaded is None:
        return None
    metadata, data, node, shown = loaded
    learning_path = _read_learning_path(data, node, shown, diagnostics)
    sections = [section for source in section_sources(content, data, node, shown, diagnostics)
                if (section := read_one(source, content, diagnostics)) is not None]
    if unread is not None:
        read = {section.slug for section in sections}
        unread.update(slug for slug in _listed_slugs(data) if slug not in read)
    _tell_unlisted(content, data, diagnostics)
    return Book(metadata, learning_path, tuple(sections))


def _listed_files(data: dict) -> list[str]:
    """Each file handbook.yaml's `sections` names, in its order, whether it can be read or not."""
    entries = data.get("sections")
    files = [entry if isinstance(entry, str) else entry.get("file") if isinstance(entry, dict) else None
             for entry in (entries if isinstance(entries, list) else [])]
    return [file for file in files if isinstance(file, str)]


def _listed_slugs(data: dict) -> list[str]:
    """The slug of each file handbook.yaml's `sections` names (as `section_sources` names them)."""
    return [slugify(Path(file).stem) for file in _listed_files(data)]


def _tell_unlisted(content: Path, data: dict, diagnostics: Diagnostics) -> None:
    """A warning for each Markdown file beside the listed sections that handbook.yaml does not
    list: the book leaves it out, which a new section forgotten in the listing must not be silently."""
    root = content.resolve()
    listed = {(content / file).resolve() for file in _listed_files(data)}
    folders = {path.parent for path in listed if path.parent.is_relative_to(root)}
    for folder in sorted(folders):
        for path in sorted(folder.glob("*.md")):
            if path.resolve() not in listed and path.is_file():
                listing = path.relative_to(content).as_posix() if path.is_relative_to(content) else path.name
                diagnostics.warning(Location(display_path(path), 1), "section-not-listed",
                                    f"{path.name} is not listed in handbook.yaml's `sections`, so the book "
                                    f"leaves it out; list it (`- file: {listing}` with its `title:`) where it "
                                    "belongs in reading order, or move it out of the content folder")


def load_book(content: Path, diagnostics: Diagnostics | None = None, read_one=read_section_source,
              read_meta=read_metadata):
    """Read, number and check a content folder; raise :class:`BuildError` on errors."""
    from .checks import check_book
    from .numbering import number_book

    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    unread: set[str] = set()
    book = read_content(content, diagnostics, read_one, read_meta, unread)
    if book is None:
        raise BuildError(diagnostics)
    book = number_book(book)
    check_book(book, diagnostics, content, unread=unread)
    if diagnostics.errors:
        raise BuildError(diagnostics)
    return book, diagnostics
