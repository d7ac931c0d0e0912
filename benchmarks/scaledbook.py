"""Scaled handbooks for the benchmark, generated from a real content folder.

``make_scaled_content(source, dest, scale)`` writes a content folder with
``scale`` copies of every section of ``source`` (copy 1 keeps the real titles
and slugs; copy k > 1 gets ", Part k" in its section and chapter titles and
``-part-k`` in its slug), chapters numbered 1, 2, 3... in reading order (so the
checks print no renumbering warnings), and deterministic prose paragraphs
after a blank line below every chapter's topic lines (README, "The content
format"). The prose is built with a seeded random generator from the
handbook's own words, so the same scale always gives the same bytes.

``pandoc_markdown(dest)`` turns such a folder into one Markdown document for
Pandoc: sections as ``#``, chapters as ``##``, topics as list items, prose as
is.
"""

from __future__ import annotations

import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

#: Prose words per chapter; chosen so that the x1 reading edition is about
#: 108 pages of 6 x 9 in (the real outline alone is 48).
WORDS_PER_CHAPTER = 170
SEED = 7

CHAPTER = re.compile(r"^(#{1,6}[ \t]+)?Chapter[ \t]+([0-9]+)[ \t]*:[ \t]*(\S.*?)[ \t]*$")
NEW = re.compile(r"[ \t]*\(New\)$")
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")


@dataclass
class Chapter:
    number: int
    title: str
    is_new: bool
    topics: list[str] = field(default_factory=list)  # as written (bullet included)
    prose: list[str] = field(default_factory=list)   # blocks after a blank line, as written


@dataclass
class SectionFile:
    front: str          # the YAML front matter text, without the --- lines
    intro: list[str]    # lines before the first chapter
    chapters: list[Chapter]


def read_section(path: Path) -> SectionFile:
    text = path.read_text(encoding="utf-8")
    front = ""
    if text.startswith("---\n"):
        end = text.index("\n---", 4)
        front, text = text[4:end], text[end + 4:].lstrip("\n")
    intro, chapters = [], []
    in_outline = False
    for line in text.splitlines():
        match = CHAPTER.match(line.strip())
        if match:
            title = match.group(3)
            chapters.append(Chapter(int(match.group(2)), NEW.sub("", title).strip(), bool(NEW.search(title))))
            in_outline = True
        elif not chapters:
            intro.append(line)
        elif in_outline and line.strip():
            chapters[-1].topics.append(line)
        else:
            in_outline = False
            chapters[-1].prose.append(line)
    return SectionFile(front, intro, chapters)


def vocabulary(source: Path) -> list[str]:
    """The handbook's own words, in first-seen order (deterministic)."""
    metadata = yaml.safe_load((source / "handbook.yaml").read_text(encoding="utf-8"))
    texts = [metadata.get("about", ""), metadata.get("edition_note", "")]
    for step in (metadata.get("learning_path") or {}).get("steps", []):
        texts.append(step.get("text", ""))
    for entry in metadata["sections"]:
        texts.append((source / entry["file"]).read_text(encoding="utf-8"))
    seen: dict[str, None] = {}
    for text in texts:
        for word in WORD.findall(text):
            if word.lower() in ("chapter", "new", "tools", "layout", "default", "title", "description"):
                continue
            seen.setdefault(word if word[1:].lower() != word[1:] else word.lower(), None)
    return list(seen)


def prose(rng: random.Random, words: list[str], total: int) -> list[str]:
    """Paragraphs of about ``total`` words, with a little inline Markdown."""
    paragraphs, count = [], 0
    while count < total:
        sentences = []
        for _ in range(rng.randint(4, 6)):
            n = rng.randint(9, 22)
            chosen = [rng.choice(words) for _ in range(n)]
            count += n
            if rng.random() < 0.15:
                i = rng.randrange(n)
                chosen[i] = f"*{chosen[i]}*"
            if rng.random() < 0.05:
                i = rng.randrange(n)
                chosen[i] = f"`{chosen[i].strip('*')}`"
            sentence = " ".join(chosen)
            sentences.append(sentence[0].upper() + sentence[1:] + ".")
            if count >= total:
                break
        paragraphs.append(" ".join(sentences))
    return paragraphs


