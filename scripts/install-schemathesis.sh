#!/usr/bin/env bash
# Installs Schemathesis, the property-based API tester the `api_fuzz` e2e test drives, into a
# virtual environment under .tools/ (ignored by git), pinned, and only when it is missing or at
# another version. Needs python3 (3.9 or later) with venv; downloads only from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
VENV=.tools/schemathesis

say() { printf '  [schemathesis] %s\n' "$*" >&2; }

if [ "$("$VENV/bin/schemathesis" --version 2>/dev/null | awk '{print $NF}')" = "$SCHEMATHESIS_VERSION" ]; then
  exit 0
fi
if ! command -v python3 >/dev/null; then
  say "python3 not found: install Python 3.9 or later (Debian: python3 python3-venv)"; exit 1
fi
if [ ! -x "$VENV/bin/pip" ]; then
  say "creating a virtual environment in $VENV"
  python3 -m venv "$VENV" || { say "python3 -m venv failed (Debian: apt-get install python3-venv)"; exit 1; }
fi
say "installing schemathesis $SCHEMATHESIS_VERSION from PyPI"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
