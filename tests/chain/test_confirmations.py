"""Sending waits for N confirmations and never assumes instant mining (real anvil node)."""

from __future__ import annotations

import threading
import time

import pytest

from registry.chain.tx import TxOptions, send_transaction
from registry.errors import TransactionFailed


@pytest.mark.anvil
@pytest.mark.parametrize("chain_env_session", ["anvil"], indirect=True)
def test_waits_for_three_confirmations(chain_env):
    w3, reg = chain_env.w3, chain_env.registry
    stop = threading.Event()

    def miner() -> None:  # another party producing blocks, slowly
        while not stop.is_set():
            time.sleep(0.15)
            chain_env.mine()

    thread = threading.Thread(target=miner, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        result = send_transaction(
            w3,
            chain_env.agency_a,
            reg.anchor_call(b"\x42" * 32, 3),
            abi=reg.abi,
            action="anchor",
            options=TxOptions(confirmations=3, poll_interval=0.02),
        )
        waited = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
    assert result.confirmations >= 3
    assert w3.eth.block_number >= result.block_number + 2
    assert waited >= 0.25  # two more blocks had to come from the miner


@pytest.mark.anvil
@pytest.mark.parametrize("chain_env_session", ["anvil"], indirect=True)
def test_confirmation_timeout_is_a_clear_error(chain_env):
    reg = chain_env.registry
    with pytest.raises(TransactionFailed, match="not confirmed after 1s; it may still be mined"):
        send_transaction(
            chain_env.w3,
            chain_env.agency_a,
            reg.anchor_call(b"\x43" * 32, 3),
            abi=reg.abi,
            action="anchor",
            options=TxOptions(confirmations=50, timeout=1, poll_interval=0.05),
        )
