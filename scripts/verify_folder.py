"""Kept for old habits: `registry verify-folder` does this (`registry verify-folder --help`).

The auditor's tools are `registry` subcommands now (registry export, registry verify-folder,
registry compare); this file runs the same command with the same options, e.g.
`.venv/bin/python scripts/verify_folder.py --help`.
"""

from __future__ import annotations

import sys

from registry.cli import main

if __name__ == "__main__":
    sys.argv = ["registry", "verify-folder", *sys.argv[1:]]
    main()
