"""Templates kept compiled in the build's cache: the same pages, compiled once."""

import jinja2
import pytest

from handbook_press import html

from .conftest import ROOT

TEMPLATES = ROOT / "templates"
NAMES = ["pdf/book.html.j2", "pdf/preview.html.j2", "epub/document.xhtml.j2", "epub/nav.xhtml.j2",
         "cover/front.html.j2"]


@pytest.fixture
def compiles(monkeypatch):
    """The templates Jinja compiles from their source, by name."""
    compiled = []
    original = jinja2.Environment._parse

    def parse(self, source, name, filename):
        compiled.append(name)
        return original(self, source, name, filename)

    monkeypatch.setattr(jinja2.Environment, "_parse", parse)
    return compiled


def _code(environment: jinja2.Environment, name: str):
    return environment.get_template(name).root_render_func.__code__


def test_a_kept_template_is_not_compiled_again_and_is_the_same_code(tmp_path, compiles):
    first = html.environment(TEMPLATES, tmp_path)
    codes = {name: _code(first, name) for name in NAMES}
    assert set(NAMES) <= set(compiles)
    compiles.clear()

    again = html.environment(TEMPLATES, tmp_path)
    assert {name: _code(again, name) for name in NAMES} == codes
    assert compiles == []
    assert {name: _code(html.environment(TEMPLATES), name) for name in NAMES} == codes  # as without a cache


def test_an_edited_template_is_compiled_again(tmp_path, compiles):
    templates = tmp_path / "templates"
    (templates / "t").mkdir(parents=True)
    (templates / "t" / "page.j2").write_text("<p>{{ word }}</p>")
    assert html.environment(templates, tmp_path).get_template("t/page.j2").render(word="a&b") == "<p>a&amp;b</p>"
    (templates / "t" / "page.j2").write_text("<h1>{{ word }}</h1>")
    assert html.environment(templates, tmp_path).get_template("t/page.j2").render(word="a&b") == "<h1>a&amp;b</h1>"
    assert compiles == ["t/page.j2", "t/page.j2"]


@pytest.mark.parametrize("damage", [b"", b"j2", b"not a compiled template", None])
def test_a_damaged_kept_template_is_compiled_again_and_rewritten(tmp_path, compiles, damage):
    html.environment(TEMPLATES, tmp_path).get_template("epub/nav.xhtml.j2")
    [kept] = html.CompiledTemplates(tmp_path).folder.iterdir()
    good = kept.read_bytes()
    kept.write_bytes(good[: len(good) // 2] if damage is None else damage)
    compiles.clear()
    html.environment(TEMPLATES, tmp_path).get_template("epub/nav.xhtml.j2")
    assert compiles == ["epub/nav.xhtml.j2"]
    assert kept.read_bytes() == good


def test_another_jinja_version_keeps_its_own(tmp_path, monkeypatch):
    ours = html.CompiledTemplates(tmp_path).folder
    monkeypatch.setattr(jinja2, "__version__", "0.0-another")
    assert html.CompiledTemplates(tmp_path).folder != ours
    monkeypatch.undo()
    monkeypatch.setitem(html.SETTINGS, "keep_trailing_newline", False)
    assert html.CompiledTemplates(tmp_path).folder != ours


def test_a_read_only_cache_is_left_alone(tmp_path, compiles):
    (tmp_path / "cache").write_text("a file where the folder would be")
    environment = html.environment(TEMPLATES, tmp_path / "cache")
    assert environment.get_template("epub/nav.xhtml.j2") and compiles == ["epub/nav.xhtml.j2"]
