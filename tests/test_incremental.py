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
    assert len(sections) == 16 and {"check", "pdf", "print", "cover", "epub"} <= ran

    again = run_doit(*args, cwd=tmp_path, keep_state=True)
    ran, skipped = tasks(again.stdout)
    assert ran == set(), again.stdout
    assert sections | {"check", "pdf", "print", "cover", "epub"} <= skipped

    section = content / "sections" / "model-development.md"
    section.write_text(section.read_text() + "Chapter 99: A Chapter Added Here\nIts one topic\n")
    edited = run_doit(*args, cwd=tmp_path, keep_state=True)
    assert edited.returncode == 0, edited.stderr
    ran, skipped = tasks(edited.stdout)
    assert ran == {"sections:sections__model-development.md", "check", "pdf", "print", "epub"}
    assert sections - {"sections:sections__model-development.md"} <= skipped and "cover" in skipped
    # the edit reached the books: the new chapter is chapter 15, and later ones moved on
    from .books import open_epub

    text = open_epub(tmp_path / "build" / "mlops-handbook.epub").text()
    assert "Chapter 15 A Chapter Added Here" in text and "Chapter 74 General AI Operations" in text
