"""Where a build reads and writes: its folders and the files its tasks hand on to each other.

Light on purpose: dodo.py names these paths on every run, a run with nothing to do included, and
imports nothing heavier (the build module is imported by a task that runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    """Where a build reads and writes."""

    content: Path
    build: Path
    templates: Path
    styles: Path


def unchecked_print_path(paths: Paths, slug: str) -> Path:
    return paths.build / "cache" / f"{slug}-print.unchecked.pdf"


def print_check_path(paths: Paths, slug: str) -> Path:
    """The preflight report of the unchecked print interior, made as the PDF task wrote it."""
    return paths.build / "cache" / f"{slug}-print.preflight.json"


def layout_records_path(paths: Paths) -> Path:
    return paths.build / "cache" / "layout.json"


def cover_image_path(paths: Paths) -> Path:
    return paths.build / "cache" / "cover.png"
