"""Properties of the reader, checked on thousands of generated sources.

1. Whatever a section file holds (any text, any bytes), reading the content
   folder gives a book or the project's own diagnostics — never another
   exception — and every diagnostic and every node points at a line of the
   file that exists (and that holds what the node was read from).
   The same holds for any handbook.yaml.
2. A chapter title survives read → render unchanged: the reader keeps it as
   written, and the rendered HTML (PDF) and XHTML (EPUB) show exactly it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import lxml.html
import pytest
from PIL import Image
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from handbook_press.diagnostics import BuildError, Diagnostics, display_path
from handbook_press.html import RenderContext, environment, fragment_href, render_book_html, render_epub_document
from handbook_press.reader import load_book

from .conftest import ROOT

TEMPLATES = ROOT / "templates"
HANDBOOK = (
    "title: Property Handbook\nslug: prop\nlanguage: en\nidentifier: urn:uuid:00000000-0000-4000-8000-00000000abcd\n"
    "about: Generated sources.\nreview_date: 2025-05\nsections:\n  - file: sections/s.md\n    title: S\n"
)
# What the reader refuses as unprintable (as sources.UNPRINTABLE does).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
SETTINGS = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def folder():
    """A content folder whose one section file each example overwrites."""
    root = Path(tempfile.mkdtemp(prefix="handbook-properties-"))
    content = root / "content"
    (content / "sections").mkdir(parents=True)
    (content / "handbook.yaml").write_text(HANDBOOK, encoding="utf-8")
    for folder in (content / "images", content / "sections" / "images"):
        folder.mkdir()
        Image.new("RGB", (4, 4), (10, 120, 200)).save(folder / "ok.png", format="PNG")
    try:
        yield content
    finally:
        shutil.rmtree(root)


def read(content: Path, data: bytes):
    (content / "sections" / "s.md").write_bytes(data)
    diagnostics = Diagnostics()
    try:
        book, _ = load_book(content, diagnostics)
    except BuildError:
        book = None
    return book, diagnostics


def source_lines(data: bytes) -> list[str] | None:
    """The file's lines as the reader numbers them (None when it is not UTF-8)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# --- 1. any source: a book or located diagnostics ---------------------------------

# Lines that exercise the reader's paths: chapter lines good and bad, topics,
# labels, separators, code, HTML, templates, URLs of every kind, YAML-ish text.
PIECES = [
    "Chapter 1: First", "Chapter 12: Twelve (New)", "## Chapter 3: Heading ##", "# Chapter 4: C#",
    "Chapter: none", "Chapter IX: Roman", "Chapter 12:", "Chapter 99999999999999: Huge", "Chapter 0: Zero",
    "Chapter ٣: Arabic-Indic", "chapter 5: lower", "- Chapter 6: bulleted", "Topic", "- topic", "\t- tabbed topic",
    "* star topic", "Tools: MLflow, DVC", "[Tools: Feast, Tecton; pipelines]", "[GDPR, CCPA]", "Item (New subtopic)",
    "---", "===", "***", "```", "~~~", "    indented code", "> quote", ">", "1. one", "2) two", "| a | b |",
    "|---|---|", "<script>alert(1)</script>", "<div>", "{{ 7 * 7 }}", "{% if x %}", "&amp; &#0; &#x1; &nbsp;",
    "![i](images/ok.png)", "![i](<images/ok.png>)", "![i](../images/ok.png)", "![i](images/%6Fk.png)", "![i](missing.png)", "![i](http://127.0.0.1:9/x.png)",
    "![i](../../etc/passwd)", "![i](file:///etc/passwd)", "![i](/etc/passwd)", "![i](//host/x.png)",
    "![i](%2e%2e/%2e%2e/x.png)", "![i]()", "[l](#anchor)", "[l](https://example.org)", "[l](javascript:x)",
    "[l](../x.md)", "<http://127.0.0.1:9/auto>", "[ref]: http://127.0.0.1:9/ref.png", "![r][ref]",
    "title: x", "key: [unclosed", "!!python/object/apply:os.system [x]", "", "", "", " ", "\t",
    "\u2028", "\x85", "\ufeff", "a\x0cb", "\x00", "\x1b[31m",
]
FRONT_MATTERS = ["", "---\n---\n", '---\ntitle: "S"\n---\n', "---\ntitle: S\n", "---\n- a\n---\n",
                 "---\ntitle: [x]\n---\n", "---\ntitle: S\ntitle: S\n---\n", "---\ntitel: S\n---\n",
                 "---\na: &a [x, *a]\n---\n", "---\n\ttitle:\tS\n---\n", "---\ndescription: \"\\x01\"\n---\n"]
