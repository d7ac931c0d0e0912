"""Write the EPUB 3 with ebooklib, then re-pack it reproducibly.

A recipe, read top to bottom: plan the documents, render each one (with the
print edition's page-break markers), add the cover, the navigation document
(contents, landmarks, page list) and the NCX, write the package, re-pack the
zip with ``mimetype`` first and stored and every member in a fixed order with
a fixed time, so that the same sources give the same bytes.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ebooklib import epub
from lxml import html as lxml_html

from . import derived
from .html import RenderContext, environment, render_epub_document
from .model import Book, Chapter, Section
from .pagemap import PrintPage
from .timestamps import ZIP_EPOCH_MIN, build_datetime, iso_timestamp, source_date_epoch

STYLESHEET = "style/book.css"
COVER_IMAGE = "images/cover.png"
XHTML = "application/xhtml+xml"
# EPUB's core media types for images: the same answer on every machine, without mime.types.
IMAGE_MEDIA_TYPES = {".gif": "image/gif", ".jpeg": "image/jpeg", ".jpg": "image/jpeg", ".png": "image/png",
                     ".svg": "image/svg+xml", ".webp": "image/webp"}
EPUB_NS = "http://www.idpf.org/2007/ops"


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
        Document("cover", "cover.xhtml", "Cover", "cover"),
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


def _metadata(ebook: epub.EpubBook, book: Book, paged: bool, version: str | None) -> None:
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
    for subject in meta.subjects:
        ebook.add_metadata("DC", "subject", subject)
    if version:
        ebook.add_metadata(None, "meta", version, {"property": "schema:version"})
    features = ["tableOfContents", "readingOrder", "structuralNavigation", "index"]
    if paged:
        features += ["pageNavigation", "printPageNumbers"]
    properties = [("schema:accessMode", "textual"), ("schema:accessModeSufficient", "textual")]
    properties += [("schema:accessibilityFeature", f) for f in features]
    properties += [
        ("schema:accessibilityHazard", "none"),
        ("schema:accessibilitySummary",
         "A text-only handbook with a navigable table of contents, structured headings for sections "
         "and chapters, a learning path and an index of tools, all linked"
         + (", and page numbers matching the print edition." if paged else ".")),
        ("dcterms:conformsTo", "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"),
    ]
    for name, value in properties:
        ebook.add_metadata(None, "meta", value, {"property": name})
    if paged:
        # Where the page list's numbers come from, the EPUB 3.2 way (dc:source refined by
        # source-of): EPUBCheck 4.2.6, which Kobo runs, refuses the newer pageBreakSource.
        ebook.add_metadata("DC", "source", f"{meta.title}, print edition ({meta.trim_width} × {meta.trim_height})"
                           + (f", ISBN {meta.isbn}" if meta.isbn else ""), {"id": "pagination-source"})
        ebook.add_metadata(None, "meta", "pagination", {"refines": "#pagination-source", "property": "source-of"})


def _insert_page_breaks(body: str, markers: dict[str, list[str]]) -> str:
    """Put ``<span epub:type="pagebreak">`` markers where print pages begin."""
    if not markers:
        return body
    root = lxml_html.fragment_fromstring(body, create_parent="div")
    for element in root.iter():
        labels = markers.get(element.get("id", ""))
        if not labels:
            continue
        spans = [lxml_html.fragment_fromstring(
            f'<span epub:type="pagebreak" role="doc-pagebreak" id="page-{label}" aria-label="{label}"></span>')
            for label in labels]
        if element.tag == "li":  # only <li> may sit in a list: the marker goes inside
            for span in reversed(spans):
                span.tail = element.text
                element.text = None
                element.insert(0, span)
        else:
            for span in spans:
                element.addprevious(span)
    return "".join(lxml_html.tostring(child, encoding="unicode") for child in root) if len(root) else body


def _page_markers(pages: list[PrintPage]) -> dict[str, list[str]]:
    """Anchor id -> labels of the pages that begin there (a blank page joins the next page)."""
    markers: dict[str, list[str]] = {}
    waiting: list[str] = []
    for page in pages:
        waiting.append(page.label)
        if page.anchor is not None:
            markers.setdefault(page.anchor, []).extend(waiting)
            waiting = []
    return markers


_ID = re.compile(r'\sid="([^"]+)"')
_FRAGMENT_HREF = re.compile(r'href="#([^"]+)"')


def _linked_across_documents(rendered: list) -> list:
    """A prose link to a section or chapter (`#section-…`, `#chapter-…`, one file in the PDF) names
    the document that holds it, when that is another one: a bare fragment would look for it in
    its own document (EPUBCheck's RSC-012)."""
    home: dict[str, str] = {}
    for doc, body in rendered:
        for anchor in _ID.findall(body):
            home.setdefault(anchor, doc.file_name)

    def linked(doc, body: str) -> str:
        return _FRAGMENT_HREF.sub(
            lambda m: m[0] if home.get(m[1], doc.file_name) == doc.file_name else f'href="{home[m[1]]}#{m[1]}"',
            body)

    return [(doc, linked(doc, body)) for doc, body in rendered]


def build_epub(book: Book, *, templates: Path, styles: Path, content: Path, version: str | None,
               pages: list[PrintPage] | None = None, cover_png: bytes | None = None,
               template_cache: Path | None = None) -> bytes:
    """``template_cache``: a build's cache folder, where the templates are kept compiled."""
    context = RenderContext(book, version, iso_timestamp(book.metadata.review_date))
    docs = plan_documents(book)
    href = _hrefs(docs)
    env = environment(templates, template_cache)
    markers = _page_markers(pages or [])

    ebook = epub.EpubBook()
    _metadata(ebook, book, paged=bool(pages), version=version)
    css = epub.EpubItem(uid="style", file_name=STYLESHEET, media_type="text/css",
                        content=(styles / "epub.css").read_bytes())
    ebook.add_item(css)
    if cover_png is not None:
        # As ebooklib's set_cover, with the media type given (as to every item): ebooklib's guess
        # reads the machine's mime.types.
        cover_item = epub.EpubCover(file_name=COVER_IMAGE)
        cover_item.media_type, cover_item.content = "image/png", cover_png
        ebook.add_item(cover_item)
        ebook.add_metadata(None, "meta", "", {"name": "cover", "content": cover_item.get_id()})

    items, page_hrefs, rendered = [], {}, []
    for doc in docs:
        if doc.kind == "cover":
            if cover_png is None:
                continue
            body = (f'<section epub:type="cover" class="cover-page" aria-label="Cover">'
                    f'<img src="{COVER_IMAGE}" alt="Cover: {_attr(book.metadata.title)}, reviewed '
                    f'{book.metadata.review_date}" /></section>')
        else:
            body = render_epub_document(env, doc.kind, context, href, doc.section)
        rendered.append((doc, _insert_page_breaks(body, markers)))
    for doc, body in _linked_across_documents(rendered):
        for label in _page_labels_in(body):
            page_hrefs[label] = f"{doc.file_name}#page-{label}"
        item = epub.EpubHtml(uid=doc.file_name.removesuffix(".xhtml"), file_name=doc.file_name,
                             title=doc.title, lang=book.metadata.language, media_type=XHTML,
                             content=f"<html><body>{body}</body></html>")
        item.add_item(css)
        ebook.add_item(item)
        items.append(item)
    for asset in sorted({asset for prose in book.prose() for asset in prose.assets}):
        ebook.add_item(epub.EpubItem(uid="asset-" + asset.replace("/", "-").replace(".", "-"), file_name=asset,
                                     media_type=_media_type(asset), content=(content / asset).read_bytes()))

    present = {d.file_name for d in docs if d.kind != "cover" or cover_png is not None}
    nav_body = env.get_template("epub/nav.xhtml.j2").render(
        front=[d for d in docs if d.kind in ("about", "learning", "new") and d.file_name in present],
        back=[d for d in docs if d.kind == "index"],
        sections=book.sections, href=href,
        landmarks=[d for d in docs if d.landmark and d.file_name in present],
        pages=[{"label": p.label, "href": page_hrefs[p.label]} for p in pages or [] if p.label in page_hrefs],
    )
    nav = epub.EpubHtml(uid="nav", file_name="nav.xhtml", title="Contents", lang=book.metadata.language,
                        media_type=XHTML, content=f"<html><body>{nav_body}</body></html>")
    nav.properties.append("nav")
    nav.add_item(css)
    ebook.add_item(nav)

    ebook.toc = [
        (epub.Section(f"Section {s.number}: {s.title}", href(s)),
         [epub.Link(href(c), f"{c.number}. {c.title}", c.anchor) for c in s.chapters])
        if s.chapters else epub.Link(href(s), f"Section {s.number}: {s.title}", s.anchor)
        for s in book.sections
    ]
    ebook.add_item(epub.EpubNcx())
    ebook.spine = items

    raw = io.BytesIO()
    # Not compressed here: `repack` compresses every member once, in its order.
    epub.write_epub(raw, ebook, {"mtime": build_datetime(book.metadata.review_date), "epub3_landmark": False,
                                 "epub3_pages": False, "play_order": {"enabled": True, "start_from": 1},
                                 "compresslevel": 0})
    return repack(raw.getvalue(), source_date_epoch(book.metadata.review_date),
                  {"EPUB/content.opf": lambda opf: _package_language(opf, book.metadata.language)})


def _package_language(opf: bytes, language: str) -> bytes:
    """ebooklib leaves the package element without xml:lang, which reading systems need."""
    from lxml import etree

    root = etree.fromstring(opf)
    root.set("{http://www.w3.org/XML/1998/namespace}lang", language)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _page_labels_in(body: str) -> list[str]:
    return re.findall(r'id="page-([^"]+)"', body)


def _attr(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _media_type(name: str) -> str:
    import mimetypes

    known = IMAGE_MEDIA_TYPES.get(Path(name).suffix.lower())
    return known or mimetypes.guess_type(name)[0] or "application/octet-stream"


def repack(data: bytes, epoch: int, transforms: dict | None = None) -> bytes:
    """``mimetype`` first and stored; every member in the same order with the same time.

    ``transforms`` maps member names to functions applied to their bytes.
    """
    transforms = transforms or {}
    stamp = time.gmtime(max(epoch, ZIP_EPOCH_MIN))[:6]
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    first = ["mimetype", "META-INF/container.xml"]
    order = first + sorted(n for n in names if n not in first)
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
                member = source.read(name)
                if name in transforms:
                    member = transforms[name](member)
                target.writestr(info, member, compresslevel=9)
    return out.getvalue()
