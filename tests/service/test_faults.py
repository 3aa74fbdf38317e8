"""Faults the issuer survives on a real anvil node: a re-org dropping the anchor's block, a
stuck or lost anchor transaction (fee bumps, fee ceiling), interval mining, and a restart
while the anchor transaction is still pending. Nothing lost, nothing anchored twice."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from fault_kit import FaultEnv, wait_until
from issuing_helpers import SALT_SECRET_A, SEED_A, make_issuer
from test_issuing import items

from registry.chain.events import fetch_events
from registry.chain.tx import fee_fields, fees_of
from registry.service.issuing import Issuer
from registry.store import Store, batch_by_id, read_journal
from registry.store.models import BatchState

pytestmark = pytest.mark.anvil

HERE = Path(__file__).resolve().parent
FAST = {"poll_interval": 0.02, "retry_initial": 0.05, "retry_max": 0.5}


def maybe_batch(store: Store, batch_id: int):
    with store.session() as session:
        batch = batch_by_id(session, batch_id)
        if batch is not None:
            session.expunge(batch)
        return batch


def batch_row(store: Store, batch_id: int):
    batch = maybe_batch(store, batch_id)
    assert batch is not None
    return batch


def with_config(issuer: Issuer, **changes: object) -> Issuer:
    return dataclasses.replace(issuer, config=dataclasses.replace(issuer.config, **changes))


def one_sealed_batch(issuer: Issuer) -> tuple[int, bytes]:
    issuer.submit(items(10))
    (batch_id,) = issuer.seal_batches(force=True)
    return batch_id, bytes(batch_row(issuer.store, batch_id).root)


def anchors_of(env: FaultEnv, root: bytes) -> list:
    """Anchored events for `root` on the chain as it is now."""
    return [
        e for e in fetch_events(env.registry) if e.name == "Anchored" and e.args["root"] == root
    ]


def in_background(action: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def finish(thread: threading.Thread, errors: list[BaseException], *, within: float) -> None:
    thread.join(timeout=within)
    assert not thread.is_alive(), f"the issuer did not finish within {within:.0f}s"
    assert not errors, errors


def assert_recorded_block_is_the_chains(env: FaultEnv, store: Store, batch_id: int, root: bytes):
    batch = batch_row(store, batch_id)
    assert batch.state == BatchState.CONFIRMED
    on_chain = env.registry.anchor_of(env.agency_a.address, root)
    assert batch.block_number == on_chain.block_number
    assert bytes(batch.block_hash) == bytes(env.w3.eth.get_block(batch.block_number)["hash"])
    return batch


# ------------------------------------------------------------------ re-organisation


def test_reorg_before_n_confirmations_resends_and_confirms(fault_env, sqlite_store):
    """The block holding the anchor is dropped (anvil_reorg) while it has 1 of 3 confirmations:
    the batch goes back to `submitted`, the same tx is sent again and confirmed in a new block;
    the recorded block is the chain's, never the dropped one."""
    env = fault_env
    issuer = make_issuer(env, sqlite_store, confirmations=3, **FAST)
    batch_id, root = one_sealed_batch(issuer)
    nonce_before = env.nonce()
    thread, errors = in_background(issuer.resume)

    seen = wait_until(
        lambda: (
            batch_row(sqlite_store, batch_id).state == BatchState.ANCHORED
            and batch_row(sqlite_store, batch_id)
        ),
        timeout=5,
        what="the issuer records the anchor's block before N confirmations",
    )
    dropped = (seen.block_number, bytes(seen.block_hash))
    sent = bytes(seen.tx_hash)
    env.rpc("anvil_reorg", 1, [])  # replace the head block (ours) with an empty one
    assert env.registry.anchor_of(env.agency_a.address, root).agency is None
    assert bytes(env.w3.eth.get_block(dropped[0])["hash"]) != dropped[1]

    with env.miner(0.1):
        finish(thread, errors, within=20)

    batch = assert_recorded_block_is_the_chains(env, sqlite_store, batch_id, root)
    assert (batch.block_number, bytes(batch.block_hash)) != dropped
    assert [e.tx_hash for e in anchors_of(env, root)] == [sent]  # re-sent, not re-signed
    assert env.nonce() == nonce_before + 1
    receipt = issuer.receipts(batch_id)[0]
    assert receipt.anchor.block_number == batch.block_number
    with sqlite_store.session() as session:
        kinds = [e.kind for e in read_journal(session) if e.subject == f"batch:{batch_id}"]
    # Back to `submitted` once (the re-org), anchored again after. `anchored` may be journaled
    # one more time: an anchorOf read just before the re-org and the block read just after it
    # give a new hash for the same number, recorded until the next poll sees the anchor gone.
    assert kinds.count("batch.submitted") == 2
    assert kinds.index("batch.submitted", kinds.index("batch.anchored")) < len(kinds) - 1
    assert kinds.count("batch.anchored") in (2, 3) and kinds[-2:] == [
        "batch.anchored",
        "batch.confirmed",
    ]


