"""The end-to-end demo on the embedded chain: the story the README's first command tells
(protocol v2).

Two agencies issue 1,000 birth certificates (structured records) and a batch of diplomas
(files) through the durable pipeline; then a citizen's documents are verified: one valid, one
altered (TAMPERED), one with a field hidden (still VALID), one superseded by a corrected
certificate (SUPERSEDED, naming the replacement as a record to look up, which is then looked
up), one anchored on a look-alike registry (UNTRUSTED). A forged proof and an outsider's
revocation are refused on chain; a receipt alone is IN_FORCE, never VALID. Then the attacks v2
holds against: agency B front-runs A's anchor and revokes "that root" (A's records stay VALID);
a thief with A's transaction key cannot install a signing key, and once the authority marks A
compromised since the theft and moves it to a new account, the thief's anchor and revocation
are void while A's earlier records and its new ones are VALID.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account.signers.local import LocalAccount

from registry import keys, record
from registry.chain import RegistryContract, connect
from registry.chain.node import Node
from registry.errors import ContractRevert
from registry.receipt import Receipt, kind_leaf, receipt_to_json
from registry.service.issuing import Issuer, IssuingConfig
from registry.service.revoking import revoke_record
from registry.service.sandbox import (
    DevAgency,
    anchor_by_hand,
    bind_dev_store,
    deploy_dev_registry,
    dev_issuer,
    funded_account,
    register_dev_agency,
)
from registry.service.verify import (
    ChainReader,
    Outcome,
    TrustedRegistry,
    Verification,
    verification_input,
    verify_receipt,
)
from registry.store import Store, counts_by_status, open_store, repo
from registry.vocabulary import Reason

EXPECTED = {
    "valid": "VALID",
    "tampered": "TAMPERED",
    "redacted": "VALID",
    "superseded": "SUPERSEDED",
    "replacement": "VALID",
    "untrusted": "UNTRUSTED",
    "diploma": "VALID",
    "receipt_alone": "IN_FORCE",
    "front_run": "VALID",
    "front_run_revoked": "VALID",
    "thief_anchor": "UNTRUSTED",
    "thief_revocation": "REVOKED",
    "thief_after_mark": "UNTRUSTED",
    "thief_revocation_after_mark": "VALID",
    "before_theft": "VALID",
    "after_move": "VALID",
}
"""Every verification the demo makes, by label, and the outcome it must have."""


@dataclass
class DemoOutcome:
    """What the demo established, for tests and for the closing line."""

    registry: str = ""
    chain_id: int = 0
    issued: int = 0
    batches: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)
    forged_rejected: bool = False
    outsider_refused: bool = False
    thief_key_refused: bool = False

    @property
    def as_expected(self) -> bool:
        return (
            self.outcomes == EXPECTED
            and self.forged_rejected
            and self.outsider_refused
            and self.thief_key_refused
        )


def _certificate(i: int) -> dict[str, object]:
    return {
        "type": "BirthCertificate",
        "number": f"B-2026-{i:06d}",
        "child": {"given": f"Child{i}", "family": "Tamm", "born": "2026-03-14"},
        "place": "Tallinn",
        "parents": [f"Mother{i} Tamm", f"Father{i} Tamm"],
        "address": {"street": f"Pikk {i % 90 + 1}", "city": "Tallinn"},
    }


def run_demo(say: Callable[[str], None], *, certificates: int = 1_000) -> DemoOutcome:
    """Run the whole story; `say` receives one readable line per step."""
    outcome = DemoOutcome()
    with tempfile.TemporaryDirectory(prefix="registry-demo-") as tmp:
        _story(say, outcome, Path(tmp), certificates)
    return outcome


def _story(say: Callable[[str], None], out: DemoOutcome, tmp: Path, count: int) -> None:
    w3 = connect()
    say(f"Embedded chain started (chain id {Node(w3).chain_id()}); it lives only in this process.")
    registry, authority = deploy_dev_registry(w3)
    out.registry, out.chain_id = registry.address, registry.chain_id
    say(f"Registry authority deployed RecordRegistry at {registry.address}.")

    store = open_store(None, data_dir=tmp)
    bind_dev_store(store, registry)
    civil = register_dev_agency(registry, authority, "Civil Registry Office")
    education = register_dev_agency(registry, authority, "Ministry of Education")
    civil_issuer = dev_issuer(store, registry, civil, IssuingConfig(batch_size=250, batch_age=0))
    edu_issuer = dev_issuer(store, registry, education, IssuingConfig(batch_size=500, batch_age=0))
    say("Registered agencies 'Civil Registry Office' and 'Ministry of Education' (Ed25519 keys).")

    sealed = [civil_issuer.seal(_certificate(i)) for i in range(count)]
    civil_issuer.submit([(bytes(d.digest), "record", None) for d in sealed])
    civil_issuer.drain()
    diplomas = [f"%PDF-1.7 diploma {i:05d}\n".encode() for i in range(200)]
    edu_issuer.submit([(hashlib.sha256(p).digest(), "file", None) for p in diplomas])
    edu_issuer.drain()
    with store.session() as session:
        out.issued = counts_by_status(session)["anchored"]
    batch_ids = civil_issuer.confirmed_batches()
    batches = [civil_issuer.receipts(b) for b in batch_ids]
    out.batches = len(batches)
    gas = _anchor_gas(registry.node, store, batch_ids[0])
    say(
        f"Civil Registry issued {count:,} birth certificates in {out.batches} batches of "
        f"{civil_issuer.config.batch_size} (one anchor transaction each: {gas:,} gas, "
        f"{gas / civil_issuer.config.batch_size:.0f} per record); the Ministry issued "
        f"{len(diplomas)} diplomas (PDF files) in one batch."
    )

    receipts = {r.digest: r for batch in batches for r in batch}
    documents = [record.attach_receipt(d, receipts[d.digest]) for d in sealed]
    trusted = [TrustedRegistry(registry.chain_id, registry.address)]
    reader = ChainReader(
        registry_for=lambda chain_id, address: registry.attach(address, chain_id=chain_id),
        revocation_ttl=0,
    )

    def check(label: str, document: bytes, receipt: bytes | None = None) -> str:
        given = verification_input(document, receipt=receipt)
        result = verify_receipt(
            given.receipt,
            trusted=trusted,
            reader=reader,
            digest=given.digest,
            digest_kind=given.digest_kind,
        )
        out.outcomes[label] = str(result.outcome)
        return _describe(result)

    doc = documents[min(417, count - 1)]
    say(f"Certificate {doc.data['number']}: " + check("valid", _bytes(doc)))

    altered = record.to_json(doc)
    altered["data"]["child"]["born"] = "2025-03-14"
    say("The same certificate with its birth date altered: " + check("tampered", _dump(altered)))

    redacted = record.redact(doc, ["/address", "/parents"])
    say(
        "The holder hides the address and parents before showing it to a bank "
        f"(fields left: {', '.join(p for p, _ in record.disclosed_fields(redacted))}): "
        + check("redacted", _bytes(redacted))
    )

    old = documents[3]
    corrected_data = _certificate(3)
    corrected_data["place"] = "Tartu"
    corrected = civil_issuer.seal(corrected_data)
    civil_issuer.submit([(bytes(corrected.digest), "record", None)])
    civil_issuer.drain()
    revoke_record(
        store=store,
        registry=registry,
        account=civil.account,
        agency_id=civil_issuer.agency_id,
        digest=bytes(old.digest),
        reason=Reason.SUPERSEDED,
        replacement=bytes(corrected.digest),
    )
    say(
        f"{old.data['number']} was issued with the wrong place of birth; the office issued a "
        "corrected certificate and superseded the old one: " + check("superseded", _bytes(old))
    )
    (corrected_receipt,) = civil_issuer.receipts(civil_issuer.confirmed_batches()[-1])
    say(
        "Looking up the replacement the registry names, the corrected certificate: "
        + check("replacement", _bytes(record.attach_receipt(corrected, corrected_receipt)))
    )

    # Someone deploys a copy of the registry and registers themselves under the same name.
    lookalike, outsider = deploy_dev_registry(w3)
    impostor = DevAgency("Civil Registry Office", outsider, keys.generate_signing_key())
    lookalike.register_agency(
        outsider,
        account=outsider.address,
        name=impostor.name,
        signing_key=keys.public_key_bytes(impostor.signing_key),
    )
    fake_store = open_store(None, data_dir=tmp / "lookalike")
    forger = dev_issuer(fake_store, lookalike, impostor, IssuingConfig(batch_size=1, batch_age=0))
    forged_cert = forger.seal(_certificate(10_001))
    forger.submit([(bytes(forged_cert.digest), "record", None)])
    forger.drain()
    (forged_receipt,) = forger.receipts(1)
    say(
        "A certificate anchored on a look-alike registry with the same agency name: "
        + check("untrusted", _bytes(record.attach_receipt(forged_cert, forged_receipt)))
    )

    diploma_receipt = edu_issuer.receipts(edu_issuer.confirmed_batches()[0])[7]
    say(
        "Diploma no. 00007 (a PDF) with its receipt: "
        + check("diploma", diplomas[7], json.dumps(receipt_to_json(diploma_receipt)).encode())
    )

    r = receipts[documents[5].digest]
    fake_leaf = kind_leaf("record", hashlib.sha256(b"a certificate nobody issued").digest())
    forged = registry.check(
        agency=civil.account.address, leaf=fake_leaf, proof=list(r.merkle.proof), root=r.merkle.root
    )
    out.forged_rejected = not forged.included
    say(
        "A made-up certificate presented with a real proof is rejected by the contract "
        f"(included={forged.included})."
    )
    try:
        registry.revoke(
            outsider, root=r.merkle.root, leaf=r.leaf, proof=list(r.merkle.proof), reason=3
        )
    except ContractRevert as exc:
        out.outsider_refused = True
        say(f"An outsider trying to revoke a certificate is refused on chain ({exc.error_name}).")

    say(
        "The receipt of certificate "
        f"{documents[6].data['number']} alone, without the document: "
        + check("receipt_alone", json.dumps(receipt_to_json(r)).encode())
    )
    _front_running(say, out, registry, civil_issuer, education, check, store)
    _theft(say, out, registry, authority, civil, documents, check)
    store.close()
    fake_store.close()


Check = Callable[..., str]


def _front_running(
    say: Callable[[str], None],
    out: DemoOutcome,
    registry: RegistryContract,
    civil_issuer: Issuer,
    education: DevAgency,
    check: Check,
    store: Store,
) -> None:
    """Agency B sees A's pending anchor(root) and copies it first: it only anchors the root in
    its own namespace, and its revocation of "that root" touches nothing of A's."""
    certificates = [civil_issuer.seal(_certificate(20_000 + i)) for i in range(3)]
    civil_issuer.submit([(bytes(d.digest), "record", None) for d in certificates])
    (batch_id,) = civil_issuer.seal_batches(force=True)
    with store.session() as session:
        batch = repo.batch_by_id(session, batch_id)
        assert batch is not None
        root = bytes(batch.root)
    registry.anchor(education.account, root=root, leaf_count=3)  # B's copy lands first
    civil_issuer.drain()  # A's own anchor still lands: another namespace
    receipt = {r.digest: r for r in civil_issuer.receipts(batch_id)}[certificates[0].digest]
    doc = record.attach_receipt(certificates[0], receipt)
    before = check("front_run", _bytes(doc))
    registry.revoke(education.account, root=root, leaf=root, proof=[], reason=Reason.FRAUD)
    after = check("front_run_revoked", _bytes(doc))
    say(
        "Front-running: the Ministry copies the Civil Registry's pending anchor of a batch and "
        f"gets it mined first. The Civil Registry's anchor lands anyway: {before}. The Ministry "
        f"then revokes 'that root' for fraud, in its own namespace only: {after}"
    )


