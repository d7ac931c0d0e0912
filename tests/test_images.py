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
    assert problem_with(tmp_path / "empty.png")[1].startswith("is an empty file")
    Image.new("RGB", (4, 4)).save(tmp_path / "noext", format="PNG")
    assert problem_with(tmp_path / "noext") == ("bad-image", "is a PNG image named without an extension: name it "
                                                "noext.png (EPUB reading systems go by the name)")
    Image.new("RGB", (4, 4)).save(tmp_path / "t.tiff", format="TIFF")
    assert problem_with(tmp_path / "t.tiff")[1].startswith("is a TIFF image, which not every EPUB reading system shows")
    (tmp_path / "g.svg").write_bytes(b"GIF89a" + bytes(20))
    assert problem_with(tmp_path / "g.svg")[1].startswith("is a GIF image named .svg: name it g.gif")


@pytest.mark.parametrize("inside, refers", [
    ('<image href="http://example.org/a.png" width="9" height="9"/>', "'http://example.org/a.png' (its line 2)"),
    ("<image xlink:href='../../secret.png'/>", "'../../secret.png' (its line 2)"),
    ('<rect style="fill: url(file:///etc/passwd)"/>', "'file:///etc/passwd' (its line 2)"),
    ('<style>@import "https://example.org/x.css";</style>', "'https://example.org/x.css' (its line 2)"),
    ('<use href="other.svg#shape"/>', "'other.svg#shape' (its line 2)"),
])
def test_an_svg_that_refers_to_anything_outside_itself_is_refused(tmp_path, inside, refers):
    (tmp_path / "d.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" '
                                    'xmlns:xlink="http://www.w3.org/1999/xlink">\n' + inside + "\n</svg>\n")
    code, words = problem_with(tmp_path / "d.svg")
    assert code == "unsafe-url" and words.startswith(f"refers to {refers}: an SVG image in the books must hold")


def test_an_svg_keeps_its_own_fragments_and_data_urls(tmp_path):
    (tmp_path / "d.svg").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<defs><linearGradient id="g"/></defs><rect style="fill: url(#g)" fill="url( \'#g\' )"/>'
        '<use xlink:href="#g"/><image href="data:image/png;base64,iVBORw0KGgo="/></svg>')
    assert problem_with(tmp_path / "d.svg") is None


def test_an_svg_with_an_external_entity_is_refused(tmp_path):
    (tmp_path / "d.svg").write_text('<?xml version="1.0"?>\n<!DOCTYPE svg [\n<!ENTITY x SYSTEM "file:///etc/hostname">\n]>'
                                    '<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>')
    assert problem_with(tmp_path / "d.svg") == ("unsafe-url", "declares an external entity (its line 3): remove "
                                                "the entity declarations from its DOCTYPE")


def test_a_damaged_raster_image_is_refused(tmp_path):
    (tmp_path / "cut.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # the signature, and nothing after it
    code, words = problem_with(tmp_path / "cut.png")
    assert code == "bad-image" and words.startswith("is a damaged PNG file (") and words.endswith("): export it again")
