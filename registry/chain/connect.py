"""The one chain factory: an embedded eth-tester chain or any Ethereum JSON-RPC URL."""

from __future__ import annotations

from web3 import Web3
from web3.providers.eth_tester import EthereumTesterProvider

from registry.errors import ChainUnavailable, InvalidInput, WrongChain

EMBEDDED = "embedded"
"""The `--rpc` value (and default) that selects the in-process eth-tester chain."""


def connect(
    rpc: str | None = None, *, timeout: float = 10.0, expected_chain_id: int | None = None
) -> Web3:
    """Return a connected `Web3` for `rpc` (a http(s) URL) or, when None/"embedded", a fresh
    in-process eth-tester chain. Raises ChainUnavailable if the node does not answer and
    WrongChain if it answers for another chain id than `expected_chain_id`."""
    if rpc is None or rpc == EMBEDDED:
        w3 = Web3(EthereumTesterProvider())
    elif rpc.startswith(("http://", "https://")):
        w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": timeout}))
    else:
        raise InvalidInput(f"--rpc {rpc!r}: expected an http(s):// JSON-RPC URL or {EMBEDDED!r}")
    chain_id = chain_id_of(w3, rpc or EMBEDDED)
    if expected_chain_id is not None and chain_id != expected_chain_id:
        raise WrongChain(
            f"node {rpc} is on chain id {chain_id}, expected {expected_chain_id}; "
            "point --rpc at a node of the right chain"
        )
    return w3


def chain_id_of(w3: Web3, where: str) -> int:
    """The node's chain id; any transport failure becomes ChainUnavailable."""
    try:
        return int(w3.eth.chain_id)
    except Exception as exc:  # transport errors come in many types: requests, OSError, RPC
        raise ChainUnavailable(
            f"cannot reach the JSON-RPC node at {where} ({type(exc).__name__}); "
            "check the URL or start a local node with `registry node`"
        ) from exc


def describe(w3: Web3) -> str:
    """Short human description of where `w3` points."""
    provider = w3.provider
    if isinstance(provider, EthereumTesterProvider):
        return "embedded eth-tester chain (in memory)"
    return str(getattr(provider, "endpoint_uri", provider))