def _theft(
    say: Callable[[str], None],
    out: DemoOutcome,
    registry: RegistryContract,
    authority: LocalAccount,
    civil: DevAgency,
    documents: list[record.SealedDocument],
    check: Check,
) -> None:
    """A thief with the Civil Registry's transaction key: no signing key of its own, a void
    anchor and revocation once the authority marks the compromise; earlier records stand."""
    identity = civil.account.address
    registry.node.advance(60)  # the theft starts well after the earlier records were anchored
    thief_key = keys.generate_signing_key()
    registry.propose_signing_key(civil.account, keys.public_key_bytes(thief_key))
    try:
        registry.confirm_signing_key(civil.account, identity, keys.public_key_bytes(thief_key))
    except ContractRevert as exc:
        refused = exc.error_name
    else:  # pragma: no cover - the contract must refuse it
        refused = ""
    out.thief_key_refused = (
        bool(refused) and registry.key_of(identity, keys.public_key_bytes(thief_key)).agency is None
    )
    say(
        "A thief steals the Civil Registry's transaction key. It proposes its own signing key, "
        f"but cannot confirm it (refused on chain: {refused}); only the registry authority "
        "confirms key rotations."
    )
    theft = registry.node.block_time()
    forged = record.seal_record({**_certificate(30_000), "child": {"given": "Mallory"}})
    (forged_receipt,) = _anchor_by_hand(registry, civil.account, identity, thief_key, [forged])
    forged_doc = _bytes(record.attach_receipt(forged, forged_receipt))
    victim = documents[8]
    target = _receipt_of(victim)
    registry.revoke(
        civil.account,
        root=target.merkle.root,
        leaf=target.leaf,
        proof=list(target.merkle.proof),
        reason=Reason.FRAUD,
    )
    say(
        "It anchors a certificate it made up, signed with its unconfirmed key: "
        + check("thief_anchor", forged_doc)
        + f". It revokes {victim.data['number']}: "
        + check("thief_revocation", _bytes(victim))
    )
    registry.node.advance(60)
    registry.mark_compromised(authority, identity, since=theft)
    new_account = funded_account(registry.node)
    registry.move_agency(authority, identity, new_account=new_account.address)
    registry.node.advance(2)  # the new account may act from the second after the move
    say(
        "The registry authority marks the Civil Registry compromised since the theft "
        f"({_iso(theft)}) and moves it to a new transaction account ({new_account.address}), "
        "keeping its identity, keys and history."
    )
    say("The thief's certificate now: " + check("thief_after_mark", forged_doc))
    say(
        f"{victim.data['number']}, which the thief revoked inside the window: "
        + check("thief_revocation_after_mark", _bytes(victim))
    )
    say(
        f"Certificate {documents[0].data['number']}, issued before the theft: "
        + check("before_theft", _bytes(documents[0]))
    )
    fresh = record.seal_record(_certificate(40_000))
    (fresh_receipt,) = _anchor_by_hand(registry, new_account, identity, civil.signing_key, [fresh])
    say(
        "A certificate the office issues from its new account: "
        + check("after_move", _bytes(record.attach_receipt(fresh, fresh_receipt)))
    )


