"""The OpenZeppelin oracle: runs tests/merkle/oz_tree.mjs (StandardMerkleTree over
["uint8", "bytes32"]) under node on a batch of trees."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
OZ_SCRIPT = Path(__file__).with_name("oz_tree.mjs")
OZ_PACKAGE = REPO / "contracts" / "node_modules" / "@openzeppelin" / "merkle-tree"

OzCase = tuple[Sequence[bytes], Sequence[int], Sequence[int]]
"""A tree's digests, their leaf kinds (1 file, 2 record), and the indices to multiprove."""

OzTrees = Callable[[Sequence[OzCase]], list[dict[str, Any]]]


def hex32(value: bytes) -> str:
    """0x-hex as OZ prints it."""
    return "0x" + value.hex()


@pytest.fixture(scope="session")
def oz_trees() -> OzTrees:
    """Build trees with @openzeppelin/merkle-tree, many per node run (node start-up dominates).

    Fails, never skips, when node or the npm packages are missing: compatibility with OZ
    is the point of registry.merkle and must not silently go untested.
    """
    node = shutil.which("node")
    if node is None or not OZ_PACKAGE.is_dir():
        missing = "node" if node is None else str(OZ_PACKAGE.relative_to(REPO))
        pytest.fail(
            f"{missing} not found: the OpenZeppelin cross-check needs node and "
            "contracts/node_modules; run `bash scripts/setup.sh`",
            pytrace=False,
        )

    def run(cases: Sequence[OzCase]) -> list[dict[str, Any]]:
        request = [
            {
                "digests": [hex32(d) for d in digests],
                "kinds": list(kinds),
                "multiproof": list(indices),
            }
            for digests, kinds, indices in cases
        ]
        done = subprocess.run(
            [node, str(OZ_SCRIPT)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"oz_tree.mjs failed ({done.returncode}):\n{done.stderr}", pytrace=False)
        results: list[dict[str, Any]] = json.loads(done.stdout)
        return results

    return run
