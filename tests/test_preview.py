"""`doit preview section=N`: that section's pages as the book prints them."""

import contextlib
import io
import re

import pypdfium2 as pdfium

from handbook_press.build import run_preview
from handbook_press.pagegeometry import Geometry
from handbook_press.reader import load_book

from .books import pdf_pages
from .conftest import CONTENT, project_paths


def test_preview_shows_the_section_with_the_books_folios_and_its_tab(built_books):
    book_pdf, _ = built_books
    paths = project_paths(CONTENT, book_pdf.parent)
    with contextlib.redirect_stderr(io.StringIO()):
        assert run_preview(paths, "3")
    preview = paths.build / "preview" / "section-03.pdf"
    pages = pdf_pages(preview)
    assert pages[0].strip().startswith("Section 3 ")
    assert not any(re.match(r"^Section 4 ", p.strip()) for p in pages)
    # A picture of each page, and none left over from an earlier preview with more pages.
    (paths.build / "preview" / "section-03-page-99.png").write_bytes(b"from a longer section")
    with contextlib.redirect_stderr(io.StringIO()):
        assert run_preview(paths, "3")
    pictures = sorted(p.name for p in (paths.build / "preview").glob("section-03*.png"))
    assert pictures == [f"section-03-page-{n:02d}.png" for n in range(1, len(pdf_pages(preview)) + 1)]

    book = pdf_pages(book_pdf)
    start = next(i for i, p in enumerate(book) if p.strip().startswith("Section 3 ") and ". ." not in p)
    assert pages == book[start:start + len(pages)]  # the same text, folios and running heads included

    book_model, _ = load_book(CONTENT)
    geometry = Geometry.for_book(book_model)
    count = len(book_model.sections)
    document = pdfium.PdfDocument(str(preview))
    for index in range(len(pages)):
        image = document[index].render(scale=1).to_pil().convert("L")
        edge_x = image.width - 2 if index % 2 == 0 else 1  # rectos, then versos: the outer edge
        def dark(position):
            y = int(72 * (geometry.top + geometry.tab_offset(position, count) + geometry.tab_height(count) / 2))
            return image.getpixel((edge_x, y)) < 128
        assert dark(3) and not dark(2) and not dark(4), index


def _font_programs(path) -> dict[str, int]:
    """Bytes of each embedded font program, by font name (without the tag WeasyPrint puts before it)."""
    from pypdf import PdfReader

    programs = {}
    for page in PdfReader(path).pages:
        for font in page["/Resources"].get_object().get("/Font", {}).get_object().values():
            font = font.get_object()
            descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font)
            descriptor = descriptor["/FontDescriptor"].get_object()
            stream = next(descriptor[key] for key in ("/FontFile2", "/FontFile3", "/FontFile") if key in descriptor)
            programs[str(font["/BaseFont"]).lstrip("/").split("+")[-1]] = len(stream.get_object().get_data())
    return programs


def test_the_preview_embeds_subsets_of_the_fonts(built_books):
    """A look, not a deliverable: its fonts are subsets, where the books embed them whole."""
    from .conftest import ROOT

    book_pdf, _ = built_books
    paths = project_paths(CONTENT, book_pdf.parent)
    with contextlib.redirect_stderr(io.StringIO()):
        assert run_preview(paths, "2")
    preview, book = _font_programs(paths.build / "preview" / "section-02.pdf"), _font_programs(book_pdf)
    whole = {path.stat().st_size for path in (ROOT / "styles" / "fonts").rglob("*.?tf")}
    assert book and set(book.values()) <= whole
    assert preview and all(size < book[name] / 2 for name, size in preview.items()), (preview, book)


