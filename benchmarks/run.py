#!/usr/bin/env python3
"""Benchmark handbook-press against Pandoc 3.x (+ WeasyPrint) on scaled handbooks.

    pip install -r benchmarks/requirements.txt      # Pandoc, via pypandoc-binary
    python benchmarks/run.py --scales 1,10 --repeat 2 --out BENCHMARKS.md

Everything happens in a temporary folder: a snapshot of the project's code
(dodo.py, src/, templates/, styles/ as they are in the working tree when the
run starts, so that edits made meanwhile do not leak into the numbers), the
scaled content folders, the build folders and doit's database (--db-file).
Nothing is written into the repository except the --out file.

Each command runs as a child process; its wall time is measured around it and
its peak memory is the ``ru_maxrss`` that ``os.wait4`` reports for it, the
same figure as GNU ``/usr/bin/time -v``'s "Maximum resident set size": the
largest resident set of the process or of any descendant it waited for. Our
build and Pandoc's each run one process at a time, so this is the peak of the
whole process tree. See benchmarks/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # leave no __pycache__ in benchmarks/

import scaledbook  # noqa: E402

KDP_MAX_PAGES = 828          # KDP's page-count maximum for 6 x 9 in (profiles.py)
PAGES_PER_SCALE = 108        # the x1 reading edition's target

# The measurements, in table order: key -> (label, what runs).
OURS = {
    "cold": ("ours: cold `doit` (default tasks)", "`doit` in a fresh build folder and database"),
    "pdf": ("ours: reading PDF alone", "`doit pdf` in a fresh build folder"),
    "print": ("ours: `print` step alone", "`doit print` after `doit pdf` (PDF up to date)"),
    "epub": ("ours: EPUB step alone", "`doit epub` after `doit pdf` (page map up to date)"),
    "epub_cold": ("ours: EPUB from scratch", "`doit epub` in a fresh build folder (lays the pages out for the page map, without drawing a PDF)"),
    "noop": ("ours: `doit`, nothing changed", "`doit` again after the cold build"),
    "edit_epub": ("ours: 1 section edited, `doit epub`", "a sentence appended to one section file, then `doit epub`"),
    "edit_all": ("ours: 1 section edited, `doit`", "another sentence appended, then `doit`"),
    "preview": ("ours: `doit preview section=N`", "after the builds above"),
    "preview_watch": ("ours: preview again after a save, `watch=1`",
                      "`doit preview section=N watch=1` left running: from saving an edit of the section to its new preview (three saves)"),
}
PANDOC = {
    "pandoc_epub": ("Pandoc: Markdown → EPUB", "`pandoc book.md --toc -o book.epub`"),
    "pandoc_html": ("Pandoc: Markdown → standalone HTML", "`pandoc book.md -s --toc -c page.css -o book.html`"),
    "weasyprint": ("WeasyPrint alone on Pandoc's HTML", "`weasyprint book.html book.pdf` (6 × 9 in via page.css)"),
    "pandoc_weasyprint": ("Pandoc → HTML → WeasyPrint PDF", "the two rows above, one after the other (times added, peak = larger)"),
}
LABELS = {key: value for key, value in {**OURS, **PANDOC}.items()}


@dataclass
class Sample:
    seconds: float
    rss_mib: float
    ok: bool
    pages: int | None = None
    ran: list[str] = field(default_factory=list)       # doit tasks executed (". name")
    up_to_date: list[str] = field(default_factory=list)  # doit tasks skipped ("-- name")
    log: str = ""
    derived: bool = False


# --------------------------------------------------------------------------- measuring

def measured(command: list[str], log: Path, cwd: Path, env: dict) -> Sample:
    """Run ``command``; wall time, peak RSS of its process tree, exit status; output to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        out.write(("$ " + " ".join(command) + "\n").encode())
        out.flush()
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    return Sample(seconds=seconds, rss_mib=usage.ru_maxrss / 1024, ok=process.returncode == 0,
                  ran=re.findall(r"^\.  (\S+)", text, re.M), up_to_date=re.findall(r"^-- (\S+)", text, re.M),
                  log=str(log))


def watched_refreshes(command: list[str], log: Path, cwd: Path, env: dict, edited: Path, original: bytes,
                      saves: int = 3) -> list[Sample]:
    """Run a watching preview (``command``), save ``saves`` edits of ``edited`` one after the other,
    and time each from the save to the preview's line saying it previewed again (its polling
    included: what a maintainer waits). Each sample has the process's peak RSS, taken at its end
    (Ctrl-C)."""
    import queue
    import signal
    import threading

    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()

        def wait_for(text: str) -> bool:
            while True:
                try:
                    line = lines.get(timeout=300)
                except queue.Empty:
                    return False
                out.write(line)
                if text in line:
                    return True

        seconds, ok = [], wait_for("Ctrl-C stops")
        try:
            for save in range(saves if ok else 0):
                started = time.perf_counter()
                edited.write_bytes(original + f"The benchmark saved this while the preview watched ({save}).\n".encode())
                ok = wait_for("previewed Section")
                if not ok:
                    break
                seconds.append(time.perf_counter() - started)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                _, status, usage = os.wait4(process.pid, 0)
            finally:
                edited.write_bytes(original)
        ok = ok and os.waitstatus_to_exitcode(status) == 0
    return [Sample(seconds=value, rss_mib=usage.ru_maxrss / 1024, ok=ok, ran=["preview"], log=str(log))
            for value in seconds] or [Sample(seconds=float("nan"), rss_mib=usage.ru_maxrss / 1024, ok=False, log=str(log))]


