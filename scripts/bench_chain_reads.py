"""Live chain reads: per-call CPU and latency of the registry's `check()` view, through web3's
contract-function machinery (the path before issue 12) and through the lean reader
(registry/chain/lean.py), one call at a time and in JSON-RPC batches; and the three reads of
one receipt (check + keyOf + agencyOf) one by one and as one batch with the head.

Not a unit test: a figure to watch. Starts its own anvil unless --rpc names a node
(`--rpc embedded` for the in-process chain). CPU is this process's (time.process_time), so
the node's own work is not in it; wall time includes the round trips. Each figure is the
median of --repeat runs.

    .venv/bin/python scripts/bench_chain_reads.py                    # anvil, 2,000 calls
    .venv/bin/python scripts/bench_chain_reads.py --calls 500 --rpc embedded --json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from web3 import Web3

from registry.chain import RegistryContract, connect, fund_from_dev_account, new_account
from registry.chain.artifact import registry_artifact
from registry.chain.contract import CheckQuery, _agency_info, _check_result, _key_window
from registry.chain.devnode import start_anvil
from registry.chain.tx import TxOptions, rpc_errors
from registry.merkle import KIND_RECORD, MerkleTree

LEAVES = 1024


def _setup(w3: Web3) -> tuple[RegistryContract, str, bytes, list[CheckQuery]]:
    admin, agency = new_account(), new_account()
    for account in (admin, agency):
        fund_from_dev_account(w3, account.address)
    registry, _ = RegistryContract.deploy(w3, admin, options=TxOptions(poll_interval=0.02))
    key = b"\xa1" * 32
    registry.register_agency(admin, account=agency.address, name="Bench Agency", signing_key=key)
    digests = [hashlib.sha256(f"bench/{i}".encode()).digest() for i in range(LEAVES)]
    tree = MerkleTree.from_digests(digests, KIND_RECORD)
    root = bytes(tree.root)
    registry.anchor(agency, root=root, leaf_count=LEAVES)
    queries = [
        CheckQuery(agency.address, bytes(tree.leaf(i)), tree.proof(i), root) for i in range(LEAVES)
    ]
    return registry, agency.address, key, queries


def _timed(run: Callable[[list[CheckQuery]], None], items: list[CheckQuery]) -> dict[str, float]:
    calls = len(items)
    cpu, wall = time.process_time(), time.perf_counter()
    run(items)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"cpu_us": cpu / calls * 1e6, "wall_us": wall / calls * 1e6, "per_s": calls / wall}


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(statistics.median(r[k] for r in runs), 1) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rpc", help="a JSON-RPC URL, or 'embedded' (default: start anvil)")
    parser.add_argument("--calls", type=int, default=2000, help="check() calls per run")
    parser.add_argument("--batch", type=int, default=100, help="checks per check_many() call")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    node = None
    if args.rpc is None:
        node = start_anvil()
        w3 = connect(node.url)
    else:
        w3 = connect(args.rpc)
    try:
        registry, agency, key, queries = _setup(w3)
        contract = w3.eth.contract(address=registry.address, abi=registry_artifact().abi)
        address = Web3.to_checksum_address(agency)
        n = args.calls
        picks = [queries[i % len(queries)] for i in range(n)]
        receipts = max(1, n // 4)

        def web3_checks(
            picks: list[CheckQuery],
        ) -> None:  # the path before issue 12 (contract.py's old `check`)
            for q in picks:
                with rpc_errors("check"):
                    raw = contract.functions.check(address, q.leaf, list(q.proof), q.root).call()
                _check_result(address, raw)

        def lean_checks(picks: list[CheckQuery]) -> None:
            for q in picks:
                registry.check(agency=q.agency, leaf=q.leaf, proof=q.proof, root=q.root)

        def batched_checks(picks: list[CheckQuery]) -> None:
            for start in range(0, len(picks), args.batch):
                registry.check_many(picks[start : start + args.batch])

        def web3_receipts(picks: list[CheckQuery]) -> None:
            for q in picks:
                with rpc_errors("read"):
                    raw = contract.functions.check(address, q.leaf, list(q.proof), q.root).call()
                    window = contract.functions.keyOf(address, key).call()
                    info = contract.functions.agencyOf(address).call()
                    head = w3.eth.block_number
                _check_result(address, raw), _key_window(address, window)
                _agency_info(address, info), int(head)

        def lean_receipts(picks: list[CheckQuery]) -> None:
            for q in picks:
                registry.check(agency=q.agency, leaf=q.leaf, proof=q.proof, root=q.root)
                registry.key_of(agency, key)
                registry.agency_of(agency)
                registry._lean.calls_with_head([])  # eth_blockNumber, the lean way

        def batched_receipts(picks: list[CheckQuery]) -> None:
            for q in picks:
                registry.read_receipt(
                    agency=q.agency, leaf=q.leaf, proof=q.proof, root=q.root, public_key=key
                )

        few = picks[:receipts]
        cases: list[tuple[str, Callable[[list[CheckQuery]], None], list[CheckQuery]]] = [
            ("check_web3", web3_checks, picks),
            ("check_lean", lean_checks, picks),
            (f"check_lean_batch{args.batch}", batched_checks, picks),
            ("receipt_web3_4calls", web3_receipts, few),
            ("receipt_lean_4calls", lean_receipts, few),
            ("receipt_lean_batch", batched_receipts, few),
        ]
        # Warm-up: web3's caches, the keep-alive connections, the lean reader's batch probe.
        web3_checks(picks[:50])
        lean_checks(picks[:50])
        batched_checks(picks[:50])
        web3_receipts(picks[:10])
        results: dict[str, Any] = {}
        for name, run, items in cases:
            results[name] = _median([_timed(run, items) for _ in range(args.repeat)])
        results["node"] = args.rpc or "anvil"
        results["batches"] = registry._lean.batches  # what the probe found
        results["calls"] = n
        results["receipts"] = receipts
    finally:
        if node is not None:
            node.stop()
    if args.json:
        print(json.dumps(results))
        return
    print(
        f"node: {results['node']} (JSON-RPC batches: {results['batches']}); median of "
        f"{args.repeat} runs; per call (per receipt for receipt_*)"
    )
    for name, _, items in cases:
        r = results[name]
        print(
            f"  {name:24s} {len(items):6d}  cpu {r['cpu_us']:9.1f} us  wall {r['wall_us']:9.1f} us"
            f"  {r['per_s']:9.1f}/s"
        )


if __name__ == "__main__":
    main()
