"""The body laid out on two cores (splitbody): the same PDFs, every part once, nothing lost."""

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from handbook_press import sidebyside, splitbody
from handbook_press.paging import opening_index

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"

needs_two_cores = pytest.mark.skipif(not sidebyside.can_fork(), reason="one core, or no fork: laid out in one process")


@dataclass
class FakePage:
    anchors: dict
    folio: int | None = None


@dataclass
class FakePart:
    pages: list


def fake_parts(count: int) -> list[tuple[str, str]]:
    return [(f"<section {index}>", f"/* tab {index} */") for index in range(count)]


def section_of(html: str) -> int:
    return int(html.split()[1].rstrip(">"))


def fake_lay_out(page_counts: list[int], warnings: list[str], refused: list[str], calls: list,
                 child_started: Path | None = None):
    """A layout that numbers its pages as WeasyPrint would (from 1 without a first folio).
    With ``child_started``, this process's first layout waits for the child's first (a file the
    child creates), so that both take a share however loaded the machine."""
    parent = os.getpid()

    def lay_out(html: str, css: str, first_folio: int | None):
        index = section_of(html)
        if child_started is not None:
            if os.getpid() != parent:
                child_started.touch()
            elif not calls:
                deadline = time.monotonic() + 60
                while not child_started.exists() and time.monotonic() < deadline:
                    time.sleep(0.01)
        calls.append((index, first_folio))
        time.sleep(0.05)  # as a layout takes time
        warnings.append(f"warning from section {index}")
        refused.append(f"file:///outside/{index}")
        return FakePart([FakePage({f"s{index}p{n}": (0, 0)}, (first_folio or 1) + n)
                         for n in range(page_counts[index])])

    return lay_out


def renumber(pages, lay_out, first_folio):
    """`splitbody.fix_folios` for fake pages: None is a blank verso, which only counts."""
    for n, page in enumerate(pages):
        if page is not None:
            page.folio = first_folio + n
    return True


def assemble_body(split, parts, lay_out) -> list:
    """What `paging.assemble` does with the body: each part at its folio, blank versos as None."""
    pages: list = []
    for html, css in parts:
        if opening_index(len(pages)) > len(pages):
            pages.append(None)
        part = split.take(html, css, len(pages) + 1) or lay_out(html, css, len(pages) + 1)
        pages += part.pages
    return pages


def check_body(pages, page_counts):
    expected: list = []
    for index, count in enumerate(page_counts):
        if opening_index(len(expected)) > len(expected):
            expected.append(None)
        expected += [({f"s{index}p{n}": (0, 0)}, len(expected) + 1 + n) for n in range(count)]
    assert [page if page is None else (page.anchors, page.folio) for page in pages] == expected


@needs_two_cores
def test_every_part_is_laid_out_once_numbered_and_reported_in_reading_order(monkeypatch, tmp_path):
    """This process takes sections from the front, at the folios `assemble` asks for, the child
    from the back, renumbered once it knows where its share opens; every page arrives in
    place of its placeholder, and warnings and refused URLs come back in reading order."""
    monkeypatch.setattr(splitbody, "fix_folios", renumber)  # the child inherits it
    page_counts = [3, 2, 5, 1, 4, 2, 3, 1, 2]
    parts = fake_parts(len(page_counts))
    warnings, refused, calls = [], [], []
    lay_out = fake_lay_out(page_counts, warnings, refused, calls, tmp_path / "child-started")
    split = splitbody.lay_out_body(parts, lay_out, None, warnings, refused)
    assert split is not None
    mine = [index for index, _ in calls]  # the child's calls stayed in the child
    assert split.theirs and mine == list(range(len(mine))), "this process has the first sections, the child the rest"
    assert sorted(mine + [section_of(html) for html, _ in split.theirs]) == list(range(len(parts)))
    placeholders = assemble_body(split, parts, lay_out)
    assert any(isinstance(page, splitbody.Placeholder) for page in placeholders)
    pages = split.finish(placeholders)
    check_body(pages, page_counts)
    assert len(calls) == len(mine) and split.delivered == len(split.theirs), "nothing laid out again"
    assert warnings == [f"warning from section {index}" for index in range(len(parts))]
    assert refused == [f"file:///outside/{index}" for index in range(len(parts))]


