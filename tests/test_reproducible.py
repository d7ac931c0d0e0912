"""The same sources give byte-identical books, whatever the clock says."""

import hashlib

from handbook_press.build import build_epub, build_page_map, build_pdf

from .conftest import CONTENT, project_paths


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_builds_are_byte_identical(tmp_path, monkeypatch, built_books):
    """Also in the other order: this EPUB's page map is laid out by the page-map task alone
    (no PDF yet), the first build's from the PDF's layout records; the books are the same."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    paths = project_paths(CONTENT, tmp_path / "again")
    assert build_page_map(paths) and build_epub(paths) and build_pdf(paths)
    assert sha(paths.build / "mlops-handbook.pdf") == sha(built_books[0])
    assert sha(paths.build / "mlops-handbook.epub") == sha(built_books[1])


def test_source_date_epoch_sets_the_dates(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    paths = project_paths(CONTENT, tmp_path / "dated")
    assert build_epub(paths)
    import zipfile

    book = zipfile.ZipFile(paths.build / "mlops-handbook.epub")
    assert book.infolist()[0].filename == "mimetype"
    assert book.infolist()[0].compress_type == zipfile.ZIP_STORED
    assert {i.date_time for i in book.infolist()} == {(2026, 1, 1, 0, 0, 0)}
    opf = book.read("EPUB/content.opf").decode()
    assert '<meta property="dcterms:modified">2026-01-01T00:00:00Z</meta>' in opf
