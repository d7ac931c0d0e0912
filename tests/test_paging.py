"""The layout records the page map reuses: never taken when anything that moves pages changed."""

import dataclasses
import shutil

from handbook_press.pagegeometry import Geometry
from handbook_press.paging import (BLANK_PAGE, LayoutRecords, PrintEdition, RecordedPage, RecordedPart,
                                   environment_key, save_records)

from .conftest import CONTENT, ROOT

EDITION = PrintEdition(Geometry(6.0, 9.0))


def project(tmp_path):
    styles = shutil.copytree(ROOT / "styles", tmp_path / "styles")
    content = shutil.copytree(CONTENT, tmp_path / "content")
    return styles, content


def test_the_environment_changes_with_styles_fonts_images_and_geometry(tmp_path):
    styles, content = project(tmp_path)

    def key(edition=EDITION):
        return environment_key(edition, styles=styles, content=content)

    base = key()
    assert key() == base  # the same project, the same key
    (content / "sections" / "model-development.md").write_text("text is keyed by each part's HTML, not here")
    assert key() == base
    changes = []
    changes.append(key(dataclasses.replace(EDITION, geometry=Geometry(6.0, 9.0, inside=0.875, outside=0.475))))
    changes.append(key(dataclasses.replace(EDITION, output_intent_icc="icc/artifex-swop-cmyk.icc")))
    (styles / "print.css").write_text((styles / "print.css").read_text() + "\np { line-height: 2; }\n")
    changes.append(key())
    font = next((styles / "fonts").rglob("*.ttf"), None) or next((styles / "fonts").rglob("*.otf"))
    font.write_bytes(font.read_bytes() + b"\0")
    changes.append(key())
    (content / "figure.png").write_bytes(b"\x89PNG an image the text may show")
    changes.append(key())
    assert len({base, *changes}) == 1 + len(changes)


def test_records_from_another_environment_are_not_used(tmp_path):
    path = tmp_path / "layout.json"
    part = RecordedPart((RecordedPage(("a", "b")), BLANK_PAGE, RecordedPage(("c",))))
    records = LayoutRecords("env-1")
    records.put("<section id=a>…</section>", "@page {}", part)
    other_geometry = LayoutRecords("env-0")
    other_geometry.put("<section id=a>…</section>", "@page {}", RecordedPart((RecordedPage(("a", "b", "c")),)))
    save_records(path, [other_geometry, records])  # a build that tried two geometries

    same = LayoutRecords.load(path, "env-1")
    assert same.get("<section id=a>…</section>", "@page {}") == part
    assert same.get("<section id=a>edited</section>", "@page {}") is None  # other HTML: laid out again
    assert same.get("<section id=a>…</section>", "@page { size: A5 }") is None  # other CSS too
    assert same.missed == 2

    assert len(LayoutRecords.load(path, "env-0").get("<section id=a>…</section>", "@page {}").pages) == 1
    other = LayoutRecords.load(path, "env-2")
    assert other.get("<section id=a>…</section>", "@page {}") is None
    assert LayoutRecords.load(tmp_path / "absent.json", "env-1").get("x", "") is None
    path.write_text("{ not json")
    assert LayoutRecords.load(path, "env-1").get("<section id=a>…</section>", "@page {}") is None


def test_saving_keeps_only_the_parts_this_build_used(tmp_path):
    path = tmp_path / "layout.json"
    records = LayoutRecords("env")
    for name in ("old", "kept"):
        records.put(name, "", RecordedPart((RecordedPage((name,)),)))
    save_records(path, [records])
    again = LayoutRecords.load(path, "env")
    assert again.get("kept", "") is not None
    save_records(path, [again])
    assert LayoutRecords.load(path, "env").get("old", "") is None


