"""The print-on-demand submission package: everything one upload needs, in one folder.

``build/pod/<profile>/`` holds

- ``<slug>-interior.pdf``: the print interior, as preflighted;
- ``<slug>-cover.pdf``: the wrap cover (back, spine, front) sized from the
  interior's page count and the profile's paper (``wrapcover``);
- ``<slug>-cover-guides.png``: a picture of the cover with its trim, folds,
  safe area and barcode zone drawn on, to check it at a glance;
- ``<slug>-preflight.md`` and ``.json``: the interior's preflight report;
- ``<slug>-proof.png``: a proof of the interior (a contact sheet of its spreads
  unless one is given);
- ``submission.md`` (for people) and ``submission.json``: what the service's
  forms ask for: trim, page count, paper, spine width, cover size, bleed,
  PDF/X flavour, ISBN, title, subtitle, author, language, description, and a
  SHA-256 of every file.

The package is assembled in a temporary folder next to the target and renamed
into place only when every file was written: a failure leaves the previous
package as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .model import Book
from .profiles import POINTS_PER_INCH, Paper, get_profile, page_box_size

if TYPE_CHECKING:
    from .build import Paths

NO_ISBN = "none — the service assigns one"
MM_PER_INCH = 25.4
BOX_TOLERANCE_PT = 0.5  # print-specs.md §10


class PodError(ValueError):
    """The inputs do not make a package the service would accept; nothing was changed."""


def _mm(inches: float) -> float:
    return round(inches * MM_PER_INCH, 2)


def _num(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pdfx_version(data: bytes) -> str | None:
    """GTS_PDFXVersion from /Info (X-1a, X-3) or the XMP metadata (X-4)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    info = reader.metadata or {}
    if info.get("/GTS_PDFXVersion"):
        return str(info["/GTS_PDFXVersion"])
    metadata = reader.trailer["/Root"].get("/Metadata")
    if metadata is not None:
        match = re.search(rb"GTS_PDFXVersion>([^<]+)<", metadata.get_object().get_data())
        if match:
            return match.group(1).decode("utf-8", "replace")
    return None


def _read_interior(data: bytes) -> tuple[int, tuple[float, float]]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    if not pages:
        raise PodError("the interior PDF has no pages")
    box = reader.pages[0].mediabox
    return pages, (float(box.width), float(box.height))


def _check_report(report: dict, profile_name: str, pages: int) -> None:
    if report.get("profile") != profile_name:
        raise PodError(f"the preflight report is for profile {report.get('profile')!r}, not {profile_name!r}")
    if report.get("pages") != pages:
        raise PodError(f"the preflight report checked {report.get('pages')} pages; the interior has {pages}")
    if not report.get("passed"):
        raise PodError("the interior failed preflight: the service would reject it")


def _cover_png(cover_pdf: bytes, geometry, width_px: int = 1600) -> bytes:
    """A picture of the cover with the guides a service's previewer shows: trim
    (red), folds (blue), safe area (green) and the barcode zone (orange)."""
    import pypdfium2 as pdfium
    from PIL import ImageDraw

    document = pdfium.PdfDocument(cover_pdf)
    try:
        page = document[0]
        scale = width_px / page.get_width()
        image = page.render(scale=scale).to_pil().convert("RGB")
    finally:
        document.close()
    px = scale * POINTS_PER_INCH  # pixels per inch
    draw = ImageDraw.Draw(image)

    def rect(box, colour):
        draw.rectangle([round(box.left * px), round(box.top * px), round(box.right * px), round(box.bottom * px)],
                       outline=colour, width=2)

    rect(geometry.trim, (230, 40, 40))
    rect(geometry.safe_area, (60, 200, 90))
    rect(geometry.barcode, (250, 150, 20))
    for x in (geometry.back_fold_x, geometry.front_fold_x):
        draw.line([round(x * px), 0, round(x * px), image.height], fill=(70, 140, 255), width=2)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _check_cover(cover_pdf: bytes, geometry) -> None:
    """The cover PDF has the computed size (print-specs.md §10 #13), as a last guard."""
    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(cover_pdf)).pages[0]
    media, trim = page.mediabox, page.trimbox
    expected = [(float(media.width), geometry.width_pt), (float(media.height), geometry.height_pt),
                (float(trim.width), geometry.trim.width * POINTS_PER_INCH),
                (float(trim.height), geometry.trim.height * POINTS_PER_INCH)]
    for got, want in expected:
        if abs(got - want) > BOX_TOLERANCE_PT:
            raise PodError(f"the cover PDF is {float(media.width):.2f} x {float(media.height):.2f} pt, "
                           f"not {geometry.width_pt} x {geometry.height_pt} pt")