def test_a_watching_preview_follows_each_saved_edit(tmp_path, monkeypatch):
    """watch=1: each saved edit is previewed again, reading only the sections whose bytes changed;
    a source with an error is reported where it is and the last preview kept; a changed style
    sets the fonts and style sheets up again."""
    import shutil

    from handbook_press import preview, reader
    from handbook_press.build import Paths

    from .conftest import ROOT, copy_content

    content = copy_content(tmp_path / "content")
    styles = shutil.copytree(ROOT / "styles", tmp_path / "styles")
    paths = Paths(content=content, build=tmp_path / "build", templates=ROOT / "templates", styles=styles)
    reads = []
    real_read = reader.read_section_source
    monkeypatch.setattr(reader, "read_section_source", lambda *args: reads.append(args[0].file) or real_read(*args))
    messages = io.StringIO()
    output = paths.build / "preview" / "section-04.pdf"
    with contextlib.redirect_stderr(messages):
        watcher = preview.Watcher(paths, 4)
        assert not watcher.changed()
        assert watcher.refresh() and len(reads) == 16
        assert pdf_pages(output)[0].strip().startswith("Section 4 Model Deployment")

        target = content / "sections" / "model-deployment.md"
        target.write_text(target.read_text() + "\nA sentence saved while the preview watches.\n")
        assert watcher.changed() and not watcher.changed()
        reads.clear()
        assert watcher.refresh()
        assert reads == [target], "the one section whose bytes changed, read again"
        assert "A sentence saved while the preview watches." in " ".join(pdf_pages(output))

        kept = output.read_bytes()
        good = target.read_text()
        target.write_text("---\ntitle: [unclosed\n---\n")
        assert watcher.changed() and not watcher.refresh()
        assert re.search(r"model-deployment\.md:\d+: error", messages.getvalue()), messages.getvalue()
        assert output.read_bytes() == kept, "the last good preview kept"
        target.write_text(good)
        assert watcher.changed() and watcher.refresh()

        setter = watcher.preview._setter
        (styles / "print.css").write_text((styles / "print.css").read_text() + "\n.chapter { color: #222; }\n")
        assert watcher.changed() and watcher.preview._setter is None
        assert watcher.refresh() and watcher.preview._setter is not setter


def test_doit_preview_watch_stops_cleanly_on_ctrl_c(tmp_path):
    """The real command: it previews, previews again after a save, and Ctrl-C ends it with
    success and no traceback, also when started in the background."""
    import queue
    import signal
    import subprocess
    import sys
    import threading

    from .conftest import ROOT, copy_content

    content = copy_content(tmp_path / "content")
    command = [sys.executable, "-m", "doit", "-f", str(ROOT / "dodo.py"), "--dir", str(tmp_path),
               "--db-file", str(tmp_path / ".doit.db"), "preview", "section=4", "watch=1",
               f"content={content}", f"build={tmp_path / 'build'}"]
    # Started as a shell starts a background job: with SIGINT ignored, which the watch undoes.
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    seen: list[str] = []

    def wait_for(text: str) -> None:
        while not any(text in line for line in seen):
            seen.append(lines.get(timeout=120))

    try:
        wait_for("Ctrl-C stops")
        assert sum("previewed Section 4" in line for line in seen) == 1
        target = content / "sections" / "model-deployment.md"
        target.write_text(target.read_text() + "\nA sentence saved while the preview watches.\n")
        seen.clear()
        wait_for("previewed Section 4")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    rest = "".join(seen) + "".join(lines.get() for _ in range(lines.qsize()))
    assert "stopped watching" in rest and "Traceback" not in rest, rest
    assert "A sentence saved while the preview watches." in " ".join(
        pdf_pages(tmp_path / "build" / "preview" / "section-04.pdf"))


def test_the_pages_pictures_drawn_on_two_cores_are_those_drawn_on_one(built_books):
    from handbook_press import preview

    book_pdf, _ = built_books
    paths = project_paths(CONTENT, book_pdf.parent)
    with contextlib.redirect_stderr(io.StringIO()):
        assert run_preview(paths, "4")
    data = (paths.build / "preview" / "section-04.pdf").read_bytes()
    count = len(pdfium.PdfDocument(data))
    pictures = preview._pictures(data)
    assert count >= 2 and pictures == preview._pictures_of(data, range(count))
    assert pictures == [(paths.build / "preview" / f"section-04-page-{n:02d}.png").read_bytes()
                        for n in range(1, count + 1)]


