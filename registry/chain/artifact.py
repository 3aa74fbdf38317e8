"""The committed RecordRegistry build artifact (ABI, bytecode, compiler, source hash)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Artifact:
    """ABI and bytecode of the registry contract, as compiled by scripts/build_contracts.py."""

    abi: list[dict[str, Any]]
    bytecode: str
    deployed_code_hash: bytes
    compiler: str
    source_hash: str


@cache
def registry_artifact() -> Artifact:
    """Load the artifact shipped inside the package (no compiler needed at install)."""
    text = resources.files("registry.contract_data").joinpath("RecordRegistry.json").read_text()
    data = json.loads(text)
    return Artifact(
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_code_hash=bytes.fromhex(data["deployedCodeHash"][2:]),
        compiler=data["compiler"]["version"],
        source_hash=data["sourceHash"],
    )
