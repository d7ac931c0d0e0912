"""A second handbook in the same format builds with no code change, and
whatever characters its titles hold are printed as written."""

import pytest

from handbook_press.build import build_epub, build_page_map, build_pdf, run_check
from handbook_press.outline import import_outline

from .books import body_start, open_epub, pdf_pages
from .conftest import project_paths

OUTLINE = """\
About this Handbook: A handbook of café-grade <data> & "quoted" things — naïve λ-calculus.
Learning Path Suggestion:
1 Start with the basics (Section 1).
2 Then everything else (Sections 2-3).
This handbook is a living document. Last major review: January 2026.
Basics & <Beginnings>
---
layout: default
title: "Basics & <Beginnings>"
description: "Where {{ config }} and {% raw %} stay text."
---
Chapter 7: Über Café & Crème "Brûlée" (New)
- Topic with {{ seven * 6 }} braces
- Tools: Ünïcode-Tool, <Angle> & Co
Chapter 7: Duplicate Seven
[Tools: Jinja {% if %}, λ-Runner; Key 'quotes', "double"]
Advanced {{ Topics }}
---
layout: default
title: "Advanced {{ Topics }}"
description: "Second section."
---
Chapter 3: Backwards {% for x in y %}
Lambda λ topic (New subtopic)
Chapter 12: Skipped Ahead
Plain <b>not bold</b>
Σ Summary
---
layout: default
title: "Σ Summary"
description: "Third."
---
Chapter 13: Ending > Beginning
Final & last
"""

TITLES = ['Über Café & Crème "Brûlée"', "Duplicate Seven", "Backwards {% for x in y %}", "Skipped Ahead",
          "Ending > Beginning"]
TOPICS = ["Topic with {{ seven * 6 }} braces", "Ünïcode-Tool, <Angle> & Co", "Jinja {% if %}, λ-Runner",
          "Key 'quotes', \"double\"", "Lambda λ topic", "Plain <b>not bold</b>", "Final & last"]


@pytest.fixture(scope="module")
def other(tmp_path_factory):
    root = tmp_path_factory.mktemp("other")
    (root / "outline.txt").write_text(OUTLINE, encoding="utf-8")
    diagnostics = import_outline(root / "outline.txt", root / "content", title="Ünïcode & <Handbook>", slug="other")
    paths = project_paths(root / "content", root / "build")
    assert run_check(paths.content, paths.build)
    assert build_pdf(paths) and build_page_map(paths) and build_epub(paths)
    return root, diagnostics


def test_numbering_defects_are_reported_and_fixed(other):
    root, diagnostics = other
    codes = [d.code for d in diagnostics]
    assert "chapter-number-duplicate" in codes and "chapter-number-backward" in codes
    assert "chapter-number-missing" in codes


def test_pdf_prints_everything_literally(other):
    root, _ = other
    pages = pdf_pages(root / "build" / "other.pdf")
    text = " ".join(pages)
    body = " ".join(pages[body_start(pages):])
    for n, title in enumerate(TITLES, 1):
        assert f"Chapter {n} {title}" in body
    for topic in TOPICS:
        assert topic in body
    assert "Ünïcode & <Handbook>" in text
    assert 'café-grade <data> & "quoted" things — naïve λ-calculus.' in text
    assert "Section 1 Basics & <Beginnings>" in body and "Section 2 Advanced {{ Topics }}" in body
    assert "January 2026" in text
    assert "Where {{ config }} and {% raw %} stay text." in body


def test_epub_prints_everything_literally(other):
    root, _ = other
    book = open_epub(root / "build" / "other.epub")
    text = book.text()
    for n, title in enumerate(TITLES, 1):
        assert f"Chapter {n} {title}" in text
    for topic in TOPICS:
        assert topic in text
    assert "Where {{ config }} and {% raw %} stay text." in text
    # nothing was interpreted as markup: no <b> element, no <Angle> element
    for _, doc in book.spine_documents():
        assert not doc.xpath("//*[local-name()='b' or local-name()='Angle' or local-name()='Beginnings']")
