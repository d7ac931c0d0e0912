"""Preflight's content-stream reader gives the operations pypdf gives."""

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream, DecodedStreamObject, NameObject

from handbook_press.contentstream import Opaque, Unreadable, operations_of, parse_operations


def same_operations(fast, slow) -> None:
    assert [op for _, op in fast] == [op for _, op in slow]
    for (fast_operands, operator), (slow_operands, _) in zip(fast, slow):
        assert len(fast_operands) == len(slow_operands), operator
        for mine, theirs in zip(fast_operands, slow_operands):
            if isinstance(mine, float):
                assert mine == pytest.approx(float(theirs)), operator
            elif isinstance(mine, NameObject):
                assert mine == theirs, operator
            else:
                assert isinstance(mine, Opaque) or mine == theirs, operator


def test_every_page_of_the_books_reads_as_pypdf_reads_it(built_books):
    reader = PdfReader(built_books[0])  # the tagged reading edition: marked content, links, text
    for page in reader.pages:
        contents = page.get_contents()
        same_operations(parse_operations(contents.get_data()), ContentStream(contents, reader).operations)


def test_strings_arrays_dictionaries_comments_and_escaped_names():
    data = (b"% a comment\nq 1 0 0 1 72.5 -3 cm /Span <</MCID 3 /Alt (a (nested) \\) string)>> BDC\n"
            b"BT /F#201 9 Tf [<0012> -250 (x\\(y)] TJ (it's) Tj ET EMC .5 g 0 0 1 rg/P0 sh Q")
    operations = parse_operations(data)
    assert [op for _, op in operations] == [b"q", b"cm", b"BDC", b"BT", b"Tf", b"TJ", b"Tj", b"ET", b"EMC",
                                            b"g", b"rg", b"sh", b"Q"]
    assert operations[1][0] == [1.0, 0.0, 0.0, 1.0, 72.5, -3.0]
    assert operations[2][0][0] == "/Span" and isinstance(operations[2][0][1], Opaque)
    assert operations[4][0] == ["/F 1", 9.0]
    assert operations[9][0] == [0.5] and operations[11][0] == ["/P0"]
    stream = DecodedStreamObject()
    stream.set_data(data)
    same_operations(operations, ContentStream(stream, None).operations)


def test_a_long_text_array_is_one_operand_whatever_it_holds():
    # A TJ array is read in one match; one with a literal string at its end falls back to the
    # token-by-token reading, at once (the match is atomic: no backtracking through 2,000 items).
    glyphs = b" ".join(b"<%04x>-%d" % (n, n % 7) for n in range(2000))
    for data in (b"BT [" + glyphs + b"] TJ ET", b"BT [" + glyphs + b" (x)] TJ ET", b"BT [/A " + glyphs + b"] TJ ET"):
        operations = parse_operations(data)
        assert [op for _, op in operations] == [b"BT", b"TJ", b"ET"]
        stream = DecodedStreamObject()
        stream.set_data(data)
        same_operations(operations, ContentStream(stream, None).operations)


@pytest.mark.parametrize("data", [b"BI /W 1 /H 1 /BPC 8 /CS /G ID \x00 EI", b"(open", b"[1 2", b"1 2 >> re",
                                  b"[1 re]"])
def test_what_it_does_not_read_is_refused(data):
    with pytest.raises(Unreadable):
        parse_operations(data)


def test_an_inline_image_goes_to_pypdf():
    stream = DecodedStreamObject()
    stream.set_data(b"q BI /W 1 /H 1 /BPC 8 /CS /G ID \x80 EI Q")
    assert [op for _, op in operations_of(stream, None)] == [b"q", b"INLINE IMAGE", b"Q"]
