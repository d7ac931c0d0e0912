"""Incremental builds: nothing changed means nothing rebuilt; one edited section
re-runs only that section's task and the outputs that depend on it."""

import re

from .conftest import copy_content, run_doit


def tasks(output: str) -> tuple[set[str], set[str]]:
    """(tasks doit ran, tasks it found up to date) from its `.  name` / `-- name` lines."""
    ran = set(re.findall(r"^\.  (\S+)", output, re.M))
    skipped = set(re.findall(r"^-- (\S+)", output, re.M))
    return ran, skipped


def test_nothing_changed_means_nothing_rebuilt_and_one_section_rebuilds_alone(tmp_path):
    content = copy_content(tmp_path / "content")
    args = (f"content={content}", f"build={tmp_path / 'build'}")
    first = run_doit(*args, cwd=tmp_path, keep_state=True)
    assert first.returncode == 0, first.stderr
    ran, _ = tasks(first.stdout)
    sections = {t for t in ran if t.startswith("sections:")}
    assert len(sections) == 16 and {"check", "pdf", "print", "pagemap", "cover", "epub"} <= ran
    # the page map is the PDF task's own: nothing laid out twice, nor assembled again
    assert re.search(r"mapped \d+ pages in .*: the PDF task's layout of these inputs", first.stderr), first.stderr

    again = run_doit(*args, cwd=tmp_path, keep_state=True)
    ran, skipped = tasks(again.stdout)
    assert ran == set(), again.stdout
    assert sections | {"check", "pdf", "print", "pagemap", "cover", "epub"} <= skipped

    section = content / "sections" / "model-development.md"
    section.write_text(section.read_text() + "Chapter 99: A Chapter Added Here\nIts one topic\n")
    edited = run_doit(*args, cwd=tmp_path, keep_state=True)
    assert edited.returncode == 0, edited.stderr
    ran, skipped = tasks(edited.stdout)
    assert ran == {"sections:sections__model-development.md", "check", "pdf", "print", "pagemap", "epub"}
    assert sections - {"sections:sections__model-development.md"} <= skipped and "cover" in skipped
    # the edit reached the books: the new chapter is chapter 15, and later ones moved on
    from .books import open_epub

    text = open_epub(tmp_path / "build" / "mlops-handbook.epub").text()
    assert "Chapter 15 A Chapter Added Here" in text and "Chapter 74 General AI Operations" in text


def test_an_edit_reaches_the_epub_without_the_pdf(tmp_path):
    """`doit epub` after an edit lays out the edited section for the page map (a few
    parts at most, never the book) and does not wait for the PDF; its page map is the
    one the PDF's layout gives once the PDF is built."""
    content = copy_content(tmp_path / "content")
    build = tmp_path / "build"
    args = (f"content={content}", f"build={build}")
    assert run_doit(*args, cwd=tmp_path, keep_state=True).returncode == 0

    section = content / "sections" / "model-deployment.md"
    section.write_text(section.read_text() + "\n" + "A paragraph added while editing, long enough to move a line. " * 40
                       + "\n")
    edited = run_doit(*args, "epub", cwd=tmp_path, keep_state=True)
    assert edited.returncode == 0, edited.stdout + edited.stderr
    ran, _ = tasks(edited.stdout)
    assert ran == {"sections:sections__model-deployment.md", "check", "pagemap", "epub"}
    [laid_out] = [int(n) for n in re.findall(r": (\d+) of 19 parts laid out here", edited.stderr)]
    assert 1 <= laid_out <= 4  # the section, and the front matter, contents and index if its folios moved
    from .books import open_epub

    assert "A paragraph added while editing" in open_epub(build / "mlops-handbook.epub").text()
    epub_map = (build / "mlops-handbook.pages.json").read_text()

    # The preview renders from the same checked model: nothing is read again.
    preview = run_doit(*args, "preview", "section=4", cwd=tmp_path, keep_state=True)
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert tasks(preview.stdout)[0] == {"preview"} and "sections, 73 chapters from the check task" in preview.stderr
    from .books import pdf_pages

    shown = " ".join(pdf_pages(build / "preview" / "section-04.pdf"))
    assert "Section 4 Model Deployment" in shown and "A paragraph added while editing" in shown

    # The PDF, built now, lays the book out as the page map said.
    assert run_doit(*args, "pdf", cwd=tmp_path, keep_state=True).returncode == 0
    assert run_doit("forget", *args, "pagemap", cwd=tmp_path, keep_state=True).returncode == 0
    again = run_doit(*args, "pagemap", cwd=tmp_path, keep_state=True)
    assert "the PDF task's layout of these inputs" in again.stderr, again.stdout + again.stderr
    assert (build / "mlops-handbook.pages.json").read_text() == epub_map