line_endings = st.sampled_from(["\n", "\r\n", "\r"])
structured = st.builds(
    lambda front, lines, end, bom: (("\ufeff" if bom else "") + front.replace("\n", end) + end.join(lines)),
    st.sampled_from(FRONT_MATTERS),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=30)), max_size=25),
    line_endings, st.booleans())
any_text = st.one_of(st.text(), structured)


def check_located(content: Path, data: bytes, book, diagnostics: Diagnostics) -> None:
    shown = display_path(content / "sections" / "s.md")
    if book is None:
        assert diagnostics.errors, "no book and no error"
    lines = source_lines(data)
    for d in diagnostics:
        assert d.code and re.fullmatch(r"[a-z0-9-]+", d.code)
        assert d.message and "\n" not in d.message, d
        if d.location.path == shown:
            count = len(lines) if lines is not None else data.count(b"\n") + 1
            assert 1 <= d.location.line <= max(count, 1), d
        else:  # only the handbook, for the section it lists
            assert d.location.path == display_path(content / "handbook.yaml"), d
    if book is None:
        return
    # Markdown's blank lines hold spaces and tabs only (not U+2028 and the like).
    for prose in book.sections[0].intro:
        assert lines[prose.location.line - 1].strip(" \t"), prose
    for chapter in book.chapters:
        written = lines[chapter.location.line - 1]
        assert "Chapter" in written and chapter.title in written, (chapter, written)
        for topic in chapter.topics:
            assert topic.text in lines[topic.location.line - 1], (topic, lines[topic.location.line - 1])
        for prose in chapter.prose:
            assert lines[prose.location.line - 1].strip(" \t"), prose


@SETTINGS
@given(text=any_text)
@example(text="---\ntitle: " + "[" * 3000)
@example(text="Chapter " + "9" * 5000 + ": x")
@example(text="Chapter 1: A\nTopic a\n---\nChapter 2: B\nTopic b\n")
@example(text="Chapter 1: A\n\nline one\nline two ![x](http://127.0.0.1:9/x.png)\n")
def test_any_text_gives_a_book_or_located_diagnostics(folder, text):
    data = text.encode("utf-8")
    book, diagnostics = read(folder, data)
    check_located(folder, data, book, diagnostics)


@SETTINGS
@given(data=st.one_of(st.binary(max_size=300),
                      st.builds(lambda text, junk, at: text.encode()[:at] + junk + text.encode()[at:],
                                structured, st.binary(min_size=1, max_size=4), st.integers(0, 400))))
def test_any_bytes_give_a_book_or_located_diagnostics(folder, data):
    book, diagnostics = read(folder, data)
    check_located(folder, data, book, diagnostics)


YAML_PIECES = [
    *HANDBOOK.splitlines(), "title:", "title: [a, b]", "slug: Not A Slug", "review_date: 2025-02-30",
    "review_date: 9999-12", "review_date: May", "sections: []", "sections: s.md", "  - sections/s.md",
    "  - file: ../../etc/passwd", "  - file: sections/s.md", "  - {file: 5}", "learning_path:", "  title: [x]",
    "  steps:", "  - text: go", "    sections: [s, missing]", "  - just text", "trim: {width: 5}",
    "trim: {width: 5in, height: 0.5cm}", "tool_labels: [1, tools]", "subjects: [a, {b: c}]", "a: &a [x, x]",
    "b: [*a, *a]", "c: *missing", "d: !!python/object/apply:os.system [ls]", "e: !!int abc", "<<: {f: 1}",
    "\tindented: tab", "\t- tab item", "key:\tvalue", "? [complex]", ": value", "---", "...", "%YAML 1.1",
    "'unclosed", "\"esc \\x07\"", "- top", "{a: 1", "x: |", "  block", "#comment", "",
]


@SETTINGS
@given(lines=st.lists(st.one_of(st.sampled_from(YAML_PIECES), st.text(max_size=20)), max_size=20),
       end=line_endings)
