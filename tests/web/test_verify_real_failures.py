"""The page's ERROR and UNTRUSTED verdicts from real API answers, not made-up ones: a receipt
checked while the registry's node (anvil) is down; a receipt from a look-alike registry
(a second registry deployed on the same chain, with an agency of the same name); and a
receipt anchored while its agency's account was compromised (voided by the authority).

The node URL carries a secret (a hosted node's API key): neither the API's answer nor the
page ever shows it, nor the node's host and port."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from test_verify_page import VERIFY_CALLS, check, result_text, shoot
from web3 import Web3
from web_world import AGENCY_NAME, Server, World

from api.app import create_app
from registry import keys
from registry.chain import RegistryContract, connect, fund_from_dev_account, new_account
from registry.chain.devnode import start_anvil
from registry.chain.tx import TxOptions
from registry.receipt import receipt_to_json
from registry.service.issuing import Issuer, IssuingConfig
from registry.service.operator import Operator
from registry.service.sandbox import deploy_dev_registry
from registry.settings import Settings
from registry.store import Store, add_agency, bind_store, open_store

NODE_SECRET = "sk-live-4f9a1c0ffee"  # a hosted node's API key, in its URL
PASSPHRASE = "web outage passphrase"


@dataclass
class Issued:
    """A file and its receipt, as a citizen holds them."""

    document: Path
    receipt: Path


def _issue_file(issuer: Issuer, data: bytes, folder: Path, name: str) -> Issued:
    """Issue `data` as a file through `issuer` (anchored at once); write it and its receipt."""
    digest = hashlib.sha256(data).digest()
    issuer.submit([(digest, "file", None)])
    issuer.drain()
    receipt = next(
        r for b in issuer.confirmed_batches() for r in issuer.receipts(b) if r.digest == digest
    )
    folder.mkdir(parents=True, exist_ok=True)
    document = folder / f"{name}.pdf"
    document.write_bytes(data)
    receipt_path = folder / f"{name}.pdf.receipt.json"
    receipt_path.write_text(json.dumps(receipt_to_json(receipt), indent=2) + "\n")
    return Issued(document, receipt_path)


def _bound_store(data_dir: Path, registry: RegistryContract) -> Store:
    store = open_store(None, data_dir=data_dir)
    with store.session() as session:
        bind_store(
            session,
            chain_id=registry.chain_id,
            genesis_hash=registry.node.genesis_hash(),
            registry_address=registry.address,
        )
    return store


@dataclass
class Served:
    """The real app serving a registry of its own, and a file one of its agencies issued."""

    server: Server
    issued: Issued
    node_port: int = 0


@contextmanager
def _registry_with_a_file(
    w3: Web3, tmp: Path, *, rpc: str, name: str
) -> Iterator[tuple[Operator, LocalAccount, Issuer, Issued]]:
    """Deploy a registry on `w3`, register an agency, issue one file: the operator over it,
    the authority's account, the agency's issuer and the file."""
    registry, admin = deploy_dev_registry(w3)
    settings = Settings(
        data_dir=tmp / "data",
        rpc=rpc,
        registry_address=registry.address,
        chain_id=registry.chain_id,
        rpc_timeout=2,
        revocation_ttl=0,
    )
    operator = Operator(
        settings, registry=registry, store=_bound_store(settings.data_dir, registry)
    )
    try:
        _, issuer = operator.create_agency(
            AGENCY_NAME, passphrase=PASSPHRASE, admin=admin, fund_from_dev=True
        )
        data = f"%PDF-1.7\n% {name} 2026-117\n%%EOF\n".encode()
        yield operator, admin, issuer, _issue_file(issuer, data, tmp / "citizen", name)
    finally:
        operator.close()


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Anvil behind a URL with a secret; an agency issues a file; the app starts; anvil stops."""
    node = start_anvil()
    try:
        rpc = f"{node.url}/?apikey={NODE_SECRET}"
        with _registry_with_a_file(
            connect(rpc, timeout=2), tmp_path_factory.mktemp("outage"), rpc=rpc, name="permit"
        ) as (operator, _, _, issued):
            server = Server(create_app(operator=operator, run_worker=False)).start()
            try:
                node.stop()  # the outage
                yield Served(server=server, issued=issued, node_port=node.port)
            finally:
                server.stop()
    finally:
        node.stop()


@pytest.fixture(scope="module")
def compromised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """On an embedded chain of its own, an agency issues a file; then the authority marks the
    agency's account compromised from that anchor's time on (every anchor since is void)."""
    w3 = connect()
    with _registry_with_a_file(
        w3, tmp_path_factory.mktemp("compromised"), rpc="embedded", name="licence"
    ) as (operator, admin, issuer, issued):
        since = int(w3.eth.get_block("latest")["timestamp"])  # the anchor's block
        operator.registry.mark_compromised(admin, issuer.account.address, since=since)
        server = Server(create_app(operator=operator, run_worker=False)).start()
        try:
            yield Served(server=server, issued=issued)
        finally:
            server.stop()