def test_reorg_after_n_confirmations_receipts_stand(fault_env, sqlite_store):
    """With N confirmations reached first, a deeper re-org changes nothing the issuer did."""
    env = fault_env
    issuer = make_issuer(env, sqlite_store, confirmations=2, **FAST)
    batch_id, root = one_sealed_batch(issuer)
    with env.miner(0.1):
        issuer.resume()
    before = issuer.receipts(batch_id)
    block = batch_row(sqlite_store, batch_id).block_number
    nonce = env.nonce()
    env.rpc("anvil_reorg", env.w3.eth.block_number - block + 1, [])
    assert env.registry.anchor_of(env.agency_a.address, root).agency is None  # really dropped
    issuer.resume()
    assert batch_row(sqlite_store, batch_id).state == BatchState.CONFIRMED
    assert issuer.receipts(batch_id) == before
    assert env.nonce() == nonce - 1  # and nothing was sent again


# ------------------------------------------------------------------ stuck transactions


def sent_and_pending(env: FaultEnv, issuer: Issuer, batch_id: int):
    """Automine off: the issuer sends the anchor tx, which waits in the node's pool."""
    thread, errors = in_background(issuer.resume)
    batch = wait_until(
        lambda: (b := batch_row(issuer.store, batch_id)).tx_hash and env.tx_known(b.tx_hash) and b,
        timeout=5,
        what="the anchor tx is in the node's pool",
    )
    return thread, errors, batch


def mined_anchor_tx(env: FaultEnv, root: bytes):
    (event,) = anchors_of(env, root)  # never two anchors for one root
    return env.w3.eth.get_transaction(event.tx_hash)


def test_base_fee_spike_evicts_the_anchor_and_it_is_replaced(fault_env, sqlite_store):
    """The base fee jumps (anvil_setNextBlockBaseFeePerGas) above the anchor's fee cap: the node
    evicts it; the issuer replaces it, same nonce, both fees raised by >= 10% + 1 wei."""
    env = fault_env
    issuer = make_issuer(env, sqlite_store, **FAST)
    batch_id, root = one_sealed_batch(issuer)
    env.automine(False)
    thread, errors, first = sent_and_pending(env, issuer, batch_id)
    old = fees_of(bytes(first.tx_raw))
    env.rpc("anvil_setNextBlockBaseFeePerGas", hex(old["maxFeePerGas"] * 20))
    env.mine()
    assert not env.tx_known(first.tx_hash)  # evicted: it can no longer pay the base fee

    with env.miner(0.2):
        finish(thread, errors, within=10)

    tx = mined_anchor_tx(env, root)
    assert bytes(tx["hash"]) != bytes(first.tx_hash) and tx["nonce"] == first.tx_nonce
    assert tx["maxFeePerGas"] >= old["maxFeePerGas"] * 11 // 10 + 1
    assert tx["maxPriorityFeePerGas"] >= old["maxPriorityFeePerGas"] * 11 // 10 + 1
    assert env.nonce() == first.tx_nonce + 1
    assert_recorded_block_is_the_chains(env, sqlite_store, batch_id, root)


def test_dropped_anchor_is_sent_again_unchanged(fault_env, sqlite_store):
    """The node loses the anchor tx (anvil_dropTransaction): the issuer sends the very same
    signed transaction again, at once, not after its confirmation timeout."""
    env = fault_env
    issuer = make_issuer(env, sqlite_store, **FAST)
    batch_id, root = one_sealed_batch(issuer)
    env.automine(False)
    thread, errors, first = sent_and_pending(env, issuer, batch_id)
    env.rpc("anvil_dropTransaction", "0x" + bytes(first.tx_hash).hex())
    wait_until(lambda: env.tx_known(first.tx_hash), timeout=5, what="the tx is re-sent")
    env.mine()
    finish(thread, errors, within=10)
    assert bytes(mined_anchor_tx(env, root)["hash"]) == bytes(first.tx_hash)
    assert env.nonce() == first.tx_nonce + 1