def test_section_tasks_read_the_listing_once(tmp_path, monkeypatch):
    """doit runs every section task in one process: handbook.yaml is read once for all of them
    (once per task made the cold build grow with the square of the book), and again when it changes."""
    from handbook_press import reader, sectioncache

    content = copy_content(tmp_path / "content")
    build = tmp_path / "build"
    reads = []
    read_metadata = reader.read_metadata
    monkeypatch.setattr(reader, "read_metadata", lambda *a: reads.append(a) or read_metadata(*a))
    keys = ["sections__foundations-of-mlops.md", "sections__model-development.md", "sections__model-deployment.md"]
    for key in keys:
        assert sectioncache.cache_section(content, build, key)
    assert len(reads) == 1
    metadata = content / "handbook.yaml"
    metadata.write_text(metadata.read_text().replace("title: The MLOps Handbook", "title: Renamed"))
    assert sectioncache.cache_section(content, build, keys[0])
    assert len(reads) == 2
    # every cache holds its own section, as read alone
    import pickle

    for key in keys:
        entry = pickle.loads(sectioncache.section_cache_path(build, key).read_bytes())
        assert entry["source"].file.name == key.split("__")[1] and entry["section"].slug == entry["source"].slug


def test_builds_leave_no_temporary_files(tmp_path):
    """WeasyPrint keeps the fonts a document loads in a temporary folder, removed when
    its font configuration is collected; a forked child that made its own would exit
    without removing it, leaving a copy of the book's fonts in the temporary folder at
    every build. The EPUB from scratch (its page map laid out on two cores), the rest of
    the default build and a preview leave nothing behind."""
    content = copy_content(tmp_path / "content")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    args = (f"content={content}", f"build={tmp_path / 'build'}")
    for command in (("epub",), (), ("preview", "section=2")):
        result = run_doit(*args, *command, cwd=tmp_path, keep_state=True, env={"TMPDIR": str(temporary)})
        assert result.returncode == 0, result.stdout + result.stderr
        assert sorted(p.name for p in temporary.iterdir()) == [], f"left behind by doit {' '.join(command)}"


def test_damaged_caches_are_read_again_from_the_sources(tmp_path, capsys):
    """build/cache is a cache: a section's or the book's file cut short (a full disk, a hand in
    the build folder) is read again from the sources, never a traceback."""
    from handbook_press import build as builder
    from handbook_press import sectioncache

    from .conftest import project_paths

    content = copy_content(tmp_path / "content")
    paths = project_paths(content, tmp_path / "build")
    key = "sections__model-development.md"
    assert sectioncache.cache_section(content, paths.build, key)
    assert builder.run_check(content, paths.build, cached=True)
    intact = sectioncache.load_cached_book(paths.build)
    numbering = (paths.build / "numbering.json").read_bytes()

    def cut_short(file):
        data = file.read_bytes()
        file.write_bytes(data[: len(data) // 2])

    cut_short(sectioncache.section_cache_path(paths.build, key))
    assert builder.run_check(content, paths.build, cached=True)
    assert (paths.build / "numbering.json").read_bytes() == numbering
    assert sectioncache.load_cached_book(paths.build) == intact

    cut_short(sectioncache.book_cache_path(paths.build))
    assert sectioncache.load_cached_book(paths.build) is None
    capsys.readouterr()
    assert builder._book_or_fail(paths, False, cached=True) == intact
    assert "parsed 16 sections" in capsys.readouterr().err  # read from the sources, not the damaged cache


def test_check_runs_again_for_strict_and_for_a_markdown_file_added(tmp_path):
    """`strict=1` after a passing check fails on the handbook's warnings (the check was up to
    date, so strict=1 passed); a section file added without listing it is told at once."""
    content = copy_content(tmp_path / "content")
    args = (f"content={content}", f"build={tmp_path / 'build'}", "check")
    assert run_doit(*args, cwd=tmp_path, keep_state=True).returncode == 0
    numbering = (tmp_path / "build" / "numbering.json").read_bytes()

    strict = run_doit(*args, "strict=1", cwd=tmp_path, keep_state=True)
    assert strict.returncode != 0 and "warnings (strict=1)" in strict.stdout + strict.stderr, strict.stderr
    assert (tmp_path / "build" / "numbering.json").read_bytes() == numbering
    assert run_doit(*args, cwd=tmp_path, keep_state=True).returncode == 0  # and back

    (content / "sections" / "appendix.md").write_text("---\ntitle: Appendix\n---\nChapter 1: Extra\nA topic\n")
    added = run_doit(*args, cwd=tmp_path, keep_state=True)
    assert added.returncode == 0 and "check" in tasks(added.stdout)[0], added.stdout
    assert re.search(r"sections/appendix\.md:1: warning\[section-not-listed\]: appendix\.md is not listed in "
                     r"handbook\.yaml's `sections`, so the book leaves it out; list it \(`- file: "
                     r"sections/appendix\.md`", added.stderr), added.stderr
