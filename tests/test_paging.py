"""The layout records the page map reuses: never taken when anything that moves pages changed."""

import dataclasses
import shutil

from handbook_press.pagegeometry import Geometry
from handbook_press.paging import BLANK_PAGE, LayoutRecords, PrintEdition, RecordedPage, RecordedPart, environment_key

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
    records.save(path)

    same = LayoutRecords.load(path, "env-1")
    assert same.get("<section id=a>…</section>", "@page {}") == part
    assert same.get("<section id=a>edited</section>", "@page {}") is None  # other HTML: laid out again
    assert same.get("<section id=a>…</section>", "@page { size: A5 }") is None  # other CSS too
    assert same.missed == 2

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
    records.save(path)
    again = LayoutRecords.load(path, "env")
    assert again.get("kept", "") is not None
    again.save(path)
    assert LayoutRecords.load(path, "env").get("old", "") is None