def test_a_watching_preview_reads_handbook_yaml_again_only_when_it_changed(tmp_path, monkeypatch):
    """Parsing a long handbook.yaml is most of reading the book again after a save: the watch
    keeps what it read while the file's bytes stay, with its warnings, and the book is the same."""
    from handbook_press import preview, reader
    from handbook_press.build import Paths, load

    from .conftest import ROOT, copy_content

    content = copy_content(tmp_path / "content")
    watcher = preview.Watcher(Paths(content=content, build=tmp_path / "build", templates=ROOT / "templates",
                                    styles=ROOT / "styles"), 4)
    parsed = []
    real_read = reader.read_metadata
    monkeypatch.setattr(reader, "read_metadata", lambda *args: parsed.append(1) or real_read(*args))
    first, first_diagnostics = watcher.read_book()
    section = content / "sections" / "model-deployment.md"
    section.write_text(section.read_text() + "\nSaved while watching.\n")
    again, again_diagnostics = watcher.read_book()
    assert len(parsed) == 1, "handbook.yaml read once while its bytes stayed"
    fresh, fresh_diagnostics = load(content)
    assert again == fresh and again != first
    assert [str(item) for item in again_diagnostics.items] == [str(item) for item in fresh_diagnostics.items]
    assert again_diagnostics.warnings, "the outline's warnings are told each time"
    metadata = content / "handbook.yaml"
    metadata.write_text(metadata.read_text().replace("title: ", "title: Renamed, ", 1))
    parsed.clear()
    renamed, _ = watcher.read_book()
    assert len(parsed) == 1 and renamed.metadata.title.startswith("Renamed, ")


def _top_band(path, index: int) -> str:
    """The text in a page's top margin (its running head and folio), above the text block."""
    page = pdfium.PdfDocument(str(path))[index]
    width, height = page.get_size()
    return page.get_textpage().get_text_bounded(0, height - 72 * Geometry.top + 2, width, height).strip()


def test_a_long_title_gets_a_one_line_running_head(tmp_path):
    """Cut after a whole word with an ellipsis (a two-line head crowded the folio), or the
    section's short_title from handbook.yaml; the checker says which the pages print."""
    import shutil

    from handbook_press.diagnostics import Diagnostics

    content = shutil.copytree(CONTENT, tmp_path / "content")
    long_title = ("Model Deployment, Serving, Monitoring and the Long Road from a Notebook to a Reliable "
                  "Production Service at Scale")
    listing = content / "handbook.yaml"
    listing.write_text(listing.read_text().replace("  title: Model Deployment\n", f"  title: {long_title}\n"))
    section = content / "sections" / "model-deployment.md"
    long_chapter = "Model Serving with TensorFlow Serving, TorchServe, Triton and ONNX Runtime across Clusters"
    section.write_text(section.read_text().replace("Chapter 16: Model Serving\n", f"Chapter 16: {long_chapter}\n"))
    paths = project_paths(content, tmp_path / "build")

    diagnostics = Diagnostics()
    book, _ = load_book(content, diagnostics)
    limit = Geometry.for_book(book).running_head_chars
    [told] = [d for d in diagnostics if d.code == "running-head-shortened"]
    assert "Section 4" in told.message and "short_title" in told.message and told.location.path.endswith("handbook.yaml")
    with contextlib.redirect_stderr(io.StringIO()):
        assert run_preview(paths, "4")
    preview = paths.build / "preview" / "section-04.pdf"
    pages = pdf_pages(preview)
    verso = next(i for i in range(1, len(pages)) if i % 2 == 1)  # the page after the opener, a verso
    head = _top_band(preview, verso)
    assert "\n" not in head and head.endswith("Model Deployment, Serving, Monitoring and the Long Road from\u2026")
    assert len(head.split(" ", 1)[1]) <= limit  # after its folio
    recto = next((i for i in range(2, len(pages)) if i % 2 == 0 and "Chapter 17" in pages[i]), None)
    if recto is not None:  # the chapter's head on the recto it continues onto
        assert "\n" not in _top_band(preview, recto)

    listing.write_text(listing.read_text().replace(f"  title: {long_title}\n",
                                                   f"  title: {long_title}\n  short_title: Deployment at Scale\n"))
    diagnostics = Diagnostics()
    load_book(content, diagnostics)
    assert "running-head-shortened" not in diagnostics.codes()
    with contextlib.redirect_stderr(io.StringIO()):
        assert run_preview(paths, "4")
    assert _top_band(preview, verso).endswith(" Deployment at Scale")
    assert pdf_pages(preview)[0].lstrip().startswith(f"Section 4 {long_title}")  # the title itself stays whole


