"""Reading source files safely: text, front matter, YAML.

YAML is read with a safe loader that also refuses duplicate keys (PyYAML
silently keeps the last one), aliases that expand into huge or endless
values, and nesting deeper than any handbook needs. Problems become
diagnostics with the file and line, never exceptions that escape to the user.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .diagnostics import Diagnostics, Location

FENCE = "---"

# A source file larger than this is refused before it is read: a handbook
# section is a few kilobytes (a whole book is about a megabyte), and Markdown
# parsing takes seconds per megabyte — minutes, and gigabytes of memory, for
# a file of tens of megabytes or for crafted text.
MAX_SOURCE_BYTES = 1024 * 1024

# Characters that editors do not show and that cannot be printed: C0 controls
# other than tab and line endings, DEL and C1 controls, U+2028/U+2029 (line
# breaks to some programs, not to others) and U+FFFE/U+FFFF. Most cannot be
# held by an XML document (the EPUB) at all; the others have no glyph.
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
MAX_REPORTED_LINES = 5

MAX_YAML_DEPTH = 50  # levels of nested lists and mappings
MAX_YAML_VALUES = 100_000  # values after `*alias` expansion
TAB_SIZES = (4, 2, 8)  # tab stops tried for YAML indented with tabs
MAX_TAB_FIXES = 200


@dataclass(frozen=True)
class SourceText:
    path: str  # as shown in messages
    lines: tuple[str, ...]  # without line endings; line n is lines[n - 1]


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def read_text(file: Path, shown_as: str, diagnostics: Diagnostics) -> SourceText | None:
    """Read a UTF-8 text file; a byte-order mark and CRLF endings are accepted."""
    try:
        with open(file, "rb") as stream:
            raw = stream.read(MAX_SOURCE_BYTES + 1)
            if len(raw) > MAX_SOURCE_BYTES:
                try:
                    size = max(Path(file).stat().st_size, len(raw))
                except OSError:
                    size = len(raw)
                diagnostics.error(Location(shown_as, 1), "file-too-large",
                                  f"the file holds {_megabytes(size)}, more than the {_megabytes(MAX_SOURCE_BYTES)} "
                                  "a source file may hold; split it into several section files")
                return None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        diagnostics.error(Location(shown_as, 1), "file-unreadable",
                          f"cannot read the file ({reason}); check that it exists and is readable")
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        diagnostics.error(Location(shown_as, line), "not-utf8",
                          f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                          "save it as UTF-8")
        return None
    # splitlines() would also split on form feeds and other separators that
    # editors show inside a line; only real line endings count.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if UNPRINTABLE.search(text.replace("\r", "")):
        _report_unprintable(shown_as, lines, diagnostics)
        return None
    return SourceText(shown_as, tuple(lines))


def _report_unprintable(shown_as: str, lines: list[str], diagnostics: Diagnostics) -> None:
    bad = [(number, match) for number, line in enumerate(lines, 1) if (match := UNPRINTABLE.search(line))]
    for number, match in bad[:MAX_REPORTED_LINES]:
        diagnostics.error(Location(shown_as, number), "control-character",
                          f"column {match.start() + 1} holds the invisible {_character(match.group())}, "
                          "which cannot be printed; delete it (retype the text around it if your editor "
                          "does not show it)")
    if len(bad) > MAX_REPORTED_LINES:
        number = bad[MAX_REPORTED_LINES][0]
        diagnostics.error(Location(shown_as, number), "control-character",
                          f"{len(bad) - MAX_REPORTED_LINES} more line(s), from this one on, hold invisible "
                          "control characters; delete them (was the file saved as text?)")


def _character(char: str) -> str:
    """``control character U+0007``, ``line separator U+2028``…"""
    import unicodedata

    kind = {"Zl": "line separator", "Zp": "paragraph separator", "Cn": "non-character"}
    return f"{kind.get(unicodedata.category(char), 'control character')} U+{ord(char):04X}"


_KINDS = {"timestamp": "a date", "int": "a number", "float": "a number", "bool": "true or false",
          "map": "a mapping", "seq": "a list", "set": "a set", "omap": "an ordered mapping", "binary": "binary data"}


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys, and reports values it cannot build."""

    first_line = 1  # the file line of the YAML text's first line

    def construct_object(self, node, deep=False):
        # PyYAML lets Python's errors out for values such as `2025-02-30`
        # (a date that does not exist), `!!int abc` or `!!bool maybe`.
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            kind = _KINDS.get(str(node.tag).rsplit(":", 1)[-1], "a value")
            shown = f" {node.value!r}" if isinstance(node, yaml.ScalarNode) and len(node.value) < 60 else ""
            reason = f" ({exc})" if isinstance(exc, (ValueError, OverflowError)) and str(exc) else ""
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read{shown} as {kind}{reason}; correct it, or put it in quotes "
                "to keep it as text", node.start_mark) from None


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *defaults`, merged by PyYAML
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None,
                f"duplicate key {key!r} (first written on line {loader.first_line + seen[key]}); keep only one",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping_plain(node, deep=deep)


_UniqueKeyLoader.construct_mapping_plain = yaml.SafeLoader.construct_mapping  # type: ignore[attr-defined]
_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(frozen=True)
class YamlDocument:
    data: object
    key_lines: dict  # top-level key -> 1-based line
    # The composed node tree; its marks' ``line`` are 0-based lines of the YAML text.
    node: object = None


class _Refused(Exception):
    """Valid YAML that the build still refuses; ``index`` is a character offset in the text."""

    def __init__(self, index: int, message: str):
        super().__init__(message)
        self.index = index
        self.message = message


class _Lines:
    """Character offset -> 0-based line, counting only ``\\n`` (PyYAML also counts U+0085, U+2028…)."""

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, index: int) -> int:
        return bisect.bisect_right(self.starts, max(index, 0)) - 1


# Hints for PyYAML's problems, which say what is wrong but not how to fix it.
_HINTS = (
    ("could not determine a constructor", "tags that build objects are not allowed, write plain values"),
    ("mapping values are not allowed", "a value that holds `: ` must be put in quotes"),
    ("found character '\\t'", "indent with spaces, not tabs"),
    ("found undefined alias", "a value that starts with `*` must be put in quotes"),
    ("expected a single document", "a `---` line inside the YAML starts a second document; remove it"),
    ("found unexpected end of stream", "close the quotes that were opened"),
    ("found duplicate anchor", "give each `&anchor` its own name"),
)


def _hint(problem: str) -> str:
    if "keep only one" in problem:
        return ""
    for fragment, hint in _HINTS:
        if fragment in problem:
            return f"; {hint}"
    if "put it in quotes" in problem:
        return ""
    return "; check the YAML syntax on this line (put values that hold special characters in quotes)"


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_nodes(root, lines: _Lines) -> None:
    """Renumber marks by ``\\n`` lines; refuse control characters, alias bombs and cycles."""
    sizes: dict[int, int] = {}  # values a node stands for once its aliases are expanded
    state: dict[int, int] = {}  # 1: being counted, 2: counted
    shared = False  # some node is reached twice: through an `*alias`
    too_big = None  # the first (innermost) node that expands to too many values
    stack = [(root, False)]
    while stack:
        node, counted = stack.pop()
        key = id(node)
        if counted:
            sizes[key] = min(1 + sum(sizes[id(child)] for child in _children(node)), MAX_YAML_VALUES + 1)
            state[key] = 2
            if sizes[key] > MAX_YAML_VALUES and too_big is None:
                too_big = node
            continue
        if state.get(key) == 2:
            shared = True
            continue
        if state.get(key) == 1:
            raise _Refused(node.start_mark.index,
                           "an `*alias` refers to the value that contains it, which never ends; "
                           "write the value out instead")
        state[key] = 1
        for mark in (node.start_mark, node.end_mark):
            if mark is not None:
                mark.line = lines.line(mark.index)
        if isinstance(node, yaml.ScalarNode) and (match := UNPRINTABLE.search(node.value)):
            raise _Refused(node.start_mark.index,
                           f"the value holds the {_character(match.group())} (written as an escape such "
                           "as `\\x01`), which cannot be printed; remove it")
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    if shared and too_big is not None:
        raise _Refused(too_big.start_mark.index,
                       f"the `*aliases` here expand to more than {MAX_YAML_VALUES} values; "
                       "write the values out instead of repeating them through aliases")


def _parse(text: str, first_line: int):
    """Compose and construct ``text``; raises PyYAML errors and :class:`_Refused`."""
    depth = 0
    for event in yaml.parse(text, Loader=_UniqueKeyLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise _Refused(event.start_mark.index,
                               f"the YAML is nested more than {MAX_YAML_DEPTH} levels deep; "
                               "flatten it (a handbook needs a few levels)")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    loader = _UniqueKeyLoader(text)
    loader.first_line = first_line
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_nodes(node, _Lines(text))
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def _expand_tab(text: str, mark, tab_size: int) -> str | None:
    """``text`` with the tab at ``mark`` (and the tabs before it on its line) read as spaces."""
    if mark is None or mark.index >= len(text) or text[mark.index] != "\t":
        return None
    start = text.rfind("\n", 0, mark.index) + 1
    prefix = text[start: mark.index + 1].expandtabs(tab_size)
    return text[:start] + prefix + text[mark.index + 1:]


_INDENT = re.compile(r"^[ \t-]*\t[ \t]*", re.M)


def _parse_with_tabs(text: str, first_line: int, tab_size: int):
    """Parse ``text`` reading tabs in its indentation as spaces; None when that does not help."""
    parsed = _INDENT.sub(lambda m: m.group().expandtabs(tab_size), text)
    for _ in range(MAX_TAB_FIXES):
        try:
            return _parse(parsed, first_line)
        except yaml.MarkedYAMLError as exc:
            fixed = _expand_tab(parsed, exc.problem_mark, tab_size) if _is_tab_problem(exc) else None
            if fixed is None:
                return None
            parsed = fixed
        except (yaml.YAMLError, _Refused, RecursionError):
            return None
    return None


def _is_tab_problem(exc: yaml.MarkedYAMLError) -> bool:
    return "found character '\\t'" in (exc.problem or "")


def load_yaml(text: str, path: str, first_line: int, diagnostics: Diagnostics) -> YamlDocument | None:
    """Parse YAML that starts at ``first_line`` of ``path``; None (and an error) when it is not valid.

    YAML does not allow tabs in indentation; a file indented with tabs is
    read as an editor shows it (tab stops every 4, 2 or 8 columns, the first
    that gives valid YAML). Line numbers count ``\\n`` line endings only.
    """
    lines = _Lines(text)
    try:
        node, data = _parse(text, first_line)
    except yaml.MarkedYAMLError as exc:
        parsed = None
        if _is_tab_problem(exc):
            parsed = next((r for size in TAB_SIZES if (r := _parse_with_tabs(text, first_line, size))), None)
        if parsed is None:
            mark = exc.problem_mark or exc.context_mark
            # PyYAML's context ("while scanning a quoted scalar", "expected a single
            # document") and its problem read as one sentence.
            problem = ", ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
            line = first_line + (lines.line(mark.index) if mark else 0)
            diagnostics.error(Location(path, line), "yaml-invalid", f"{problem}{_hint(problem)}")
            return None
        node, data = parsed
    except yaml.reader.ReaderError as exc:
        line = first_line + lines.line(exc.position)
        character = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        diagnostics.error(Location(path, line), "yaml-invalid",
                          f"the character {character} is not allowed in YAML; delete it")
        return None
    except _Refused as exc:
        diagnostics.error(Location(path, first_line + lines.line(exc.index)), "yaml-invalid", exc.message)
        return None
    except RecursionError:
        diagnostics.error(Location(path, first_line), "yaml-invalid",
                          "the YAML is nested too deeply to read; flatten it")
        return None
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        diagnostics.error(Location(path, first_line), "yaml-invalid", f"{message}; check the YAML syntax")
        return None
    key_lines = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key_lines.setdefault(key_node.value, first_line + key_node.start_mark.line)
    return YamlDocument(data, key_lines, node)


@dataclass(frozen=True)
class FrontMatterSplit:
    front_matter: YamlDocument | None
    body_lines: tuple[str, ...]
    body_first_line: int  # 1-based line number of body_lines[0]


def split_front_matter(source: SourceText, diagnostics: Diagnostics) -> FrontMatterSplit | None:
    """Separate a leading ``---`` … ``---`` YAML block from the Markdown body.

    Returns None when the block is broken (the error says how to fix it).
    A file without front matter has an empty one. A block after blank lines
    is front matter too when it is closed and opens with a ``key:`` line
    (with a warning: Markdown tools take front matter on line 1 only, and as
    Markdown it would print raw, a rule and a heading made of its keys).
    """
    lines = source.lines
    opening = next((index for index, line in enumerate(lines) if line.strip()), None)
    if opening is None or lines[opening].rstrip() != FENCE:
        return FrontMatterSplit(None, lines, 1)
    closing = next((index for index in range(opening + 1, len(lines)) if lines[index].rstrip() == FENCE), None)
    if opening > 0:
        first_key = next((line for line in lines[opening + 1:closing] if line.strip()), "")
        if closing is None or not _KEY_LINE.match(first_key):
            return FrontMatterSplit(None, lines, 1)  # a rule in the body, not settings
        diagnostics.warning(Location(source.path, opening + 1), "front-matter-not-first",
                            f"the front matter starts on line {opening + 1}, after blank lines; it is read "
                            "as front matter, but Markdown tools take front matter on line 1 only: delete "
                            "the blank lines above it")
    if closing is None:
        diagnostics.error(Location(source.path, opening + 1), "front-matter-unclosed",
                          f"the front matter opened with `---` on line {opening + 1} is never closed; "
                          "add a line `---` after its last key")
        return None
    text = "\n".join(lines[opening + 1:closing])
    document = load_yaml(text, source.path, opening + 2, diagnostics)
    if document is None:
        return None
    if document.data is None:
        document = YamlDocument({}, {})
    if not isinstance(document.data, dict):
        diagnostics.error(Location(source.path, opening + 2), "front-matter-not-mapping",
                          "the front matter must be `key: value` lines "
                          f"(found {_a(type(document.data).__name__)}); write each setting as "
                          "`key: value`, e.g. `title: \"Model Deployment\"`")
        return None
    return FrontMatterSplit(document, lines[closing + 1:], closing + 2)


#: A line that opens with a YAML key, as front matter does (`title: …`).
_KEY_LINE = re.compile(r"[A-Za-z_][\w-]*:(\s|$)")


def _a(noun: str) -> str:
    names = {"list": "a list", "str": "text", "int": "a number", "float": "a number", "bool": "true/false"}
    return names.get(noun, f"a {noun}")


def closest(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None
