"""The doit tasks as a maintainer runs them."""

import hashlib

from .conftest import CONTENT, copy_content, run_doit


def digest(folder):
    """The outputs under ``folder``; cache/ is the build's working state, not an output."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.relative_to(folder).parts[0] != "cache"}


def test_doit_check_passes_and_summarises_the_renumbering(tmp_path):
    result = run_doit("check", f"content={CONTENT}", f"build={tmp_path / 'build'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "numbering: 16 sections, 73 chapters numbered 1-73" in result.stdout
    assert "chapters 9-12 -> 11-14" in result.stdout
    assert "content/sections/model-development.md:6: warning[chapter-number-duplicate]" in result.stderr \
        or "sections/model-development.md:6: warning[chapter-number-duplicate]" in result.stderr
    assert (tmp_path / "build" / "numbering.json").exists()


def test_strict_check_fails_on_the_seed_warnings(tmp_path):
    result = run_doit("check", f"content={CONTENT}", f"build={tmp_path / 'build'}", "strict=1", cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout


def test_a_broken_copy_fails_with_locations_and_keeps_the_previous_build(tmp_path):
    content = copy_content(tmp_path / "content")
    build = tmp_path / "build"
    good = run_doit(f"content={content}", f"build={build}", cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert {"mlops-handbook.pdf", "mlops-handbook.epub", "numbering.json"} <= set(digest(build))
    before = digest(build)

    section = content / "sections" / "model-development.md"
    text = section.read_text().replace("Chapter 11: Experiment Tracking", "Chapter XI: Experiment Tracking")
    section.write_text(text)
    bad_line = text.splitlines().index("Chapter XI: Experiment Tracking") + 1
    yaml_file = content / "handbook.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("- industry-applications", "- industry-aplications"))

    for task in ("check", "pdf", "epub"):
        result = run_doit(task, f"content={content}", f"build={build}", cwd=tmp_path)
        assert result.returncode != 0, task
        output = result.stderr + result.stdout
        assert f"sections/model-development.md:{bad_line}: error[chapter-line-malformed]" in output, output
        assert "handbook.yaml" in output and "error[learning-path-unknown-section]" in output
        assert "Traceback" not in output
    assert digest(build) == before
    assert not [p for p in build.rglob(".*")]


def test_doit_list_documents_every_task(tmp_path):
    result = run_doit("list", cwd=tmp_path)
    assert result.returncode == 0
    for task in ("check", "pdf", "epub", "import"):
        line = next(l for l in result.stdout.splitlines() if l.startswith(task + " "))
        assert len(line.split(None, 1)[1]) > 10
