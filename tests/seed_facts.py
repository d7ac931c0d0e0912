"""What the seed outline says, read with a few regular expressions that do
not share code with the reader, so the tests check the reader independently."""

import re
from dataclasses import dataclass, field
from pathlib import Path

SEED = Path(__file__).parent / "data" / "mlops-outline.txt"


@dataclass
class SeedSection:
    title: str
    description: str
    chapters: list = field(default_factory=list)  # (original number, title, is_new, [topic lines])


def seed_sections() -> list[SeedSection]:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    sections: list[SeedSection] = []
    i = 0
    while i < len(lines):
        if i + 1 < len(lines) and lines[i + 1] == "---" and lines[i] != "---":
            j = lines.index("---", i + 2)
            description = next(l.split(":", 1)[1].strip().strip('"') for l in lines[i + 2:j]
                               if l.startswith("description:"))
            sections.append(SeedSection(lines[i], description))
            i = j + 1
            continue
        if sections:
            if m := re.match(r"^Chapter (\d+): (.*?)( \(New\))?$", lines[i]):
                sections[-1].chapters.append((int(m[1]), m[2], bool(m[3]), []))
            elif lines[i].strip():
                sections[-1].chapters[-1][3].append(lines[i])
        i += 1
    return sections


def seed_chapters():
    return [c for s in seed_sections() for c in s.chapters]


def seed_topic_lines() -> list[str]:
    return [t for c in seed_chapters() for t in c[3]]


def topic_words(line: str) -> list[str]:
    """The text a reader must find for a topic line: markers and brackets removed."""
    text = re.sub(r"^- ", "", line)
    text = re.sub(r" \(New subtopic\)$", "", text)
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1]
        head, _, tail = inner.partition(";")
        parts = [head.strip()] + ([tail.strip()] if tail else [])
        return parts
    return [text]


ABOUT = SEED.read_text(encoding="utf-8").splitlines()[0].split(":", 1)[1].strip()
LEARNING_STEPS = [re.match(r"^\d (.*) \(Sections? ([\d-]+)\)\.$", l)
                  for l in SEED.read_text(encoding="utf-8").splitlines()[2:8]]
