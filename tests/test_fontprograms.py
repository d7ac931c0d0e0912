"""The font files' PDF data worked out beside the layout: the same files, fontTools not asked again."""

import os
import signal
import time

import pytest
from weasyprint import CSS, HTML
from weasyprint.pdf import fonts as weasyprint_fonts
from weasyprint.text.fonts import FontConfiguration

from handbook_press import fontprograms, pdfwriter
from handbook_press import pdf as _installs_the_fixes  # noqa: F401  (as every build does)

from .conftest import ROOT

STYLES = ROOT / "styles"
SAMPLE = """<html lang="en"><body>
<h1 style="font-family: 'Book Sans'">Feature stores <i>and</i> <b>drift</b></h1>
<p style="font-family: 'Book Serif'">Serving models — “quoted”, <i>italic</i>, <b>bold</b>, <b><i>both</i></b>; ﬁne ligatures.</p>
<p><code style="font-family: 'Book Mono'">kubectl rollout --watch</code> <code><b>mlflow</b></code></p>
</body></html>"""


def sample_pdf() -> bytes:
    fonts = FontConfiguration()
    sheet = CSS(filename=str(STYLES / "fonts.css"), font_config=fonts)
    return HTML(string=SAMPLE, base_url=str(ROOT) + "/").write_pdf(
        stylesheets=[sheet], font_config=fonts, full_fonts=True, pdf_identifier=b"fixed", uncompressed_pdf=False)


@pytest.fixture
def no_programs():
    fontprograms.forget()
    yield
    fontprograms.forget()


def font_files_read_by_fonttools(monkeypatch) -> list[int]:
    lengths = []
    real = weasyprint_fonts.TTFont

    def counting(file, *args, **kwargs):
        lengths.append(len(file.getvalue()))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(weasyprint_fonts, "TTFont", counting)
    return lengths


def test_the_patch_is_installed_for_the_pinned_weasyprint():
    import weasyprint
    import weasyprint.pdf

    assert weasyprint.__version__ == fontprograms.PATCHED_VERSION
    assert weasyprint.pdf.build_fonts_dictionary is weasyprint_fonts.build_fonts_dictionary
    assert fontprograms._original_build_fonts_dictionary is not None


def test_known_fonts_give_the_same_file_without_reading_them_again(monkeypatch, no_programs):
    read = font_files_read_by_fonttools(monkeypatch)
    plain = sample_pdf()
    sizes = {path.stat().st_size for path in fontprograms.font_files(STYLES)}
    assert len(set(read) & sizes) >= 5, "the sample embeds five of the book's font files, each read by fontTools"

    fontprograms.register(fontprograms.work_out(fontprograms.font_files(STYLES)))
    read.clear()
    compressions = []
    real_compressed = pdfwriter.compressed
    monkeypatch.setattr(pdfwriter, "compressed", lambda data: compressions.append(len(data)) or real_compressed(data))
    assert sample_pdf() == plain
    assert not set(read) & sizes, "no font file read by fontTools when its program is known"
    assert not set(compressions) & sizes, "no font file compressed again"


def test_the_program_holds_what_weasyprint_reads(no_programs):
    from fontTools.ttLib import TTFont
    import io

    path = STYLES / "fonts" / "LinLibertine_R.otf"
    data = path.read_bytes()
    program = fontprograms.font_program(data)
    ttfont = TTFont(io.BytesIO(data))
    assert program.length == len(data) and program.compressed == pdfwriter.compressed(data)
    assert list(program.advances) == [glyph.width for glyph in ttfont.getGlyphSet().values()]
    cmap = ttfont.getBestCmap()
    assert len(program.best_cmap) == len(cmap) > 200
    assert all(ttfont.getGlyphOrder()[glyph_id] == cmap[letter] for letter, glyph_id in program.best_cmap)


def test_the_helper_answers_as_this_process_would(no_programs):
    files = fontprograms.font_files(STYLES)
    pending = fontprograms.FontPrograms.beside(STYLES)
    assert pending.pid is not None, "a helper forked (the test machine has two cores)"
    helper = pending.pid
    pending.receive()
    with pytest.raises(ChildProcessError):
        os.waitpid(helper, os.WNOHANG)  # reaped
    assert fontprograms._known == fontprograms.work_out(files)
    assert len(fontprograms._known) == len(files) == 9
    pending.close()


def test_a_helper_never_asked_is_stopped(no_programs):
    pending = fontprograms.FontPrograms.beside(STYLES)
    helper = pending.pid
    pending.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(helper, os.WNOHANG)
    assert not fontprograms._known


def test_a_rewritten_font_is_left_to_weasyprint(no_programs, tmp_path):
    from fontTools.ttLib import TTFont, newTable

    ttfont = TTFont(STYLES / "fonts" / "JetBrainsMono-Regular.ttf")
    ttfont["COLR"] = newTable("COLR")
    ttfont["COLR"].version = 0
    ttfont["COLR"].ColorLayers = {}
    path = tmp_path / "colour.ttf"
    ttfont.save(path)
    assert fontprograms.font_program(path.read_bytes()) is None
    assert fontprograms.font_program((STYLES / "fonts" / "JetBrainsMono-Regular.ttf").read_bytes()) is not None


def test_with_one_core_nothing_is_worked_out_ahead(monkeypatch, no_programs):
    monkeypatch.setattr(fontprograms, "can_fork", lambda: False)
    monkeypatch.setattr(fontprograms, "work_out", lambda files: pytest.fail("worked out on the only core"))
    pending = fontprograms.FontPrograms.beside(STYLES, first=lambda: pytest.fail("run ahead on the only core"))
    assert pending.pid is None
    pending.first_done()
    pending.receive()
    pending.close()
    assert not fontprograms._known


def test_an_unreadable_font_is_left_to_weasyprint(tmp_path, no_programs):
    good = STYLES / "fonts" / "JetBrainsMono-Regular.ttf"
    programs = fontprograms.work_out([tmp_path / "gone.otf", good])
    assert list(programs) == [fontprograms.digest(good.read_bytes())]


def test_the_helper_runs_its_first_job_before_the_fonts(tmp_path, no_programs):
    marker = tmp_path / "first"

    def first():
        time.sleep(0.3)  # first_done must wait for it
        marker.write_text(str(os.getpid()))

    pending = fontprograms.FontPrograms.beside(STYLES, first=first)
    pending.first_done()
    assert marker.is_file() and int(marker.read_text()) == pending.pid != os.getpid()
    pending.first_done()  # once is enough: a second call returns at once
    pending.receive()
    assert len(fontprograms._known) == 9
    pending.close()


def test_a_failed_first_job_leaves_the_fonts_worked_out(no_programs):
    def first():
        raise OSError("read-only build folder")

    pending = fontprograms.FontPrograms.beside(STYLES, first=first)
    pending.first_done()
    pending.receive()
    assert len(fontprograms._known) == 9
    pending.close()


def test_first_done_returns_when_the_helper_dies(no_programs):
    pending = fontprograms.FontPrograms.beside(STYLES, first=lambda: time.sleep(60))
    os.kill(pending.pid, signal.SIGKILL)
    started = time.monotonic()
    pending.first_done()
    assert time.monotonic() - started < 5
    pending.close()
