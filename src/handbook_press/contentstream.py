"""Read a PDF content stream into (operands, operator) pairs, fast.

Preflight reads every operator of every page. pypdf's parser builds a Python
object per token through a byte-by-byte reader: on a 1,000-page book that was
most of the print step (33 s of it). One regular expression over the decoded
stream gives the same pairs several times faster. Operands keep the types
preflight looks at: numbers as ``float``, names as pypdf ``NameObject``;
strings, arrays and dictionaries (text, TJ arrays, marked-content properties)
are kept as opaque values. A stream with an inline image (``BI … ID … EI``,
binary data between the operators) is left to pypdf, like anything this
reader does not understand.
"""

from __future__ import annotations

import re
from typing import Any

from pypdf.generic import ContentStream, NameObject

_TOKENS = re.compile(
    rb"(?P<space>[\x00\t\n\x0c\r ]+|%[^\r\n]*)"
    rb"|(?P<name>/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*)"
    # A flat array of numbers, names and hex strings (a TJ array: two tokens a glyph) in
    # one match; atomic, so that an array this does not cover fails at once and is read
    # token by token below.
    rb"|(?P<array>\[(?>[\x00\t\n\x0c\r ]+|[+\-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)"
    rb"|/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*|<[0-9A-Fa-f\x00\t\n\x0c\r ]*>)*+\])"
    rb"|(?P<open><<|\[)"
    rb"|(?P<close>>>|\])"
    rb"|(?P<hex><[0-9A-Fa-f\x00\t\n\x0c\r ]*>)"
    rb"|(?P<string>\()"
    rb"|(?P<word>[^\x00\t\n\x0c\r ()<>\[\]{}/%]+)"
)
_PARENTHESES = re.compile(rb"[()\\]")
_NUMBER_START = frozenset(b"+-.0123456789")
_KEYWORDS = {b"true": True, b"false": False, b"null": None}


class Unreadable(ValueError):
    """Not a content stream this reader handles: use pypdf's."""


class Opaque:
    """A string, array or dictionary operand: present, never looked into."""

    __slots__ = ("kind",)

    def __init__(self, kind: str):
        self.kind = kind

    def __repr__(self) -> str:
        return f"<{self.kind}>"


_STRING, _ARRAY, _DICTIONARY = Opaque("string"), Opaque("array"), Opaque("dictionary")


def _name(token: bytes) -> NameObject:
    text = token.decode("latin-1")
    if "#" in text:  # #xx escapes, as pypdf decodes them
        text = re.sub(r"#([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text)
    return NameObject(text)


def _string_end(data: bytes, start: int) -> int:
    """Index just past the literal string opening at ``start`` (balanced parentheses, backslash escapes)."""
    depth, position = 0, start
    while True:
        match = _PARENTHESES.search(data, position)
        if match is None:
            raise Unreadable("unterminated string")
        char = data[match.start()]
        if char == 0x5C:  # backslash: skip the escaped byte
            position = match.start() + 2
            continue
        depth += 1 if char == 0x28 else -1
        position = match.end()
        if depth == 0:
            return position


def parse_operations(data: bytes) -> list[tuple[list[Any], bytes]]:
    """The (operands, operator) pairs of a decoded content stream; ``Unreadable`` if it cannot."""
    operations: list[tuple[list[Any], bytes]] = []
    operands: list[Any] = []
    nesting: list[bytes] = []  # open arrays and dictionaries
    position, end = 0, len(data)
    match_at = _TOKENS.match
    while position < end:
        match = match_at(data, position)
        if match is None:
            raise Unreadable(f"unexpected byte at {position}")
        kind = match.lastgroup
        position = match.end()
        if kind == "space":
            continue
        if kind == "string":
            position = _string_end(data, match.start())
            value: Any = _STRING
        elif kind == "hex":
            value = _STRING
        elif kind == "array":
            value = _ARRAY
        elif kind == "name":
            value = _name(match.group())
        elif kind == "open":
            nesting.append(match.group())
            continue
        elif kind == "close":
            if not nesting or (nesting.pop() == b"[") != (match.group() == b"]"):
                raise Unreadable("unbalanced array or dictionary")
            value = _ARRAY if match.group() == b"]" else _DICTIONARY
        else:
            word = match.group()
            if word[0] in _NUMBER_START:
                try:
                    value = float(word)
                except ValueError:
                    raise Unreadable(f"not a number: {word!r}") from None
            elif word in _KEYWORDS:
                value = _KEYWORDS[word]
            elif nesting:
                raise Unreadable("operator inside an array or dictionary")
            elif word in (b"BI", b"ID", b"EI"):
                raise Unreadable("inline image")
            else:
                operations.append((operands, word))
                operands = []
                continue
        if not nesting:
            operands.append(value)
    if nesting:
        raise Unreadable("unclosed array or dictionary")
    return operations


def operations_of(stream, reader) -> list[tuple[list[Any], bytes]]:
    """The operations of a pypdf content or form stream: this module's reader, else pypdf's."""
    try:
        return parse_operations(stream.get_data())
    except Unreadable:
        return (stream if isinstance(stream, ContentStream) else ContentStream(stream, reader)).operations