def _suffix(copy: int) -> str:
    return "" if copy == 1 else f", Part {copy}"


def make_scaled_content(source: Path, dest: Path, scale: int, words_per_chapter: int = WORDS_PER_CHAPTER,
                        seed: int = SEED) -> dict:
    """Write the scaled content folder; return a summary (sections, chapters, prose words)."""
    metadata = yaml.safe_load((source / "handbook.yaml").read_text(encoding="utf-8"))
    words = vocabulary(source)
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "sections").mkdir(parents=True)
    # Anything else the content folder holds (images the prose may use) comes along.
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if path.is_file() and relative.parts[0] != "sections" and path.name != "handbook.yaml":
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / relative)
    sections_yaml, number, prose_words = [], 0, 0
    originals = [(entry, read_section(source / entry["file"])) for entry in metadata["sections"]]
    for copy in range(1, scale + 1):
        for entry, section in originals:
            stem = Path(entry["file"]).stem
            slug = stem if copy == 1 else f"{stem}-part-{copy}"
            title = entry["title"] + _suffix(copy)
            front = yaml.safe_load(section.front) if section.front else {}
            if "title" in front:  # keeps a real mismatch (and its warning) as it is
                front["title"] = str(front["title"]) + _suffix(copy)
            lines = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000).rstrip(), "---"]
            lines += section.intro
            for chapter_index, chapter in enumerate(section.chapters):
                number += 1
                lines.append(f"Chapter {number}: {chapter.title}{_suffix(copy)}{' (New)' if chapter.is_new else ''}")
                lines += chapter.topics
                lines += chapter.prose
                rng = random.Random(f"{seed}:{copy}:{slug}:{chapter_index}")
                for paragraph in prose(rng, words, words_per_chapter):
                    prose_words += len(paragraph.split())
                    lines += ["", paragraph]
                lines.append("")
            (dest / "sections" / f"{slug}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
            sections_yaml.append({"file": f"sections/{slug}.md", "title": title})
    scaled = dict(metadata)
    scaled["sections"] = sections_yaml
    (dest / "handbook.yaml").write_text(yaml.safe_dump(scaled, sort_keys=False, allow_unicode=True, width=100),
                                        encoding="utf-8")
    return {"sections": len(sections_yaml), "chapters": number, "prose_words": prose_words}


MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>{}#|~^$@])")


def _escape(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def pandoc_markdown(content: Path) -> str:
    """One Markdown document of the whole handbook, for Pandoc."""
    metadata = yaml.safe_load((content / "handbook.yaml").read_text(encoding="utf-8"))
    head = {"title": metadata["title"], "lang": metadata.get("language", "en"),
            "date": str(metadata.get("review_date", ""))}
    if metadata.get("identifier"):
        head["identifier"] = metadata["identifier"]
    out = ["---", yaml.safe_dump(head, sort_keys=False, allow_unicode=True).rstrip(), "---", ""]
    out += [metadata.get("about", "").strip(), ""]
    for entry in metadata["sections"]:
        section = read_section(content / entry["file"])
        front = yaml.safe_load(section.front) if section.front else {}
        out += [f"# {_escape(entry['title'])}", ""]
        if front.get("description"):
            out += [f"*{_escape(str(front['description']))}*", ""]
        intro = "\n".join(section.intro).strip()
        if intro:
            out += [intro, ""]
        for chapter in section.chapters:
            out += [f"## Chapter {chapter.number}: {_escape(chapter.title)}{' (New)' if chapter.is_new else ''}", ""]
            for topic in chapter.topics:
                out.append("- " + _escape(re.sub(r"^[ \t]*[-*+][ \t]+", "", topic).strip()))
            out.append("")
            body = "\n".join(chapter.prose).strip()
            if body:
                out += [body, ""]
    return "\n".join(out) + "\n"
