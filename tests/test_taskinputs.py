"""What dodo.py reads to declare its tasks: the remembered listing is never stale."""

import shutil

import jinja2
import jinja2.meta

from handbook_press.taskinputs import Listing, listing_cache_path, section_listing, template_files

from .conftest import CONTENT, ROOT


def test_the_listing_is_remembered_and_follows_every_change(tmp_path):
    content = shutil.copytree(CONTENT, tmp_path / "content")
    build = tmp_path / "build"
    first = section_listing(content, build)
    assert first.slug == "mlops-handbook" and len(first.sections) == 16 and first.language == "en"
    assert first.sections[0] == ("sections__foundations-of-mlops.md",
                                 (content / "sections" / "foundations-of-mlops.md").resolve())
    assert listing_cache_path(build).is_file()
    assert section_listing(content, build) == first  # from the cache

    metadata = content / "handbook.yaml"
    text = metadata.read_text()
    metadata.write_text(text.replace("slug: mlops-handbook", "slug: renamed"))
    assert section_listing(content, build).slug == "renamed"  # handbook.yaml edited

    metadata.write_text(text.replace("- file: sections/model-development.md",
                                     "- file: sections/model-development.md\n- file: sections/new.md"))
    with_missing = section_listing(content, build)
    assert len(with_missing.sections) == 16  # a listed file that does not exist yet has no task
    (content / "sections" / "new.md").write_text("# New\n")
    assert [key for key, _ in section_listing(content, build).sections].count("sections__new.md") == 1
    (content / "sections" / "new.md").unlink()
    assert len(section_listing(content, build).sections) == 16  # deleted again

    listing_cache_path(build).write_text("{ broken")
    assert len(section_listing(content, build).sections) == 16
    metadata.write_text("title: [unclosed")
    assert section_listing(content, build) == Listing("handbook", [])


def test_template_files_are_those_jinja_references(tmp_path):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROOT / "templates")))
    for name in ("pdf/book.html.j2", "pdf/preview.html.j2", "cover/front.html.j2", "epub/document.xhtml.j2",
                 "epub/nav.xhtml.j2"):
        expected, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current not in expected:
                expected.add(current)
                source = env.loader.get_source(env, current)[0]
                todo += [t for t in jinja2.meta.find_referenced_templates(env.parse(source)) if t]
        assert template_files(ROOT / "templates", name) == [ROOT / "templates" / t for t in sorted(expected)]
        assert len(expected) >= 1
    (tmp_path / "a.j2").write_text('{% extends "b.j2" %}{%- from \'c.j2\' import x -%}{% include "d.j2" %}')
    for name in "bcd":
        (tmp_path / f"{name}.j2").write_text("")
    assert [p.name for p in template_files(tmp_path, "a.j2")] == ["a.j2", "b.j2", "c.j2", "d.j2"]


def test_the_code_stamp_changes_with_the_code_only(tmp_path):
    from handbook_press.taskinputs import write_code_stamp

    modules = [tmp_path / "a.py", tmp_path / "b.py"]
    for module in modules:
        module.write_text(f"# {module.name}\n")
    stamp = tmp_path / "build" / "code.sha256"
    assert write_code_stamp([str(m) for m in modules], stamp)
    first, written = stamp.read_text(), stamp.stat().st_mtime_ns
    modules[0].write_text(modules[0].read_text())  # touched, same bytes (a checkout): the stamp is kept
    write_code_stamp([str(m) for m in modules], stamp)
    assert stamp.stat().st_mtime_ns == written and stamp.read_text() == first
    modules[1].write_text("# b.py, edited\n")
    write_code_stamp([str(m) for m in modules], stamp)
    assert stamp.read_text() != first


def test_the_layout_key_follows_every_input_of_the_layout(tmp_path):
    """The page map the PDF task kept is taken under this key only: any file the layout is made
    from, or a setting, changes it; the built books beside it do not."""
    from handbook_press.sectioncache import book_cache_path
    from handbook_press.taskinputs import layout_key

    content = shutil.copytree(CONTENT, tmp_path / "content")
    styles = shutil.copytree(ROOT / "styles", tmp_path / "styles")
    templates = shutil.copytree(ROOT / "templates", tmp_path / "templates")
    build = tmp_path / "build"
    book_cache_path(build).parent.mkdir(parents=True)
    book_cache_path(build).write_bytes(b"the checked model")
    settings = {"profile": "kdp", "version": None, "strict": False, "cached": True}

    def key(**changed):
        return layout_key(content, build, templates, styles, **{**settings, **changed})

    base = key()
    (build / "mlops-handbook.pdf").write_bytes(b"%PDF- an output")
    assert key() == base
    (content / "sections" / "model-development.md").write_text("read through the model")
    assert key() == base, "a cached book is keyed by its model"
    keys = [key(profile="lulu"), key(version="2.0"), key(strict=True), key(cached=False)]
    book_cache_path(build).write_bytes(b"the model, edited")
    keys.append(key())
    (content / "figure.png").write_bytes(b"\x89PNG an image the text shows")
    keys.append(key())
    for path in (templates / "macros.j2", styles / "print.css", next((styles / "fonts").rglob("*.?tf"))):
        path.write_bytes(path.read_bytes() + b"\n")
        keys.append(key())
    uncached = key(cached=False)
    (content / "sections" / "model-development.md").write_text("edited again")
    keys += [uncached, key(cached=False)]
    assert len({base, *keys}) == 1 + len(keys)


# What a `doit` run loads before it knows whether anything is to do: doit's own modules, dodo.py
# and what dodo.py declares its tasks with, nothing that only a running task needs.
LOADING_DODO = """
import json, sys
import doit.__main__ as doit_main
sys.argv = ["doit", "list", "-f", sys.argv[1], "--dir", sys.argv[2], "--db-file", sys.argv[3],
            "content=" + sys.argv[4], "build=" + sys.argv[5]]
try:
    doit_main.main()
except SystemExit as end:
    status = end.code
print(json.dumps([status, sorted(name for name in sys.modules if name.startswith("handbook_press"))]))
"""


def test_declaring_the_tasks_loads_none_of_what_the_tasks_run(tmp_path):
    import json
    import subprocess
    import sys

    content = shutil.copytree(CONTENT, tmp_path / "content")
    section_listing(content, tmp_path / "build")  # as the first run leaves it

    done = subprocess.run([sys.executable, "-c", LOADING_DODO, str(ROOT / "dodo.py"), str(tmp_path),
                           str(tmp_path / "state.db"), str(content), str(tmp_path / "build")],
                          capture_output=True, text=True, timeout=120)
    status, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0, done.stderr
    assert "handbook_press.taskinputs" in loaded  # dodo.py was loaded
    assert not {"handbook_press.build", "handbook_press.diagnostics", "handbook_press.reader",
                "handbook_press.model"} & set(loaded), loaded