def test_running_heads_are_cut_after_a_whole_word():
    from handbook_press.pagegeometry import running_head

    assert running_head("Model Serving", 30) == "Model Serving"
    assert running_head("Model Deployment, Serving, Monitoring", 30) == "Model Deployment, Serving\u2026"
    assert running_head("Supercalifragilisticexpialidocious" * 2, 20) == "Supercalifragilisti\u2026"
    assert running_head("Monitoring and the Long Road from a Notebook", 36) == "Monitoring and the Long Road from\u2026"
    assert running_head("Models, Data and Pipelines", 20) == "Models, Data\u2026"
    assert running_head("Serving for AI Systems", 18) == "Serving for AI\u2026"  # AI is no small word
    assert all(len(running_head("word " * 40, n)) <= n for n in (10, 30, 63))


def test_a_table_in_prose_is_ruled_above_below_and_under_its_head(tmp_path):
    """It printed as bare columns run into the next paragraph; now rules set it off (booktabs)."""
    import shutil

    content = shutil.copytree(CONTENT, tmp_path / "content")
    section = content / "sections" / "model-deployment.md"
    section.write_text(section.read_text() + "\n| Metric | Target |\n|---|---|\n| p99 latency | 120 ms |\n"
                       "| Error rate | 0.1 % |\n\nAfter the table.\n")
    paths = project_paths(content, tmp_path / "build")
    with contextlib.redirect_stderr(io.StringIO()):
        assert run_preview(paths, "4")
    document = pdfium.PdfDocument(str(paths.build / "preview" / "section-04.pdf"))
    index = next(i for i in range(len(document)) if "p99 latency" in document[i].get_textpage().get_text_range())
    page, scale = document[index], 4
    text = page.get_textpage()
    height = page.get_size()[1]

    def box(word):
        at = text.get_text_range().index(word)
        return text.get_charbox(at)  # left, bottom, right, top in pt

    image = page.render(scale=scale).to_pil().convert("L")

    def ruled(y_pt, x0_pt, x1_pt):
        """Whether some pixel row near y (pt from the bottom) is dark from x0 to x1."""
        for dy in range(-6 * scale, 6 * scale):
            y = int((height - y_pt) * scale) + dy
            if all(image.getpixel((int(x * scale), y)) < 160 for x in range(int(x0_pt) + 1, int(x1_pt) - 1, 2)):
                return True
        return False

    head, last, target = box("Metric"), box("Error rate"), box("Target")
    assert ruled(head[3] + 3, head[0], target[2])  # above the head
    assert ruled(head[1] - 3, head[0], target[2])  # under it
    assert ruled(last[1] - 3, head[0], target[2])  # below the last row


def test_a_word_longer_than_its_line_breaks_inside_the_text_block(tmp_path):
    """Titles are never hyphenated: a run-together name longer than the line ran into the margin
    (preflight then refused the print interior); it now breaks where it must."""
    import shutil

    content = shutil.copytree(CONTENT, tmp_path / "content")
    section = content / "sections" / "model-deployment.md"
    word = "TensorFlowServingTorchServeTritonInferenceServerONNXRuntimeClusters"
    section.write_text(section.read_text().replace("Chapter 16: Model Serving\n", f"Chapter 16: Serving with {word}\n"))
    paths = project_paths(content, tmp_path / "build")
    with contextlib.redirect_stderr(io.StringIO()):
        assert run_preview(paths, "4")
    document = pdfium.PdfDocument(str(paths.build / "preview" / "section-04.pdf"))
    pages = [document[i] for i in range(len(document))]
    assert any(word in p.get_textpage().get_text_range().replace("\r\n", "") for p in pages)
    for page in pages:
        width = page.get_size()[0]
        text = page.get_textpage()
        boxes = [text.get_charbox(i) for i in range(text.count_chars()) if text.get_text_range(i, 1).strip()]
        geometry = Geometry(6, 9)
        margin = 72 * min(geometry.inside, geometry.outside) - 1
        assert all(b[0] >= margin and b[2] <= width - margin for b in boxes if b[3] < page.get_size()[1] - 60)
