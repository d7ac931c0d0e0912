"""Write the EPUB 3 with ebooklib, then re-pack it reproducibly.

One XHTML document per section, and one for each piece of front and back
matter. ebooklib writes the package document, the nav and the NCX; the zip
is then re-packed with ``mimetype`` first and stored, members in a fixed
order and with fixed timestamps, so that the same sources give the same
bytes.
"""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ebooklib import epub

from . import derived
from .html import RenderContext, environment, render_epub_document
from .model import Book, Chapter, Section
from .timestamps import ZIP_EPOCH_MIN, build_datetime, source_date_epoch

STYLESHEET = "style/book.css"


@dataclass(frozen=True)
class Document:
    kind: str
    file_name: str
    title: str
    landmark: str | None = None  # EPUB 3 landmark type
    section: Section | None = None


def plan_documents(book: Book) -> list[Document]:
    """The EPUB's content documents in reading order."""
    docs = [
        Document("title", "title.xhtml", "Title page", "titlepage"),
        Document("edition", "edition.xhtml", "Edition", "copyright-page"),
        Document("about", "about.xhtml", "About this handbook", "preface"),
        Document("learning", "learning-path.xhtml", book.metadata.learning_path_title),
    ]
    if derived.whats_new(book):
        docs.append(Document("new", "whats-new.xhtml", "What’s new in this edition"))
    docs.append(Document("contents", "contents.xhtml", "Contents", "toc"))
    for i, section in enumerate(book.sections):
        docs.append(Document("section", f"section-{section.number:02d}-{section.slug}.xhtml",
                             f"Section {section.number}: {section.title}", "bodymatter" if i == 0 else None,
                             section))
    if derived.tools_index(book):
        docs.append(Document("index", "index.xhtml", "Index of tools", "index"))
    return docs


def _hrefs(docs: list[Document]):
    file_of_section = {d.section.slug: d.file_name for d in docs if d.section}
    file_of_chapter = {c.number: d.file_name for d in docs if d.section for c in d.section.chapters}

    def href(node: Section | Chapter) -> str:
        if isinstance(node, Section):
            return f"{file_of_section[node.slug]}#{node.anchor}"
        return f"{file_of_chapter[node.number]}#{node.anchor}"

    return href


def _metadata(ebook: epub.EpubBook, book: Book) -> None:
    meta = book.metadata
    ebook.set_identifier(meta.identifier)
    ebook.set_title(meta.title)
    ebook.set_language(meta.language)
    if meta.creator:
        ebook.add_author(meta.creator)
    if meta.publisher:
        ebook.add_metadata("DC", "publisher", meta.publisher)
    ebook.add_metadata("DC", "description", meta.about)
    ebook.add_metadata("DC", "date", meta.review_date.iso)
    for name, value in (
        ("schema:accessMode", "textual"),
        ("schema:accessModeSufficient", "textual"),
        ("schema:accessibilityFeature", "tableOfContents"),
        ("schema:accessibilityFeature", "readingOrder"),
        ("schema:accessibilityFeature", "structuralNavigation"),
        ("schema:accessibilityFeature", "index"),
        ("schema:accessibilityHazard", "none"),
        ("schema:accessibilitySummary",
         "Text-only publication with a navigable table of contents, structured headings for "
         "sections and chapters, a learning path and an index of tools, all linked."),
    ):
        ebook.add_metadata(None, "meta", value, {"property": name})


def build_epub(book: Book, *, templates: Path, styles: Path, content: Path, version: str | None) -> bytes:
    context = RenderContext(book, version, build_datetime(book.metadata.review_date).strftime("%Y-%m-%dT%H:%M:%SZ"))
    docs = plan_documents(book)
    href = _hrefs(docs)
    env = environment(templates)

    ebook = epub.EpubBook()
    _metadata(ebook, book)
    css = epub.EpubItem(uid="style", file_name=STYLESHEET, media_type="text/css",
                        content=(styles / "epub.css").read_bytes())
    ebook.add_item(css)

    items = []
    for doc in docs:
        body = render_epub_document(env, doc.kind, context, href, doc.section)
        item = epub.EpubHtml(uid=doc.file_name.removesuffix(".xhtml"), file_name=doc.file_name,
                             title=doc.title, lang=book.metadata.language,
                             content=f"<html><body>{body}</body></html>")
        item.add_item(css)
        ebook.add_item(item)
        items.append(item)
        if doc.landmark:
            ebook.guide.append({"type": doc.landmark, "href": doc.file_name, "title": doc.title})
    for asset in sorted({a for s in book.sections for p in (*s.intro, *(q for c in s.chapters for q in c.prose))
                         for a in p.assets}):
        ebook.add_item(epub.EpubItem(uid="asset-" + asset.replace("/", "-"), file_name=asset,
                                     media_type=_media_type(asset), content=(content / asset).read_bytes()))

    ebook.toc = [
        (epub.Section(f"Section {s.number}: {s.title}", href(s)),
         [epub.Link(href(c), f"{c.number}. {c.title}", c.anchor) for c in s.chapters])
        if s.chapters else epub.Link(href(s), f"Section {s.number}: {s.title}", s.anchor)
        for s in book.sections
    ]
    front = [epub.Link(d.file_name, d.title, d.kind) for d in docs if d.kind in ("about", "learning", "new")]
    back = [epub.Link(d.file_name, d.title, d.kind) for d in docs if d.kind == "index"]
    ebook.toc = front + ebook.toc + back
    ebook.add_item(epub.EpubNcx())
    nav = epub.EpubNav(title="Table of contents")
    ebook.add_item(nav)
    ebook.spine = items

    raw = io.BytesIO()
    epub.write_epub(raw, ebook, {"mtime": build_datetime(book.metadata.review_date), "epub3_landmark": True,
                                 "landmark_title": "Landmarks", "play_order": {"enabled": True, "start_from": 1}})
    return repack(raw.getvalue(), source_date_epoch(book.metadata.review_date))


def _media_type(name: str) -> str:
    import mimetypes

    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def repack(data: bytes, epoch: int) -> bytes:
    """``mimetype`` first and stored; every member in the same order with the same time."""
    stamp = time.gmtime(max(epoch, ZIP_EPOCH_MIN))[:6]
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    order = ["mimetype", "META-INF/container.xml"] + sorted(n for n in names if n not in ("mimetype", "META-INF/container.xml"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            if name == "mimetype":
                info.compress_type = zipfile.ZIP_STORED
                target.writestr(info, b"application/epub+zip")
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(info, source.read(name), compresslevel=9)
    return out.getvalue()
