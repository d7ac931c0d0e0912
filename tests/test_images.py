"""Image files told by their first bytes: what the books can show, and what keeps one out."""

import pytest
from PIL import Image

from handbook_press.images import kind_of, problem_with

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


@pytest.mark.parametrize("head, kind", [
    (SVG, "SVG"),
    (b'\xef\xbb\xbf<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n<!-- a -->\n' + SVG, "SVG"),
    (b"  \n" + SVG, "SVG"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "WebP"),
    (b"<html><body>not svg</body></html>", None),
    (b"svg but <svg later", None),  # text, not markup
    (b"", None),
])
def test_kinds_from_first_bytes(head, kind):
    assert kind_of(head) == kind


@pytest.mark.parametrize("name, fmt", [("a.png", "PNG"), ("b.JPG", "JPEG"), ("c.jpeg", "JPEG"), ("d.gif", "GIF")])
def test_raster_images_named_for_their_type_are_taken(tmp_path, name, fmt):
    Image.new("RGB", (4, 4)).save(tmp_path / name, format=fmt)
    assert problem_with(tmp_path / name) is None


def test_what_keeps_an_image_out(tmp_path):
    (tmp_path / "d.svg").write_bytes(SVG)
    assert problem_with(tmp_path / "d.svg") is None
    (tmp_path / "empty.png").write_bytes(b"")
    assert problem_with(tmp_path / "empty.png").startswith("is an empty file")
    Image.new("RGB", (4, 4)).save(tmp_path / "noext", format="PNG")
    assert problem_with(tmp_path / "noext") == ("is a PNG image named without an extension: name it noext.png "
                                                "(EPUB reading systems go by the name)")
    Image.new("RGB", (4, 4)).save(tmp_path / "t.tiff", format="TIFF")
    assert problem_with(tmp_path / "t.tiff").startswith("is a TIFF image, which not every EPUB reading system shows")
    (tmp_path / "g.svg").write_bytes(b"GIF89a" + bytes(20))
    assert problem_with(tmp_path / "g.svg").startswith("is a GIF image named .svg: name it g.gif")