def test_the_page_map_follows_the_pdf_through_two_geometries(tmp_path, monkeypatch):
    """The gutter follows the page count, so a book can be laid out at the profile's first guess
    and then again: the records keep both, and the page map takes the same steps from them
    instead of laying the book out again."""
    import contextlib
    import io
    import json

    from handbook_press import build, pdf, profiles

    from .conftest import project_paths

    bands = dataclasses.replace(profiles.get_profile("kdp"), name="bands", min_pages=2,
                                gutter_table=((10, 0.0), (None, 0.9)))
    monkeypatch.setitem(profiles.PROFILES, "bands", bands)
    layouts, writes = [], []
    real_render_pdf, real_side_by_side = pdf.render_pdf, pdf.side_by_side

    def render_pdf(*args, **kwargs):
        layouts.append(kwargs["edition"].geometry.inside)
        return real_render_pdf(*args, **kwargs)

    def side_by_side(*writers):
        writes.append(layouts[-1])
        return real_side_by_side(*writers)

    monkeypatch.setattr(pdf, "render_pdf", render_pdf)
    monkeypatch.setattr(pdf, "side_by_side", side_by_side)
    paths = project_paths(CONTENT, tmp_path)
    messages = io.StringIO()
    with contextlib.redirect_stderr(messages):
        assert build.build_pdf(paths, profile_name="bands")
        # Laid out at the first guess (2 pages: the design's 0.75 in inside), then at the settled
        # gutter; PDFs are written from the settled layout only.
        assert (layouts, writes) == ([0.75, 0.9625], [0.9625])
        saved = json.loads(build.layout_records_path(paths).read_text())
        assert len(saved["environments"]) == 2
        assert build.build_page_map(paths, profile_name="bands")  # the PDF task's own map
        kept = (paths.build / "mlops-handbook.pages.json").read_bytes()
        build.kept_page_map_path(paths).unlink()
        assert build.build_page_map(paths, profile_name="bands")  # from the records of the settled gutter
    assert ": 0 of 38 parts laid out here" in messages.getvalue(), messages.getvalue()
    assert (paths.build / "mlops-handbook.pages.json").read_bytes() == kept
    assert build.layout_records_path(paths).read_text() == json.dumps(saved, sort_keys=True) + "\n"


