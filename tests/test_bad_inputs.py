"""Broken and hostile sources: a clear error every time, nothing lost, nothing fetched.

Every case of tests/bad_inputs/ (see tests/bad_input_helpers.py for the
format) runs through the real command line, `doit <task> content=… build=…`,
over a build folder that holds a previous build. A failing case must print
each expected `path:line: error[code]: …` line and no other error, no
traceback, and leave the build folder byte for byte as it was (no new file,
no temporary `.part` file). A legal case must exit with status zero.
"""

from __future__ import annotations

import json
import zipfile

import pytest

from .bad_input_helpers import (CASES, GENERATORS, PREVIOUS_BUILD, load_cases, parse_expected_message,
                                prepare, printed_messages, snapshot)
from .books import normalize, open_epub, pdf_pages
from .conftest import run_doit

ALL_CASES = load_cases()
XHTML = "{http://www.w3.org/1999/xhtml}"


def test_the_corpus_is_complete():
    assert len(ALL_CASES) >= 30
    assert sum(case.task == "pdf" and case.status == "ok" for case in ALL_CASES) <= 2  # PDF builds are slow
    for case in ALL_CASES:
        assert (case.content).is_dir(), case.name
        assert set(case.generate) <= set(GENERATORS), case.name
        for line in case.messages:
            parse_expected_message(line)
        if case.status == "fail":
            assert any(parse_expected_message(m)["severity"] == "error" for m in case.messages), case.name
    assert (CASES / ".gitattributes").read_text().splitlines()[-1] == "* -text"


@pytest.mark.parametrize("case", ALL_CASES, ids=[case.name for case in ALL_CASES])
def test_bad_input(case, tmp_path):
    content, build = prepare(case, tmp_path)
    for name, hex_bytes in (case.expected.get("bytes") or {}).items():
        assert bytes.fromhex(hex_bytes) in (case.content / name).read_bytes(), \
            f"{case.name}/content/{name} lost its bytes {hex_bytes} (was it checked out with text conversion?)"
    before = snapshot(build)

    result = run_doit(case.task, f"content={content}", f"build={build}", cwd=tmp_path)
    output = result.stdout + result.stderr
    shown = f"\n--- output of doit {case.task} ---\n{output}"

    assert "Traceback" not in output, shown
    if case.status == "fail":
        assert result.returncode != 0, shown
    else:
        assert result.returncode == 0, shown

    # Every expected message, at its place.
    printed = printed_messages(output)
    for expected in map(parse_expected_message, case.messages):
        location = f"content/{expected['location']}"
        assert any(m["location"] == location and m["severity"] == expected["severity"]
                   and m["code"] == expected["code"] and expected["text"] in m["text"] for m in printed), \
            f"missing: {location}: {expected['severity']}[{expected['code']}]: …{expected['text']}…{shown}"
    # Errors are clear: each one located in a source file, and no stray ones.
    errors = [m for m in printed if m["severity"] == "error"]
    for m in errors:
        assert m["location"].startswith("content/"), shown
    if case.status == "fail":
        wanted = {(f"content/{e['location']}", e["code"]) for e in map(parse_expected_message, case.messages)
                  if e["severity"] == "error"}
        assert {(m["location"], m["code"]) for m in errors} == wanted, shown
    assert not [line for line in output.splitlines() if "error[" in line and not any(
        line.strip() == m.string for m in printed)], f"an error line not in the form path:line: error[code]: …{shown}"

    after = snapshot(build)
    assert not [name for name in after if name.endswith(".part")], shown
    if case.status == "fail":
        assert after == before, "a failed task changed the build folder"
        assert "Nothing in the build folder was changed" in output or "previous outputs were kept" in output
    else:
        check_outputs(case, build, before, after, result.stdout)

    for name in case.expected.get("absent") or []:
        assert not (tmp_path / name).exists() and not (content / name).exists(), f"{name} was created"


def check_outputs(case, build, before, after, stdout):
    """A legal case: its output is written and holds the text; the rest of the folder is as it was."""
    target = {"check": "numbering.json", "epub": "bad.epub", "pdf": "bad.pdf"}[case.task]
    # The pdf and epub tasks run the check task first (they render its checked model); the
    # epub task does not need the PDF (its page map lays the pages out without drawing them).
    written = {"check": {target}, "epub": {target, "numbering.json"},
               "pdf": {target, "numbering.json"}}[case.task]
    assert after[target] != before[target]
    for name in PREVIOUS_BUILD:
        if name not in written:
            assert after[name] == before[name], f"{name} changed"
    for fragment in case.expected.get("stdout") or []:
        assert fragment in stdout
    if case.task == "check":
        json.loads((build / target).read_text(encoding="utf-8"))
    elif case.task == "epub":
        check_epub(case, build / target)
    else:
        text = normalize(" ".join(pdf_pages(build / target)))
        for fragment in case.expected.get("pdf_text") or []:
            assert normalize(fragment) in text, fragment


def check_epub(case, path):
    assert zipfile.ZipFile(path).testzip() is None
    book = open_epub(path)
    text = book.text()
    for fragment in case.expected.get("epub_text") or []:
        assert normalize(fragment) in text, fragment
    for fragment in case.expected.get("epub_not_text") or []:
        assert normalize(fragment) not in text, fragment
    documents = [doc for _, doc in book.spine_documents()]
    # Elements that must not come from the sources: look inside chapters and prose.
    forbidden = set(case.expected.get("epub_no_elements") or [])
    for doc in documents:
        for holder in doc.iter(f"{XHTML}section", f"{XHTML}div", f"{XHTML}li"):
            if any(word in (holder.get("class") or "") for word in ("chapter", "prose", "topic")):
                found = {el.tag.removeprefix(XHTML) for el in holder.iter() if isinstance(el.tag, str)}
                assert not found & forbidden, found & forbidden
    links = {a.get("href") for doc in documents for a in doc.iter(f"{XHTML}a")}
    for href in case.expected.get("epub_links") or []:
        assert href in links
    names = book.zip.namelist()
    for name in case.expected.get("epub_files") or []:
        assert any(n.endswith(name) for n in names), (name, names)
