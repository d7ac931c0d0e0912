"""Releases: reproducible assets with checksums, release notes, safe writes."""

import hashlib
import json
import subprocess


from handbook_press import release
from handbook_press.build import run_release
from handbook_press.reader import load_book

from .conftest import CONTENT, copy_content, project_paths, run_doit
from .test_other_handbook import OUTLINE


def digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_release_is_reproducible_and_checksummed(tmp_path):
    results = []
    for name, zone in (("one", "UTC"), ("two", "Pacific/Kiritimati")):
        folder = tmp_path / name
        content = copy_content(folder / "content")
        result = run_doit("release", "version=1.0.0", f"content={content}", f"dist={folder / 'dist'}",
                          cwd=folder, env={"TZ": zone})
        assert result.returncode == 0, result.stderr
        results.append(folder / "dist" / "1.0.0")
    first, second = (digests(r) for r in results)
    assert set(first) == {"mlops-handbook.pdf", "mlops-handbook.epub", "mlops-handbook-print.pdf",
                          "mlops-handbook-cover.pdf", "mlops-handbook.json", "RELEASE-NOTES.md", "SHA256SUMS"}
    assert first == second
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=results[0], capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.count(": OK") == 6
    data = json.loads((results[0] / "mlops-handbook.json").read_text())
    assert data["version"] == "1.0.0" and len(data["sections"]) == 16
    assert sum(len(s["chapters"]) for s in data["sections"]) == 73
    assert data["sections"][2]["chapters"][0] == {**data["sections"][2]["chapters"][0],
                                                 "number": 11, "original_number": 9}
    assert [t for t in data["tools"] if t["name"] == "MLflow"][0]["subentries"][0]["name"] == "Model Registry"


def _book(tmp_path, outline_text, name):
    from handbook_press.outline import import_outline

    (tmp_path / f"{name}.txt").write_text(outline_text)
    import_outline(tmp_path / f"{name}.txt", tmp_path / name, title="T", slug="t")
    return load_book(tmp_path / name)[0]


def test_release_notes_list_added_removed_renamed_and_moved_chapters(tmp_path):
    old = _book(tmp_path, OUTLINE, "old")
    edited = (OUTLINE
              .replace("Chapter 12: Skipped Ahead\nPlain <b>not bold</b>\n", "")  # removed
              .replace("Chapter 13: Ending > Beginning", "Chapter 13: Ending Renamed")  # renamed in place
              .replace("Chapter 7: Duplicate Seven\n", "Chapter 7: Brand New Chapter\nA topic\nChapter 8: Duplicate Seven\n"))
    new = _book(tmp_path, edited, "new")
    notes = release.release_notes(new, "2.0.0", release.book_data(old, "1.0.0"), "1.0.0")
    assert "## Changes since 1.0.0" in notes
    assert "- Added: Chapter 2: Brand New Chapter (Basics & <Beginnings>)" in notes
    assert "- Removed: Skipped Ahead (was Chapter 4, Advanced {{ Topics }})" in notes
    assert "- Renamed: Ending > Beginning → Ending Renamed (Chapter 5)" in notes
    diff = release.changes(release.book_data(old, "1"), release.book_data(new, "2"))
    assert [c.title for c in diff["added"]] == ["Brand New Chapter"]
    assert [c.title for c in diff["removed"]] == ["Skipped Ahead"]
    assert diff["moved"] == []
    moved = release.changes({"sections": [{"slug": "a", "chapters": [{"title": "X", "number": 1}]},
                                          {"slug": "b", "chapters": []}]},
                            {"sections": [{"slug": "a", "chapters": []},
                                          {"slug": "b", "chapters": [{"title": "X", "number": 1}]}]})
    assert [(o.section, n.section) for o, n in moved["moved"]] == [("a", "b")]


def test_a_failed_release_leaves_dist_as_it_was(tmp_path, monkeypatch):
    dist = tmp_path / "dist"
    (dist / "1.0.0").mkdir(parents=True)
    (dist / "1.0.0" / "mlops-handbook.pdf").write_bytes(b"the previous release")
    before = {p: p.read_bytes() for p in dist.rglob("*") if p.is_file()}

    content = copy_content(tmp_path / "content")
    broken = content / "sections" / "model-deployment.md"
    broken.write_text(broken.read_text().replace("---\nChapter 15", "Chapter 15", 1))
    assert not run_release(project_paths(content, tmp_path / "unused"), "1.0.0", dist)

    # a failure after the books were built: EPUBCheck reports an error
    from handbook_press import validate

    monkeypatch.setattr(validate, "epubcheck", lambda path: [validate.Finding("epubcheck", "ERROR", "x", "broken")])
    assert not run_release(project_paths(CONTENT, tmp_path / "unused"), "1.0.0", dist)

    # strict: the handbook's warnings (its chapter numbering) fail it before anything is built
    monkeypatch.undo()
    assert not run_release(project_paths(CONTENT, tmp_path / "unused"), "1.0.0", dist, strict=True)

    after = {p: p.read_bytes() for p in dist.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in dist.iterdir()] == ["1.0.0"]


def test_the_version_comes_from_the_command_the_metadata_or_the_tag(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"],
                   cwd=tmp_path, check=True)
    assert release.release_version(None, None, tmp_path) is None
    subprocess.run(["git", "tag", "v2.3.0"], cwd=tmp_path, check=True)
    assert release.release_version(None, None, tmp_path) == "2.3.0"
    assert release.release_version(None, "2.4.0", tmp_path) == "2.4.0"
    assert release.release_version("2.5.0", "2.4.0", tmp_path) == "2.5.0"
    content = copy_content(tmp_path / "content")
    (content / "handbook.yaml").write_text((content / "handbook.yaml").read_text() + "version: 2.4.0\n")
    assert load_book(content)[0].metadata.version == "2.4.0"
