"""The corpus of broken and hostile sources in tests/bad_inputs/.

One folder per case: ``content/`` (a small content folder) and
``expected.yaml``:

``task``
    the doit task to run: ``check`` (most cases), ``epub`` or ``pdf``.
``status``
    ``fail`` (the task exits non-zero and leaves the build folder as it
    was) or ``ok`` (exit status zero; warnings allowed).
``messages``
    lines the output must hold, written ``path:line: severity[code]: text``
    with the path relative to the content folder; ``text`` is a fragment of
    the message (what is wrong, or how to fix it). For failing cases these
    are all the errors: no other ``error[...]`` line may be printed.
``generate``
    names of :data:`GENERATORS` run on the copied content folder before the
    build, for bytes that should not live in git (non-UTF-8, control
    characters, 30 MB, symbolic links, images).
``bytes``
    ``file: hex`` guards: the committed file must hold these bytes (CRLF, a
    BOM, tabs), so that a checkout that rewrote them fails loudly.
``stdout``, ``absent``, ``epub_text``, ``epub_not_text``, ``epub_no_elements``,
``epub_links``, ``epub_files``, ``pdf_text``
    more checks on the output; see tests/test_bad_inputs.py.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CASES = Path(__file__).resolve().parent / "bad_inputs"

# What a printed diagnostic looks like.
MESSAGE = re.compile(r"^(?P<location>\S+?:\d+): (?P<severity>error|warning|note)\[(?P<code>[a-z0-9-]+)\]: (?P<text>.+)$")

# The "previous build" every case starts from: these bytes must survive a failed task.
PREVIOUS_BUILD = {
    "numbering.json": b'{"previous": "build", "chapters": {"1": 1}}\n',
    "bad.pdf": b"%PDF-1.7\n% the previous build's PDF\n%%EOF\n",
    "bad.epub": b"PK\x03\x04 the previous build's EPUB",
    "notes/kept.txt": b"a file of an earlier build, in a subfolder\n",
}


@dataclass
class Case:
    name: str
    folder: Path
    task: str
    status: str
    messages: list[str] = field(default_factory=list)
    generate: list[str] = field(default_factory=list)
    expected: dict = field(default_factory=dict)

    @property
    def content(self) -> Path:
        return self.folder / "content"


def load_cases() -> list[Case]:
    cases = []
    for folder in sorted(p for p in CASES.iterdir() if p.is_dir()):
        expected = yaml.safe_load((folder / "expected.yaml").read_text(encoding="utf-8"))
        assert expected["task"] in ("check", "epub", "pdf"), folder
        assert expected["status"] in ("ok", "fail"), folder
        cases.append(Case(folder.name, folder, expected["task"], expected["status"],
                          list(expected.get("messages") or []), list(expected.get("generate") or []), expected))
    return cases


def parse_expected_message(line: str) -> re.Match:
    match = MESSAGE.match(line)
    assert match, f"expected.yaml message not in the form path:line: severity[code]: text: {line!r}"
    return match


def printed_messages(output: str) -> list[re.Match]:
    return [m for line in output.splitlines() if (m := MESSAGE.match(line.strip()))]


def prepare(case: Case, root: Path) -> tuple[Path, Path]:
    """Copy the case's content to ``root/content``, run its generators, and lay down a previous build."""
    content = root / "content"
    shutil.copytree(case.content, content, symlinks=True)
    for name in case.generate:
        GENERATORS[name](content)
    build = root / "build"
    for name, data in PREVIOUS_BUILD.items():
        (build / name).parent.mkdir(parents=True, exist_ok=True)
        (build / name).write_bytes(data)
    return content, build


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every output under ``folder`` (hidden files too), by relative path.

    ``cache/`` is left out: the per-section model cache is the build's working
    state (each section task records what it read, problems included, so that
    the check task can report every problem in one run), not an output.
    """
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if (p.is_file() or p.is_symlink()) and p.relative_to(folder).parts[0] != "cache"}


# --- generators: bytes written at test time -------------------------------------

def _replace_bytes(file: Path, old: bytes, new: bytes) -> None:
    data = file.read_bytes()
    assert data.count(old) == 1, (file, old)
    file.write_bytes(data.replace(old, new))


def latin1_section(content: Path) -> None:
    _replace_bytes(content / "sections" / "one.md", b"CAF_", "CAFÉ".encode("latin-1"))


def c1_and_line_separator(content: Path) -> None:
    _replace_bytes(content / "sections" / "one.md", b"C1_", "C1\x81".encode("utf-8"))
    _replace_bytes(content / "sections" / "one.md", b"LS_", "\u2028".encode("utf-8"))


def cp1252_handbook(content: Path) -> None:
    _replace_bytes(content / "handbook.yaml", b"reader_s", "reader’s".encode("cp1252"))


def utf16_section(content: Path) -> None:
    file = content / "sections" / "one.md"
    file.write_bytes(file.read_text(encoding="utf-8").encode("utf-16"))


def control_characters(content: Path) -> None:
    file = content / "sections" / "one.md"
    file.write_bytes(b'---\ntitle: "One"\n---\nChapter 1: First S\x1bteps\nA \x00topic\n')


HUGE_BYTES = 30 * 1024 * 1024


def huge_section(content: Path) -> None:
    file = content / "sections" / "one.md"
    line = b"A topic line, repeated until the file is thirty megabytes long\n"
    with open(file, "ab") as out:
        chunk = line * (1024 * 1024 // len(line) + 1)
        written = file.stat().st_size
        while written < HUGE_BYTES:
            out.write(chunk)
            written += len(chunk)


def symlink_two(content: Path) -> None:
    (content / "sections" / "two.md").symlink_to("/etc/passwd")


def chapter_5000_digits(content: Path) -> None:
    file = content / "sections" / "one.md"
    file.write_text(file.read_text(encoding="utf-8") + "Chapter " + "7" * 5000 + ": Second Steps\nB topic\n",
                    encoding="utf-8")


def png_cafe_diagram(content: Path) -> None:
    from PIL import Image

    target = content / "sections" / "images" / "café diagram.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (200, 40, 40)).save(target, format="PNG")


def jpeg_named_png(content: Path) -> None:
    from PIL import Image

    target = content / "sections" / "images" / "photo.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (40, 120, 200)).save(target, format="JPEG")


def bmp_scan(content: Path) -> None:
    from PIL import Image

    target = content / "sections" / "images" / "scan.bmp"
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (90, 90, 90)).save(target, format="BMP")


def low_resolution_images(content: Path) -> None:
    from PIL import Image

    folder = content / "sections" / "images"
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (600, 300), (230, 230, 230)).save(folder / "screenshot.png", format="PNG")
    Image.new("RGB", (1000, 700), (90, 120, 150)).save(folder / "photo.jpg", format="JPEG")
    Image.new("RGB", (1400, 700), (255, 255, 255)).save(folder / "chart.png", format="PNG")


GENERATORS = {
    "latin1-section": latin1_section,
    "cp1252-handbook": cp1252_handbook,
    "c1-and-line-separator": c1_and_line_separator,
    "utf16-section": utf16_section,
    "control-characters": control_characters,
    "huge-section": huge_section,
    "symlink-two-to-etc-passwd": symlink_two,
    "chapter-5000-digits": chapter_5000_digits,
    "png-cafe-diagram": png_cafe_diagram,
    "jpeg-named-png": jpeg_named_png,
    "bmp-scan": bmp_scan,
    "low-resolution-images": low_resolution_images,
}
