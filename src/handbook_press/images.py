"""Which image files the books can take, told from their first bytes.

Both books show an image only if its file is what its name says: WeasyPrint
draws what it can decode, whatever the name, but EPUB reading systems go by the
media type its name gives, and show only EPUB's core image types. A file that
is no image at all would put its alternative text in the PDF and break the EPUB.
PNG, JPEG, GIF and SVG are the types every reading system shows and every
EPUBCheck (Kobo's 4.2.6 too) accepts; WebP is core in EPUB 3.3 only.
"""

from __future__ import annotations

import re
from pathlib import Path

#: The image types the books take, by file name extension.
KIND_OF_SUFFIX = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".svg": "SVG"}
SUFFIX_OF_KIND = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "SVG": ".svg"}
TAKEN = "PNG, JPEG, GIF or SVG"

_SNIFFED_BYTES = 4096  # an SVG's root element follows its XML declaration, doctype and comments
_SIGNATURES = [(b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
               (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"BM", "BMP"), (b"\x00\x00\x01\x00", "ICO")]


def kind_of(head: bytes) -> str | None:
    """The image type of a file that begins with ``head``; None if it is no image known here."""
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<") and b"<svg" in text:
        return "SVG"
    return None


def problem_with(file: Path) -> tuple[str, str] | None:
    """What keeps ``file`` out of the books, as (code, words to follow "the image 'NAME' "), or None."""
    try:
        with open(file, "rb") as image:
            head = image.read(_SNIFFED_BYTES)
    except OSError as error:
        return "bad-image", f"cannot be read ({error.strerror}); check the file's permissions"
    kind = kind_of(head)
    if kind is None:
        if not head:
            return "bad-image", f"is an empty file: export it again as {TAKEN}"
        return "bad-image", f"is not an image (it begins {head[:16]!r}): export it again as {TAKEN}"
    if kind not in SUFFIX_OF_KIND:
        return "bad-image", f"is a {kind} image, which not every EPUB reading system shows: convert it to {TAKEN}"
    suffix = file.suffix.lower()
    if KIND_OF_SUFFIX.get(suffix) != kind:
        named = f"named {suffix}" if suffix else "named without an extension"
        return ("bad-image", f"is a {kind} image {named}: name it {file.stem}{SUFFIX_OF_KIND[kind]} "
                "(EPUB reading systems go by the name)")
    if kind == "SVG":
        return _svg_reference(file)
    try:
        pixel_size(file)
    except Exception as error:  # noqa: BLE001 - Pillow's word for a damaged file varies
        return "bad-image", f"is a damaged {kind} file ({error}): export it again"
    return None


# An SVG is a document: what it refers to (href, url(), @import, an external entity) the PDF's
# renderer would fetch (it refuses anything outside the project) and an EPUB reading system
# might (the EPUB carries the file as it is). Only its own fragments and data: URLs are kept.
_SVG_REFERENCES = re.compile(
    rb"""\bhref\s*=\s*(?:"(?P<href>[^"]*)"|'(?P<href1>[^']*)')"""
    rb"""|url\(\s*(?:"(?P<url>[^"]*)"|'(?P<url1>[^']*)'|(?P<url2>[^)\s]*))"""
    rb"""|@import\s+(?:"(?P<imp>[^"]*)"|'(?P<imp1>[^']*)')"""
    rb"""|(?P<entity><!ENTITY\b[^>]*\b(?:SYSTEM|PUBLIC)\b)""", re.IGNORECASE)


def _svg_reference(file: Path) -> tuple[str, str] | None:
    data = file.read_bytes()
    for match in _SVG_REFERENCES.finditer(data):
        line = data.count(b"\n", 0, match.start()) + 1
        if match.group("entity"):
            return ("unsafe-url", f"declares an external entity (its line {line}): remove the entity "
                    "declarations from its DOCTYPE")
        target = next(value for value in match.groups() if value is not None).strip()
        if target.startswith(b"#") or target.lower().startswith(b"data:"):
            continue
        shown = target.decode("utf-8", "replace")
        return ("unsafe-url", f"refers to {shown!r} (its line {line}): an SVG image in the books must hold "
                "all it shows, since the build fetches nothing and a reading system might; embed the "
                "picture as a data: URL, or remove the reference")
    return None


def pixel_size(file: Path) -> tuple[int, int] | None:
    """A raster image's width and height in pixels, from its header (Pillow reads no further);
    None for an SVG. Raises what Pillow raises for a file it cannot read."""
    if file.suffix.lower() == ".svg":
        return None
    from PIL import Image  # imported only for a book with raster images

    with Image.open(file) as image:
        return image.size