def _anchor_by_hand(
    registry: RegistryContract,
    account: LocalAccount,
    agency: str,
    signing_key: Ed25519PrivateKey,
    docs: list[record.SealedDocument],
) -> list[Receipt]:
    """Anchor sealed records without the pipeline (what a thief holding only the transaction
    key, or an agency on its new account, can do), and build their receipts."""
    _, receipts = anchor_by_hand(
        registry,
        account=account,
        signing_key=signing_key,
        digests=[bytes(d.digest) for d in docs],
        kind="record",
        agency=agency,
    )
    return receipts


def _receipt_of(doc: record.SealedDocument) -> Receipt:
    assert doc.receipt is not None
    return doc.receipt


def _anchor_gas(node: Node, store: Store, batch_id: int) -> int:
    """Gas of the batch's anchor transaction (the store keeps its hash; receipts do not)."""
    with store.session() as session:
        batch = repo.batch_by_id(session, batch_id)
        tx_hash = bytes(batch.tx_hash) if batch is not None and batch.tx_hash else b""
    mined = node.mined(tx_hash)
    assert mined is not None
    return mined.gas_used


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bytes(doc: record.SealedDocument) -> bytes:
    return _dump(record.to_json(doc))


def _dump(obj: object) -> bytes:
    return json.dumps(obj).encode()


def _describe(result: Verification) -> str:
    text = f"[{result.outcome}]"
    if result.outcome is Outcome.VALID:
        text += f" issued by {result.agency_name}, anchored {result.anchored_at}"
    elif result.outcome is Outcome.IN_FORCE:
        text += (
            f" the record exists and is in force (issued by {result.agency_name}, anchored "
            f"{result.anchored_at}); no document was checked"
        )
    elif result.outcome is Outcome.SUPERSEDED:
        text += (
            f" the agency names record {result.replacement} as its replacement: a record to "
            "look up, not a verdict on this document"
        )
    else:
        failed = [c for c in result.checks if c.status in ("fail", "error")]
        if failed:
            text += f" {failed[0].name}: {failed[0].reason}"
    return text