@needs_two_cores
def test_parts_a_child_dead_early_took_are_laid_out_by_assemble():
    page_counts = [2, 1, 2, 3, 2, 1]
    parts = fake_parts(len(page_counts))
    warnings, refused, calls = [], [], []
    real_lay_out = fake_lay_out(page_counts, warnings, refused, calls)
    parent = os.getpid()

    def lay_out(html, css, first_folio):
        if os.getpid() != parent:
            os._exit(3)  # the child dies on its first part
        return real_lay_out(html, css, first_folio)

    split = splitbody.lay_out_body(parts, lay_out, None, warnings, refused)
    assert split.theirs == {}
    check_body(split.finish(assemble_body(split, parts, lay_out)), page_counts)
    assert sorted(index for index, _ in calls) == list(range(len(parts)))


@needs_two_cores
def test_pages_a_child_dead_late_did_not_send_are_laid_out_here(monkeypatch, tmp_path):
    """The child sent its anchors, so the front matter was laid out with placeholders, then
    died: its sections are laid out here, at the folios `assemble` asked for."""
    def die(pages, lay_out, first_folio):
        os._exit(3)

    monkeypatch.setattr(splitbody, "fix_folios", die)
    page_counts = [2, 1, 2, 3, 2, 1, 4]
    parts = fake_parts(len(page_counts))
    warnings, refused, calls = [], [], []
    lay_out = fake_lay_out(page_counts, warnings, refused, calls, tmp_path / "child-started")
    split = splitbody.lay_out_body(parts, lay_out, None, warnings, refused)
    theirs = sorted(section_of(html) for html, _ in split.theirs)
    assert theirs
    pages = split.finish(assemble_body(split, parts, lay_out))
    check_body(pages, page_counts)
    assert sorted(index for index, _ in calls) == list(range(len(parts))) and split.delivered == 0


@needs_two_cores
@pytest.mark.parametrize("index_by", ["here", "child", "nobody: the child dies"])
def test_the_front_matter_contents_and_index_on_two_cores(index_by, tmp_path, monkeypatch):
    """The front matter here, the contents in a forked child (numbered from 1, then given the
    folio after the front matter's pages), the index by whichever is free first: every part
    once, at its folios, and warnings and refused URLs once each, in reading order, also when
    the child fails and its share is laid out here."""
    monkeypatch.setattr(splitbody, "fix_folios", renumber)
    warnings, refused, calls = [], [], []
    real_lay_out = fake_lay_out([5, 3, 2], warnings, refused, calls)
    parent = os.getpid()
    index_here, index_in_child = tmp_path / "index-here", tmp_path / "index-in-child"

    def wait_for(flag: Path):
        deadline = time.monotonic() + 60
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.01)

    def lay_out(html, css, first_folio):
        section, in_child = section_of(html), os.getpid() != parent
        if in_child and index_by.startswith("nobody"):
            os._exit(3)
        if section == 2:
            (index_in_child if in_child else index_here).touch()
        elif section == 1 and in_child and index_by == "here":
            wait_for(index_here)  # the index is free when this process has laid out the front matter
        elif section == 0 and index_by == "child":
            wait_for(index_in_child)  # ... or when the child has laid out the contents
        return real_lay_out(html, css, first_folio)

    front, contents, back = splitbody.lay_out_matter(lay_out, None, warnings, refused, ("<section 0>", "", None),
                                                     ("<section 1>", "", None), ("<section 2>", "", 41))
    assert [[page.folio for page in part.pages] for part in (front, contents, back)] == \
        [[1, 2, 3, 4, 5], [7, 8, 9], [41, 42]]  # the contents open on the recto after page v
    assert [page.anchors for page in contents.pages] == [{f"s1p{n}": (0, 0)} for n in range(3)]
    assert warnings == [f"warning from section {n}" for n in range(3)]
    assert refused == [f"file:///outside/{n}" for n in range(3)]
    assert calls == {"here": [(0, None), (2, 41)], "child": [(0, None)],
                     "nobody: the child dies": [(0, None), (2, 41), (1, 7)]}[index_by]


