"""What the book's stylesheet (styles/print.css) does to text a reader sees, laid out on its own."""

from pathlib import Path

import pypdfium2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

STYLES = Path(__file__).resolve().parents[1] / "styles"


def test_titles_and_names_in_lists_are_never_hyphenated():
    """The contents, learning path, what's new and index list titles and names, which the
    headings print whole: the book's stylesheet keeps them whole at a line's end too."""
    long_name = "Hyperparameteroptimizationframeworkintegrationtoolkit"
    html = ('<!DOCTYPE html><html lang="en"><body>' + "".join(
        f'<ul class="{kind}"><li><a data-page="9">{long_name} and {long_name}</a></li></ul>'
        for kind in ("toc", "step-links", "whats-new", "tools-index")) + "</body></html>")

    def line_ends(extra_css: str) -> list[str]:
        fonts = FontConfiguration()
        sheets = [CSS(filename=str(STYLES / name), font_config=fonts) for name in ("fonts.css", "print.css")]
        sheets.append(CSS(string="@page { size: 3in 9in; margin: 0.5in; } " + extra_css, font_config=fonts))
        data = HTML(string=html, base_url=str(STYLES) + "/").write_pdf(stylesheets=sheets, font_config=fonts)
        text = pypdfium2.PdfDocument(data)[0].get_textpage().get_text_range()
        return [line.rstrip()[-1:] for line in text.splitlines() if line.strip()]

    hyphens = ("-", "\u2010", "\xad")
    assert any(end in hyphens for end in line_ends(
        ".toc, .step-links, .whats-new, .tools-index { hyphens: auto; }")), "the name can be hyphenated"
    assert not any(end in hyphens for end in line_ends(""))


def test_code_is_never_hyphenated_and_still_breaks():
    """A hyphen added inside code changes it (`mod-ule` is not the module's name): code breaks
    where it must, without one, and the prose around it is still hyphenated."""
    import io

    import pypdfium2

    from handbook_press.pagegeometry import Geometry
    from handbook_press.paging import PrintEdition
    from handbook_press.pdf import Typesetter

    from .conftest import CONTENT, ROOT

    name = "some.very.long.module.path.that.never.ends.ClassNameFactoryBuilderProviderSingleton"
    setter = Typesetter(PrintEdition(Geometry(6.0, 9.0)), content=CONTENT, templates=ROOT / "templates",
                        styles=ROOT / "styles")
    html = (f'<html lang="en"><body><div class="prose"><p>{"Pneumonoultramicroscopic " * 30}and in the '
            f"code, <code>{name}</code> and <code>{name}</code>.</p></div></body></html>")
    pdf = setter.lay_out(html).write_pdf()
    page = pypdfium2.PdfDocument(io.BytesIO(pdf))[0]
    lines = page.get_textpage().get_text_range().replace("\r", "").split("\n")
    joined = "".join(lines)
    assert joined.count(name) == 2, lines  # whole once the line breaks are closed up
    assert not any(name in line for line in lines), lines  # longer than a line: it did break
