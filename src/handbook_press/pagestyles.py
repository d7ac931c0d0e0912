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
_CACHE = "_handbook_press_page_styles"  # on WeasyPrint's StyleFor: one per document


def _matching_key(page_type, style_for) -> tuple | None:
    """What the @page rules of ``style_for`` can tell apart in ``page_type``; None when a rule
    selects by position, so that only the page itself has its styles."""
    by_position = style_for.__dict__.get("_handbook_press_by_position")
    if by_position is None:
        by_position = style_for.__dict__["_handbook_press_by_position"] = any(
            selector[2].index is not None
            for sheet, _origin, _specificity in style_for._sheets
            for _rule, selector_list, _declarations in sheet.page_rules for selector in selector_list)
    if by_position:
        return None
    return (page_type.side, page_type.blank, page_type.index == 0, page_type.name)


def set_page_type_computed_styles(page_type, html, style_for):
    key = _matching_key(page_type, style_for)
    cache = style_for.__dict__.setdefault(_CACHE, {})
    shared = cache.get(key) if key is not None else None
    computed = style_for.get_computed_styles()
    if shared is None or (page_type, None) in computed:
        _original(page_type, html, style_for)
        if key is not None and key not in cache:
            cascaded = style_for.get_cascaded_styles()
            cache[key] = [(None, computed[page_type, None])] + [
                (pseudo, computed[page_type, pseudo])
                for element, pseudo in cascaded if pseudo and element == page_type and (page_type, pseudo) in computed]
        return
    for pseudo, style in shared:
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