def test_one_core_lays_the_matter_out_in_order(monkeypatch):
    monkeypatch.setattr(sidebyside, "can_fork", lambda: False)
    warnings, calls = [], []
    parts = splitbody.lay_out_matter(fake_lay_out([4, 2, 1], warnings, [], calls), None, warnings, [],
                                     ("<section 0>", "", None), ("<section 1>", "", None), ("<section 2>", "", 9))
    assert calls == [(0, None), (1, 5), (2, 9)]
    assert [page.folio for part in parts for page in part.pages] == [1, 2, 3, 4, 5, 6, 9]


def test_one_core_lays_nothing_out_ahead(monkeypatch):
    monkeypatch.setattr(sidebyside, "can_fork", lambda: False)
    calls = []
    assert splitbody.lay_out_body(fake_parts(4), fake_lay_out([1] * 4, [], [], calls), None, [], []) is None
    assert calls == []


@needs_two_cores
def test_the_meeting_gives_each_index_once_across_a_fork():
    meeting = splitbody._Meeting(200)

    def take(step):
        taken = []
        while (index := step()) is not None:
            taken.append(index)
        return taken

    theirs, mine = sidebyside.side_by_side(lambda: take(meeting.from_back), lambda: take(meeting.from_front))
    assert sorted(mine + theirs) == list(range(200))
    assert mine == list(range(len(mine))) and theirs == list(range(199, len(mine) - 1, -1))


def _typesetter(tmp_path):
    from handbook_press import build
    from handbook_press.html import BookHtml, RenderContext
    from handbook_press.paging import PrintEdition, body_parts
    from handbook_press.pagegeometry import Geometry
    from handbook_press.pdf import Typesetter

    book, diagnostics = build.load(CONTENT)
    assert book is not None, diagnostics
    edition = PrintEdition(Geometry.for_book(book))
    setter = Typesetter(edition, content=CONTENT, templates=ROOT / "templates", styles=ROOT / "styles")
    parts = body_parts(BookHtml(ROOT / "templates", RenderContext(book, None, "2024-01-01")), book, edition.geometry)
    return setter, parts


def _folios(pages) -> list[str]:
    texts = []
    for page in pages:
        for box in splitbody.counter_boxes(page).values():
            texts.append("".join(child.text for line in box.children for child in line.children))
    return texts


def test_folio_boxes_are_replaced_by_those_of_the_true_folios(tmp_path):
    """A part laid out numbered from 1 gets the folio boxes of its place in the book; the rest
    of every page (text, running heads, the thumb tab) is the part's own."""
    setter, parts = _typesetter(tmp_path)
    html, css = parts[2]
    pages = list(setter.lay_out(html, css, None).pages)
    assert _folios(pages) == [str(n) for n in range(1, len(pages) + 1)]
    others = [[box for box in page._page_box.children if box not in splitbody.counter_boxes(page).values()]
              for page in pages]
    assert splitbody.fix_folios(pages, setter.lay_out, 41)
    assert _folios(pages) == [str(n) for n in range(41, 41 + len(pages))]
    assert [[box for box in page._page_box.children if box not in splitbody.counter_boxes(page).values()]
            for page in pages] == others


def test_folio_boxes_of_several_parts_are_laid_out_at_once(tmp_path):
    """The child's sections in one document of empty pages, a blank verso (None) only counting."""
    setter, parts = _typesetter(tmp_path)
    laid = (list(setter.lay_out(*part, None).pages) for part in parts)
    first = next(pages for pages in laid if len(pages) % 2)  # a blank verso follows it
    second = next(laid)
    blank = [None]
    assert splitbody.fix_folios(first + blank + second, setter.lay_out, 41)
    second_folio = 41 + len(first) + len(blank)
    assert second_folio % 2 == 1
    assert _folios(first) == [str(n) for n in range(41, 41 + len(first))]
    assert _folios(second) == [str(n) for n in range(second_folio, second_folio + len(second))]


