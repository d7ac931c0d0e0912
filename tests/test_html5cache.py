"""tinyhtml5's regular expressions for runs of text are built once, and parse as before."""

import re
from xml.etree import ElementTree

import tinyhtml5
from tinyhtml5 import inputstream

from handbook_press import html5cache
from handbook_press import pdf as _installs_the_fix  # noqa: F401  (as every build does)

from .conftest import without

HTML = ("<!DOCTYPE html><html lang=en><head><title>T &amp; U</title></head><body>"
        + "".join(f"<p id=p{n} class='a b'>Text {n} &lt; <a href=\"#p{n + 1}\">next</a> &#8212; "
                  f"<code>x&nbsp;y</code><!-- note --></p>\n" for n in range(40))
        + "<pre>\n  kept\n</pre><script>if (a < b) {}</script></body></html>")


unpatched = without(html5cache)


def test_the_fix_is_installed_for_the_pinned_tinyhtml5():
    assert html5cache._version() == html5cache.PATCHED_VERSION, "pyproject.toml pins the tinyhtml5 this fixes"
    assert isinstance(inputstream.characters_until_regex, html5cache._CharsUntilCache)


def test_each_expression_is_built_once(monkeypatch):
    built = []
    real = html5cache.re.compile
    monkeypatch.setattr(html5cache.re, "compile", lambda *a: built.append(a) or real(*a))
    inputstream.characters_until_regex.clear()
    tinyhtml5.parse(HTML)
    tinyhtml5.parse(HTML)
    assert built and len(built) == len(set(built)) == len(inputstream.characters_until_regex)


def test_tinyhtml5_alone_files_each_expression_under_a_key_never_asked_for(unpatched):
    tinyhtml5.parse(HTML)
    keys = list(inputstream.characters_until_regex)
    assert keys and all(isinstance(characters, re.Pattern) for characters, _ in keys)


def test_documents_parse_the_same(unpatched):
    plain = ElementTree.tostring(tinyhtml5.parse(HTML))
    assert html5cache.install()
    assert ElementTree.tostring(tinyhtml5.parse(HTML)) == plain
