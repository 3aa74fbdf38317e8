"""Verify a folder of documents against their receipts, with any JSON-RPC node.

    .venv/bin/python scripts/verify_folder.py certificates/ --rpc http://127.0.0.1:8545 \
        --registry 0x5FbDB2315678afecb367f032d93F642f64180aa3 --json results.json

The folder (searched recursively) may hold files with their receipt next to them
(`diploma.pdf` + `diploma.pdf.receipt.json` or `diploma.receipt.json`), sealed JSON
documents (`*.sealed.json`, the receipt inside) and receipts alone. Each is verified with
the named checks of `registry verify`; only the registry given is trusted. Needs no operator
server or database.

A receipt alone (no document next to it) is at best IN_FORCE: the record exists and is in
force, but no document was checked; it is never VALID. A superseded document names its
replacement as a record to look up, not as a verdict on anything.

Exit code 0 every document VALID (and every receipt alone IN_FORCE), 1 at least one is not
(tampered, revoked, superseded, unknown, untrusted, or has no receipt), 2 bad input, 3 a
document could not be checked (node down).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from web3 import Web3

from registry.chain import connect
from registry.chain.node import Node
from registry.errors import ChainUnavailable, InvalidInput, RegistryError
from registry.service.audit import ItemResult, checksum, collect_folder, verify_item
from registry.service.verify import ChainReader, Outcome, TrustedRegistry, registry_resolver


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Verify every document and receipt in a folder against the chain.",
        epilog="Example: python scripts/verify_folder.py certificates/ --rpc "
        "http://127.0.0.1:8545 --registry 0x5FbDB2315678afecb367f032d93F642f64180aa3",
    )
    parser.add_argument("folder", type=Path, help="Folder of documents and receipts.")
    parser.add_argument("--rpc", required=True, help="JSON-RPC URL of a node of the chain.")
    parser.add_argument("--registry", required=True, help="The trusted registry's address.")
    parser.add_argument(
        "--chain-id", type=int, default=None, help="Expected chain id (default: the node's)."
    )
    parser.add_argument("--json", type=Path, default=None, help="Write results to this file.")
    parser.add_argument("--timeout", type=float, default=30.0, help="Seconds per request.")
    return parser.parse_args(argv)


def verify_folder(
    folder: Path, *, rpc: str, registry: str, chain_id: int | None, timeout: float
) -> list[ItemResult]:
    """Every item of `folder`, verified against `registry` (the only trusted one)."""
    address = checksum(registry)
    items = collect_folder(folder)
    w3 = connect(rpc, timeout=timeout, expected_chain_id=chain_id)
    trusted = TrustedRegistry(Node(w3).chain_id(), address)

    def node(for_chain: int) -> Web3:
        return w3

    reader = ChainReader(registry_for=registry_resolver(node))
    return [verify_item(item, trusted=trusted, reader=reader) for item in items]


def exit_code(results: Sequence[ItemResult]) -> int:
    """1 if anything is definitely not valid (or in force, for a receipt alone), else 3 if
    anything could not be checked, else 0."""
    outcomes = [r.verification.outcome if r.verification else None for r in results]
    fine = (Outcome.VALID, Outcome.IN_FORCE, Outcome.ERROR)
    if any(o is None or o not in fine for o in outcomes):
        return 1
    return 3 if Outcome.ERROR in outcomes else 0


def to_json(result: ItemResult) -> dict[str, object]:
    v = result.verification
    return {
        "name": result.item.name,
        "outcome": str(v.outcome) if v else None,
        "finding": result.finding.to_json() if result.finding else None,
        "verification": v.to_json() if v else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if not args.folder.is_dir():
            raise InvalidInput(f"{args.folder}: not a folder")
        results = verify_folder(
            args.folder,
            rpc=args.rpc,
            registry=args.registry,
            chain_id=args.chain_id,
            timeout=args.timeout,
        )
    except ChainUnavailable as exc:
        print(f"error: could not check: {exc}", file=sys.stderr)
        return 3
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    if not results:
        print(f"error: {args.folder}: nothing to verify", file=sys.stderr)
        return 2
    for r in results:
        v = r.verification
        outcome = str(v.outcome) if v else "PROBLEM"
        why = ""
        if r.finding is not None:
            why = f"  [{r.finding.kind}] {r.finding.detail}"
        elif v is not None and v.agency_name:
            why = f"  {v.agency_name}, anchored {v.anchored_at}"
            if v.outcome is Outcome.IN_FORCE:
                why += "; no document checked (a receipt alone)"
            if v.revocation_reason:
                why += f"; revoked: {v.revocation_reason}"
            if v.replacement:
                why += f"; names record {v.replacement} as its replacement (look it up)"
        print(f"{outcome:<10} {r.item.name}{why}")
    counts: dict[str, int] = {}
    for r in results:
        key = str(r.verification.outcome) if r.verification else "PROBLEM"
        counts[key] = counts.get(key, 0) + 1
    print(", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    if args.json is not None:
        try:
            args.json.write_text(json.dumps([to_json(r) for r in results], indent=2) + "\n")
        except OSError as exc:
            print(f"error: --json {args.json}: {exc.strerror}", file=sys.stderr)
            return 2
    return exit_code(results)


if __name__ == "__main__":
    sys.exit(main())
