"""Each page drawn once for both PDFs (painting.py): the same files as WeasyPrint drawing every page."""

import pickle
import re
import zlib
from pathlib import Path

import pydyf
import pypdfium2
import pytest
import weasyprint
from PIL import Image
from weasyprint import CSS, HTML

from handbook_press import painting, sidebyside
from handbook_press import pdf as _installs_the_patches  # noqa: F401  (as every build does)
from handbook_press.bookfonts import font_configuration

STYLES = Path(__file__).resolve().parents[1] / "styles"
CSS_TEXT = """
@page { size: 6in 9in; margin: 0.75in; bleed: 0.125in; @bottom-center { content: counter(page); } }
body { font: 10.5pt/1.4 "Book Serif"; text-align: justify; hyphens: auto; }
h1 { font: bold 16pt "Book Sans"; break-before: page; }
.soft { color: rgba(0, 0, 0, 0.6); }
code { font-family: "Book Mono"; }
"""
PROSE = ("Every model that reaches production needs a way back: a registry that keeps the versions, "
         "a deployment that can be rolled back, and someone who is paged when the numbers drift. ")


def chapter(title: str, extra: str = "") -> str:
    return f"<h1>{title}</h1>" + f"<p>{PROSE * 6}</p>" * 3 + extra


def lay_out(body: str, base: Path = STYLES, fonts=None):
    fonts = fonts or font_configuration()  # as the books: only the fonts of styles/fonts, on any machine
    sheets = [CSS(filename=str(STYLES / "fonts.css"), font_config=fonts), CSS(string=CSS_TEXT, font_config=fonts)]
    html = f'<!DOCTYPE html><html lang="en"><head><title>T</title></head><body>{body}</body></html>'
    return HTML(string=html, base_url=str(base) + "/").render(stylesheets=sheets, font_config=fonts, pdf_tags=True)


def written(document, tagged: bool) -> bytes:
    return document.write_pdf(pdf_tags=tagged, full_fonts=True, pdf_identifier=b"0" * 32)


def shares_of(document, cut: int, *, through_pickle: bool = True) -> list:
    """The two shares as a two-core build makes them; the second crosses a pipe pickled."""
    first = painting.record(document, range(cut))
    second = painting.record(document, range(cut, len(document.pages)))
    if through_pickle:
        second = pickle.loads(pickle.dumps(second))
    return [first, second]


def replayed(document, shares):
    return document.copy(painting.replaying(document.pages, shares))


def content_streams(data: bytes) -> list[bytes]:
    streams = []
    for match in re.finditer(rb"/Filter /FlateDecode[^>]*>>\nstream\n(.*?)\nendstream", data, re.DOTALL):
        try:
            streams.append(zlib.decompress(match.group(1)))
        except zlib.error:
            pass
    return streams


def pages_as_seen(data: bytes) -> list[tuple[bytes, str]]:
    document = pypdfium2.PdfDocument(data)
    return [(page.render(scale=1).to_pil().convert("L").tobytes(), page.get_textpage().get_text_range())
            for page in document]


BOOK = "".join(chapter(f"Chapter {n}") for n in range(1, 4)) + chapter(
    "Chapter 4", "<p class=soft>A quieter paragraph, in grey.</p><p>Run <code>doit release</code>.</p>")


def test_tied_to_the_pinned_weasyprint():
    assert painting.supported(), "pyproject.toml pins the WeasyPrint whose drawing painting.py records"
    assert weasyprint.__version__ == painting.PAINTED_VERSION


def test_the_reading_edition_is_byte_for_byte_what_weasyprint_draws():
    document = lay_out(BOOK)
    assert len(document.pages) >= 6
    cut = painting.split_point(document.pages)
    assert 0 < cut < len(document.pages)
    shares = shares_of(document, cut)
    # The monospaced font and the grey's transparency state are first met in the second share.
    assert any(recording and recording.new_states for recording in shares[1].recordings.values())
    assert set(shares[1].fonts) - set(shares[0].fonts)
    assert not any(hasattr(font, "hb_face") for font in shares[1].fonts.values()), "received fonts lost their handles"
    assert all(recording is not None for share in shares for recording in share.recordings.values())
    plain = written(document, tagged=True)
    assert written(replayed(document, shares), tagged=True) == plain
    assert written(replayed(document, shares_of(document, 1)), tagged=True) == plain  # wherever the cut


