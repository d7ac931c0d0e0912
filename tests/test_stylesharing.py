"""Elements that differ only by their id share their children's styles, pseudo-elements of one
parent style share theirs: the same PDFs, and the same anchors reaching WeasyPrint in the same
order, with far fewer styles computed."""

import contextlib
import io
from pathlib import Path

import pytest
from pypdf import PdfReader
import weasyprint
from weasyprint import CSS, HTML
from weasyprint.css import ComputedStyle, targets
from weasyprint.text.fonts import FontConfiguration

from handbook_press import stylesharing
from handbook_press import pdf as _installs_the_patch  # noqa: F401  (as every build does)

from .conftest import CONTENT, pdf_task_outputs, without

STYLES = Path(__file__).resolve().parents[1] / "styles"
SHEET = """
@page { size: 5in 7in; margin: 1in; @bottom-center { content: counter(page); font: 9pt "Book Sans"; } }
body { font: 11pt/1.4 "Book Serif"; counter-reset: note; }
section { break-before: page; }
h2 { bookmark-level: 2; bookmark-label: content(); string-set: head content(); }
h2::before { content: counter(chapter) ". "; counter-increment: chapter; }
p.note { float: footnote; }
ol.toc a::after { content: leader(". ") target-counter(attr(href), page); }
li::marker { color: #555; }
h3::before { content: "\\00A7 "; }
"""
CHAPTERS = 12


def document_html() -> str:
    toc = "".join(f'<li id="toc-{n}"><a href="#chapter-{n}">Chapter {n}</a></li>' for n in range(1, CHAPTERS + 1))
    chapters = "".join(
        f'<section id="chapter-{n}"><h2>Chapter {n}</h2>'
        f'<ul><li>First topic of {n}</li><li>Second topic</li></ul>'
        + "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit. </p>" * 6
        + (f'<p class="note">A note on chapter {n}.</p>' if n % 3 == 0 else "")
        + (f'<p><a name="named-{n}">A named anchor</a> and <a href="#toc-{n}">back</a>.</p>')
        + f'<h3>Heading {n}</h3>'
        + (f'<div id="styled-{n}" style="color: #0a0"><h3>Green heading</h3><p>Own style.</p></div>'
           if n % 4 == 0 else "")
        + (f'<div id="french-{n}" lang="fr"><p>Un paragraphe.</p></div>' if n % 5 == 0 else "")
        + "</section>"
        for n in range(1, CHAPTERS + 1))
    return f'<!DOCTYPE html><html lang="en"><body><ol class="toc">{toc}</ol>{chapters}</body></html>'


def rendered():
    """(PDF bytes, the anchors in the order WeasyPrint's collector got them, the document)."""
    collectors = []
    real_init = targets.TargetCollector.__init__

    def init(self):
        real_init(self)
        collectors.append(self)

    targets.TargetCollector.__init__ = init
    try:
        fonts = FontConfiguration()
        sheets = [CSS(filename=str(STYLES / "fonts.css"), font_config=fonts), CSS(string=SHEET, font_config=fonts)]
        document = HTML(string=document_html(), base_url=str(STYLES) + "/").render(
            stylesheets=sheets, font_config=fonts, pdf_tags=True)
    finally:
        targets.TargetCollector.__init__ = real_init
    [collector] = collectors
    return document.write_pdf(pdf_identifier=b"0" * 32, pdf_tags=True), list(collector.target_lookup_items), document


unpatched = without(stylesharing)


def test_installed_for_the_pinned_weasyprint():
    assert weasyprint.__version__ == stylesharing.PATCHED_VERSION, "pyproject.toml pins the WeasyPrint this patches"
    assert weasyprint.css.StyleFor.__init__ is stylesharing.__init__
    assert weasyprint.css.find_style_attributes is stylesharing.find_style_attributes
    assert weasyprint.css.StyleFor.set_computed_styles is stylesharing.set_computed_styles


def test_the_same_pdf_and_anchors_as_weasyprint_alone():
    shared, anchors, _ = rendered()
    stylesharing.uninstall()
    try:
        alone, anchors_alone, _ = rendered()
    finally:
        assert stylesharing.install()
    assert anchors == anchors_alone
    assert {"toc-1", "chapter-12", "named-3", "styled-4", "french-5"} <= set(anchors)
    assert shared == alone
    destinations = PdfReader(io.BytesIO(shared)).named_destinations
    assert {"chapter-1", "toc-12", "named-7"} <= set(destinations), "the anchors became named destinations"


def _styles_of(document, tag: str, unclassed: bool = False) -> tuple[int, int]:
    """(boxes of ``tag`` (an element's, or a pseudo-element's such as ``h2::before``), distinct
    styles among them); not the line boxes inside them, which have anonymous styles."""
    found = []

    def walk(box):
        if (isinstance(box.style, ComputedStyle) and getattr(box, "element_tag", None) == tag
                and not (unclassed and box.element.get("class"))):
            found.append(box)
        for child in getattr(box, "children", ()):
            walk(child)
    for page in document.pages:
        walk(page._page_box)
    return len(found), len({id(box.style) for box in found})


def test_children_of_elements_that_differ_by_id_share_one_style():
    _, _, document = rendered()
    paragraphs, styles = _styles_of(document, "p", unclassed=True)
    # Each chapter's seven paragraphs, in sections that differ only by their id, share one style;
    # those under an element with a style or a lang of its own (a few) keep theirs.
    assert paragraphs == 7 * CHAPTERS + CHAPTERS // 4 + CHAPTERS // 5
    assert styles == 1 + CHAPTERS // 4 + CHAPTERS // 5


def test_weasyprint_alone_gives_every_chapter_its_own(unpatched):
    _, _, document = rendered()
    paragraphs, styles = _styles_of(document, "p", unclassed=True)
    assert paragraphs == 7 * CHAPTERS + CHAPTERS // 4 + CHAPTERS // 5
    assert styles >= CHAPTERS


def test_pseudo_elements_of_elements_with_one_style_share_theirs():
    _, _, document = rendered()
    assert _styles_of(document, "h2::before") == (CHAPTERS, 1)
    # Under a parent with a style of its own (another colour), the "§" has its own: one per such div.
    assert _styles_of(document, "h3::before") == (CHAPTERS + CHAPTERS // 4, 1 + CHAPTERS // 4)


def test_weasyprint_alone_styles_each_pseudo_element(unpatched):
    _, _, document = rendered()
    assert _styles_of(document, "h2::before") == (CHAPTERS, CHAPTERS)


@pytest.fixture
def quiet():
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def test_the_handbook_the_same_bytes_as_weasyprint_alone(tmp_path, quiet):
    """Both PDFs and the layout records (the page map's source), body on two cores as in a build."""
    outputs = []
    try:
        for folder in ("shared", "alone"):
            outputs.append(pdf_task_outputs(CONTENT, tmp_path / folder))
            stylesharing.uninstall()
    finally:
        assert stylesharing.install()
    assert outputs[0] == outputs[1]
