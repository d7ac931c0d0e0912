"""The book language's hyphenation patterns, parsed once and kept in build/cache (hyphenation.py)."""

import pickle

import pyphen
import pytest

from handbook_press import hyphenation

WORDS = ["reproducibility", "orchestration", "hyperparameter", "observability", "containerization"]


@pytest.fixture
def fresh_pyphen(monkeypatch):
    """pyphen as in a new process: nothing parsed yet."""
    monkeypatch.setattr(pyphen, "hdcache", {})


def _counting_parses(monkeypatch) -> list:
    parsed = []
    real = pyphen.HyphDict.__init__
    monkeypatch.setattr(pyphen.HyphDict, "__init__", lambda self, path: parsed.append(path) or real(self, path))
    return parsed


def _hyphenated() -> list[str]:
    return [pyphen.Pyphen(lang="en").inserted(word) for word in WORDS]


def test_the_kept_dictionary_hyphenates_as_the_parsed_one(tmp_path, fresh_pyphen, monkeypatch):
    parsed = _counting_parses(monkeypatch)
    hyphenation.preload("en", tmp_path)
    assert len(parsed) == 1 and hyphenation.cache_path(tmp_path, pyphen.language_fallback("en")).is_file()
    expected = _hyphenated()
    assert all("-" in word for word in expected) and len(parsed) == 1  # WeasyPrint's Pyphen() finds it

    monkeypatch.setattr(pyphen, "hdcache", {})  # the next process
    hyphenation.preload("en", tmp_path)
    assert len(parsed) == 1, "taken from build/cache, not parsed again"
    assert _hyphenated() == expected and len(parsed) == 1


def test_a_kept_dictionary_of_another_file_or_version_is_parsed_again(tmp_path, fresh_pyphen, monkeypatch):
    hyphenation.preload("en", tmp_path)
    kept = hyphenation.cache_path(tmp_path, pyphen.language_fallback("en"))
    parsed = _counting_parses(monkeypatch)

    monkeypatch.setattr(pyphen, "hdcache", {})
    monkeypatch.setattr(pyphen, "__version__", "0.0-another")
    hyphenation.preload("en", tmp_path)
    assert len(parsed) == 1

    monkeypatch.setattr(pyphen, "hdcache", {})
    kept.write_bytes(b"not a pickle")
    hyphenation.preload("en", tmp_path)
    assert len(parsed) == 2 and pickle.loads(kept.read_bytes())["key"]

    monkeypatch.setattr(pyphen, "hdcache", {})
    hyphenation.preload("xx-unknown", tmp_path)  # no dictionary: nothing to do, nothing written
    assert len(parsed) == 2 and not (tmp_path / "hyphenation-None.pickle").exists()


def test_the_preview_takes_the_kept_dictionary(built_books, fresh_pyphen, monkeypatch):
    """The tasks that lay the book out preload it: a preview after the book parses nothing."""
    import contextlib
    import io

    from handbook_press.build import run_preview

    from .conftest import CONTENT, project_paths

    def no_parsing(self, path):
        raise AssertionError("the hyphenation dictionary was parsed again")

    monkeypatch.setattr(pyphen.HyphDict, "__init__", no_parsing)
    with contextlib.redirect_stderr(io.StringIO()):
        assert run_preview(project_paths(CONTENT, built_books[0].parent), "5")


def test_a_process_that_parsed_it_for_one_build_keeps_it_for_another(tmp_path, fresh_pyphen, monkeypatch):
    parsed = _counting_parses(monkeypatch)
    hyphenation.preload("en", tmp_path / "one")
    hyphenation.preload("en", tmp_path / "another")
    assert len(parsed) == 1
    for folder in ("one", "another"):
        assert hyphenation.cache_path(tmp_path / folder, pyphen.language_fallback("en")).is_file()
    monkeypatch.setattr(pyphen, "hdcache", {})  # a later process, building into the other folder
    hyphenation.preload("en", tmp_path / "another")
    assert len(parsed) == 1


def test_ahead_is_a_job_that_keeps_the_dictionary_for_preload(tmp_path, fresh_pyphen, monkeypatch):
    parsed = _counting_parses(monkeypatch)
    job = hyphenation.ahead("en", tmp_path)
    job()  # as the PDF task's helper runs it, in another process
    assert len(parsed) == 1 and hyphenation.cache_path(tmp_path, pyphen.language_fallback("en")).is_file()
    monkeypatch.setattr(pyphen, "hdcache", {})  # this process has not parsed it
    hyphenation.preload("en", tmp_path)
    assert len(parsed) == 1
    assert hyphenation.ahead("en", tmp_path) is None  # kept: nothing to do ahead
    assert hyphenation.ahead(None, tmp_path) is None and hyphenation.ahead("tlh", tmp_path) is None


def test_a_pdf_from_scratch_has_its_helper_parse_the_dictionary(tmp_path, fresh_pyphen, monkeypatch):
    """In a fresh build folder the PDF task's helper parses and keeps the dictionary while this
    process imports WeasyPrint: this process only unpickles it."""
    import contextlib
    import io

    from .conftest import CONTENT, pdf_task_outputs

    parsed = _counting_parses(monkeypatch)
    with contextlib.redirect_stderr(io.StringIO()):
        pdf_task_outputs(CONTENT, tmp_path / "build")
    assert parsed == []
    assert hyphenation.cache_path(tmp_path / "build" / "cache", pyphen.language_fallback("en")).is_file()