def test_the_untagged_edition_keeps_every_page_and_drops_marked_content():
    document = lay_out(BOOK)
    shares = shares_of(document, painting.split_point(document.pages))
    data = written(replayed(document, shares), tagged=False)
    assert pages_as_seen(data) == pages_as_seen(written(document, tagged=False))
    assert b"/StructTreeRoot" not in data
    streams = content_streams(data)
    assert any(b" TJ" in stream for stream in streams)
    assert not any(re.search(rb"(^|\n)(BDC|BMC|EMC)(\n|$)", stream) for stream in streams)
    tagged_streams = content_streams(written(replayed(document, shares), tagged=True))
    assert any(re.search(rb"(^|\n)BDC(\n|$)", stream) for stream in tagged_streams)  # the test can see them


def test_untagged_drops_each_marked_content_operator_with_its_operands():
    items = [b"q", "/P", pydyf.Dictionary({"MCID": 0}), b"BDC", b"BT", b"ET", b"EMC",
             "/Artifact", b"BMC", b"0 0 1 1 re", b"f", b"EMC", b"Q"]
    assert painting._untagged(items) == b"q\nBT\nET\n0 0 1 1 re\nf\nQ"


def test_pages_a_recording_cannot_carry_are_drawn_live_in_each_write(tmp_path):
    Image.new("RGB", (8, 8), (200, 30, 30)).save(tmp_path / "dot.png")
    (tmp_path / "fonts").symlink_to(STYLES / "fonts")
    body = (chapter("Plain") + chapter("An image", '<p>IMAGE <img src="dot.png" width="40" alt="dot"></p>')
            + chapter("Half seen", '<p style="opacity: 0.5">GROUP, half seen.</p>')
            + chapter("A glyph no font has", "<p>GLYPH \U0010fffd</p>") + chapter("Plain again")
            + chapter("The image again", '<p>AGAIN <img src="dot.png" width="60" alt="dot"></p>'))
    document = lay_out(body, base=tmp_path)
    shares = shares_of(document, 2)
    live = [index for share in shares for index, recording in share.recordings.items() if recording is None]
    texts = [page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(written(document, True))]
    assert live and all(any(word in texts[index] for word in ("IMAGE", "GROUP", "GLYPH", "AGAIN")) for index in live)
    assert len(live) == 4, "an image met again names no new resource, and is drawn live all the same"
    assert written(replayed(document, shares), tagged=True) == written(document, tagged=True)


def test_split_point_halves_the_text():
    document = lay_out(chapter("Short") + "".join(chapter(f"Long {n}", f"<p>{PROSE * 12}</p>") for n in range(4)))
    weights = [painting._text_weight(page) for page in document.pages]
    cut = painting.split_point(document.pages)
    assert sum(weights[:cut]) >= sum(weights) / 2 > sum(weights[:cut - 1])


@pytest.mark.skipif(not sidebyside.can_fork(), reason="one core, or no fork: both shares recorded here")
def test_a_share_recorded_in_a_forked_child_gives_the_same_file():
    document = lay_out(BOOK)
    warnings: list[str] = []
    shares = painting.record_on_two_cores(document, warnings)
    assert all(recording.boxes is None for recording in shares[1].recordings.values()), "not drawn here"
    assert written(replayed(document, shares), tagged=True) == written(document, tagged=True)


def test_the_books_pdfs_drawn_once_read_as_drawn_twice(tmp_path, monkeypatch):
    """The handbook built with each page drawn once (on two cores where there are two) and with
    WeasyPrint drawing every page in each write: the reading edition byte for byte, the print
    interior the same pages to the pixel and the same text, without marked content."""
    import contextlib
    import io

    from .conftest import CONTENT, pdf_task_outputs

    recorded = []
    real_record = painting.record_on_two_cores
    monkeypatch.setattr(painting, "record_on_two_cores", lambda *a: recorded.append(1) or real_record(*a))
    outputs, messages = [], io.StringIO()
    with contextlib.redirect_stderr(messages):
        for folder in ("drawn-once", "drawn-twice"):
            outputs.append(pdf_task_outputs(CONTENT, tmp_path / folder))
            monkeypatch.setattr(painting, "supported", lambda: False)
    assert recorded == [1]
    # Where the time went, stage by stage: drawing is a stage only where pages are drawn once.
    said = re.findall(r"laid out \d+ pages \(kdp geometry\) in [\d.]+ s \(([^)]*)\)", messages.getvalue())
    assert [re.sub(r"[\d.]+ s", "T", stages) for stages in said] == \
        ["layout T, drawing T, writes T", "layout T, writes T"], messages.getvalue()
    (reading, printed, records), (reading_twice, printed_twice, records_twice) = outputs
    assert reading == reading_twice
    assert records == records_twice
    assert pages_as_seen(printed) == pages_as_seen(printed_twice)
    assert not any(re.search(rb"(^|\n)(BDC|BMC|EMC)(\n|$)", stream) for stream in content_streams(printed))


