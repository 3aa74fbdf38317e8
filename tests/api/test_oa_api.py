"""POST /v1/verify and /v1/verify/file with an OpenAttestation v2 wrapped document, its
DocumentStore on another chain (an anvil node) trusted by configuration: the server reads the
store through `chain_rpcs` (tests/standards/test_oa_on_chain.py covers every verdict)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import ONLY_EMBEDDED_SQLITE, serving_api

from registry.chain import connect
from registry.chain.devnode import AnvilNode, start_anvil
from registry.store import Store

FIXTURES = Path(__file__).parents[1] / "standards" / "fixtures" / "openattestation"
ARTIFACT = json.loads((FIXTURES / "documentstore" / "DocumentStore.json").read_text())
ANVIL_CHAIN = 31337
STORE = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"  # batch3-*: the dev account's nonce 2

pytestmark = [*ONLY_EMBEDDED_SQLITE, pytest.mark.anvil]


def wrapped(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "generated" / name).read_text())


@pytest.fixture(scope="module")
def store_node() -> Iterator[AnvilNode]:
    """A fresh anvil with the batch3 root issued on the store the documents name."""
    node = start_anvil(chain_id=ANVIL_CHAIN)
    try:
        w3 = connect(node.url)
        dev = w3.eth.accounts[0]
        factory = w3.eth.contract(abi=ARTIFACT["abi"], bytecode=ARTIFACT["bytecode"])
        for _ in range(3):
            tx = factory.constructor("Registry of Births", dev).transact({"from": dev})
            address = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
        assert address == STORE
        store = w3.eth.contract(address=STORE, abi=ARTIFACT["abi"])
        root = bytes.fromhex(wrapped("batch3-0.json")["signature"]["merkleRoot"])
        tx = store.functions.issue(root).transact({"from": dev})
        assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
        yield node
    finally:
        node.stop()


def test_the_api_verifies_a_wrapped_document_on_its_store(
    chain_env: Any, store: Store, tmp_path: Path, store_node: AnvilNode
) -> None:
    settings = {
        "trusted": [f"eip155:{ANVIL_CHAIN}:{STORE}"],
        "chain_rpcs": [f"eip155:{ANVIL_CHAIN}={store_node.url}"],
    }
    with serving_api(chain_env, store, tmp_path, **settings) as api:
        body = json.dumps(wrapped("batch3-1.json")).encode()
        answer = api.client.post("/v1/verify", content=body)
        assert answer.status_code == 200
        assert answer.json()["outcome"] == "VALID", answer.json()
        upload = api.client.post("/v1/verify/file", files={"document": ("doc.json", body)})
        assert upload.json()["outcome"] == "VALID"
        tampered = wrapped("batch3-1.json")
        template = tampered["data"]["$template"]
        uuid_part, kind, _ = template["name"].split(":", 2)
        template["name"] = f"{uuid_part}:{kind}:forged"
        answer = api.client.post("/v1/verify", content=json.dumps(tampered).encode())
        assert answer.json()["outcome"] == "TAMPERED"
        digest = {"digest": "0x" + "00" * 32}
        assert api.client.post("/v1/verify", params=digest, content=body).status_code == 422


def test_a_store_the_server_does_not_trust_is_untrusted(
    chain_env: Any, store: Store, tmp_path: Path, store_node: AnvilNode
) -> None:
    settings = {"chain_rpcs": [f"eip155:{ANVIL_CHAIN}={store_node.url}"]}
    with serving_api(chain_env, store, tmp_path, **settings) as api:
        answer = api.client.post("/v1/verify", json=wrapped("batch3-1.json")).json()
        assert answer["outcome"] == "UNTRUSTED"
        assert STORE.lower() in json.dumps(answer).lower()
