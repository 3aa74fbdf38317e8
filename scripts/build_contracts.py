"""Compile contracts/RecordRegistry.sol into the committed artifact.

    python scripts/build_contracts.py           # write registry/contract_data/RecordRegistry.json
    python scripts/build_contracts.py --check   # rebuild and compare, exit 1 if different

The compiler version and optimizer settings are pinned below. A native `solc` of the pinned
version is used when one is on PATH or installed by py-solc-x; otherwise npm's `solc` (solcjs)
from contracts/node_modules. Every source, OpenZeppelin's included, is passed inline in the
standard-JSON input (solcjs refuses --allow-paths), so the compiler reads no files and the
output depends only on the sources hashed into `sourceHash`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import solcx
from solcx.exceptions import SolcError

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"
NODE_MODULES = CONTRACTS / "node_modules"
ARTIFACT = ROOT / "registry" / "contract_data" / "RecordRegistry.json"

CONTRACT = "RecordRegistry"
SOURCE = "RecordRegistry.sol"
SOLC_VERSION = "0.8.28"
SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 10_000},
    # Cancun: supported by eth-tester (py-evm), anvil and current consortium chains (Besu).
    "evmVersion": "cancun",
    "metadata": {"bytecodeHash": "ipfs"},
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}

_IMPORT = re.compile(r"""^\s*import\s+(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']\s*;""", re.MULTILINE)


class BuildError(Exception):
    """The contract could not be built; the message says what to do."""


def _read_unit(unit: str) -> str:
    """Read a source unit by its import name: local file or an npm package path."""
    local = CONTRACTS / unit
    if local.is_file() and not unit.startswith("@"):
        return local.read_text(encoding="utf-8")
    package = NODE_MODULES / unit
    if package.is_file():
        return package.read_text(encoding="utf-8")
    raise BuildError(
        f"cannot find Solidity source {unit!r}; run `bash scripts/setup.sh` "
        "(it runs npm install in contracts/)"
    )


def collect_sources() -> dict[str, str]:
    """Every source unit reachable from RecordRegistry.sol, by unit name."""
    sources: dict[str, str] = {}
    pending = [SOURCE]
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        text = _read_unit(unit)
        sources[unit] = text
        for target in _IMPORT.findall(text):
            if target.startswith("."):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(unit), target))
            pending.append(target)
    return dict(sorted(sources.items()))


def source_hash(sources: dict[str, str]) -> str:
    """SHA-256 over every unit name and content, in name order."""
    h = hashlib.sha256()
    for name, text in sorted(sources.items()):
        h.update(name.encode() + b"\0" + text.encode() + b"\0")
    return "0x" + h.hexdigest()


def _native_solc() -> Path | None:
    """A native solc of the pinned version, if one is installed."""
    try:
        for version in solcx.get_installed_solc_versions():
            if str(version) == SOLC_VERSION:
                return Path(solcx.get_executable(version))
    except SolcError:
        pass
    on_path = shutil.which("solc")
    if on_path:
        out = subprocess.run([on_path, "--version"], capture_output=True, text=True).stdout
        if f"Version: {SOLC_VERSION}+" in out:
            return Path(on_path)
    return None


def _solcjs() -> Path | None:
    path = NODE_MODULES / ".bin" / "solcjs"
    return path if path.exists() else None


def compile_registry() -> dict[str, Any]:
    """Compile and return the artifact dict (not yet written)."""
    sources = collect_sources()
    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": SETTINGS,
    }
    native = _native_solc()
    if native is not None:
        output = solcx.compile_standard(standard_input, solc_binary=native)
        compiler = f"solc {solcx.wrapper.get_solc_version(native, with_commit_hash=True)}"
    else:
        solcjs = _solcjs()
        if solcjs is None or shutil.which("node") is None:
            raise BuildError(
                f"no Solidity compiler: need native solc {SOLC_VERSION} or npm's solcjs; "
                "run `bash scripts/setup.sh` (installs contracts/node_modules)"
            )
        # stdin and stdout are regular files, not pipes: solcjs reads stdin with
        # readFileSync(0), which fails with EAGAIN on a pipe not yet filled, and exits before a
        # piped stdout is drained, truncating the output past 64 KiB.
        with (
            tempfile.TemporaryFile("w+", encoding="utf-8") as stdin,
            tempfile.TemporaryFile("w+", encoding="utf-8") as stdout_file,
        ):
            json.dump(standard_input, stdin)
            stdin.seek(0)
            proc = subprocess.run(
                [str(solcjs), "--standard-json", "--base-path", str(CONTRACTS)],
                stdin=stdin,
                stdout=stdout_file,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
            stdout_file.seek(0)
            stdout = stdout_file.read()
        if proc.returncode != 0:
            raise BuildError(f"solcjs failed ({proc.returncode}): {proc.stderr.strip()}")
        # solcjs may print a non-JSON line before the JSON document.
        output = json.loads(stdout[stdout.index("{") :])
        compiler = (
            "solcjs "
            + subprocess.run([str(solcjs), "--version"], capture_output=True, text=True, check=True)
            .stdout.strip()
            .splitlines()[-1]
        )
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise BuildError("compilation failed:\n" + "\n".join(e["formattedMessage"] for e in errors))
    contract = output["contracts"][SOURCE][CONTRACT]
    runtime = bytes.fromhex(contract["evm"]["deployedBytecode"]["object"])
    from eth_hash.auto import keccak

    return {
        "contractName": CONTRACT,
        "compiler": {"version": SOLC_VERSION, "build": compiler, "settings": SETTINGS},
        "sourceHash": source_hash(sources),
        "sources": sorted(sources),
        "abi": contract["abi"],
        "bytecode": "0x" + contract["evm"]["bytecode"]["object"],
        "deployedBytecode": "0x" + runtime.hex(),
        "deployedCodeHash": "0x" + keccak(runtime).hex(),
    }


def _comparable(artifact: dict[str, Any]) -> dict[str, Any]:
    # The build line names solc vs solcjs; both must give the same bytes, so it is not compared.
    data = dict(artifact)
    data["compiler"] = {k: v for k, v in artifact["compiler"].items() if k != "build"}
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--check", action="store_true", help="rebuild and compare with the artifact"
    )
    args = parser.parse_args(argv)
    try:
        artifact = compile_registry()
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(artifact, indent=1, sort_keys=True) + "\n"
    if args.check:
        if not ARTIFACT.exists():
            print(f"error: {ARTIFACT} is missing; run scripts/build_contracts.py", file=sys.stderr)
            return 1
        committed = json.loads(ARTIFACT.read_text())
        if _comparable(committed) != _comparable(artifact):
            print(
                "error: committed artifact differs from a fresh build; run "
                "scripts/build_contracts.py and commit the result",
                file=sys.stderr,
            )
            return 1
        print(
            f"artifact reproducible: {artifact['compiler']['build']}, "
            f"source {artifact['sourceHash']}"
        )
        return 0
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(text)
    print(f"wrote {ARTIFACT.relative_to(ROOT)} ({artifact['compiler']['build']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