def submission_data(book: Book, profile_name: str, geometry, *, paper: Paper, interior_pdfx: str | None,
                    cover_pdfx: str | None, report: dict, files: dict[str, bytes]) -> dict[str, Any]:
    """The submission sheet as data (what submission.json holds)."""
    from .wrapcover import OUTPUT_INTENT_ICC

    profile = get_profile(profile_name)
    meta = book.metadata
    b = profile.bleed
    page_w_pt, page_h_pt = page_box_size(profile, geometry.trim_width, geometry.trim_height)
    summary = report.get("summary", {})
    return {
        "profile": {"name": profile.name, "description": profile.description, "sources": list(profile.sources)},
        "book": {
            "title": meta.title,
            "subtitle": meta.subtitle,
            "author": meta.creator,
            "publisher": meta.publisher,
            "language": meta.language,
            "isbn": meta.isbn,
            "isbn_text": meta.isbn or NO_ISBN,
            "description": meta.about,
            "review_date": meta.review_date.iso,
            "review_date_text": str(meta.review_date),
            "identifier": meta.identifier,
        },
        "print": {
            "binding": "paperback, perfect bound",
            "trim_in": [geometry.trim_width, geometry.trim_height],
            "trim_mm": [_mm(geometry.trim_width), _mm(geometry.trim_height)],
            "pages": geometry.pages,
            "paper": {"name": paper.name, "description": paper.description,
                      "spine_per_page_in": paper.spine_per_page, "spine_constant_in": paper.spine_constant},
            "interior_bleed_in": {"top": b.top, "outside": b.outside, "bottom": b.bottom, "inside": b.inside},
            "interior_page_pt": [page_w_pt, page_h_pt],
            "interior_pdfx": interior_pdfx,
            "preflight": {"passed": bool(report.get("passed")), "pass": summary.get("pass", 0),
                          "warn": summary.get("warn", 0), "fail": summary.get("fail", 0)},
        },
        "cover": {
            "spine_width_in": geometry.spine_width,
            "spine_width_mm": _mm(geometry.spine_width),
            "size_in": [geometry.total_width, geometry.total_height],
            "size_pt": [geometry.width_pt, geometry.height_pt],
            "size_mm": [_mm(geometry.total_width), _mm(geometry.total_height)],
            "bleed_in": geometry.bleed,
            "folds_x_in": [geometry.back_fold_x, geometry.front_fold_x],
            "spine_text": geometry.spine_text,
            "spine_text_allowed": geometry.spine_text_allowed,
            "spine_text_min_pages": geometry.spine_text_min_pages,
            "barcode_zone_in": {"left": geometry.barcode.left, "top": geometry.barcode.top,
                                "width": geometry.barcode.width, "height": geometry.barcode.height},
            "pdfx": cover_pdfx,
            "output_intent": OUTPUT_INTENT_ICC if profile.pdf_variant else None,
            "colour": "CMYK (DeviceCMYK)",
        },
        "files": {name: {"bytes": len(data), "sha256": _sha256(data)} for name, data in sorted(files.items())},
    }


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def submission_markdown(data: dict[str, Any]) -> str:
    """submission.md: the sheet a person fills the service's forms from."""
    book, pr, cover, profile = data["book"], data["print"], data["cover"], data["profile"]
    w, h = pr["trim_in"]
    cw, ch = cover["size_in"]
    b = pr["interior_bleed_in"]
    pre = pr["preflight"]
    spine_text = ("yes: title and review date, head to foot" if cover["spine_text"] else
                  f"none ({profile['name']} allows spine text from {cover['spine_text_min_pages']} pages"
                  + ("; this spine is too thin for legible type)" if cover["spine_text_allowed"] else ")"))
    zone = cover["barcode_zone_in"]
    rows = [
        ("Title", book["title"]),
        ("Subtitle", book["subtitle"] or "—"),
        ("Author", book["author"] or "— (no `creator` in handbook.yaml)"),
        ("Publisher", book["publisher"] or "—"),
        ("Language", book["language"]),
        ("ISBN", book["isbn_text"]),
        ("Review date", book["review_date_text"]),
    ]
    print_rows = [
        ("Binding", pr["binding"]),
        ("Trim", f"{_num(w)} x {_num(h)} in ({_num(pr['trim_mm'][0], 2)} x {_num(pr['trim_mm'][1], 2)} mm)"),
        ("Page count", str(pr["pages"])),
        ("Paper", f"{pr['paper']['name']} — {pr['paper']['description']}"),
        ("Interior bleed", f"top {_num(b['top'])}, outside {_num(b['outside'])}, bottom {_num(b['bottom'])}, "
                           f"inside {_num(b['inside'])} in (page {_num(pr['interior_page_pt'][0], 2)} x "
                           f"{_num(pr['interior_page_pt'][1], 2)} pt)"),
        ("Interior PDF/X", pr["interior_pdfx"] or "none (not required)"),
        ("Preflight", f"{'PASSED' if pre['passed'] else 'FAILED'} ({pre['pass']} pass, {pre['warn']} warn, "
                      f"{pre['fail']} fail)"),
        ("Spine width", f"{_num(cover['spine_width_in'])} in ({_num(cover['spine_width_mm'], 2)} mm)"),
        ("Cover size", f"{_num(cw)} x {_num(ch)} in ({_num(cover['size_pt'][0], 2)} x {_num(cover['size_pt'][1], 2)} pt, "
                       f"{_num(cover['size_mm'][0], 2)} x {_num(cover['size_mm'][1], 2)} mm)"),
        ("Cover bleed", f"{_num(cover['bleed_in'])} in on each side"),
        ("Spine folds", f"{_num(cover['folds_x_in'][0])} in and {_num(cover['folds_x_in'][1])} in from the left edge"),
        ("Spine text", spine_text),
        ("Barcode zone", f"{_num(zone['width'])} x {_num(zone['height'])} in at {_num(zone['left'])} in from the left "
                         f"and {_num(zone['top'])} in from the top edge (back cover, lower right): left empty"),
        ("Cover PDF/X", cover["pdfx"] or "none (not required)"),
        ("Cover colour", cover["colour"] + (f", output intent {cover['output_intent']}" if cover["output_intent"] else "")),
    ]
    lines = [f"# Print-on-demand submission: {book['title']} ({profile['name']})", "",
             f"{profile['description']}.", "", "## The book", "", "| Field | Value |", "|---|---|"]
    lines += [f"| {k} | {_cell(v)} |" for k, v in rows]
    lines += ["", "Description:", "", f"> {book['description']}", "", "## Print", "", "| Field | Value |", "|---|---|"]
    lines += [f"| {k} | {_cell(v)} |" for k, v in print_rows]
    lines += ["", "## Files", "", "| File | Bytes | SHA-256 |", "|---|---|---|"]
    lines += [f"| `{name}` | {f['bytes']} | `{f['sha256']}` |" for name, f in data["files"].items()]
    lines += ["", "Sources: " + " ; ".join(profile["sources"]), ""]
    return "\n".join(lines)