def pdf_pages(path: Path) -> int | None:
    if not path.exists():
        return None
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return len(document)
    finally:
        document.close()


def log_tail(path: str, lines: int = 12) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------- the run

class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.repo = Path(args.repo).resolve()
        self.work = Path(args.workdir).resolve() if args.workdir else Path(tempfile.mkdtemp(prefix="hp-bench-"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.snapshot = self.work / "snapshot"
        self.results: dict[int, dict[str, list[Sample]]] = {}
        self.facts: dict[int, dict] = {}
        self.profiles: list[dict] = []
        self.started = time.perf_counter()
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = str(self.snapshot / "src") + os.pathsep + self.env.get("PYTHONPATH", "")
        self.env.pop("SOURCE_DATE_EPOCH", None)
        self.env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.pandoc = args.pandoc or self._find_pandoc()
        self.tasks: list[str] = []
        # The code measured is the working tree now (the snapshot), whatever is committed later.
        head = subprocess.run(["git", "-C", str(self.repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(self.repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.splitlines()
        self.code_measured = head + (f" plus uncommitted changes to {len(dirty)} tracked file(s)" if dirty else "")

    # -- set-up

    @staticmethod
    def _find_pandoc() -> str:
        try:
            import pypandoc
        except ImportError:
            sys.exit("Pandoc is needed: pip install -r benchmarks/requirements.txt (pypandoc-binary ships it), "
                     "or pass --pandoc PATH")
        return pypandoc.get_pandoc_path()

    def say(self, message: str) -> None:
        elapsed = time.perf_counter() - self.started
        print(f"[{elapsed / 60:5.1f} min] {message}", flush=True)

    def take_snapshot(self) -> None:
        if self.snapshot.exists():
            shutil.rmtree(self.snapshot)
        self.snapshot.mkdir()
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        shutil.copy2(self.repo / "dodo.py", self.snapshot / "dodo.py")
        for folder in ("src", "templates", "styles"):
            shutil.copytree(self.repo / folder, self.snapshot / folder, ignore=ignore)
        # Compiled once, as a checkout's first run leaves it (and as pip leaves WeasyPrint and
        # Pandoc's side): every measured command reads the bytecode and writes none.
        compiled = subprocess.run([sys.executable, "-m", "compileall", "-q", str(self.snapshot / "src"),
                                   str(self.snapshot / "dodo.py")], capture_output=True, text=True)
        if compiled.returncode != 0:
            sys.exit(f"could not compile the snapshot: {compiled.stdout}{compiled.stderr}")
        probe = subprocess.run([sys.executable, "-c", "import handbook_press; print(handbook_press.__file__)"],
                               env=self.env, capture_output=True, text=True, cwd=self.work)
        if not probe.stdout.strip().startswith(str(self.snapshot)):
            sys.exit(f"the snapshot's handbook_press is not the one imported: {probe.stdout or probe.stderr}")

    def doit(self, db: Path, build: Path, content: Path, *tasks: str) -> list[str]:
        db.parent.mkdir(parents=True, exist_ok=True)
        # --continue: a task that fails (say, preflight) does not hide the time of the tasks after it.
        return [sys.executable, "-m", "doit", "-f", str(self.snapshot / "dodo.py"), "--db-file", str(db), "--continue", *tasks,
                f"content={content}", f"build={build}", f"profile={self.print_profile}"]

    def detect_tasks(self, content: Path) -> list[str]:
        result = subprocess.run([sys.executable, "-m", "doit", "list", "-f", str(self.snapshot / "dodo.py"),
                                 "--db-file", str(self.work / "list.db"), f"content={content}",
                                 f"build={self.work / 'list-build'}"],
                                env=self.env, capture_output=True, text=True, cwd=self.work)
        return [line.split()[0] for line in result.stdout.splitlines() if line.strip()]

    def profile_for(self, scale: int) -> str:
        if self.args.print_profile != "auto":
            return self.args.print_profile
        return "kdp" if scale * PAGES_PER_SCALE <= KDP_MAX_PAGES else "ingramspark"

    def repeats_for(self, scale: int) -> int:
        if self.args.repeat:
            counts = [int(n) for n in str(self.args.repeat).split(",")]
            scales = [int(n) for n in self.args.scales.split(",")]
            return counts[scales.index(scale)] if len(counts) > 1 else counts[0]
        return 1 if scale >= 50 else 3

    # -- one scale

    def prepare(self, scale: int) -> tuple[Path, Path]:
        folder = self.work / f"x{scale}"
        content = folder / "content"
        summary = scaledbook.make_scaled_content(self.repo / self.args.content, content, scale)
        pandoc_dir = folder / "pandoc"
        pandoc_dir.mkdir(parents=True, exist_ok=True)
        (pandoc_dir / "book.md").write_text(scaledbook.pandoc_markdown(content), encoding="utf-8")
        (pandoc_dir / "page.css").write_text(PAGE_CSS.replace("FONTS_CSS", (self.snapshot / "styles" / "fonts.css").as_uri()),
                                             encoding="utf-8")
        summary["markdown_bytes"] = sum(p.stat().st_size for p in content.rglob("*.md"))
        summary["print_profile"] = self.profile_for(scale)
        self.facts[scale] = summary
        return content, pandoc_dir

    def add(self, scale: int, key: str, sample: Sample) -> None:
        self.results.setdefault(scale, {}).setdefault(key, []).append(sample)
        status = "ok" if sample.ok else "FAILED"
        extra = f", {sample.pages} pages" if sample.pages else ""
        ran = f", ran {' '.join(sample.ran)}" if sample.ran or sample.up_to_date else ""
        self.say(f"x{scale} {key}: {sample.seconds:.2f} s, {sample.rss_mib:.0f} MiB{extra}{ran} [{status}]")

    def run_scale(self, scale: int) -> None:
        self.print_profile = self.profile_for(scale)
        content, pandoc_dir = self.prepare(scale)
        facts = self.facts[scale]
        self.say(f"x{scale}: {facts['sections']} sections, {facts['chapters']} chapters, "
                 f"{facts['prose_words']} prose words; print profile {self.print_profile}")
        sections = sorted((content / "sections").glob("*.md"))
        import yaml

        order = [entry["file"] for entry in yaml.safe_load((content / "handbook.yaml").read_text())["sections"]]
        section_number = min(self.args.section, len(order))
        edited = content / order[section_number - 1]
        original = edited.read_bytes()
        slug = yaml.safe_load((content / "handbook.yaml").read_text())["slug"]
        logs = self.work / "logs" / f"x{scale}"
        for repeat in range(1, self.repeats_for(scale) + 1):
            run = self.work / f"x{scale}" / f"run{repeat}"
            if run.exists():
                shutil.rmtree(run)
            self.say(f"x{scale} repeat {repeat}/{self.repeats_for(scale)}")

            # A: the reading PDF alone in a fresh folder, then the print step and the EPUB step alone.
            a = run / "a"
            sample = measured(self.doit(a / "db", a / "build", content, "pdf"), logs / f"{repeat}-pdf.log", self.work, self.env)
            sample.pages = pdf_pages(a / "build" / f"{slug}.pdf")
            self.add(scale, "pdf", sample)
            if "print" in self.tasks:
                sample = measured(self.doit(a / "db", a / "build", content, "print"), logs / f"{repeat}-print.log",
                                  self.work, self.env)
                sample.pages = pdf_pages(a / "build" / f"{slug}-print.pdf")
                self.add(scale, "print", sample)
            sample = measured(self.doit(a / "db", a / "build", content, "epub"), logs / f"{repeat}-epub.log", self.work, self.env)
            self.add(scale, "epub", sample)
            shutil.rmtree(a, ignore_errors=True)

            # The EPUB from scratch: its page map lays the book out (no PDF drawn or written).
            c = run / "c"
            sample = measured(self.doit(c / "db", c / "build", content, "epub"), logs / f"{repeat}-epub-cold.log",
                              self.work, self.env)
            self.add(scale, "epub_cold", sample)
            shutil.rmtree(c, ignore_errors=True)

            # B: the whole default build cold, a no-op, edits, a preview.
            b = run / "b"
            sample = measured(self.doit(b / "db", b / "build", content), logs / f"{repeat}-cold.log", self.work, self.env)
            sample.pages = pdf_pages(b / "build" / f"{slug}.pdf")
            self.add(scale, "cold", sample)
            sample = measured(self.doit(b / "db", b / "build", content), logs / f"{repeat}-noop.log", self.work, self.env)
            self.add(scale, "noop", sample)
            try:
                edited.write_bytes(original + f"The benchmark appended this sentence (edit 1 of run {repeat}).\n".encode())
                sample = measured(self.doit(b / "db", b / "build", content, "epub"), logs / f"{repeat}-edit-epub.log",
                                  self.work, self.env)
                self.add(scale, "edit_epub", sample)
                if repeat <= self.args.edit_all_repeats:
                    edited.write_bytes(original + f"The benchmark appended this sentence (edit 2 of run {repeat}).\n".encode())
                    sample = measured(self.doit(b / "db", b / "build", content), logs / f"{repeat}-edit-all.log",
                                      self.work, self.env)
                    sample.pages = pdf_pages(b / "build" / f"{slug}.pdf")
                    self.add(scale, "edit_all", sample)
                if "preview" in self.tasks:
                    sample = measured(self.doit(b / "db", b / "build", content, "preview", f"section={section_number}"),
                                      logs / f"{repeat}-preview.log", self.work, self.env)
                    previews = sorted((b / "build" / "preview").glob("*.pdf"))
                    sample.pages = pdf_pages(previews[0]) if previews else None
                    self.add(scale, "preview", sample)
                    for sample in watched_refreshes(self.doit(b / "db", b / "build", content, "preview",
                                                              f"section={section_number}", "watch=1"),
                                                    logs / f"{repeat}-preview-watch.log", self.work, self.env,
                                                    edited, original):
                        sample.pages = sample.pages or (pdf_pages(previews[0]) if previews else None)
                        self.add(scale, "preview_watch", sample)
            finally:
                edited.write_bytes(original)
            shutil.rmtree(b, ignore_errors=True)

            # Pandoc and WeasyPrint on the same handbook.
            p = run / "pandoc"
            p.mkdir(parents=True, exist_ok=True)
            shutil.copy2(pandoc_dir / "page.css", p / "page.css")
            sample = measured([self.pandoc, str(pandoc_dir / "book.md"), "--toc", "--toc-depth=2", "-o", str(p / "book.epub")],
                              logs / f"{repeat}-pandoc-epub.log", p, self.env)
            self.add(scale, "pandoc_epub", sample)
            html = measured([self.pandoc, str(pandoc_dir / "book.md"), "-s", "--toc", "--toc-depth=2", "-c", "page.css",
                             "-o", str(p / "book.html")], logs / f"{repeat}-pandoc-html.log", p, self.env)
            self.add(scale, "pandoc_html", html)
            weasy = measured([sys.executable, "-m", "weasyprint", str(p / "book.html"), str(p / "book.pdf")],
                             logs / f"{repeat}-weasyprint.log", p, self.env)
            weasy.pages = pdf_pages(p / "book.pdf")
            self.add(scale, "weasyprint", weasy)
            self.results[scale].setdefault("pandoc_weasyprint", []).append(Sample(
                html.seconds + weasy.seconds, max(html.rss_mib, weasy.rss_mib), html.ok and weasy.ok,
                pages=weasy.pages, derived=True))
            shutil.rmtree(run, ignore_errors=True)

    # -- profiling where a goal is not met

    def run_profiles(self, failing: list[tuple[str, str]]) -> None:
        """cProfile our slow step for each goal not met, at --profile-scale (x1 by default)."""
        scale = self.args.profile_scale or min(self.results)
        self.print_profile = self.profile_for(scale)
        content = self.work / f"x{scale}" / "content"
        if not content.exists():
            content, _ = self.prepare(scale)
        wanted: dict[str, list[str]] = {}
        for goal, step in failing:
            wanted.setdefault(step, []).append(goal)
        folder = self.work / "profile"
        import yaml

        order = [entry["file"] for entry in yaml.safe_load((content / "handbook.yaml").read_text())["sections"]]
        section_number = min(self.args.section, len(order))
        edited = content / order[section_number - 1]
        original = edited.read_bytes()

        def profiled(name: str, build_dir: Path, *tasks: str) -> None:
            out = folder / f"{name}.prof"
            command = self.doit(build_dir / "db", build_dir / "build", content, *tasks)
            command[1:3] = ["-m", "cProfile", "-o", str(out), "-m", "doit"]
            sample = measured(command, folder / f"{name}.log", self.work, self.env)
            self.say(f"profiled {name} at x{scale}: {sample.seconds:.1f} s under cProfile")
            self.profiles.append({"step": name, "goals": wanted[name], "scale": scale, "seconds": sample.seconds,
                                  "ok": sample.ok, "command": "python -m cProfile -o … -m doit " + (" ".join(tasks) or "(default tasks)"),
                                  "when": STEP_WHEN.get(name, ""),
                                  **profile_tables(out)})

        try:
            if "cold" in wanted:
                shutil.rmtree(folder / "cold", ignore_errors=True)
                profiled("cold", folder / "cold")
            if "epub" in wanted:
                d = folder / "epub"
                shutil.rmtree(d, ignore_errors=True)
                measured(self.doit(d / "db", d / "build", content, "pdf"), folder / "epub-pdf.log", self.work, self.env)
                profiled("epub", d, "epub")
            if {"noop", "edit_epub", "preview"} & set(wanted):
                d = folder / "b"
                shutil.rmtree(d, ignore_errors=True)
                measured(self.doit(d / "db", d / "build", content), folder / "b-cold.log", self.work, self.env)
                if "noop" in wanted:
                    profiled("noop", d)
                if "edit_epub" in wanted:
                    edited.write_bytes(original + b"The benchmark appended this sentence (profile).\n")
                    profiled("edit_epub", d, "epub")
                if "preview" in wanted:
                    profiled("preview", d, "preview", f"section={section_number}")
        finally:
            edited.write_bytes(original)


STEP_WHEN = {"cold": ", fresh build folder", "epub": ", page map present", "noop": ", nothing changed",
             "edit_epub": ", after one section was edited", "preview": ", after a full build"}


def profile_tables(path: Path, top: int = 25) -> dict:
    import pstats

    if not path.exists():
        return {"cumulative": [], "tottime": [], "total": None}
    stats = pstats.Stats(str(path))
    rows = []
    for (filename, line, function), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        name = filename
        for marker in ("site-packages/", "/snapshot/src/", "/lib/python3"):
            if marker in name:
                name = name.split(marker, 1)[1]
                break
        where = f"{name}:{line}({function})" if line else function
        if not _wrapper(where):
            rows.append((where, ncalls, tottime, cumtime))
    return {"total": stats.total_tt,
            "cumulative": sorted(rows, key=lambda r: -r[3])[:top],
            "tottime": sorted(rows, key=lambda r: -r[2])[:15]}


def _wrapper(where: str) -> bool:
    """Frames every profile shares (runpy, doit's runner, the import machinery's inner calls)."""
    if where.startswith(("doit/", "<frozen runpy>", "<string>")) or where == "<built-in method builtins.exec>":
        return True
    return "importlib" in where and not where.endswith("_find_and_load)")


PAGE_CSS = """\
/* 6 x 9 in pages for WeasyPrint on Pandoc's HTML, with the handbook's own fonts and body size. */
@import url("FONTS_CSS");
@page { size: 6in 9in; margin: 0.8in 0.6in 0.85in 0.75in;
        @bottom-center { content: counter(page); font: 9pt "Book Sans"; } }
@page :left { margin-left: 0.6in; margin-right: 0.75in; }
@page :right { margin-left: 0.75in; margin-right: 0.6in; }
html { font-family: "Book Serif"; font-size: 10.5pt; line-height: 1.4; hyphens: auto; }
body { margin: 0; padding: 0; max-width: none; font-size: 1em; }
h1 { break-before: right; }
nav#TOC { break-after: page; }
"""


# --------------------------------------------------------------------------- the report

def summary(samples: list[Sample]) -> dict | None:
    if not samples:
        return None
    times = [s.seconds for s in samples]
    pages = [s.pages for s in samples if s.pages]
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "rss": max(s.rss_mib for s in samples), "pages": pages[-1] if pages else None,
            "ok": all(s.ok for s in samples), "n": len(samples), "derived": any(s.derived for s in samples)}


def fmt_s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def tasks_ran(names: list[str]) -> str:
    """doit's task names in the order they ran, the subtasks of a group (sections:…) as one
    entry with their count when more than one ran."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name.split(":", 1)[0], []).append(name)
    return " ".join(members[0] if len(members) == 1 else f"{group} ×{len(members)}"
                    for group, members in groups.items())


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def ratio(a: dict | None, b: dict | None, what: str = "median") -> float | None:
    if not a or not b or not b[what] or not a["ok"] or not b["ok"]:
        return None
    return a[what] / b[what]


def paired_ratios(ours: list[Sample] | None, theirs: list[Sample] | None) -> list[float]:
    """Ours ÷ Pandoc's repeat by repeat: both were measured minutes apart in the same repeat, so a
    drift of the machine's speed between repeats cancels out of each ratio."""
    if not ours or not theirs:
        return []
    return [a.seconds / b.seconds for a, b in zip(ours, theirs) if a.ok and b.ok and b.seconds]


def fmt_time_ratio(value: float | None, pairs: list[float]) -> str:
    """The ratio of the medians, and with several repeats the spread and median of the paired ratios."""
    if value is None or len(pairs) < 2:
        return fmt_ratio(value)
    return (f"{fmt_ratio(value)} (repeat by repeat {min(pairs):.2f}–{max(pairs):.2f}×, "
            f"median {statistics.median(pairs):.2f}×)")


# Which Pandoc row each of our rows is compared with.
COMPARED = {"cold": "pandoc_weasyprint", "pdf": "pandoc_weasyprint", "epub": "pandoc_epub",
            "epub_cold": "pandoc_epub", "edit_epub": "pandoc_epub", "edit_all": "pandoc_weasyprint"}


def goals(bench: Bench) -> list[dict]:
    s = {scale: {key: summary(samples) for key, samples in rows.items()} for scale, rows in bench.results.items()}
    out = []

    def goal(name, scale, measured_text, target_text, met, step=None):
        out.append({"goal": name, "scale": scale, "measured": measured_text, "target": target_text,
                    "met": met, "step": step})

    def time_ratio(scale, ours, theirs) -> tuple[float | None, str]:
        r = ratio(s.get(scale, {}).get(ours), s.get(scale, {}).get(theirs))
        rows = bench.results.get(scale, {})
        return r, fmt_time_ratio(r, paired_ratios(rows.get(ours), rows.get(theirs)))

    for scale in (1, 10, 50):
        if scale not in s:
            goal("EPUB build ≤ 0.5 × Pandoc's EPUB time", scale, "not run", "≤ 0.50×", None)
            continue
        r, text = time_ratio(scale, "epub", "pandoc_epub")
        goal("EPUB build ≤ 0.5 × Pandoc's EPUB time (EPUB step, page map present)", scale, text, "≤ 0.50×",
             None if r is None else r <= 0.5, "epub")
        r, text = time_ratio(scale, "epub_cold", "pandoc_epub")
        goal("EPUB build ≤ 0.5 × Pandoc's EPUB time (from scratch: lays out the pages for its page list)", scale,
             text, "≤ 0.50×", None if r is None else r <= 0.5, "cold")
    if 50 in s:
        r = ratio(s[50].get("epub"), s[50].get("pandoc_epub"), "rss")
        goal("EPUB uses less memory than Pandoc (EPUB step)", 50, fmt_ratio(r), "< 1.00×", None if r is None else r < 1, "epub")
        r = ratio(s[50].get("epub_cold"), s[50].get("pandoc_epub"), "rss")
        goal("EPUB uses less memory than Pandoc (from scratch)", 50, fmt_ratio(r), "< 1.00×", None if r is None else r < 1, "cold")
    else:
        goal("EPUB uses less memory than Pandoc", 50, "not run", "< 1.00×", None)
    for scale in (1, 10):
        r, text = time_ratio(scale, "pdf", "pandoc_weasyprint")
        goal("Reading-edition PDF ≤ 1.0 × Pandoc → WeasyPrint", scale, text if scale in s else "not run",
             "≤ 1.00×", None if r is None else r <= 1.0, "cold")
    for scale in sorted(s):
        r, text = time_ratio(scale, "cold", "pandoc_weasyprint")
        goal("Whole default build ≤ 1.2 × Pandoc → WeasyPrint's single PDF", scale, text, "≤ 1.20×",
             None if r is None else r <= 1.2, "cold")
    for scale in sorted(s):
        noop, cold = s[scale].get("noop"), s[scale].get("cold")
        if noop and cold:
            share = noop["median"] / cold["median"]
            goal("`doit` with nothing changed: < 0.5 s and < 3 % of a cold build", scale,
                 f"{noop['median']:.2f} s, {share:.1%}", "< 0.5 s, < 3 %",
                 noop["ok"] and noop["median"] < 0.5 and share < 0.03, "noop")
    if 10 in s and s[10].get("edit_epub") and s[10].get("epub_cold"):
        share = s[10]["edit_epub"]["median"] / s[10]["epub_cold"]["median"]
        goal("One section edited: EPUB rebuilt in ≤ 20 % of its cold time", 10, f"{share:.0%}", "≤ 20 %",
             share <= 0.2, "edit_epub")
    else:
        goal("One section edited: EPUB rebuilt in ≤ 20 % of its cold time", 10, "not run", "≤ 20 %", None)
    if 1 in s and s[1].get("preview") and s[1].get("pdf"):
        share = s[1]["preview"]["median"] / s[1]["pdf"]["median"]
        goal("`doit preview section=N` ≤ 10 % of the full PDF's time", 1, f"{share:.0%}", "≤ 10 %",
             s[1]["preview"]["ok"] and share <= 0.1, "preview")
    else:
        goal("`doit preview section=N` ≤ 10 % of the full PDF's time", 1,
             "not run" if 1 not in s else "no `preview` task", "≤ 10 %", None)
    if 1 in s and s[1].get("preview_watch") and s[1].get("pdf"):
        share = s[1]["preview_watch"]["median"] / s[1]["pdf"]["median"]
        goal("the same, the preview left watching (`watch=1`): a saved edit previewed again", 1, f"{share:.0%}",
             "≤ 10 %", s[1]["preview_watch"]["ok"] and share <= 0.1)
    if 1 in s and 10 in s:
        for key in ("cold", "pdf", "epub"):
            a, b = s[10].get(key), s[1].get(key)
            if a and b:
                g = a["median"] / b["median"]
                goal(f"Growth: x10 ≤ 11 × x1 ({LABELS[key][0].removeprefix('ours: ')})", 10, f"{g:.1f}×", "≤ 11×",
                     a["ok"] and g <= 11, "cold")
    if 50 in s:
        cold = s[50].get("cold")
        goal("Growth: x50 finishes (peak memory reported)", 50,
             f"{'finished' if cold and cold['ok'] else 'FAILED'}, {cold['rss']:.0f} MiB" if cold else "not run",
             "finishes", bool(cold and cold["ok"]), None)
    else:
        goal("Growth: x50 finishes (peak memory reported)", 50, "not run", "finishes", None)
    return out


def machine_facts(bench: Bench) -> list[tuple[str, str]]:
    def cpu_model() -> str:
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return platform.processor() or "?"

    def memory() -> str:
        try:
            kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
            return f"{kib / 1024 / 1024:.1f} GiB"
        except (OSError, AttributeError):
            return "?"

    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    pandoc = subprocess.run([bench.pandoc, "--version"], capture_output=True, text=True).stdout.splitlines()
    return [
        ("date", bench.date),
        ("CPU", f"{os.cpu_count()} logical CPUs, {cpu_model()}"),
        ("memory", memory()),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("WeasyPrint", version("weasyprint")),
        ("Pandoc", f"{pandoc[0] if pandoc else '?'} (pypandoc-binary {version('pypandoc-binary')})"),
        ("doit", version("doit")),
        ("code measured", bench.code_measured + " (snapshot taken at the start)"),
        ("load average (1 min) at start / end", f"{bench.load_start:.2f} / {os.getloadavg()[0]:.2f}"),
    ]


def write_report(bench: Bench, path: Path, final: bool) -> None:
    s = {scale: {key: summary(samples) for key, samples in rows.items()} for scale, rows in bench.results.items()}
    lines = ["# Benchmarks", ""]
    lines += [f"Produced by `{bench.command}` ({'complete' if final else 'in progress'}; "
              f"{(time.perf_counter() - bench.started) / 60:.0f} min). How to run it and what each row means: "
              "[benchmarks/README.md](benchmarks/README.md).", ""]
    lines += ["## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in machine_facts(bench)]
    lines += ["", "Other people's tests may have shared the machine's cores during the run (see the load average): "
              "the min–max spread shows how much that moved the numbers.", ""]
    lines += ["## Method", "",
              "- Scaled handbooks are generated from `content/` in a temporary folder (`benchmarks/scaledbook.py`): "
              f"x1 is the real outline plus {scaledbook.WORDS_PER_CHAPTER} words of seeded prose per chapter "
              "(built from the handbook's own words, after a blank line below the topic lines); xN repeats it N times "
              "with distinct section titles, slugs and chapter titles (\", Part k\"). Chapters are numbered 1, 2, 3… "
              "in reading order. Pandoc gets the same book as one Markdown file (sections `#`, chapters `##`, "
              "topics as list items, prose as is).",
              "- Time is wall time of the whole command (Python start-up and doit included); memory is the peak "
              "resident set of the command's process tree (`os.wait4` → `ru_maxrss`, as GNU `time -v`). Median "
              "and min–max over the repeats; peak memory is the largest seen.",
              "- Our commands run `python -m doit -f dodo.py --db-file <temp> --continue … content=<temp> build=<temp> "
              "profile=<print profile>`. Rows marked *derived* are sums of measured rows (see README).",
              "- Ratios are ours ÷ Pandoc's medians: EPUB rows against Pandoc's EPUB, PDF rows against "
              "Pandoc → HTML → WeasyPrint.", ""]
    if bench.tasks:
        lines += [f"Tasks found in dodo.py: {', '.join(f'`{t}`' for t in bench.tasks)}."
                  + ("" if "preview" in bench.tasks else " There is no `preview` task: its row is skipped.")
                  + ("" if "print" in bench.tasks else " There is no separate `print` task (the PDF task writes both PDFs)."), ""]

    for scale in sorted(s):
        f = bench.facts.get(scale, {})
        rows = s[scale]
        lines += [f"## x{scale}", ""]
        lines += [f"{f.get('sections')} sections, {f.get('chapters')} chapters, {f.get('prose_words', 0):,} words of "
                  f"generated prose, {f.get('markdown_bytes', 0) / 1024:,.0f} KiB of Markdown; print profile "
                  f"`{f.get('print_profile')}`"
                  + (" (KDP, doit's default, refuses more than 828 pages at 6 × 9 in)" if f.get("print_profile") != "kdp"
                     and bench.args.print_profile == "auto" else "") + ".", ""]
        lines += ["| measurement | runs | median s | min–max s | peak MiB | pages | ours ÷ Pandoc (time) | ours ÷ Pandoc (memory) |",
                  "|---|---|---|---|---|---|---|---|"]
        for key in list(OURS) + list(PANDOC):
            row = rows.get(key)
            if not row:
                continue
            label = LABELS[key][0] + (" *(derived)*" if row["derived"] else "") + ("" if row["ok"] else " **FAILED**")
            other = rows.get(COMPARED.get(key, ""))
            lines.append(f"| {label} | {row['n']} | {fmt_s(row['median'])} | {fmt_s(row['min'])}–{fmt_s(row['max'])} | "
                         f"{row['rss']:.0f} | {row['pages'] or '—'} | {fmt_ratio(ratio(row, other))} | "
                         f"{fmt_ratio(ratio(row, other, 'rss'))} |")
        lines.append("")
        ran = {key: sorted({tasks_ran(sample.ran) for sample in bench.results[scale].get(key, []) if not sample.derived})
               for key in ("pdf", "print", "epub", "cold", "noop", "edit_epub", "edit_all", "preview")}
        lines += ["Tasks each doit command executed (doit's `.  name` lines): "
                  + "; ".join(f"{LABELS[key][0].removeprefix('ours: ')} → {' / '.join(v) or 'none'}"
                              for key, v in ran.items() if bench.results[scale].get(key)) + ".", ""]

    if 1 in s and len(s) > 1:
        lines += ["## Growth", "", "Median time at each scale ÷ median time at x1.", "",
                  "| measurement | " + " | ".join(f"x{scale}" for scale in sorted(s) if scale != 1) + " |",
                  "|---|" + "---|" * (len(s) - 1)]
        for key in list(OURS) + list(PANDOC):
            if not s[1].get(key):
                continue
            cells = []
            for scale in sorted(s):
                if scale == 1:
                    continue
                a, b = s[scale].get(key), s[1][key]
                cells.append(f"{a['median'] / b['median']:.1f}×" if a and b and b["median"] else "—")
            lines.append(f"| {LABELS[key][0]} | " + " | ".join(cells) + " |")
        lines.append("")

    lines += ["## Goals", "", "From issue 7, item 1. *Met* is judged on the medians. With several repeats, a time ratio also "
              "shows ours ÷ Pandoc's within each repeat (measured minutes apart, so that the machine's "
              "drift between repeats cancels): a goal whose paired ratios fall on both sides of its line "
              "is on the line.", "",
              "| goal | scale | measured | target | |", "|---|---|---|---|---|"]
    for g in goals(bench):
        verdict = {True: "met", False: "**not met**", None: "not measured"}[g["met"]]
        lines.append(f"| {g['goal']} | x{g['scale']} | {g['measured']} | {g['target']} | {verdict} |")
    lines.append("")

    gaps = HERE / "gaps.md"
    if gaps.exists() and any(g["met"] is False for g in goals(bench)):
        # Written by people from earlier runs' profiles, not measured here: read it beside the table above.
        lines += ["## What would close the gaps", "",
                  "From [benchmarks/gaps.md](benchmarks/gaps.md), written from the profiles of this "
                  "and earlier runs; the numbers above are this run's.", "",
                  gaps.read_text(encoding="utf-8").strip(), ""]

    issues = observed_issues(bench)
    if issues:
        lines += ["## What the runs showed about the build", ""] + [f"- {issue}" for issue in issues] + [""]

    if bench.profiles:
        lines += ["## Where the time goes (cProfile)", "",
                  "Run because the goals named below were not met (`--profile`). cProfile slows Python code down, "
                  "so read the shares, not the seconds.", ""]
        for p in bench.profiles:
            lines += [f"### `{p['command']}` at x{p['scale']}{p.get('when', '')}", "",
                      f"For: {'; '.join(sorted(set(p['goals'])))}. {p['seconds']:.1f} s under cProfile"
                      + ("" if p["ok"] else " (the command FAILED)") + ".", "",
                      "Top functions by cumulative time:", "", "```",
                      f"{'cumulative s':>12} {'own s':>8} {'calls':>9}  function"]
            lines += [f"{c:12.2f} {t:8.2f} {n:9d}  {w}" for w, n, t, c in p["cumulative"]]
            lines += ["```", "", "Top functions by own time:", "", "```",
                      f"{'own s':>8} {'cumulative s':>12} {'calls':>9}  function"]
            lines += [f"{t:8.2f} {c:12.2f} {n:9d}  {w}" for w, n, t, c in p["tottime"]]
            lines += ["```", ""]

    failures = [(scale, key, sample) for scale, rows in bench.results.items() for key, samples in rows.items()
                for sample in samples if not sample.ok and not sample.derived]
    if failures:
        lines += ["## Failed commands", ""]
        for scale, key, sample in failures[:8]:
            lines += [f"x{scale} {LABELS[key][0]} (log `{sample.log}`):", "", "```", log_tail(sample.log), "```", ""]
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def observed_issues(bench: Bench) -> list[str]:
    notes = []
    for scale, rows in sorted(bench.results.items()):
        for sample in rows.get("noop", []):
            if sample.ran:
                notes.append(f"x{scale}: `doit` with nothing changed still executed {', '.join(f'`{t}`' for t in sample.ran)} "
                             f"({sample.seconds:.2f} s).")
                break
        for key, alone in (("epub", "epub"), ("print", "print")):
            for sample in rows.get(key, []):
                extra = [t for t in sample.ran if t != alone]
                if extra:
                    notes.append(f"x{scale}: `doit {alone}` right after `doit pdf` also executed "
                                 f"{', '.join(f'`{t}`' for t in extra)}.")
                    break
        for sample in rows.get("edit_epub", []):
            if "pdf" in sample.ran:
                notes.append(f"x{scale}: after one section was edited, `doit epub` executed {', '.join(f'`{t}`' for t in sample.ran)}: "
                             "the EPUB waited for the whole PDF to be laid out again, so an edit cost a full PDF build.")
                break
        for key in rows:
            if any(not x.ok for x in rows[key] if not x.derived):
                notes.append(f"x{scale}: {LABELS[key][0]} failed (see “Failed commands”).")
    return notes


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,10,50", help="comma-separated scales (default 1,10,50)")
    parser.add_argument("--repeat", default="",
                        help="runs of each measurement: N, or one N per scale (3,1,1); "
                             "default 3 at scales below 50, 1 at 50 and above")
    parser.add_argument("--out", default="BENCHMARKS.md", help="the report, relative to the repository (default BENCHMARKS.md)")
    parser.add_argument("--profile", action="store_true", help="cProfile our slow step for each goal not met")
    parser.add_argument("--profile-scale", type=int, default=0, help="scale to profile at (default: the smallest run)")
    parser.add_argument("--print-profile", default="auto",
                        help="print profile passed as profile=NAME; auto: kdp when ~108 × scale pages fit KDP's 828, else ingramspark")
    parser.add_argument("--section", type=int, default=4, help="the section edited and previewed (default 4)")
    parser.add_argument("--edit-all-repeats", type=int, default=1,
                        help="repeats that also run the whole `doit` after an edit (default 1: it is a full rebuild, "
                             "no goal depends on it)")
    parser.add_argument("--content", default="content", help="the content folder to scale (default content)")
    parser.add_argument("--repo", default=str(HERE.parent), help=argparse.SUPPRESS)
    parser.add_argument("--pandoc", default=None, help="the pandoc binary (default: pypandoc.get_pandoc_path())")
    parser.add_argument("--workdir", default=None, help="work here instead of a new temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, content, profiles)")
    parser.add_argument("--json", default=None, help="also write every sample to this JSON file")
    args = parser.parse_args(argv)
    scales = [int(x) for x in args.scales.split(",") if x.strip()]

    bench = Bench(args)
    bench.command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    bench.date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    bench.load_start = os.getloadavg()[0]
    out = Path(args.out)
    out = out if out.is_absolute() else bench.repo / out
    bench.say(f"working in {bench.work}; report: {out}")
    try:
        bench.take_snapshot()
        bench.print_profile = bench.profile_for(min(scales))
        bench.tasks = bench.detect_tasks(bench.repo / args.content)
        bench.say(f"doit tasks: {', '.join(bench.tasks)}")
        for scale in scales:
            bench.run_scale(scale)
            write_report(bench, out, final=False)
        if args.profile:
            failing = [(g["goal"], g["step"]) for g in goals(bench) if g["met"] is False and g["step"]]
            if failing:
                bench.run_profiles(failing)
        write_report(bench, out, final=True)
        if args.json:
            Path(args.json).write_text(json.dumps({str(k): {key: [asdict(x) for x in v] for key, v in rows.items()}
                                                   for k, rows in bench.results.items()}, indent=1))
        bench.say(f"wrote {out}")
    finally:
        if not args.keep:
            shutil.rmtree(bench.work, ignore_errors=True)
        else:
            bench.say(f"kept {bench.work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
