"""Print profiles: the numbers of print-specs.md §1-4 and §9, computed from the data."""

import dataclasses

import pytest
import tinycss2

from handbook_press.profiles import (
    DESIGN_MARGINS, PROFILES, PrintProfile, cover_size, css_for, get_profile, gutter_for, page_box_size,
    page_margins, page_range, spine_width, to_inches,
)

# print-specs.md §9, spine width (in) by page count.
SPINE_TABLE = [
    # pages, KDP white / std colour, KDP cream, KDP premium colour, Lulu paperback
    (24, 0.054, 0.060, 0.056, None),
    (80, 0.180, 0.200, 0.188, 0.240),
    (100, 0.225, 0.250, 0.235, 0.285),
    (200, 0.450, 0.500, 0.469, 0.510),
    (300, 0.676, 0.750, 0.704, 0.736),
    (400, 0.901, 1.000, 0.939, 0.961),
    (500, 1.126, 1.250, 1.173, 1.186),
    (600, 1.351, 1.500, 1.408, 1.411),
]


@pytest.mark.parametrize("pages, white, cream, premium, lulu", SPINE_TABLE)
def test_spine_widths_match_the_table(pages, white, cream, premium, lulu):
    assert round(spine_width("kdp", "white", pages), 3) == white
    assert round(spine_width("kdp", "standard-colour", pages), 3) == white
    assert round(spine_width("kdp", "cream", pages), 3) == cream
    assert round(spine_width("kdp", "premium-colour", pages), 3) == premium
    if lulu is not None:
        assert round(spine_width("lulu", None, pages), 3) == lulu


def test_worked_example_kdp_white_200_pages():
    assert spine_width("kdp", "white", 200) == pytest.approx(0.4504)
    assert spine_width("kdp", None, 200) == pytest.approx(0.4504)  # white is the default paper
    width, height = cover_size("kdp", "white", 200, 6, 9)
    assert (width, height) == (pytest.approx(12.7004), pytest.approx(9.25))
    assert (round(width * 72, 2), round(height * 72, 2)) == (914.43, 666.0)


def test_ingram_caliper_and_missing_figures():
    assert spine_width("ingramspark", "white", 100) == pytest.approx(0.211)
    assert spine_width("ingramspark", "premium-colour", 100) == pytest.approx(0.272)
    with pytest.raises(ValueError, match="no paper"):
        spine_width("offset", None, 100)
    with pytest.raises(ValueError, match="has no paper 'glossy'"):
        spine_width("kdp", "glossy", 100)


@pytest.mark.parametrize("name, size", [
    ("kdp", (441.0, 666.0)),            # 6.125 x 9.25 in: bleed on one side only
    ("lulu", (450.0, 666.0)),           # 6.25 x 9.25 in
    ("ingramspark", (450.0, 666.0)),
    ("offset", (450.0, 666.0)),
])
def test_page_box_size_6x9(name, size):
    assert page_box_size(name, 6, 9) == size


def test_page_box_size_other_trim():
    assert page_box_size("kdp", 5.5, 8.5) == (pytest.approx((5.5 + 0.125) * 72), pytest.approx(8.75 * 72))
    assert page_box_size("lulu", 8.5, 11) == (pytest.approx(8.75 * 72), pytest.approx(11.25 * 72))


# print-specs.md §9, minimum inside margin by page count, at each band's edges.
GUTTER_TABLE = [
    # pages, KDP inside, Lulu (0.5 safety + add-on), Ingram
    (24, 0.375, 0.5, 0.5),
    (60, 0.375, 0.5, 0.5),
    (61, 0.375, 0.625, 0.5),
    (150, 0.375, 0.625, 0.5),
    (151, 0.5, 1.0, 0.5),
    (300, 0.5, 1.0, 0.5),
    (301, 0.625, 1.0, 0.5),
    (400, 0.625, 1.0, 0.5),
    (401, 0.625, 1.125, 0.5),
    (500, 0.625, 1.125, 0.5),
    (501, 0.75, 1.125, 0.5),
    (600, 0.75, 1.125, 0.5),
    (601, 0.75, 1.25, 0.5),
    (700, 0.75, 1.25, 0.5),
    (701, 0.875, 1.25, 0.5),
    (828, 0.875, 1.25, 0.5),
]


@pytest.mark.parametrize("pages, kdp, lulu, ingram", GUTTER_TABLE)
def test_gutter_bands(pages, kdp, lulu, ingram):
    assert gutter_for("kdp", pages) == pytest.approx(kdp)
    assert gutter_for("lulu", pages) == pytest.approx(lulu)
    assert gutter_for("ingramspark", pages) == pytest.approx(ingram)


def test_gutter_past_the_last_band_keeps_the_last_value():
    assert gutter_for("kdp", 2000) == 0.875
    with pytest.raises(ValueError):
        gutter_for("kdp", 0)


def test_page_ranges():
    assert page_range("kdp") == (24, 828)
    assert page_range("kdp", "cream") == (24, 776)
    assert page_range("kdp", "standard-colour") == (72, 600)
    assert page_range("kdp", "white", (8.5, 11)) == (24, 590)
    assert page_range("kdp", "cream", ("8.27in", "11.69in")) == (24, 730)
    assert page_range("kdp", "premium-colour", (8.25, 6)) == (24, 800)
    assert page_range("kdp", "white", (6, 9)) == (24, 828)
    assert page_range("ingramspark") == (18, None)
    assert page_range("lulu") == (32, None)


