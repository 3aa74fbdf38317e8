"""The end-to-end demo on the embedded chain: the story the README's first command tells.

Two agencies issue 1,000 birth certificates (structured records) and a batch of diplomas
(files) through the durable pipeline; then a citizen's documents are verified: one valid, one
altered (TAMPERED), one with a field hidden (still VALID), one superseded by a corrected
certificate (SUPERSEDED, naming the replacement), one anchored on a look-alike registry
(UNTRUSTED). A forged proof and an outsider's revocation are refused on chain.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hexbytes import HexBytes

from registry import keys, record
from registry.chain import RegistryContract, connect
from registry.chain.contract import Reason
from registry.errors import ContractRevert
from registry.merkle import leaf_hash
from registry.receipt import receipt_to_json
from registry.service.issuing import IssuingConfig
from registry.service.revoking import revoke_record
from registry.service.sandbox import (
    DevAgency,
    bind_dev_store,
    deploy_dev_registry,
    dev_issuer,
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
from registry.store import counts_by_status, open_store


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

    @property
    def as_expected(self) -> bool:
        return (
            self.outcomes
            == {
                "valid": "VALID",
                "tampered": "TAMPERED",
                "redacted": "VALID",
                "superseded": "SUPERSEDED",
                "untrusted": "UNTRUSTED",
                "diploma": "VALID",
            }
            and self.forged_rejected
            and self.outsider_refused
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
    say(f"Embedded chain started (chain id {w3.eth.chain_id}); it lives only in this process.")
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
    batches = [civil_issuer.receipts(b) for b in civil_issuer.confirmed_batches()]
    out.batches = len(batches)
    gas = w3.eth.get_transaction_receipt(HexBytes(batches[0][0].anchor.tx_hash))["gasUsed"]
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
        registry_for=lambda chain_id, address: RegistryContract.at(w3, address, chain_id=chain_id),
        revocation_ttl=0,
    )

    def check(label: str, document: bytes, receipt: bytes | None = None) -> str:
        given = verification_input(document, receipt=receipt)
        result = verify_receipt(given.receipt, trusted=trusted, reader=reader, digest=given.digest)
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
    fake_leaf = leaf_hash(hashlib.sha256(b"a certificate nobody issued").digest())
    forged = registry.check(leaf=fake_leaf, proof=list(r.merkle.proof), root=r.merkle.root)
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
    store.close()
    fake_store.close()


def _bytes(doc: record.SealedDocument) -> bytes:
    return _dump(record.to_json(doc))


def _dump(obj: object) -> bytes:
    return json.dumps(obj).encode()


def _describe(result: Verification) -> str:
    text = f"[{result.outcome}]"
    if result.outcome is Outcome.VALID:
        text += f" issued by {result.agency_name}, anchored {result.anchored_at}"
    elif result.outcome is Outcome.SUPERSEDED:
        text += f" replaced by {result.replacement}"
    else:
        failed = [c for c in result.checks if c.status in ("fail", "error")]
        if failed:
            text += f" {failed[0].name}: {failed[0].reason}"
    return text
