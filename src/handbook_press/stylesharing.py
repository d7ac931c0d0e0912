"""Elements whose only difference is their ``id`` share their children's styles, and
pseudo-elements of the same parent style share theirs, in WeasyPrint 70.

WeasyPrint computes an element's style property by property, and shares a
computed style between elements with the same parent style, the same matched
selectors and the same declarations of their own. An ``id`` is such a
declaration (the element's anchor), so an element with one gets a style of
its own, and so does every element below it: their parent styles differ. In a
book every section, chapter, contents entry and index entry has an ``id`` for
its links, so hardly a style was shared.

The anchor is not inherited and nothing else in a style depends on it, so an
element whose own declarations are only its anchor (``id``, an ``<a name>``)
is styled here as if it had none: it shares the style of its twins, and so do
their children; then the element alone gets a copy of that style with its
anchor set, as WeasyPrint would have computed it (the same declarations,
validated the same way). The anchors reach WeasyPrint's target collector in
document order, as before, and an element with anything else of its own (a
``style`` attribute, ``lang``, a presentational hint) is left to WeasyPrint.

Pseudo-elements (``::before``, ``::after``, ``::marker``, the footnote and
note calls WeasyPrint's own style sheet gives every element) were never
shared: each got its style, though its values depend only on its parent's
style and on the rules that match it. Those with the same parent style and the
same cascaded values now share one. Together, for the 112 pages of the
benchmark's x1 book: 159,000 properties computed one by one instead of
297,000, the layout a tenth faster. The PDFs are the same bytes (tested).

Tied to the pinned WeasyPrint: with any other version nothing is changed.
"""

from __future__ import annotations

from itertools import groupby

import weasyprint
from weasyprint import css as weasyprint_css
from weasyprint.css.validation import preprocess_declarations

PATCHED_VERSION = "70.0"
_original_init = weasyprint_css.StyleFor.__init__
_original_set_computed_styles = weasyprint_css.StyleFor.set_computed_styles
_original_find_style_attributes = weasyprint_css.find_style_attributes
_ANCHOR = "-weasy-anchor"
_NO_SPECIFICITY = (0, 0, 0)  # WeasyPrint's specificity for what an element's attributes declare
_collecting: list[dict] = []  # element -> its anchor, for the StyleFor being built
_PSEUDO_STYLES = "_handbook_press_pseudo_styles"  # on a StyleFor being built: key -> computed style


def _is_anchor(rule) -> bool:
    specificity, _element, declarations, _base_url = rule
    return (specificity == _NO_SPECIFICITY and len(declarations) == 1
            and getattr(declarations[0], "lower_name", None) == _ANCHOR)


def _anchor_of(rules) -> str | None:
    """The anchor WeasyPrint's cascade gives these rules: the last valid one (they weigh the same).
    Validated as WeasyPrint validates them, warnings included, at the same point of its work."""
    anchor = None
    for _specificity, _element, declarations, base_url in rules:
        for name, value, _importance in preprocess_declarations(base_url, declarations):
            if name == "anchor":
                anchor = value
    return anchor


def find_style_attributes(tree, presentational_hints=False, base_url=None):
    """WeasyPrint's, less the anchors of elements that declare nothing else (kept aside)."""
    rules = _original_find_style_attributes(tree, presentational_hints, base_url)
    if not _collecting:
        yield from rules
        return
    anchors = _collecting[-1]
    # WeasyPrint yields an element's rules one after the other.
    for element, own_rules in groupby(rules, key=lambda rule: rule[1]):
        own_rules = list(own_rules)
        if all(_is_anchor(rule) for rule in own_rules):
            anchors[element] = _anchor_of(own_rules)
        else:
            yield from own_rules


def set_computed_styles(self, element, parent, root=None, pseudo_type=None, base_url=None, target_collector=None):
    """WeasyPrint's, but a pseudo-element styled while the document's styles are computed shares
    the style of one with the same parent style and the same cascaded values (the very objects
    its rules declared, with their weights): its content's ``attr()`` and counters are read from
    its element when its boxes are built, not from its style."""
    pseudo_styles = self.__dict__.get(_PSEUDO_STYLES)
    if pseudo_type is None or pseudo_styles is None:
        return _original_set_computed_styles(self, element, parent, root, pseudo_type, base_url, target_collector)
    computed = self._computed_styles
    cascaded = self._cascaded_styles.get((element, pseudo_type), {})
    key = (id(computed[parent, None]), pseudo_type,
           tuple((name, id(value), weight) for name, (value, weight) in cascaded.items()))
    style = pseudo_styles.get(key)
    if style is None:
        _original_set_computed_styles(self, element, parent, root, pseudo_type, base_url, target_collector)
        # The style holds its cascaded values (and its parent): the ids in the key stay theirs.
        pseudo_styles[key] = computed[element, pseudo_type]
    else:
        computed[element, pseudo_type] = style


class _CollectorStandIn:
    """Stands for WeasyPrint's target collector while the styles are computed: the anchors
    are given to the real one afterwards, in the order WeasyPrint gives them."""

    def collect_anchor(self, anchor) -> None:
        pass


def __init__(self, html, sheets, presentational_hints, font_config, target_collector):
    anchors: dict = {}
    _collecting.append(anchors)
    self.__dict__[_PSEUDO_STYLES] = {}
    try:
        _original_init(self, html, sheets, presentational_hints, font_config,
                       _CollectorStandIn() if target_collector else target_collector)
    finally:
        _collecting.pop()
        del self.__dict__[_PSEUDO_STYLES]
    computed = self._computed_styles
    for element, anchor in anchors.items():
        shared = computed.get((element, None))
        if shared is not None and anchor is not None:
            own = computed[element, None] = shared.copy()
            own["anchor"] = anchor
    if target_collector:
        # WeasyPrint collects each new element style's anchor in document order (a shared style
        # is not new), then those of the pseudo-elements in the order it styled them.
        seen: set[int] = set()
        for element in html.wrapper_element.iter_subtree():
            style = computed.get((element.etree_element, None))
            if style is not None and id(style) not in seen:
                seen.add(id(style))
                if style["anchor"]:
                    target_collector.collect_anchor(style["anchor"])
        for (_element, pseudo_type), style in computed.items():
            if pseudo_type is not None and style["anchor"]:
                target_collector.collect_anchor(style["anchor"])


def install() -> bool:
    """Share the styles if WeasyPrint is the version this was written for; True when done."""
    if weasyprint.__version__ != PATCHED_VERSION:
        return False
    weasyprint_css.find_style_attributes = find_style_attributes
    weasyprint_css.StyleFor.__init__ = __init__
    weasyprint_css.StyleFor.set_computed_styles = set_computed_styles
    return True


def uninstall() -> None:
    """Back to WeasyPrint as shipped (the tests compare both)."""
    weasyprint_css.find_style_attributes = _original_find_style_attributes
    weasyprint_css.StyleFor.__init__ = _original_init
    weasyprint_css.StyleFor.set_computed_styles = _original_set_computed_styles
