"""Open the built books as a reader would: the PDF's text, links and
bookmarks; the EPUB's documents in spine order."""

import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

import pypdfium2 as pdfium
from lxml import etree

NS = {"x": "http://www.w3.org/1999/xhtml", "opf": "http://www.idpf.org/2007/opf",
      "epub": "http://www.idpf.org/2007/ops", "dc": "http://purl.org/dc/elements/1.1/",
      "ncx": "http://www.daisy.org/z3986/2005/ncx/"}


def normalize(text: str) -> str:
    """Undo line breaking: automatic hyphens go, breaks after real hyphens close up."""
    text = text.replace("\u2010\r\n", "").replace("\u2010\n", "").replace("\xad", "")
    text = re.sub("\ufffe\\s*", "-", text)  # pdfium's mark for a real hyphen at a line end
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"- ", "-", text)


def pdf_pages(path) -> list[str]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [normalize(page.get_textpage().get_text_range()) for page in pdf]
    finally:
        pdf.close()


def body_start(pages: list[str]) -> int:
    """Index of the first page of Section 1: its opener, not a contents line."""
    return next(i for i, p in enumerate(pages) if p.strip().startswith("Section 1 ") and ". ." not in p)


@dataclass
class Epub:
    zip: zipfile.ZipFile
    opf_path: str
    opf: etree._Element

    def read(self, name: str) -> bytes:
        return self.zip.read(name)

    def resolve(self, href: str) -> str:
        return str(PurePosixPath(self.opf_path).parent / href)

    def spine_documents(self) -> list[tuple[str, etree._Element]]:
        manifest = {i.get("id"): i.get("href") for i in self.opf.iterfind(".//opf:manifest/opf:item", NS)}
        docs = []
        for ref in self.opf.iterfind(".//opf:spine/opf:itemref", NS):
            name = self.resolve(manifest[ref.get("idref")])
            docs.append((name, etree.fromstring(self.read(name))))
        return docs

    def nav(self) -> tuple[str, etree._Element]:
        item = self.opf.find(".//opf:manifest/opf:item[@properties='nav']", NS)
        name = self.resolve(item.get("href"))
        return name, etree.fromstring(self.read(name))

    def text(self) -> str:
        return normalize(" ".join(" ".join(doc.itertext()) for _, doc in self.spine_documents()))


def open_epub(path) -> Epub:
    z = zipfile.ZipFile(path)
    container = etree.fromstring(z.read("META-INF/container.xml"))
    opf_path = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile").get("full-path")
    return Epub(z, opf_path, etree.fromstring(z.read(opf_path)))