def _write(folder: Path, name: str, data: bytes) -> None:
    with open(folder / name, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(folder / name, 0o644)


def _install(staging: Path, target: Path) -> None:
    """Put the finished ``staging`` folder at ``target``, replacing a previous package."""
    if not target.exists():
        os.rename(staging, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_pod_package(paths: "Paths", profile_name: str, *, interior_pdf: Path, preflight_report_md: Path,
                      preflight_report_json: Path, proof_png: Path | None, book: Book,
                      paper: "str | Paper | None" = None) -> Path:
    """Write ``paths.build/pod/<profile>/`` and return it.

    The interior must be the preflighted print interior for ``profile_name``
    (its report passed, for the same page count); the cover is sized from its
    page count. ``proof_png`` None: a contact sheet of the interior is made.
    Raises PodError (a ValueError) when the inputs do not match; the previous
    package is then left as it was.
    """
    from .pagegeometry import inches
    from .wrapcover import render_wrap_cover, wrap_cover_geometry

    profile = get_profile(profile_name)
    meta = book.metadata
    slug = meta.slug
    interior = Path(interior_pdf).read_bytes()
    report_md = Path(preflight_report_md).read_bytes()
    report_json = Path(preflight_report_json).read_bytes()
    report = json.loads(report_json)
    pages, (page_w, page_h) = _read_interior(interior)
    _check_report(report, profile.name, pages)
    trim_w, trim_h = inches(meta.trim_width), inches(meta.trim_height)
    want_w, want_h = page_box_size(profile, trim_w, trim_h)
    if abs(page_w - want_w) > BOX_TOLERANCE_PT or abs(page_h - want_h) > BOX_TOLERANCE_PT:
        raise PodError(f"the interior's pages are {page_w:.2f} x {page_h:.2f} pt, not {want_w} x {want_h} pt: "
                       f"it was not made for {profile.name} at {meta.trim_width} x {meta.trim_height}")
    chosen = paper if isinstance(paper, Paper) else profile.paper(paper)
    geometry = wrap_cover_geometry(profile, paper, pages, trim_w, trim_h)
    cover = render_wrap_cover(book, profile, pages, templates=paths.templates, styles=paths.styles, paper=paper)
    _check_cover(cover, geometry)
    if proof_png is not None:
        proof = Path(proof_png).read_bytes()
    else:
        from .proof import contact_sheet

        proof = contact_sheet(Path(interior_pdf))

    files = {
        f"{slug}-interior.pdf": interior,
        f"{slug}-cover.pdf": cover,
        f"{slug}-cover-guides.png": _cover_png(cover, geometry),
        f"{slug}-preflight.md": report_md,
        f"{slug}-preflight.json": report_json,
        f"{slug}-proof.png": proof,
    }
    sheet = submission_data(book, profile.name, geometry, paper=chosen, interior_pdfx=_pdfx_version(interior),
                            cover_pdfx=_pdfx_version(cover), report=report, files=files)
    files["submission.json"] = (json.dumps(sheet, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    files["submission.md"] = submission_markdown(sheet).encode("utf-8")

    target = paths.build / "pod" / profile.name
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{profile.name}.", suffix=".part", dir=target.parent))
    try:
        for name, data in files.items():
            _write(staging, name, data)
        os.chmod(staging, 0o755)
        _install(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
