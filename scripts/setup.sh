#!/usr/bin/env bash
# Install everything the project needs into the checkout: a Python venv (.venv) with the
# package and its dev tools, and the npm packages in contracts/ (solc, OpenZeppelin, anvil,
# merkle-tree). Idempotent: re-running only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: Python >= 3.11 is required (found $("$PYTHON" --version 2>&1)); set PYTHON=..." >&2
    exit 2
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[dev]"
    touch "$stamp"
fi

if ! command -v npm >/dev/null; then
    echo "error: npm not found; install Node.js >= 18 with npm (Debian: apt-get install nodejs npm)" >&2
    exit 2
fi
npm_stamp=contracts/node_modules/.installed
if [ ! -f "$npm_stamp" ] || [ contracts/package-lock.json -nt "$npm_stamp" ]; then
    # npm ci rejects this lock (npm 11 omits the other platforms' optional anvil binaries from
    # it); install with the exact pinned versions of package.json and the lock, without saving.
    (cd contracts && npm install --no-audit --no-fund --no-save --loglevel=error)
    touch "$npm_stamp"
fi

# Chromium for the browser tests (tests/web): Debian's package, driven by Playwright through its
# executable path. Never `playwright install` (it downloads a browser from the internet).
if [ ! -x /usr/bin/chromium ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" -eq 0 ]; then
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
    else
        echo "error: /usr/bin/chromium is missing; the browser tests need it." >&2
        echo "  Debian/Ubuntu, as root: apt-get update && apt-get install -y chromium" >&2
        exit 2
    fi
fi