@example(lines=HANDBOOK.replace("2025-05", "2025-02-30").splitlines(), end="\n")
def test_any_handbook_yaml_gives_a_book_or_located_diagnostics(folder, lines, end):
    """handbook.yaml is a source too: whatever it holds, a book or located diagnostics."""
    handbook = folder / "handbook.yaml"
    data = end.join(lines).encode("utf-8")
    try:
        handbook.write_bytes(data)
        book, diagnostics = read(folder, b'---\ntitle: "S"\n---\nChapter 1: A\nA topic\n')
    finally:
        handbook.write_text(HANDBOOK, encoding="utf-8")
    if book is None:
        assert diagnostics.errors
    count = len(source_lines(data) or [""])
    for d in diagnostics:
        assert re.fullmatch(r"[a-z0-9-]+", d.code) and d.message and "\n" not in d.message, d
        if d.location.path == display_path(handbook):
            assert 1 <= d.location.line <= max(count, 1), d
        else:
            assert d.location.path == display_path(folder / "sections" / "s.md"), d


# --- 2. chapter titles: read -> render round trip ------------------------------------

# Any character but line endings; control characters are allowed in, and must be
# refused with a located error rather than printed.
title_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
                     min_size=1, max_size=40)
tricky = st.sampled_from(["C#", "<b>bold</b>", "{{ meta.title }}", "{% raw %}", "a & b", "\"quoted\" 'single'",
                          "Über Café", "λ → ∞", "[Tools: x]", "Tools: x, y", "*emphasis*", "`code`", "#", "##",
                          "\u00a0nbsp", "x\u2028y", "]]>", "<!-- c -->", "&amp;", "(New subtopic)", "Chapter 2: B"])


# One Jinja environment for all examples: render_book_html makes a new one (and
# compiles the templates again) on every call, 50 ms each.
ENVIRONMENT = environment(TEMPLATES)


def book_html(context: RenderContext) -> str:
    """What render_book_html returns, with the shared environment."""
    return ENVIRONMENT.get_template("pdf/book.html.j2").render(context.variables(fragment_href))


def test_book_html_is_what_render_book_html_gives(folder):
    book, _ = read(folder, b"Chapter 1: Title <b>&amp;</b> {{ x }}\nA topic\n")
    context = RenderContext(book, None, "2025-05-01T00:00:00Z")
    assert book_html(context) == render_book_html(TEMPLATES, context)


def rendered_titles(book) -> tuple[list[str], list[str]]:
    """Chapter-name texts in the PDF's HTML and in the EPUB section document's XHTML."""
    context = RenderContext(book, None, "2025-05-01T00:00:00Z")
    html = lxml.html.document_fromstring(book_html(context))
    in_pdf = [span.text_content() for span in html.find_class("chapter-name")]
    body = render_epub_document(ENVIRONMENT, "section", context, fragment_href, book.sections[0])
    xhtml = etree.fromstring(
        f'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><body>{body}</body></html>'
        .encode("utf-8"))
    spans = xhtml.iterfind(".//{http://www.w3.org/1999/xhtml}span[@class='chapter-name']")
    return in_pdf, ["".join(span.itertext()) for span in spans]


@SETTINGS
@given(title=st.one_of(title_text, tricky, st.builds("{} {}".format, tricky, title_text)),
       heading=st.booleans(), new=st.booleans(),
       # Large numbers are slow to check (checks.check_chapter_numbers is quadratic in the
       # numbers left out): 9999 is tried once, as an example.
       number=st.integers(1, 60))
@example(title="Last", heading=False, new=False, number=9999)
@example(title="Programming in C#", heading=False, new=False, number=1)
@example(title="Programming in C#", heading=True, new=True, number=1)
@example(title="{{ 7 * 7 }} <script>x</script>", heading=False, new=False, number=3)
def test_chapter_titles_survive_read_and_render(folder, title, heading, new, number):
    title = title.strip()
    assume(title and not title.endswith("(New)"))
    if heading:  # a heading's closing #s (after a space) are Markdown, not title
        assume(not re.search(r"(^|[ \t])#+$", title))
    line = f"{'## ' if heading else ''}Chapter {number}: {title}{' (New)' if new else ''}"
    book, diagnostics = read(folder, f"{line}\nA topic\n".encode("utf-8"))
    if CONTROL.search(title):
        assert book is None and [d.code for d in diagnostics.errors] == ["control-character"]
        assert diagnostics.errors[0].location.line == 1
        return
    assert book is not None, [str(d) for d in diagnostics]
    [chapter] = book.chapters
    assert (chapter.title, chapter.is_new, chapter.original_number) == (title, new, number)
    assert [t.text for t in chapter.topics] == ["A topic"]
    in_pdf, in_epub = rendered_titles(book)
    assert in_pdf == [title] and in_epub == [title]

