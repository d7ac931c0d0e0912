"""Pages of the same kind share their computed styles: the same PDFs, computed once per kind."""

from pathlib import Path

import pytest
import weasyprint
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from handbook_press import pagestyles
from handbook_press import pdf as _installs_the_patch  # noqa: F401  (as every build does)

from .conftest import without

STYLES = Path(__file__).resolve().parents[1] / "styles"
PAGES = """
@page { size: 5in 7in; margin: 1in; @bottom-center { content: counter(page); font: 9pt "Book Sans"; } }
@page :left { @top-left { content: string(title); font: italic 9pt "Book Serif"; } }
@page :right { @top-right { content: "Right " counter(page); font: 9pt "Book Sans"; } }
@page :first { @bottom-center { content: none; } }
@page :blank { @top-left { content: none; } @top-right { content: none; } }
@page opener { @top-right { content: none; } @bottom-center { content: "opens " counter(page); } }
body { font: 11pt/1.4 "Book Serif"; }
h1 { page: opener; break-before: right; string-set: title content(); }
"""
BY_POSITION = "@page :nth(3) { @top-center { content: \"third\"; } }"
BODY = "".join(f"<h1>Part {n}</h1>" + "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit. </p>" * 40
               for n in range(1, 4))


unpatched = without(pagestyles)


def render(extra: str = ""):
    fonts = FontConfiguration()
    sheets = [CSS(filename=str(STYLES / "fonts.css"), font_config=fonts),
              CSS(string=PAGES + extra, font_config=fonts)]
    html = f'<!DOCTYPE html><html lang="en"><body>{BODY}</body></html>'
    return HTML(string=html, base_url=str(STYLES) + "/").render(stylesheets=sheets, font_config=fonts)


def pdf_and_styles(extra: str = "") -> tuple[bytes, int, int]:
    document = render(extra)
    page_styles = {id(page._page_box.style) for page in document.pages}
    return document.write_pdf(pdf_identifier=b"0" * 32), len(document.pages), len(page_styles)


def test_installed_for_the_pinned_weasyprint():
    assert weasyprint.__version__ == pagestyles.PATCHED_VERSION, "pyproject.toml pins the WeasyPrint this patches"
    from weasyprint.layout import page

    assert page.set_page_type_computed_styles is pagestyles.set_page_type_computed_styles


@pytest.mark.parametrize("extra", ["", BY_POSITION])
def test_the_same_pdf_as_weasyprint_alone(extra):
    shared, pages, _ = pdf_and_styles(extra)
    pagestyles.uninstall()
    try:
        alone, pages_alone, _ = pdf_and_styles(extra)
    finally:
        pagestyles.install()
    assert pages == pages_alone > 8
    assert shared == alone


def test_pages_of_a_kind_share_one_style():
    _, pages, styles = pdf_and_styles()
    # Left, right, first, blank and the named opener: a handful of kinds for a dozen pages.
    assert styles <= 6 < pages


def test_weasyprint_alone_computes_a_style_for_every_page(unpatched):
    _, pages, styles = pdf_and_styles()
    assert styles == pages


def test_a_rule_by_position_keeps_a_style_per_page():
    _, pages, styles = pdf_and_styles(BY_POSITION)
    assert styles == pages