def test_stuck_anchor_is_replaced_with_bumped_fees(fault_env, sqlite_store):
    """Unmined for `stuck_after` seconds, the anchor is replaced (EIP-1559 rule: same nonce,
    both fees +10% +1 wei); the node takes the replacement in place of the original."""
    env = fault_env
    issuer = make_issuer(env, sqlite_store, stuck_after=0.5, **FAST)
    batch_id, root = one_sealed_batch(issuer)
    env.automine(False)
    thread, errors, first = sent_and_pending(env, issuer, batch_id)
    second = wait_until(
        lambda: (b := batch_row(sqlite_store, batch_id)).tx_hash != first.tx_hash and b,
        timeout=5,
        what="the stuck anchor is replaced",
    )
    old, new = fees_of(bytes(first.tx_raw)), fees_of(bytes(second.tx_raw))
    assert second.tx_nonce == first.tx_nonce
    assert all(new[k] >= old[k] * 11 // 10 + 1 for k in old), (old, new)
    assert env.pool_size() == 1  # the replacement took the original's place
    env.mine()
    finish(thread, errors, within=10)
    tx = mined_anchor_tx(env, root)
    assert tx["nonce"] == first.tx_nonce and env.nonce() == first.tx_nonce + 1
    assert_recorded_block_is_the_chains(env, sqlite_store, batch_id, root)


def test_fee_ceiling_stops_bumping_and_says_so(fault_env, sqlite_store, caplog):
    """At the fee ceiling (IssuingConfig.max_fee_per_gas) no replacement is sent; the batch's
    last_error and the log say why; the original tx is still the one that gets mined."""
    env = fault_env
    issuer = make_issuer(env, sqlite_store, stuck_after=0.3, **FAST)
    batch_id, root = one_sealed_batch(issuer)
    env.automine(False)
    ceiling = fee_fields(env.w3)["maxFeePerGas"]  # what the anchor will pay: no room above
    issuer = with_config(issuer, max_fee_per_gas=ceiling)
    caplog.set_level(logging.WARNING, logger="registry.service.issuing")
    thread, errors, first = sent_and_pending(env, issuer, batch_id)
    stopped = wait_until(
        lambda: "fee ceiling" in ((b := batch_row(sqlite_store, batch_id)).last_error or "") and b,
        timeout=5,
        what="the ceiling is reported",
    )
    assert f"max_fee_per_gas={ceiling}" in stopped.last_error
    assert bytes(stopped.tx_hash) == bytes(first.tx_hash) and env.pool_size() == 1
    assert any("fee ceiling" in r.getMessage() for r in caplog.records)
    env.mine()
    finish(thread, errors, within=10)
    assert bytes(mined_anchor_tx(env, root)["hash"]) == bytes(first.tx_hash)
    assert fees_of(bytes(first.tx_raw))["maxFeePerGas"] <= ceiling


# ------------------------------------------------------ restart with a pending transaction


def test_restart_resends_the_recorded_pending_transaction(fault_env, sqlite_store, tmp_path):
    """Automine off: the issuing process sends the first batch's anchor and is SIGKILLed while
    it waits in the pool. A new Issuer on the same store re-sends THAT transaction (same hash,
    same nonce), never a re-signed one with the next nonce: one anchor tx per root."""
    env = fault_env
    issuer = make_issuer(env, sqlite_store, **FAST)
    nonce_before = env.nonce()
    env.automine(False)
    job = {
        "rpc": env.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        "registry": env.registry.address,
        "db": sqlite_store.engine.url.render_as_string(hide_password=False),
        "data_dir": str(tmp_path),
        "account_key": "0x" + bytes(env.agency_a.key).hex(),
        "seed": SEED_A.hex(),
        "agency": env.agency_a.address,
        "salt_secret": SALT_SECRET_A.hex(),
        "agency_id": issuer.agency_id,
        "batch_size": 10,
        "count": 25,
        "tag": "pending",
    }
    environ = {k: v for k, v in os.environ.items() if k != "REGISTRY_TEST_CRASH_AT"}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "issuer_proc.py"), json.dumps(job)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        first = wait_until(
            lambda: (
                (b := maybe_batch(sqlite_store, 1)) and b.tx_hash and env.tx_known(b.tx_hash) and b
            ),
            timeout=90,  # a fresh interpreter importing web3, on a loaded 2-core machine
            what="the first anchor tx is pending in the pool",
        )
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    restarted = dataclasses.replace(
        issuer, config=dataclasses.replace(issuer.config, retry_initial=30)
    )
    thread, errors = in_background(restarted.resume)
    wait_until(lambda: env.tx_known(first.tx_hash), timeout=5, what="still pending")
    thread.join(timeout=1.0)  # the restarted issuer has looked at its batches meanwhile
    assert env.pool_size() == 1  # only the recorded tx: nothing re-signed with the next nonce
    with env.miner(0.1):
        finish(thread, errors, within=15)
    (event,) = anchors_of(env, bytes(first.root))
    assert event.tx_hash == bytes(first.tx_hash)
    batches = [batch_row(sqlite_store, i) for i in (1, 2, 3)]
    assert {b.state for b in batches} == {BatchState.CONFIRMED}
    assert all(b.last_error is None for b in batches)  # its own pending tx is no failure
    assert env.nonce() == nonce_before + 3  # one anchor transaction per batch, no more
