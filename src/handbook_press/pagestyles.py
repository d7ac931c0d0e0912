"""One computed style per kind of page, not per page, in WeasyPrint 70's layout.

For every page it makes, WeasyPrint matches the @page rules against the page's
type (side, blank, name, position, page groups) and computes the styles of the
page and of its sixteen margin boxes afresh, though most pages of a document
are of a few kinds: about 3 ms a page, and the loop that finds the margin boxes'
styles walks every page type seen so far in the document (it grows with the
square of a long document's pages, such as the empty pages that give a share of
the body its folios, `splitbody.fix_folios`).

Which rules match a page depends only on its side, whether it is blank, whether
it is the first and its name, unless a rule selects by position (``:nth()``).
So when no @page rule of the document does, a page whose type matches the same
way as an earlier page's shares that page's computed styles; otherwise
WeasyPrint computes them as before. The counters are not part of these styles
(they are kept per page), and the two changes WeasyPrint makes to a page's
style during layout give every page of a document the same values. The PDFs
are the same bytes (tested).

Tied to the pinned WeasyPrint: with any other version nothing is changed.
"""

from __future__ import annotations

import weasyprint
from weasyprint.layout import page as page_layout

PATCHED_VERSION = "70.0"
_original = page_layout.set_page_type_computed_styles
_SHARED = "_handbook_press_page_styles"  # on WeasyPrint's StyleFor (one per document): key -> styles


def _shared_styles(style_for) -> dict | None:
    """The document's page styles by kind; None when a rule selects pages by position, so that
    each page has its own."""
    shared = style_for.__dict__.get(_SHARED, ...)
    if shared is ...:
        by_position = any(selector[2].index is not None
                          for sheet, _origin, _specificity in style_for._sheets
                          for _rule, selector_list, _declarations in sheet.page_rules for selector in selector_list)
        shared = style_for.__dict__[_SHARED] = None if by_position else {}
    return shared


def set_page_type_computed_styles(page_type, html, style_for):
    shared = _shared_styles(style_for)
    if shared is None:
        return _original(page_type, html, style_for)
    # What the @page rules can tell apart without a selector by position.
    key = (page_type.side, page_type.blank, page_type.index == 0, page_type.name)
    computed = style_for.get_computed_styles()
    styles = shared.get(key)
    if styles is None or (page_type, None) in computed:
        _original(page_type, html, style_for)
        if styles is None:
            shared[key] = [(None, computed[page_type, None])] + [
                (pseudo, computed[page_type, pseudo]) for element, pseudo in style_for.get_cascaded_styles()
                if pseudo and element == page_type and (page_type, pseudo) in computed]
        return
    for pseudo, style in styles:
        computed[page_type, pseudo] = style


def install() -> bool:
    """Share page styles if WeasyPrint is the version this was written for; True when done."""
    if weasyprint.__version__ != PATCHED_VERSION:
        return False
    page_layout.set_page_type_computed_styles = set_page_type_computed_styles
    return True


def uninstall() -> None:
    """Back to WeasyPrint as shipped (the tests compare both)."""
    page_layout.set_page_type_computed_styles = _original
