"""The books use only the fonts in styles/fonts, whatever fonts the machine has installed."""

import io
import os
from pathlib import Path

from pypdf import PdfReader

from .conftest import CONTENT, ROOT

MISSING = "\U0001F680"  # a character none of the book's fonts has (a rocket)


def machine_font(folder):
    """An installed font (a folder Fontconfig is told about) that has ``MISSING``."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    pen = TTGlyphPen(None)
    pen.moveTo((100, 0)), pen.lineTo((100, 700)), pen.lineTo((500, 700)), pen.lineTo((500, 0)), pen.closePath()
    box, empty = pen.glyph(), TTGlyphPen(None).glyph()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "box"])
    builder.setupCharacterMap({ord(MISSING): "box"})
    builder.setupGlyf({".notdef": empty, "box": box})
    builder.setupHorizontalMetrics({".notdef": (600, 0), "box": (600, 100)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "Machine Font", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    folder.mkdir()
    builder.save(str(folder / "MachineFont.ttf"))
    config = folder / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?>\n<fontconfig><dir>{folder}</dir>'
                      f'<cachedir>{folder / "cache"}</cachedir></fontconfig>\n')
    return config


def test_a_character_the_fonts_lack_never_brings_in_a_machine_font(tmp_path, monkeypatch):
    from handbook_press.pagegeometry import Geometry
    from handbook_press.paging import PrintEdition
    from handbook_press.pdf import Typesetter, weasyprint_warnings

    monkeypatch.setenv("FONTCONFIG_FILE", str(machine_font(tmp_path / "installed")))  # a machine with that font
    setter = Typesetter(PrintEdition(Geometry(6.0, 9.0)), content=CONTENT, templates=ROOT / "templates",
                        styles=ROOT / "styles")
    with weasyprint_warnings() as warnings:
        pdf = setter.lay_out(f"<html><body><p>A rocket: {MISSING}.</p></body></html>").write_pdf()
    fonts = {str(font.get_object()["/BaseFont"]).split("+")[-1]
             for page in PdfReader(io.BytesIO(pdf)).pages for font in page["/Resources"]["/Font"].values()}
    assert fonts and all(name.startswith("Book-") for name in fonts), fonts
    assert any("U+1F680" in message for message in warnings), warnings  # shown as a missing glyph, and said
    assert os.environ["FONTCONFIG_FILE"] == str(tmp_path / "installed" / "fonts.conf")  # the machine's, as it was


def test_font_folders_of_killed_builds_are_removed_by_the_next(tmp_path, monkeypatch):
    """WeasyPrint copies the book's fonts into a temporary folder; a build killed outright
    (SIGKILL: no clean-up runs) leaves it. The next build removes those whose process is
    gone, and nothing else."""
    import subprocess
    import sys
    import tempfile

    from handbook_press import bookfonts

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    bookfonts._remove_font_folders_of_dead_processes.cache_clear()  # as in a new process
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    killed = tmp_path / f"{bookfonts.FONT_FOLDER_PREFIX}{gone}-abc123"
    running = tmp_path / f"{bookfonts.FONT_FOLDER_PREFIX}{os.getppid()}-def456"
    others = [tmp_path / "weasyprint-ghi789", tmp_path / f"{bookfonts.FONT_FOLDER_PREFIX}notapid-x"]
    for folder in [killed, running, *others]:
        folder.mkdir()
        (folder / "font").write_bytes(b"a copy of a font")
    fonts = bookfonts.font_configuration()
    mine = Path(fonts._folder)
    assert mine.parent == tmp_path and mine.name.startswith(f"{bookfonts.FONT_FOLDER_PREFIX}{os.getpid()}-")
    assert not killed.exists()
    assert running.exists() and all(folder.exists() for folder in others)