def test_a_rebuild_goes_straight_to_the_settled_gutter(tmp_path, monkeypatch):
    """After an edit, the first guess is counted from the last build's records and the parts
    changed since (laid out without drawing), not laid out in full: the PDF task lays the book
    out once, and writes the same bytes as a build from scratch."""
    import contextlib
    import io

    from handbook_press import build, pdf, profiles

    from .conftest import project_paths

    bands = dataclasses.replace(profiles.get_profile("kdp"), name="bands", min_pages=2,
                                gutter_table=((10, 0.0), (None, 0.9)))
    monkeypatch.setitem(profiles.PROFILES, "bands", bands)
    content = shutil.copytree(CONTENT, tmp_path / "content")
    incremental, scratch = project_paths(content, tmp_path / "a"), project_paths(content, tmp_path / "b")
    with contextlib.redirect_stderr(io.StringIO()):
        assert build.build_pdf(incremental, profile_name="bands")
        section = next((content / "sections").glob("model-deployment.md"))
        section.write_text(section.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
        layouts = []
        real_render_pdf, real_lay_out = pdf.render_pdf, pdf.Typesetter.lay_out
        laid_out = tmp_path / "laid-out.txt"  # appended to by this process and the one laying out beside it

        def render_pdf(*args, **kwargs):
            layouts.append(kwargs["edition"].geometry.inside)
            return real_render_pdf(*args, **kwargs)

        def lay_out(self, html, css="", first_folio=None):
            if 'class="folio-pages"' not in html:  # only the folios of a part laid out beside this process
                with open(laid_out, "a", encoding="utf-8") as log:
                    log.write(" ".join(html[:80].split()) + "\n")
            return real_lay_out(self, html, css, first_folio)

        counted = []
        real_pages_from_records = build._pages_from_records

        def pages_from_records(paths, book_html, book, edition, *args):
            counted.append(edition.geometry.inside)
            return real_pages_from_records(paths, book_html, book, edition, *args)

        monkeypatch.setattr(pdf, "render_pdf", render_pdf)
        monkeypatch.setattr(pdf.Typesetter, "lay_out", lay_out)
        monkeypatch.setattr(build, "_pages_from_records", pages_from_records)
        assert build.build_pdf(incremental, profile_name="bands")
        # Counted from the records: the first guess only (the settled gutter is laid out anyway).
        assert (counted, layouts) == ([0.75], [0.9625])
        # The edited section, the front matter and the index (their folios) at the first guess,
        # then the whole book once: 16 sections, front, back and the blank verso.
        parts = laid_out.read_text(encoding="utf-8").splitlines()
        assert 1 <= len(parts) - 19 <= 3, parts
        monkeypatch.setattr(pdf, "render_pdf", real_render_pdf)
        assert build.build_pdf(scratch, profile_name="bands")
    for name in ("mlops-handbook.pdf", "cache/mlops-handbook-print.unchecked.pdf"):
        assert (incremental.build / name).read_bytes() == (scratch.build / name).read_bytes(), name


def test_the_page_map_keeps_anchors_not_pages(tmp_path, monkeypatch):
    """Laying out for the page map alone (no PDF yet), each part's pages are dropped as soon as
    their anchors are recorded: the map never holds the book's laid-out pages."""
    import contextlib
    import io

    from handbook_press import build, paging

    from .conftest import project_paths

    assembled = []
    real_assemble = paging.assemble

    def assemble(*args):
        laid = real_assemble(*args)
        assembled.append(laid)
        return laid

    monkeypatch.setattr(paging, "assemble", assemble)
    paths = project_paths(CONTENT, tmp_path)
    with contextlib.redirect_stderr(io.StringIO()):
        assert build.build_page_map(paths)
    [laid] = assembled
    assert len(laid.pages) > 40 and all(isinstance(page, RecordedPage) for page in laid.pages)


def test_the_page_map_lays_sections_out_on_two_cores(tmp_path, monkeypatch):
    """From scratch, the page map lays every other section out in a forked child, then the
    index beside the front matter (only their anchors come back): the same map as laid out in
    one process, and every part still counted as laid out here."""
    import contextlib
    import io

    import pytest

    from handbook_press import build, sidebyside

    from .conftest import project_paths

    if not sidebyside.can_fork():
        pytest.skip("one core, or no fork: the page map lays out in one process")
    calls = []
    real_side_by_side = sidebyside.side_by_side

    def side_by_side(background, foreground):
        calls.append(1)
        return real_side_by_side(background, foreground)

    monkeypatch.setattr(sidebyside, "side_by_side", side_by_side)
    maps, messages = [], io.StringIO()
    with contextlib.redirect_stderr(messages):
        for folder in ("two-cores", "one-core"):
            paths = project_paths(CONTENT, tmp_path / folder)
            assert build.build_page_map(paths)
            maps.append((paths.build / "mlops-handbook.pages.json").read_bytes())
            monkeypatch.setattr(sidebyside, "can_fork", lambda: False)
    assert calls == [1, 1], "the sections, then the contents and index beside the front matter"
    assert maps[0] == maps[1]
    assert messages.getvalue().count(": 19 of 19 parts laid out here; wrote") == 2, messages.getvalue()


def test_each_index_page_balances_its_columns_once(monkeypatch, tmp_path):
    """WeasyPrint lays balanced columns out again, balancing included, to make room for a
    margin, padding or border below them: the index (the book's last element) has none."""
    import weasyprint.layout.block as block

    from handbook_press.build import Paths, _layout_inputs
    from handbook_press.pdf import Typesetter

    paths = Paths(content=CONTENT, build=tmp_path / "build", templates=ROOT / "templates", styles=ROOT / "styles")
    _, book, book_html = _layout_inputs(paths, "pdf", "kdp", None, False, False)
    setter = Typesetter(PrintEdition(Geometry.for_book(book)), content=CONTENT, templates=paths.templates,
                        styles=paths.styles)
    index_html = book_html.render("back", lambda node: "1")
    calls = []
    real = block.columns_layout
    monkeypatch.setattr(block, "columns_layout", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    pages = setter.lay_out(index_html, "", 41).pages
    assert len(pages) >= 1 and "tools-index" in {anchor for page in pages for anchor in page.anchors}
    assert len(calls) == len(pages)


def test_the_page_map_task_takes_the_pdf_tasks_map_of_the_same_inputs(tmp_path, monkeypatch, built_books):
    """The PDF task keeps the page map of its layout under a key of its inputs: the page map task
    writes it as it is, assembling nothing (the same map the layout records give); with any input
    changed it assembles the map again."""
    import contextlib
    import io

    from handbook_press import build, paging

    from .conftest import project_paths

    folder = shutil.copytree(built_books[0].parent, tmp_path / "build")
    paths = project_paths(CONTENT, folder)
    page_map = folder / "mlops-handbook.pages.json"
    page_map.unlink()
    assembled = []
    real_assemble = paging.assemble
    monkeypatch.setattr(paging, "assemble", lambda *args: assembled.append(1) or real_assemble(*args))
    messages = io.StringIO()
    with contextlib.redirect_stderr(messages):
        assert build.build_page_map(paths)
        kept = page_map.read_bytes()
        assert assembled == [] and "the PDF task's layout of these inputs" in messages.getvalue()

        build.kept_page_map_path(paths).unlink()
        assert build.build_page_map(paths)
        assert assembled == [1] and page_map.read_bytes() == kept, "the records give the same map"

        assert build.build_pdf(paths, version="2.0") and build.build_page_map(paths, version="2.0")
        assert assembled == [1], "the PDF task's map of version 2.0"
        assert build.build_page_map(paths)  # the version is an input: not that map
        assert assembled == [1, 1]
    assert '"label": "1"' in kept.decode() and kept.count(b'"index"') > 40
