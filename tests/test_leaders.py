"""A dot leader is one text run: the same dots and text as WeasyPrint's many runs, drawn once."""

from pathlib import Path

import pypdfium2
import pytest
import weasyprint
from PIL import ImageChops
from weasyprint import CSS, HTML
from weasyprint.formatting_structure import boxes
from weasyprint.layout import inline
from weasyprint.text.fonts import FontConfiguration

from handbook_press import leaders
from handbook_press import pdf as _installs_the_patch  # noqa: F401  (as every build does)

from .conftest import without

STYLES = Path(__file__).resolve().parents[1] / "styles"
CONTENTS = """<!DOCTYPE html><html><body><ul class="toc">{}</ul></body></html>""".format("".join(
    f'<li><a data-page="{page}">{title}</a></li>' for title, page in [
        ("Foundations", 1), ("Model Deployment and Serving at Scale", 17),
        (("A title long enough to wrap onto a second line of the contents, so that the leader"
          " follows the end of its last line"), 123), ("Ethics", 1031)]))
CSS_TEXT = """
@page { size: 6in 9in; margin: 0.75in; }
body { font: 10.5pt/1.4 "Book Serif"; text-align: justify; hyphens: auto; }
.toc { list-style: none; padding: 0; }
.toc a { display: block; padding-left: 18pt; text-indent: -18pt; margin-left: 18pt; }
.toc a::after { content: leader(". ") attr(data-page); }
"""


unpatched = without(leaders)


def lay_out():
    fonts = FontConfiguration()
    sheets = [CSS(filename=str(STYLES / "fonts.css"), font_config=fonts), CSS(string=CSS_TEXT, font_config=fonts)]
    return HTML(string=CONTENTS, base_url=str(STYLES) + "/").render(stylesheets=sheets, font_config=fonts)


def leader_boxes(document):
    return [box for page in document.pages for box in page._page_box.descendants() if getattr(box, "is_leader", False)]


def rendered(document):
    pdf = pypdfium2.PdfDocument(document.write_pdf())
    page = pdf[0]
    return page.render(scale=3).to_pil().convert("L"), page.get_textpage().get_text_range()


def test_the_patch_is_installed_for_the_pinned_weasyprint():
    assert weasyprint.__version__ == leaders.PATCHED_VERSION, "pyproject.toml pins the WeasyPrint this was written for"
    assert inline.handle_leader is leaders._handle_leader


def test_each_leader_is_one_text_run():
    found = leader_boxes(lay_out())
    assert len(found) == 4
    for box in found:
        (run,) = box.children
        assert isinstance(run, boxes.TextBox) and run.text.startswith(". . . ") and run.pango_layout.text == run.text


def test_weasyprint_alone_makes_a_run_per_dot(unpatched):
    assert all(len(box.children) > 10 for box in leader_boxes(lay_out()))


def test_the_same_dots_and_text_as_weasyprint_draws(unpatched):
    theirs_document = lay_out()
    theirs_runs = [[(child.position_x, child.width) for child in box.children] for box in leader_boxes(theirs_document)]
    theirs_image, theirs_text = rendered(theirs_document)
    assert leaders.install()
    ours_document = lay_out()
    ours_image, ours_text = rendered(ours_document)
    assert ours_text == theirs_text and ". 1031" in ours_text
    for runs, box in zip(theirs_runs, leader_boxes(ours_document), strict=True):
        (run,) = box.children  # from WeasyPrint's leftmost dot to the end of its rightmost
        assert run.position_x == pytest.approx(min(x for x, _ in runs))
        assert run.position_x + run.width == pytest.approx(max(x + w for x, w in runs))
    # At 216 dpi no pixel moves by more than a sub-pixel shade (Pango's advances, summed).
    difference = ImageChops.difference(theirs_image, ours_image)
    assert difference.getbbox() is None or max(difference.getextrema()) < 96
    ink = [sum(1 for v in image.get_flattened_data() if v < 128) for image in (theirs_image, ours_image)]
    assert ink[0] > 1000 and abs(ink[0] - ink[1]) < ink[0] / 100
