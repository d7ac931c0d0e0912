"""Reading source files safely: text, front matter, YAML.

YAML is read with a safe loader that also refuses duplicate keys (PyYAML
silently keeps the last one). Problems become diagnostics with the file and
line, never exceptions that escape to the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .diagnostics import Diagnostics, Location

FENCE = "---"


@dataclass(frozen=True)
class SourceText:
    path: str  # as shown in messages
    lines: tuple[str, ...]  # without line endings; line n is lines[n - 1]


def read_text(file: Path, shown_as: str, diagnostics: Diagnostics) -> SourceText | None:
    """Read a UTF-8 text file; a byte-order mark and CRLF endings are accepted."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        diagnostics.error(Location(shown_as, 1), "file-unreadable",
                          f"cannot read the file ({exc.strerror or exc}); check that it exists and is readable")
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
    return SourceText(shown_as, tuple(lines))


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None,
                f"duplicate key {key!r} (first written on line {seen[key] + 1}); keep only one",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping_plain(node, deep=deep)


_UniqueKeyLoader.construct_mapping_plain = yaml.SafeLoader.construct_mapping  # type: ignore[attr-defined]
_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(frozen=True)
class YamlDocument:
    data: object
    key_lines: dict  # top-level key -> 1-based line


def load_yaml(text: str, path: str, first_line: int, diagnostics: Diagnostics) -> YamlDocument | None:
    """Parse YAML that starts at ``first_line`` of ``path``; None (and an error) when it is not valid."""
    try:
        node = yaml.compose(text, Loader=_UniqueKeyLoader)
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        problem = exc.problem or "invalid YAML"
        if "could not determine a constructor" in problem or (problem and "!!" in problem):
            problem = f"{problem}; tags that build objects are not allowed, write plain values"
        diagnostics.error(Location(path, line), "yaml-invalid", f"{problem}")
        return None
    except yaml.YAMLError as exc:
        diagnostics.error(Location(path, first_line), "yaml-invalid", str(exc))
        return None
    key_lines = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            key_lines[key_node.value] = first_line + key_node.start_mark.line
    return YamlDocument(data, key_lines)


@dataclass(frozen=True)
class FrontMatterSplit:
    front_matter: YamlDocument | None
    body_lines: tuple[str, ...]
    body_first_line: int  # 1-based line number of body_lines[0]


def split_front_matter(source: SourceText, diagnostics: Diagnostics) -> FrontMatterSplit | None:
    """Separate a leading ``---`` … ``---`` YAML block from the Markdown body.

    Returns None when the block is broken (the error says how to fix it).
    A file without front matter has an empty one.
    """
    lines = source.lines
    if not lines or lines[0].rstrip() != FENCE:
        return FrontMatterSplit(None, lines, 1)
    for index in range(1, len(lines)):
        if lines[index].rstrip() == FENCE:
            text = "\n".join(lines[1:index])
            document = load_yaml(text, source.path, 2, diagnostics)
            if document is None:
                return None
            if document.data is None:
                document = YamlDocument({}, {})
            if not isinstance(document.data, dict):
                diagnostics.error(Location(source.path, 2), "front-matter-not-mapping",
                                  "the front matter must be `key: value` lines "
                                  f"(found a {type(document.data).__name__})")
                return None
            return FrontMatterSplit(document, lines[index + 1:], index + 2)
    diagnostics.error(Location(source.path, 1), "front-matter-unclosed",
                      "the front matter opened with `---` on line 1 is never closed; "
                      "add a line `---` after its last key")
    return None


def closest(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None
