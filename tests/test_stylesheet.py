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