def test_folio_pages_that_do_not_match_leave_the_part_untouched(tmp_path):
    setter, parts = _typesetter(tmp_path)
    pages = list(setter.lay_out(*parts[2], None).pages)
    before = [list(page._page_box.children) for page in pages]

    def one_page_short(html, css, first_folio):
        part = setter.lay_out(html, css, first_folio)
        return FakePart(part.pages[:-1])

    assert not splitbody.fix_folios(pages, one_page_short, 41)
    assert [list(page._page_box.children) for page in pages] == before


def _build_both_ways(content: Path, tmp_path: Path, monkeypatch) -> tuple[list, list]:
    """Build the PDFs with the body on two cores, then in one process: (outputs, [(placeholder
    parts, parts the child delivered)]) for each build."""
    import contextlib
    import io

    from handbook_press import pdf

    from .conftest import pdf_task_outputs

    finished, beside = [], []
    real_finish, real_beside = splitbody.SplitBody.finish, pdf.lay_out_matter

    def finish(self, pages):
        received_early = self.received is not None  # while the contents were laid out in a child
        pages = real_finish(self, pages)
        finished.append((len(self.asked), self.delivered))
        assert received_early
        return pages

    def lay_out_matter(*args, **kwargs):
        parts = real_beside(*args, **kwargs)
        beside.append(isinstance(parts[1], splitbody.LaidOutPages))  # the contents' pages crossed
        return parts

    monkeypatch.setattr(splitbody.SplitBody, "finish", finish)
    monkeypatch.setattr(pdf, "lay_out_matter", lay_out_matter)
    outputs = []
    with contextlib.redirect_stderr(io.StringIO()):
        for folder in ("two-cores", "one-core"):
            outputs.append(pdf_task_outputs(content, tmp_path / folder))
            monkeypatch.setattr(sidebyside, "can_fork", lambda: False)
    assert beside == [True], "the contents were laid out beside the front matter, and crossed"
    return outputs, finished


@needs_two_cores
def test_two_cores_write_the_same_pdfs_as_one(tmp_path, monkeypatch):
    """The reading edition and the print interior, byte for byte, and the same layout records,
    whether the body was laid out on two cores (the child's pages pickled across, their folios
    laid out again) or in one process."""
    outputs, finished = _build_both_ways(CONTENT, tmp_path, monkeypatch)
    [(placeholders, delivered)] = finished
    assert placeholders > 0 and delivered == placeholders, "the child laid out sections, all renumbered and sent"
    assert outputs[0] == outputs[1]


@needs_two_cores
def test_images_cross_or_are_laid_out_here(tmp_path, monkeypatch):
    """A raster image in a section the child lays out crosses with its pages; an SVG image keeps
    WeasyPrint's layout context, which cannot leave the child, so that section alone is laid out
    here. The PDFs are the same bytes either way."""
    import io

    from PIL import Image
    from pypdf import PdfReader

    from .conftest import copy_content

    content = copy_content(tmp_path / "content")
    sections = content / "sections"
    Image.new("RGB", (300, 150), (90, 90, 90)).save(sections / "figure.png")
    (sections / "diagram.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="150">'
                                          '<rect x="10" y="10" width="280" height="130" fill="none" '
                                          'stroke="black"/><text x="30" y="80">Pipeline</text></svg>')
    last, before_last = (sections / "future-directions-in-mlops.md"), (sections / "industry-applications.md")
    last.write_text(last.read_text() + "\nA figure:\n\n![A figure](figure.png)\n")
    before_last.write_text(before_last.read_text() + "\nA diagram:\n\n![A diagram](diagram.svg)\n")
    outputs, finished = _build_both_ways(content, tmp_path, monkeypatch)
    [(placeholders, delivered)] = finished
    assert placeholders >= 2 and delivered == placeholders - 1, "all but the SVG's section came from the child"
    assert outputs[0] == outputs[1]
    reader = PdfReader(io.BytesIO(outputs[0][0]))
    images = [name for page in reader.pages for name in page.images]
    text = "".join(page.extract_text() for page in reader.pages)
    assert images and "A figure:" in text and "A diagram:" in text


