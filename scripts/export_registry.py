"""Export a registry, rebuilt from its event log alone, to CSV files for auditors (protocol v2).

    .venv/bin/python scripts/export_registry.py --rpc http://127.0.0.1:8545 \
        --registry 0x5FbDB2315678afecb367f032d93F642f64180aa3 --out export/

Writes into --out, one row per fact, every fact scoped to its agency:
anchors.csv (every anchored batch root, and whether a compromise window makes it void),
revocations.csv (every revocation, the agency's own and the registry authority's, with its
reason, replacement and whether it is void), agencies.csv (identity, current transaction
account, status), keys.csv (every signing key with its validity window, and keys proposed but
not confirmed), compromises.csv (every compromise window), status_history.csv (every status
change, never overwritten) and moves.csv (every move to a new transaction account).
Needs only a JSON-RPC node: not the operator's server or database.
Exit code 0 done, 2 bad input, 3 node unreachable.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from registry.chain import RegistryContract, connect
from registry.errors import InvalidInput, RegistryError
from registry.service.audit import ChainSnapshot, iter_event_rows, read_registry
from registry.types import Address, to_hex
from registry.vocabulary import REASON_TEXT, AgencyStatus, Reason

STATUS = {status: status.label for status in AgencyStatus}


def iso(ts: int) -> str:
    return "" if ts == 0 else datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reason_text(code: int) -> str:
    try:
        return REASON_TEXT[Reason(code)]
    except ValueError:
        return ""


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


def _revocation_rows(snapshot: ChainSnapshot, names: dict[Address, str]) -> Iterator[list[object]]:
    """Revoked (the agency's own) and RevokedByAuthority events, in chain order."""
    for ev in snapshot.events:
        if ev.name not in ("Revoked", "RevokedByAuthority"):
            continue
        agency, hash_, root = (
            Address(ev.args["agency"]),
            bytes(ev.args["hash"]),
            bytes(ev.args["root"]),
        )
        by_authority = ev.name == "RevokedByAuthority"
        replacement = b"" if by_authority else bytes(ev.args["replacement"])
        void = "" if by_authority else iso(snapshot.void_revocations.get((agency, hash_), 0))
        yield [
            agency,
            names.get(agency, ""),
            to_hex(hash_),
            "batch" if hash_ == root else "record",
            to_hex(root),
            "authority" if by_authority else "agency",
            int(ev.args["reason"]),
            reason_text(int(ev.args["reason"])),
            to_hex(replacement) if any(replacement) else "",
            void,
            ev.block_number,
            to_hex(ev.tx_hash),
            iso(ev.timestamp),
        ]


def export(snapshot: ChainSnapshot, out: Path) -> dict[str, int]:
    """Write the CSV files of `snapshot` into `out`; returns rows per file."""
    state = snapshot.state
    names = {address: info.name for address, info in state.agencies.items()}
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
            iso(snapshot.void_anchors.get((ev.args["agency"], bytes(ev.args["root"])), 0)),
        )
        for ev in iter_event_rows(snapshot, "Anchored")
    )
    agencies = (
        (
            address,
            info.name,
            info.account or "",
            STATUS[info.status],
            to_hex(info.signing_key),
            iso(info.registered_at),
            iso(info.status_changed_at),
        )
        for address, info in state.agencies.items()
    )
    keys: list[tuple[object, ...]] = [
        (
            to_hex(key),
            agency,
            names.get(agency, ""),
            "confirmed",
            iso(window.valid_from),
            iso(window.valid_until) if window.valid_until else "current",
        )
        for (agency, key), window in state.keys.items()
    ]
    keys += [
        (to_hex(key), agency, names.get(agency, ""), "proposed", "", "")
        for agency, key in state.pending_keys.items()
    ]
    compromises = (
        (agency, names.get(agency, ""), iso(w.since), iso(w.until) if w.until else "open")
        for agency, windows in state.compromises.items()
        for w in windows
    )
    history = (
        (agency, names.get(agency, ""), STATUS[change.status], iso(change.at))
        for agency, changes in state.status_history.items()
        for change in changes
    )
    moves = (
        (agency, names.get(agency, ""), old, new, iso(at))
        for agency, old, new, at in snapshot.moves
    )
    files: list[tuple[str, Sequence[str], Iterable[Sequence[object]]]] = [
        (
            "anchors.csv",
            (
                "root",
                "agency",
                "agency_name",
                "leaf_count",
                "block_number",
                "tx_hash",
                "anchored_at",
                "anchored_at_unix",
                "void_since",
            ),
            anchors,
        ),
        (
            "revocations.csv",
            (
                "agency",
                "agency_name",
                "hash",
                "scope",
                "root",
                "by",
                "reason",
                "reason_text",
                "replacement",
                "void_since",
                "block_number",
                "tx_hash",
                "revoked_at",
            ),
            _revocation_rows(snapshot, names),
        ),
        (
            "agencies.csv",
            (
                "agency",
                "name",
                "account",
                "status",
                "signing_key",
                "registered_at",
                "status_changed_at",
            ),
            agencies,
        ),
        ("keys.csv", ("key", "agency", "agency_name", "state", "valid_from", "valid_until"), keys),
        ("compromises.csv", ("agency", "agency_name", "since", "until"), compromises),
        ("status_history.csv", ("agency", "agency_name", "status", "at"), history),
        ("moves.csv", ("agency", "agency_name", "old_account", "new_account", "at"), moves),
    ]
    return {name: write_csv(out / name, header, rows) for name, header, rows in files}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Export every anchor, revocation, agency, signing key, compromise window, "
        "status change and account move of a registry, rebuilt from its event log, to CSV files.",
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