def _assert_no_node_details(text: str, port: int) -> None:
    for secret in (NODE_SECRET, "apikey", f":{port}", "127.0.0.1", "Traceback", "Errno"):
        assert secret not in text, f"{secret!r} made it to the citizen: {text[:2000]}"


@pytest.mark.anvil
@pytest.mark.parametrize("with_receipt", [True, False], ids=["receipt", "file-alone"])
def test_node_down_is_could_not_check(
    page: Any, outage: Served, artifacts: Path, with_receipt: bool
) -> None:
    """The node is down: the API answers ERROR (200), the page says it could not check and
    that this says nothing against the document; no node URL, secret, host or port shown."""
    receipt = outage.issued.receipt if with_receipt else None
    with page.expect_response(VERIFY_CALLS) as answered:
        outcome, _ = check(page, outage.server, outage.issued.document, receipt)
    response = answered.value
    assert response.status == 200
    verdict = response.json()
    assert verdict["outcome"] == "ERROR"
    assert any(c["status"] == "error" for c in verdict["checks"])
    assert not any(c["status"] == "fail" for c in verdict["checks"]), "an outage is no failure"
    _assert_no_node_details(response.text(), outage.node_port)

    assert outcome == "ERROR"
    assert "Could not check" in page.inner_text("#result h2")
    text = result_text(page)
    assert "this says nothing against the document" in text
    assert "Valid" not in page.inner_text("#result h2")
    _assert_no_node_details(text, outage.node_port)
    _assert_no_node_details(str(page.content()), outage.node_port)
    if with_receipt:
        shoot(page, artifacts, "error-node-down")


@pytest.fixture(scope="module")
def lookalike(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issued]:
    """A second registry deployed on the world's chain by someone else, with an agency of the
    same name, which issues a file: a receipt that checks out against its own registry."""
    tmp = tmp_path_factory.mktemp("lookalike")
    w3 = world.w3
    authority, agency = new_account(), new_account()
    for account in (authority, agency):
        fund_from_dev_account(w3, account.address)
    registry, _ = RegistryContract.deploy(w3, authority, options=TxOptions(poll_interval=0.01))
    signing_key = keys.signing_key_from_seed(b"\x66" * 32)
    public = keys.public_key_bytes(signing_key)
    registry.register_agency(
        authority, account=agency.address, name=AGENCY_NAME, signing_key=public
    )
    store = _bound_store(tmp / "data", registry)
    try:
        with store.session() as session:
            agency_id = add_agency(
                session, address=agency.address, name=AGENCY_NAME, signing_public_key=public
            ).id
        issuer = Issuer(
            store=store,
            registry=registry,
            account=agency,
            signing_key=signing_key,
            agency_id=agency_id,
            config=IssuingConfig(batch_size=16, batch_age=0.0),
            salt_secret=b"\x66" * 32,
        )
        yield _issue_file(
            issuer,
            b"%PDF-1.7\n% Diploma of Mari Tamm, Tallinn University, 2026 (forged)\n%%EOF\n",
            tmp / "citizen",
            "forged-diploma",
        )
    finally:
        store.close()


def test_lookalike_registry_receipt_is_not_trusted(
    page: Any, server: Server, world: World, lookalike: Issued, artifacts: Path
) -> None:
    """A receipt anchored in a look-alike registry (same chain, same agency name): the API
    answers UNTRUSTED, the page says not trusted, names the look-alike, never "Valid"."""
    with page.expect_response(VERIFY_CALLS) as answered:
        outcome, _ = check(page, server, lookalike.document, lookalike.receipt)
    verdict = answered.value.json()
    assert verdict["outcome"] == "UNTRUSTED"
    receipt = json.loads(lookalike.receipt.read_text())
    assert receipt["anchor"]["registry"] != world.operator.registry.address

    assert outcome == "UNTRUSTED"
    heading = page.inner_text("#result h2")
    assert "Not trusted" in heading and "Valid" not in heading
    text = result_text(page)
    assert "a look-alike registry" in text
    assert "authentic" not in text
    assert f"Issued by {AGENCY_NAME}" not in text
    shoot(page, artifacts, "untrusted-lookalike")


def test_anchor_voided_by_a_compromise_is_not_trusted(
    page: Any, compromised: Served, artifacts: Path
) -> None:
    """A receipt whose anchor the authority voided (the agency's account was compromised when
    it was made): the API answers UNTRUSTED with the agency check failing as void; the page
    says not trusted and why, never "Valid"."""
    issued = compromised.issued
    with page.expect_response(VERIFY_CALLS) as answered:
        outcome, _ = check(page, compromised.server, issued.document, issued.receipt)
    verdict = answered.value.json()
    assert verdict["outcome"] == "UNTRUSTED"
    assert any(c["status"] == "fail" and c["details"].get("void") for c in verdict["checks"])

    assert outcome == "UNTRUSTED"
    heading = page.inner_text("#result h2")
    assert "Not trusted" in heading and "Valid" not in heading
    text = result_text(page)
    assert "anchored while the agency's account was compromised" in text
    assert "authentic" not in text
    shoot(page, artifacts, "untrusted-compromised")
