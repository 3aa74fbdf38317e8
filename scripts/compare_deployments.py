"""Compare two registry deployments, e.g. before and after a migration to a new contract or
chain: agencies, signing keys, anchors and revocations present in one and not the other, or
present in both with different facts. Both are rebuilt from their event logs alone.

    .venv/bin/python scripts/compare_deployments.py \
        --rpc-a http://old-node:8545 --registry-a 0x5FbDB2315678afecb367f032d93F642f64180aa3 \
        --rpc-b http://new-node:8545 --registry-b 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512

Compared: agencies (name, status, current key), keys (owner; current or retired), anchors
(agency, record count), revocations (reason, replacement). Not compared: times and blocks,
which a migration changes by nature. Exit code 0 the same, 1 different, 2 bad input,
3 a node unreachable.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from registry.chain import RegistryContract, connect
from registry.errors import RegistryError
from registry.service.audit import ChainSnapshot, Finding, compare_snapshots, read_registry


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compare two registry deployments (agencies, keys, anchors, revocations).",
        epilog="Example: python scripts/compare_deployments.py --rpc-a http://127.0.0.1:8545 "
        "--registry-a 0x5FbDB2315678afecb367f032d93F642f64180aa3 "
        "--registry-b 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    )
    parser.add_argument("--rpc-a", required=True, help="JSON-RPC URL of the first chain.")
    parser.add_argument("--registry-a", required=True, help="First registry's address.")
    parser.add_argument(
        "--from-block-a", type=int, default=0, help="First registry's deployment block."
    )
    parser.add_argument(
        "--rpc-b", default=None, help="JSON-RPC URL of the second chain (default: --rpc-a)."
    )
    parser.add_argument("--registry-b", required=True, help="Second registry's address.")
    parser.add_argument(
        "--from-block-b", type=int, default=0, help="Second registry's deployment block."
    )
    parser.add_argument(
        "--log-span", type=int, default=5_000, help="Blocks per eth_getLogs request."
    )
    parser.add_argument("--json", type=Path, default=None, help="Write the differences here.")
    parser.add_argument("--timeout", type=float, default=30.0, help="Seconds per request.")
    return parser.parse_args(argv)


def snapshot_of(
    rpc: str, address: str, *, from_block: int, span: int, timeout: float
) -> ChainSnapshot:
    """One deployment, rebuilt from its event log."""
    registry = RegistryContract.at(connect(rpc, timeout=timeout), address)
    return read_registry(registry, from_block=from_block, span=span)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        first = snapshot_of(
            args.rpc_a,
            args.registry_a,
            from_block=args.from_block_a,
            span=args.log_span,
            timeout=args.timeout,
        )
        second = snapshot_of(
            args.rpc_b or args.rpc_a,
            args.registry_b,
            from_block=args.from_block_b,
            span=args.log_span,
            timeout=args.timeout,
        )
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    differences: list[Finding] = compare_snapshots(first, second)
    for name, snap in (("first", first), ("second", second)):
        s = snap.state
        print(
            f"{name}: registry {snap.address} on chain {snap.chain_id}: {len(s.agencies)} "
            f"agencies, {len(s.keys)} keys, {len(s.anchors)} anchors, "
            f"{len(s.revocations)} revocations"
        )
    for d in differences:
        print(f"{d.kind:<15} {d.subject}: {d.detail}")
    print("the same" if not differences else f"{len(differences)} differences")
    if args.json is not None:
        data = {
            "first": {"registry": first.address, "chainId": first.chain_id},
            "second": {"registry": second.address, "chainId": second.chain_id},
            "differences": [d.to_json() for d in differences],
        }
        try:
            args.json.write_text(json.dumps(data, indent=2) + "\n")
        except OSError as exc:
            print(f"error: --json {args.json}: {exc.strerror}", file=sys.stderr)
            return 2
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
