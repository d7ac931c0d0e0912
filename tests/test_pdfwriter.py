"""The fixes to pydyf's writer change the time a long book takes, never what a reader gets."""

import io
import zlib

import pydyf
import pytest
from pypdf import PdfReader
from weasyprint import HTML

from handbook_press import pdf as _installs_the_fixes  # noqa: F401  (as every build does)
from handbook_press import pdfwriter

from .conftest import without

unpatched = without(pdfwriter)


def small_pdf() -> pydyf.PDF:
    pdf = pydyf.PDF()
    for text in ("one", "two", "three"):
        stream = pydyf.Stream([f"BT ({text}) Tj ET".encode()], compress=True)
        pdf.add_object(stream)
        pdf.add_page(pydyf.Dictionary({"Type": "/Page", "Parent": pdf.pages.reference,
                                       "Contents": stream.reference, "MediaBox": pydyf.Array([0, 0, 10, 10])}))
    return pdf


def compressions_while_writing(monkeypatch, pdf) -> int:
    calls = []
    real = zlib.compressobj
    monkeypatch.setattr(zlib, "compressobj", lambda *a, **k: calls.append(1) or real(*a, **k))
    pdf.write(io.BytesIO(), identifier=b"fixed", compress=True)
    return len(calls)


def test_the_fixes_are_installed_for_the_pinned_pydyf():
    assert pydyf.VERSION == pdfwriter.PATCHED_VERSION, "pyproject.toml pins the pydyf these fixes were written for"
    assert pydyf.PDF.write is pdfwriter._write


def test_page_references_are_built_once_per_page_count():
    pdf = small_pdf()
    first = pdf.page_references
    assert pdf.page_references is first and len(first) == 3
    pdf.add_page(pydyf.Dictionary({"Type": "/Page", "Parent": pdf.pages.reference}))
    assert len(pdf.page_references) == 4 and pdf.page_references[:3] == first


def test_each_stream_is_compressed_once_per_write(monkeypatch):
    # Three page streams, the object stream and the cross-reference stream.
    assert compressions_while_writing(monkeypatch, small_pdf()) == 5


def test_unpatched_pydyf_compresses_streams_twice(monkeypatch, unpatched):
    # Page streams and the object stream again, to hash them for the /ID.
    assert compressions_while_writing(monkeypatch, small_pdf()) == 9


def tagged_pdf(**options) -> bytes:
    html = ('<html lang="en"><head><title>T</title></head><body>'
            + "".join(f'<h1 id="h{i}">Heading {i}</h1><p><a href="#h{(i + 1) % 3}">next</a> text</p>'
                      '<p style="break-after: page">more</p>' for i in range(3))
            + "</body></html>")
    return HTML(string=html).write_pdf(pdf_tags=True, pdf_identifier=b"fixed", **options)


def written_both_ways(**options) -> tuple[bytes, bytes]:
    patched = tagged_pdf(**options)
    pdfwriter.uninstall()
    try:
        plain = tagged_pdf(**options)
    finally:
        pdfwriter.install()
    return patched, plain


def test_patched_and_unpatched_writers_give_the_same_bytes_uncompressed():
    patched, plain = written_both_ways(uncompressed_pdf=True)
    assert patched == plain
    assert len(PdfReader(io.BytesIO(patched)).pages) == 3


def test_compressed_streams_hold_the_same_bytes_at_zlib_level_6():
    patched, plain = written_both_ways()
    assert patched != plain
    ours, theirs = PdfReader(io.BytesIO(patched)), PdfReader(io.BytesIO(plain))
    assert [page.get_contents().get_data() for page in ours.pages] == \
        [page.get_contents().get_data() for page in theirs.pages]
    fonts = [[font.get_object()["/DescendantFonts"][0]["/FontDescriptor"]["/FontFile2"].get_data()
              for font in reader.pages[0]["/Resources"]["/Font"].values()] for reader in (ours, theirs)]
    assert fonts[0] == fonts[1] and fonts[0]
    # Stream.data, as patched, compresses at level 6.
    stream = pydyf.Stream([b"BT (level) Tj ET" * 50], compress=True)
    level6 = zlib.compressobj(level=pdfwriter.COMPRESSION_LEVEL)
    assert level6.compress(b"BT (level) Tj ET" * 50) + level6.flush() in stream.data


class Counted:
    """A value that counts how often the dictionary holding it is serialised."""

    def __init__(self):
        self.times = 0

    def __str__(self):
        self.times += 1
        return "/Counted"


def serialisations_while_writing(compress: bool) -> int:
    pdf = small_pdf()
    counted = Counted()
    pdf.add_object(pydyf.Dictionary({"Type": "/Example", "Value": counted}))
    pdf.write(io.BytesIO(), identifier=b"fixed", compress=compress)
    return counted.times


@pytest.mark.parametrize("compress", [True, False])
def test_each_object_is_serialised_once_per_write(compress):
    assert serialisations_while_writing(compress) == 1


@pytest.mark.parametrize("compress", [True, False])
def test_unpatched_pydyf_serialises_objects_twice(compress, unpatched):
    # Once to write it, once more to hash it for the /ID.
    assert serialisations_while_writing(compress) == 2


def test_serialising_once_gives_the_same_bytes(monkeypatch):
    once = tagged_pdf()
    monkeypatch.setattr(pydyf.Dictionary, "data", pdfwriter._original_dictionary_data)
    monkeypatch.setattr(pydyf.Array, "data", pdfwriter._original_array_data)
    assert tagged_pdf() == once



def every_kind_of_value() -> pydyf.Dictionary:
    """What WeasyPrint's objects hold: names, references, numbers of every sort, strings, nesting."""
    inner = pydyf.Dictionary({"Type": "/MCR", "MCID": 7, "Pg": b"5 0 R", "Flag": True, "Off": False})
    numbers = pydyf.Array([0, -3, 2 ** 40, 1.0, -0.0, 0.5, -12.25, 1e-9, 1e20, 3.14159265, 1 / 3])
    strings = pydyf.Array([pydyf.String("plain"), pydyf.String("(paren) and \\"), pydyf.String("é – ünïcode"),
                           b"<feff>", "/Name"])
    return pydyf.Dictionary({"Type": "/StructElem", "S": "/P", "K": pydyf.Array([3, inner, pydyf.Array([])]),
                             "A": pydyf.Dictionary({"BBox": numbers}), "T": strings, "Empty": pydyf.Dictionary(),
                             "Count": 12, "Ratio": 0.75, "Alt": pydyf.String("a figure"), "Raw": b"12 0 R"})


def test_serialising_by_exact_type_gives_pydyfs_bytes(monkeypatch):
    fast, whole = every_kind_of_value().data, tagged_pdf()
    assert b"/BBox [0 -3 1099511627776 1 0 0.5 -12.25 0. 100000000000000000000 3.141593 0.333333]" in fast
    monkeypatch.setattr(pydyf.Dictionary, "data", pdfwriter._original_dictionary_data)
    monkeypatch.setattr(pydyf.Array, "data", pdfwriter._original_array_data)
    monkeypatch.setattr(pydyf, "_to_bytes", pdfwriter._original_to_bytes)
    assert every_kind_of_value().data == fast
    assert tagged_pdf() == whole
