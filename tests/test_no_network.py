"""Nothing is fetched: not by the reader, not by WeasyPrint, not by the EPUB writer.

A local HTTP server (127.0.0.1, an ephemeral port, in a thread) counts the
requests it gets. Sources whose prose embeds images from it and links to it
are built through the command line; the server must receive nothing, and
the images must be refused with a located `path:line: error[remote-image]`.
Links stay links (a link is not fetched) and the books build.
"""

from __future__ import annotations

import http.server
import threading
import zipfile
from pathlib import Path

import pypdf
import pytest
from weasyprint import HTML

from handbook_press.pdf import ConfinedURLFetcher

from .bad_input_helpers import printed_messages
from .books import open_epub
from .conftest import run_doit

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000105fe02fea70000000049454e44ae426082")

HANDBOOK = """\
title: Offline Handbook
slug: offline
language: en
identifier: urn:uuid:00000000-0000-4000-8000-0000000000cd
about: "See {base}/about (never fetched)."
review_date: 2025-05
sections:
  - file: sections/net.md
    title: Net
"""


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every request with a PNG, and records it."""

    requests: list[str]

    def _answer(self):
        self.requests.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(PNG)

    do_GET = do_HEAD = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """(base URL, list of requests received); the server stops with the test."""
    requests: list[str] = []
    handler = type("Handler", (Recorder,), {"requests": requests, "timeout": 5})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def test_the_server_answers_when_asked(server):
    """The counter works: a real request is seen."""
    import urllib.request

    base, requests = server
    with urllib.request.urlopen(f"{base}/probe.png", timeout=5) as response:
        assert response.read() == PNG
    assert requests == ["GET /probe.png"]
    requests.clear()


def write_content(root: Path, base: str, with_images: bool) -> Path:
    content = root / "content"
    (content / "sections").mkdir(parents=True)
    (content / "handbook.yaml").write_text(HANDBOOK.format(base=base), encoding="utf-8")
    lines = [
        "---", 'title: "Net"', f'description: "<img src=\'{base}/front-matter.png\'>"', "---",  # 1-4
        "Chapter 1: Links and Images",                                                          # 5
        f"![in a topic line]({base}/topic.png)",                                               # 6
        f"Tools: {base}/tool",                                                                  # 7
        "",                                                                                     # 8
        f"A [link]({base}/page), an autolink <{base}/auto> and a [reference][r].",              # 9
        f"<img src=\"{base}/raw-html.png\"> <link rel=stylesheet href=\"{base}/x.css\">",       # 10
        "",                                                                                     # 11
        f"[r]: {base}/reference",                                                               # 12
    ]
    if with_images:
        lines += [
            "",                                                                                 # 13
            f"An image: ![remote]({base}/image.png)",                                           # 14
            "",                                                                                 # 15
            "Second paragraph, first line,",                                                    # 16
            "and an image on its second line ![https](https://127.0.0.1:1/x.png).",            # 17
            "",                                                                                 # 18
            "![ref image][img]",                                                               # 19
            "",                                                                                 # 20
            f"[img]: {base}/reference-image.png",                                               # 21
        ]
    (content / "sections" / "net.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return content


def test_remote_images_are_refused_and_never_fetched(tmp_path, server):
    base, requests = server
    content = write_content(tmp_path, base, with_images=True)
    build = tmp_path / "build"
    build.mkdir()
    (build / "offline.pdf").write_bytes(b"%PDF old")
    for task in ("check", "pdf", "epub"):
        result = run_doit(task, f"content={content}", f"build={build}", cwd=tmp_path)
        output = result.stdout + result.stderr
        assert result.returncode != 0, output
        assert "Traceback" not in output
        errors = {(m["location"], m["code"]) for m in printed_messages(output) if m["severity"] == "error"}
        assert errors == {("content/sections/net.md:14", "remote-image"),
                          ("content/sections/net.md:17", "remote-image"),
                          ("content/sections/net.md:19", "remote-image")}, output
        assert "the build never fetches URLs" in output
    assert requests == []
    # cache/ holds the section tasks' working state (what they read, problems included)
    assert sorted(p.name for p in build.iterdir() if p.name != "cache") == ["offline.pdf"]
    assert (build / "offline.pdf").read_bytes() == b"%PDF old"


def test_links_build_and_are_never_fetched(tmp_path, server):
    """Without images the books build (PDF and EPUB); links to the server stay links, unfetched."""
    base, requests = server
    content = write_content(tmp_path, base, with_images=False)
    build = tmp_path / "build"
    result = run_doit("pdf", "epub", f"content={content}", f"build={build}", cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    assert requests == []

    # The PDF keeps the links as link annotations (which a reader may follow; the build did not).
    reader = pypdf.PdfReader(build / "offline.pdf")
    uris = {annotation.get_object().get("/A", {}).get("/URI") for page in reader.pages
            for annotation in page.get("/Annots", [])}
    assert {f"{base}/page", f"{base}/auto", f"{base}/reference"} <= uris
    book = open_epub(build / "offline.epub")
    text = book.text()
    assert f"![in a topic line]({base}/topic.png)" in text  # a topic line is text
    assert f"<img src=\"{base}/raw-html.png\">" in text  # raw HTML is text
    hrefs = {a.get("href") for _, doc in book.spine_documents() for a in doc.iter("{http://www.w3.org/1999/xhtml}a")}
    assert {f"{base}/page", f"{base}/auto", f"{base}/reference"} <= hrefs
    with zipfile.ZipFile(build / "offline.epub") as epub:
        for name in epub.namelist():
            assert base.encode() not in epub.read(name) or name.endswith((".xhtml", ".opf", ".ncx")), name
        srcs = [img.get("src") for _, doc in book.spine_documents()
                for img in doc.iter("{http://www.w3.org/1999/xhtml}img")]
        assert not [src for src in srcs if src and src.startswith(("http:", "https:", "//"))]


# --- the PDF renderer's URL fetcher ---------------------------------------------------

@pytest.fixture
def roots(tmp_path):
    inside = tmp_path / "project"
    (inside / "images").mkdir(parents=True)
    (inside / "images" / "ok.png").write_bytes(PNG)
    (tmp_path / "secret.txt").write_text("outside the project")
    (inside / "images" / "link.png").symlink_to(tmp_path / "secret.txt")
    return inside


def test_fetcher_serves_files_inside_its_roots(roots):
    fetcher = ConfinedURLFetcher([roots])
    response = fetcher.fetch((roots / "images" / "ok.png").as_uri())
    assert fetcher.refused == []
    assert response is not None


@pytest.mark.parametrize("make_url", [
    lambda base, root: f"{base}/x.png",
    lambda base, root: f"{base.replace('http:', 'https:')}/x.png",
    lambda base, root: "file:///etc/passwd",
    lambda base, root: (root.parent / "secret.txt").as_uri(),
    lambda base, root: root.as_uri() + "/../secret.txt",
    lambda base, root: root.as_uri() + "/images/%2e%2e/%2e%2e/secret.txt",
    lambda base, root: (root / "images" / "link.png").as_uri(),  # a symbolic link out of the project
    lambda base, root: "file://127.0.0.1" + str(root / "images" / "ok.png"),  # a file URL with a host
    lambda base, root: (root / "images" / "missing.png").as_uri(),
    lambda base, root: "data:image/png;base64,iVBORw0KGgo=",
    lambda base, root: "ftp://127.0.0.1/x.png",
], ids=["http", "https", "etc-passwd", "outside", "dot-dot", "encoded-dot-dot", "symlink", "host", "missing",
        "data", "ftp"])
def test_fetcher_refuses_everything_else(roots, server, make_url):
    base, requests = server
    url = make_url(base, roots)
    fetcher = ConfinedURLFetcher([roots])
    with pytest.raises(ValueError, match="refused to fetch"):
        fetcher.fetch(url)
    assert fetcher.refused == [url]
    assert requests == []


def test_fetcher_refuses_a_name_too_long(roots):
    fetcher = ConfinedURLFetcher([roots])
    url = roots.as_uri() + "/" + "a" * 300 + ".png"
    with pytest.raises(ValueError, match="refused to fetch"):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_weasyprint_with_the_fetcher_fetches_nothing(roots, server):
    """The fetcher as WeasyPrint uses it: images, stylesheets, fonts and @imports from the server are refused."""
    base, requests = server
    html = f"""<html><head>
      <link rel="stylesheet" href="{base}/style.css">
      <style>@import url("{base}/import.css"); @font-face {{ font-family: X; src: url("{base}/font.woff2"); }}
             body {{ background: url("{base}/bg.png"); font-family: X; }}</style></head>
      <body><p>Offline</p><img src="{base}/image.png"><img src="file:///etc/passwd">
      <object data="{base}/object.svg"></object><img src="images/ok.png"></body></html>"""
    fetcher = ConfinedURLFetcher([roots])
    pdf = HTML(string=html, base_url=roots.as_uri() + "/", url_fetcher=fetcher).write_pdf()
    assert pdf.startswith(b"%PDF")
    assert requests == []
    assert {f"{base}/image.png", f"{base}/style.css", "file:///etc/passwd"} <= set(fetcher.refused)
    assert not [url for url in fetcher.refused if url.endswith("ok.png")]
