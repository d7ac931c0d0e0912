"""Five changes to the PDF writer under WeasyPrint (pydyf 0.13) for long books.

The first four change only the time a file takes (measured by benchmarks/run.py,
see BENCHMARKS.md); the fifth changes the compressed bytes, never what they
decompress to:

- ``PDF.page_references`` builds a tuple of every page each time it is read,
  and WeasyPrint reads it once per tagged element and once per link: the cost
  grows with pages × elements (13 % of a 1,000-page reading edition). It is
  cached until a page is added.
- ``PDF.write`` compresses every stream twice when the file has an /ID (once to
  write it, once more to hash the objects for the second half of the /ID), at
  zlib level 9. While a file is written, each stream is compressed once.
- The same /ID pass serialises every other object of the file again (the tag
  tree's tens of thousands of dictionaries in a long reading edition: a third
  of its write). While a file is written, each of its objects is serialised once.
- Serialising calls ``_to_bytes`` for every key and value, and it asks
  ``isinstance`` of each in turn (1.8 million calls for the x10 reading
  edition, most of its serialisation). Dictionaries and arrays are serialised
  by exact type, names of keys remembered; anything else as pydyf does.
- Streams are compressed at zlib's default level (6) instead of 9, which
  searches much harder for a few bytes: files about 1 % larger (the x1
  benchmark book's 3.55 MB of streams become 3.57 MB).

All are tied to the pinned pydyf version (pyproject.toml): with any
other version nothing is patched and the build is only slower.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import pydyf

from . import fontprograms

PATCHED_VERSION = "0.13.0"
COMPRESSION_LEVEL = 6

_original_page_references = pydyf.PDF.page_references
_original_stream_data = pydyf.Stream.data
_original_write = pydyf.PDF.write
_original_dictionary_data = pydyf.Dictionary.data
_original_array_data = pydyf.Array.data
_stream_data_memo: dict[int, bytes] | None = None  # id(stream) -> data, only while a file is written
# id(object) -> its data (None until serialised), for the file's own objects only while it is written:
# they live until the write ends, where a temporary dictionary's id could be reused by the next one.
_object_data_memo: dict[int, bytes | None] | None = None
_original_to_bytes = pydyf._to_bytes
_key_bytes: dict[str, bytes] = {}  # dictionary key -> b"/Key "; a few dozen names in a whole book


def _to_bytes(item) -> bytes:
    """pydyf 0.13's ``_to_bytes``, by exact type first (bool is an int subclass: the fallback's)."""
    kind = type(item)
    if kind is bytes:
        return item
    if kind is str:
        return item.encode("ascii")
    if kind is int:
        return b"%d" % item
    if kind is float:
        return b"%d" % item if item.is_integer() else f"{item:f}".rstrip("0").encode("ascii")
    if kind is pydyf.Dictionary or kind is pydyf.Array:
        return item.data
    return _original_to_bytes(item)


def _serialised_dictionary(dictionary: pydyf.Dictionary) -> bytes:
    parts = []
    for key, value in dictionary.items():
        prefix = _key_bytes.get(key) if type(key) is str else None
        if prefix is None:
            prefix = b"/" + _to_bytes(key) + b" "
            if type(key) is str:
                _key_bytes[key] = prefix
        kind = type(value)
        parts.append(prefix + (value if kind is bytes else value.encode("ascii") if kind is str
                               else _to_bytes(value)))
    return b"<<" + b"".join(parts) + b">>"


def _serialised_array(array: pydyf.Array) -> bytes:
    return b"[" + b" ".join([item if type(item) is bytes else _to_bytes(item) for item in array]) + b"]"


def _page_references(pdf: pydyf.PDF) -> tuple:
    kids = pdf.pages["Kids"]
    cached = pdf.__dict__.get("_page_references_cache")
    if cached is None or cached[0] is not kids or cached[1] != len(kids):
        cached = (kids, len(kids), _original_page_references.fget(pdf))
        pdf.__dict__["_page_references_cache"] = cached
    return cached[2]


def compressed(data: bytes) -> bytes:
    """A stream's data as written: zlib at COMPRESSION_LEVEL."""
    compressor = zlib.compressobj(level=COMPRESSION_LEVEL)
    return compressor.compress(data) + compressor.flush()


def _compressed_stream_data(stream: pydyf.Stream) -> bytes:
    """pydyf 0.13's ``Stream.data``, compressing at COMPRESSION_LEVEL; a font file
    `fontprograms` knows is taken compressed already."""
    data = b"\n".join(pydyf._to_bytes(item) for item in stream.stream)
    extra = pydyf.Dictionary(stream.extra.copy())
    if stream.compress:
        extra["Filter"] = "/FlateDecode"
        program = fontprograms.known(data)
        data = program.compressed if program is not None else compressed(data)
    extra["Length"] = len(data)
    return b"\n".join((extra.data, b"stream", data, b"endstream"))


def _stream_data(stream: pydyf.Stream) -> bytes:
    if _stream_data_memo is None:
        return _compressed_stream_data(stream)
    data = _stream_data_memo.get(id(stream))
    if data is None:
        data = _stream_data_memo[id(stream)] = _compressed_stream_data(stream)
    return data


def _memoised(serialise: Callable[[pydyf.Object], bytes]) -> property:
    def data(obj) -> bytes:
        memo = _object_data_memo
        if memo is None or (key := id(obj)) not in memo:
            return serialise(obj)
        found = memo[key]
        if found is None:
            found = memo[key] = serialise(obj)
        return found

    return property(data)


def _write(pdf: pydyf.PDF, *args, **kwargs):
    # Objects are complete once writing starts; the memos live for this call only,
    # so that ids of freed objects are never reused against them.
    global _stream_data_memo, _object_data_memo
    outer = _stream_data_memo, _object_data_memo
    _stream_data_memo = {}
    _object_data_memo = {id(obj): None for obj in pdf.objects if not isinstance(obj, pydyf.Stream)}
    try:
        return _original_write(pdf, *args, **kwargs)
    finally:
        _stream_data_memo, _object_data_memo = outer


def install() -> bool:
    """Patch pydyf if it is the version these fixes were written for; True when patched."""
    if pydyf.VERSION != PATCHED_VERSION:
        return False
    pydyf.PDF.page_references = property(_page_references)
    pydyf.Stream.data = property(_stream_data)
    pydyf.Dictionary.data = _memoised(_serialised_dictionary)
    pydyf.Array.data = _memoised(_serialised_array)
    pydyf._to_bytes = _to_bytes
    pydyf.PDF.write = _write
    return True


def uninstall() -> None:
    """Back to pydyf as shipped (the tests compare both)."""
    pydyf.PDF.page_references = _original_page_references
    pydyf.Stream.data = _original_stream_data
    pydyf.Dictionary.data = _original_dictionary_data
    pydyf.Array.data = _original_array_data
    pydyf._to_bytes = _original_to_bytes
    pydyf.PDF.write = _original_write