def test_profile_flags_follow_the_specs():
    kdp, ingram, lulu, offset = (PROFILES[n] for n in ("kdp", "ingramspark", "lulu", "offset"))
    assert get_profile(None) is kdp
    assert (kdp.bleed.top, kdp.bleed.outside, kdp.bleed.bottom, kdp.bleed.inside) == (0.125, 0.125, 0.125, 0)
    assert not kdp.allow_outlines and not kdp.allow_annotations and not kdp.marks and kdp.pdf_variant is None
    assert kdp.even_pages and ingram.even_pages
    assert kdp.min_margins.top == kdp.min_margins.outside == kdp.min_margins.bottom == 0.375
    assert ingram.pdf_variant == "pdf/x-1a" and ingram.min_pages == 18
    assert ingram.min_margins == dataclasses.replace(ingram.min_margins, top=0.5, outside=0.5, bottom=0.5, inside=0.5)
    assert lulu.min_pages == 32 and lulu.pdf_variant is None
    assert offset.pdf_variant == "pdf/x-4" and offset.marks


def test_profiles_are_frozen_data_with_weasyprint_variants():
    from weasyprint.pdf import VARIANTS

    for name, profile in PROFILES.items():
        assert isinstance(profile, PrintProfile) and profile.name == name
        assert profile.pdf_variant is None or profile.pdf_variant in VARIANTS
        assert bool(profile.pdf_variant) == bool(profile.accepted_pdfx)
        assert all(rule in ("allow", "warn", "forbid")
                   for rule in (profile.rgb, profile.device_independent, profile.transparency, profile.non_k_text))
        bounds = [m for m, _ in profile.gutter_table]
        assert bounds[-1] is None and bounds[:-1] == sorted(bounds[:-1])
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROFILES["kdp"].min_pages = 2  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown print profile"):
        get_profile("vanity-press")


def test_lengths():
    assert to_inches("6in") == 6
    assert to_inches("152.4mm") == pytest.approx(6)
    assert to_inches("432pt") == 6
    assert to_inches(".5in") == 0.5
    assert to_inches(9) == 9.0
    with pytest.raises(ValueError):
        to_inches("6 furlongs")


def _page_rules(css):
    """{selector: {property: value}} for the @page rules; fails on anything else."""
    rules = {}
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        assert rule.type == "at-rule" and rule.lower_at_keyword == "page", rule
        selector = tinycss2.serialize(rule.prelude).strip()
        declarations = tinycss2.parse_declaration_list(rule.content, skip_comments=True, skip_whitespace=True)
        rules[selector] = {d.lower_name: tinycss2.serialize(d.value).strip() for d in declarations}
    return rules


def test_css_for_kdp_bleeds_on_the_outside_only():
    rules = _page_rules(css_for("kdp", 200, (6, 9)))
    assert rules[""]["size"] == "6in 9in"
    assert rules[""]["marks"] == "none"
    assert rules[":right"]["bleed"] == "0.125in 0.125in 0.125in 0"
    assert rules[":left"]["bleed"] == "0.125in 0 0.125in 0.125in"
    # Mirrored margins: the inside (gutter) is left on rectos, right on versos.
    assert rules[":right"]["margin-left"] == rules[":left"]["margin-right"]
    assert rules[":right"]["margin-right"] == rules[":left"]["margin-left"]


def test_css_for_sets_page_geometry_only():
    allowed = {"size", "marks", "bleed", "margin-top", "margin-bottom", "margin-left", "margin-right"}
    for name in PROFILES:
        rules = _page_rules(css_for(name, 100, ("6in", "9in")))
        assert set(rules) == {"", ":right", ":left"}
        assert set().union(*rules.values()) <= allowed


def test_css_for_margins_widen_the_design_to_the_gutter():
    # A short KDP book keeps print.css's margins; a long one gets KDP's 0.875 in gutter.
    assert page_margins("kdp", 100) == DESIGN_MARGINS
    rules = _page_rules(css_for("kdp", 800, (6, 9)))
    # KDP's 0.875 in and 1/16 in for the ink of glyphs that reach past the text block.
    assert rules[":right"]["margin-left"] == "0.9375in"
    assert rules[":left"]["margin-right"] == "0.9375in"
    assert rules[":right"]["margin-right"] == "0.6in"
    # Lulu 151-400 pp: 0.5 in safety + 0.5 in gutter, and the ink's 1/16 in.
    assert _page_rules(css_for("lulu", 300, (6, 9)))[":right"]["margin-left"] == "1.0625in"


def test_css_for_offset_and_all_round_bleed():
    rules = _page_rules(css_for("offset", 64, (6, 9)))
    assert rules[""]["marks"] == "crop"
    assert rules[":right"]["bleed"] == rules[":left"]["bleed"] == "0.125in 0.125in 0.125in 0.125in"
    assert _page_rules(css_for("lulu", 64, ("152.4mm", "228.6mm")))[""]["size"] == "6in 9in"