@pytest.mark.parametrize("drawn", [2, 5])
def test_pages_drawn_ahead_by_the_child_that_laid_them_out_give_the_same_file(drawn):
    """A child draws some of its pages while it waits (`draw_ahead`, its boxes named by place),
    then they cross a pipe pickled: replayed with the rest recorded here, the same file."""
    from handbook_press import splitbody

    fonts = font_configuration()
    document = lay_out(BOOK, fonts=fonts)
    theirs = list(range(3, len(document.pages)))  # the back of the book, as the body child's share
    pickled = splitbody.dumps_pages([document.pages[index] for index in theirs])
    asked = iter(range(drawn + 1))  # asked before each page: stop at the (drawn + 1)th

    def stop() -> bool:
        return next(asked) == drawn

    ahead = painting.draw_ahead(document, [document.pages[index] for index in theirs], stop, [])
    assert len(ahead.share.recordings) == drawn
    ahead = pickle.loads(pickle.dumps(ahead))
    received = splitbody.loads_pages(pickled, fonts)
    ahead.pages = received
    pages = document.pages[:3] + received
    whole = document.copy(pages)
    shares = painting.record_on_two_cores(whole, [], [ahead])
    assert len(shares) == 3 and sorted(shares[0].recordings) == list(range(3, 3 + drawn))
    assert written(replayed(whole, shares), tagged=True) == written(document, tagged=True)
    # The print interior (untagged) as from shares recorded here alone.
    assert written(replayed(whole, shares), tagged=False) == \
        written(replayed(document, painting.record_on_two_cores(document, [])), tagged=False)


def test_a_share_drawn_ahead_of_pages_laid_out_again_is_not_used():
    document = lay_out(BOOK)
    ahead = painting.draw_ahead(document, document.pages[2:], lambda: False, [])
    ahead.pages = list(document.pages[2:])
    assert ahead.placed(document.pages) is not None
    ahead.pages[1] = lay_out(BOOK).pages[3]  # not one of the document's: its part was laid out here
    assert ahead.placed(document.pages) is None
    shares = painting.record_on_two_cores(document, [], [ahead])
    assert len(shares) == 2 and len(shares[0].recordings) + len(shares[1].recordings) == len(document.pages)


@pytest.mark.skipif(not sidebyside.can_fork(), reason="one core, or no fork: no child lays anything out")
def test_the_books_pdfs_with_pages_drawn_ahead_by_the_children(tmp_path, monkeypatch):
    """The handbook's PDF task where the children that laid pages out draw all of them, or the
    first few, before they send them: the same files as when they draw none."""
    import contextlib
    import io

    from handbook_press import splitbody

    from .conftest import CONTENT, pdf_task_outputs

    real_draw_ahead, real_record = painting.draw_ahead, painting.record_on_two_cores
    ahead_sizes: list[list[int]] = []

    def record_on_two_cores(document, warnings, ahead=()):
        ahead_sizes.append([len(drawn.share.recordings) for drawn in ahead])
        return real_record(document, warnings, ahead)

    monkeypatch.setattr(painting, "record_on_two_cores", record_on_two_cores)
    outputs = []
    with contextlib.redirect_stderr(io.StringIO()):
        for drawn in ("all", "the first three", "none"):
            if drawn == "none":
                monkeypatch.setattr(splitbody, "_drawn_until_wanted", lambda *args: None)
            else:  # the children inherit it
                limit = {"all": 10**6, "the first three": 3}[drawn]
                monkeypatch.setattr(splitbody, "draw_ahead", lambda document, pages, stop, warnings: real_draw_ahead(
                    document, pages[:limit], lambda: False, warnings))
            outputs.append(pdf_task_outputs(CONTENT, tmp_path / drawn.replace(" ", "-")))
    everything, first_three, none = ahead_sizes
    assert len(everything) == 2 and everything[0] > 3 and everything[1] > 0, "both children drew pages"
    assert first_three == [3, min(3, everything[1])] and none == []
    assert outputs[0] == outputs[2] and outputs[1] == outputs[2]
