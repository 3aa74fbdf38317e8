"""Export a registry, rebuilt from its event log alone, to CSV files for auditors.

    .venv/bin/python scripts/export_registry.py --rpc http://127.0.0.1:8545 \
        --registry 0x5FbDB2315678afecb367f032d93F642f64180aa3 --out export/

Writes anchors.csv (every anchored batch root), revocations.csv (every revocation, with its
reason and replacement), agencies.csv and keys.csv (every signing key and its validity
window) into --out. Needs only a JSON-RPC node: not the operator's server or database.
Exit code 0 done, 2 bad input, 3 node unreachable.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from registry.chain import AgencyStatus, RegistryContract, connect
from registry.chain.contract import Reason
from registry.errors import InvalidInput, RegistryError
from registry.service.audit import ChainSnapshot, iter_event_rows, read_registry
from registry.types import to_hex

REASONS = {
    Reason.ISSUED_IN_ERROR: "issued in error",
    Reason.SUPERSEDED: "superseded",
    Reason.FRAUD: "fraud",
    Reason.WITHDRAWN: "withdrawn by the agency",
    Reason.COURT_ORDER: "court order",
}


def iso(ts: int) -> str:
    return "" if ts == 0 else datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write one CSV file; returns the number of data rows."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def export(snapshot: ChainSnapshot, out: Path) -> dict[str, int]:
    """Write the four CSV files of `snapshot` into `out`; returns rows per file."""
    state = snapshot.state
    names = {address: info.name for address, info in state.agencies.items()}
    anchored_by = {root: a.agency for root, a in state.anchors.items()}
    anchors = (
        (
            to_hex(bytes(ev.args["root"])),
            ev.args["agency"],
            names.get(ev.args["agency"], ""),
            int(ev.args["leafCount"]),
            ev.block_number,
            to_hex(ev.tx_hash),
            iso(ev.timestamp),
            ev.timestamp,
        )
        for ev in iter_event_rows(snapshot, "Anchored")
    )
    revocations = (
        (
            ev.args["agency"],
            names.get(ev.args["agency"], ""),
            to_hex(bytes(ev.args["hash"])),
            "batch" if anchored_by.get(bytes(ev.args["hash"])) == ev.args["agency"] else "record",
            to_hex(bytes(ev.args["root"])),
            int(ev.args["reason"]),
            REASONS.get(Reason(int(ev.args["reason"])), ""),
            "" if not any(ev.args["replacement"]) else to_hex(bytes(ev.args["replacement"])),
            ev.block_number,
            to_hex(ev.tx_hash),
            iso(ev.timestamp),
        )
        for ev in iter_event_rows(snapshot, "Revoked")
    )
    agencies = (
        (
            address,
            info.name,
            "suspended" if info.status is AgencyStatus.SUSPENDED else "active",
            to_hex(info.signing_key),
            iso(info.registered_at),
            iso(info.status_changed_at),
        )
        for address, info in state.agencies.items()
    )
    keys = (
        (
            to_hex(key),
            window.agency,
            names.get(window.agency, "") if window.agency else "",
            iso(window.valid_from),
            iso(window.valid_until) if window.valid_until else "current",
        )
        for key, window in state.keys.items()
    )
    return {
        "anchors.csv": write_csv(
            out / "anchors.csv",
            (
                "root",
                "agency",
                "agency_name",
                "leaf_count",
                "block_number",
                "tx_hash",
                "anchored_at",
                "anchored_at_unix",
            ),
            anchors,
        ),
        "revocations.csv": write_csv(
            out / "revocations.csv",
            (
                "agency",
                "agency_name",
                "hash",
                "scope",
                "root",
                "reason",
                "reason_text",
                "replacement",
                "block_number",
                "tx_hash",
                "revoked_at",
            ),
            revocations,
        ),
        "agencies.csv": write_csv(
            out / "agencies.csv",
            ("address", "name", "status", "signing_key", "registered_at", "status_changed_at"),
            agencies,
        ),
        "keys.csv": write_csv(
            out / "keys.csv",
            ("key", "agency", "agency_name", "valid_from", "valid_until"),
            keys,
        ),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Export every anchor, revocation, agency and signing key of a registry, "
        "rebuilt from its event log, to CSV files.",
        epilog="Example: python scripts/export_registry.py --rpc http://127.0.0.1:8545 "
        "--registry 0x5FbDB2315678afecb367f032d93F642f64180aa3 --out export/",
    )
    parser.add_argument("--rpc", required=True, help="JSON-RPC URL of a node of the chain.")
    parser.add_argument("--registry", required=True, help="Registry contract address.")
    parser.add_argument("--out", type=Path, default=Path("."), help="Folder for the CSV files.")
    parser.add_argument(
        "--from-block", type=int, default=0, help="The registry's deployment block (default 0)."
    )
    parser.add_argument(
        "--log-span", type=int, default=5_000, help="Blocks per eth_getLogs request."
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="Seconds per request.")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.out.exists() and not args.out.is_dir():
            raise InvalidInput(f"--out {args.out}: exists and is not a folder")
        w3 = connect(args.rpc, timeout=args.timeout)
        registry = RegistryContract.at(w3, args.registry)
        snapshot = read_registry(registry, from_block=args.from_block, span=args.log_span)
        args.out.mkdir(parents=True, exist_ok=True)
        rows = export(snapshot, args.out)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"error: cannot write to {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    print(
        f"registry {snapshot.address} on chain {snapshot.chain_id}, blocks "
        f"{snapshot.from_block}-{snapshot.to_block}:"
    )
    for name, count in rows.items():
        print(f"  {args.out / name}: {count} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