def drawing_until_wanted(record: Path):
    """A `painting.draw_ahead` for fake pages: draws nothing until this process wants the pages
    (so the signal must come), then reports every page drawn; the pages' anchors go to ``record``."""
    from handbook_press import painting

    def draw_ahead(document, pages, stop, warnings):
        deadline = time.monotonic() + 30
        while not stop() and time.monotonic() < deadline:
            time.sleep(0.01)
        record.write_text(repr([page.anchors for page in pages]) if time.monotonic() < deadline else "no signal")
        return painting.DrawnAhead(painting.Share(recordings={n: None for n in range(len(pages))}))

    return draw_ahead


@needs_two_cores
@pytest.mark.parametrize("asked", ["as laid out", "at other folios"])
def test_the_body_child_draws_its_pages_until_they_are_wanted(asked, monkeypatch, tmp_path):
    """What the child drew comes with the pages that take its placeholders' places; if this
    process lays any of its parts out again (asked at other folios), none of it is used."""
    monkeypatch.setattr(splitbody, "fix_folios", renumber)
    monkeypatch.setattr(splitbody, "draw_ahead", drawing_until_wanted(tmp_path / "drawn"))
    page_counts = [3, 2, 5, 1, 4, 2, 3, 1, 2]
    parts = fake_parts(len(page_counts))
    warnings, refused, calls, ahead = [], [], [], []
    lay_out = fake_lay_out(page_counts, warnings, refused, calls, tmp_path / "child-started")
    split = splitbody.lay_out_body(parts, lay_out, None, warnings, refused, ahead)
    theirs = {section_of(html) for html, _ in split.theirs}
    placeholders = assemble_body(split, parts, lay_out)
    if asked == "at other folios":  # as if the front matter moved the child's share by a page
        split.asked = {part: folio + 1 for part, folio in split.asked.items()}
    pages = split.finish(placeholders)
    drawn = eval((tmp_path / "drawn").read_text())
    assert drawn == [{f"s{index}p{n}": (0, 0)} for index in sorted(theirs) for n in range(page_counts[index])]
    if asked == "as laid out":
        check_body(pages, page_counts)
        assert len(ahead) == 1 and len(ahead[0].pages) == len(drawn)
        assert all(any(page is mine for mine in pages) for page in ahead[0].pages), "the pages received"
        assert [page.anchors for page in ahead[0].pages] == drawn
    else:
        assert ahead == [] and split.delivered == 0


@needs_two_cores
def test_the_matter_child_draws_its_pages_until_they_are_wanted(monkeypatch, tmp_path):
    monkeypatch.setattr(splitbody, "fix_folios", renumber)
    monkeypatch.setattr(splitbody, "draw_ahead", drawing_until_wanted(tmp_path / "drawn"))
    warnings, refused, calls, ahead = [], [], [], []
    front, contents, back = splitbody.lay_out_matter(fake_lay_out([5, 3, 2], warnings, refused, calls), None,
                                                     warnings, refused, ("<section 0>", "", None),
                                                     ("<section 1>", "", None), ("<section 2>", "", 41), ahead=ahead)
    index_here = (2, 41) in calls
    mine = contents.pages + ([] if index_here else back.pages)
    assert len(ahead) == 1 and [id(page) for page in ahead[0].pages] == [id(page) for page in mine]
    assert eval((tmp_path / "drawn").read_text()) == [page.anchors for page in mine]


@needs_two_cores
def test_without_ahead_the_children_draw_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(splitbody, "fix_folios", renumber)
    monkeypatch.setattr(splitbody, "draw_ahead", drawing_until_wanted(tmp_path / "drawn"))
    parts = fake_parts(6)
    split = splitbody.lay_out_body(parts, fake_lay_out([2] * 6, [], [], []), None, [], [])
    split.finish(assemble_body(split, parts, fake_lay_out([2] * 6, [], [], [])))
    splitbody.lay_out_matter(fake_lay_out([5, 3, 2], [], [], []), None, [], [], ("<section 0>", "", None),
                             ("<section 1>", "", None), ("<section 2>", "", 41))
    assert not (tmp_path / "drawn").exists()
