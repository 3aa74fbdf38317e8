"""The world the browser tests look at: an embedded chain with a deployed registry, one agency,
and the documents a citizen would hold (files with receipts, sealed records), some of them
revoked or superseded; and a uvicorn server on a free loopback port.

A module of its own (not conftest.py) so that the tests can import its names.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from web3 import Web3

from registry import keys, record
from registry.chain import RegistryContract, connect, fund_from_dev_account, new_account
from registry.chain.contract import Reason
from registry.chain.tx import TxOptions
from registry.receipt import receipt_to_json
from registry.service.issuing import Issuer, IssuingConfig
from registry.service.operator import Operator
from registry.service.revoking import revoke_record
from registry.settings import Settings
from registry.store import add_agency, bind_store, open_store

AGENCY_NAME = "Civil Registry Office"

BIRTH_LABELS: dict[str, Any] = {
    "type": "BirthCertificate",
    "title": {"en": "Birth certificate", "et": "Sünnitunnistus"},
    "fields": {
        "/type": {"en": "Record type", "et": "Dokumendi liik"},
        "/number": {"en": "Certificate number", "et": "Tunnistuse number"},
        "/child": {"en": "Child", "et": "Laps"},
        "/child/given": {"en": "Given name", "et": "Eesnimi"},
        "/child/family": {"en": "Family name", "et": "Perekonnanimi"},
        "/child/born": {"en": "Date of birth", "et": "Sünniaeg"},
        "/place": {"en": "Place of birth", "et": "Sünnikoht"},
        "/address": {"en": "Address", "et": "Aadress"},
        "/address/street": {"en": "Street", "et": "Tänav"},
        # no label for /address/city: the page shows its raw key
    },
}
"""The labels the operator publishes for the world's birth certificates (docs/web.md)."""


@dataclass
class World:
    """An operator over a chain with issued records, and the citizen's files on disk."""

    operator: Operator
    w3: Web3  # the test's own connection to the world's chain
    files: dict[str, Path] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)
    agency: str = ""

    def close(self) -> None:
        self.operator.close()


def _certificate(number: int, place: str = "Tallinn") -> dict[str, Any]:
    return {
        "type": "BirthCertificate",
        "number": f"B-2026-{number:06d}",
        "child": {"given": "Mari", "family": "Tamm", "born": "2026-03-14"},
        "place": place,
        "address": {"street": "Pikk 7", "city": "Tallinn"},
    }


def _write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value, indent=2) + "\n")
    return path


def build_world(tmp: Path) -> World:
    """Deploy, register one agency, issue files and records, revoke and supersede some."""
    w3 = connect()
    admin, agency = new_account(), new_account()
    for account in (admin, agency):
        fund_from_dev_account(w3, account.address)
    options = TxOptions(poll_interval=0.01)
    registry, _ = RegistryContract.deploy(w3, admin, options=options)
    signing_key = keys.signing_key_from_seed(b"\x07" * 32)
    public = keys.public_key_bytes(signing_key)
    registry.register_agency(admin, account=agency.address, name=AGENCY_NAME, signing_key=public)

    data_dir = tmp / "data"
    (data_dir / "labels").mkdir(parents=True)
    _write_json(data_dir / "labels" / "BirthCertificate.json", BIRTH_LABELS)
    settings = Settings(
        data_dir=data_dir,
        registry_address=registry.address,
        chain_id=registry.chain_id,
        revocation_ttl=0,
    )
    store = open_store(None, data_dir=data_dir)
    with store.session() as session:
        bind_store(
            session,
            chain_id=registry.chain_id,
            genesis_hash=bytes(w3.eth.get_block(0)["hash"]),
            registry_address=registry.address,
        )
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
        salt_secret=b"\x5a" * 32,
    )

    citizen = tmp / "citizen"
    citizen.mkdir()
    world = World(Operator(settings, registry=registry, store=store), w3, agency=agency.address)

    pdfs = {
        "diploma": b"%PDF-1.7\n% Diploma of Mari Tamm, Tallinn University, 2026\n%%EOF\n",
        "licence": b"%PDF-1.7\n% Fishing licence 2026-0042\n%%EOF\n",
    }
    sealed = {
        "certificate": issuer.seal(_certificate(1)),
        "old-certificate": issuer.seal(_certificate(2, place="Tarttu")),
        "corrected-certificate": issuer.seal(_certificate(2, place="Tartu")),
    }
    items: list[tuple[bytes, str, str | None]] = [
        (hashlib.sha256(data).digest(), "file", None) for data in pdfs.values()
    ]
    items += [
        (bytes(doc.digest), "record", json.dumps(record.to_json(doc), separators=(",", ":")))
        for doc in sealed.values()
    ]
    issuer.submit(items)
    issuer.drain()
    receipts = {r.digest: r for b in issuer.confirmed_batches() for r in issuer.receipts(b)}

    for name, data in pdfs.items():
        digest = hashlib.sha256(data).digest()
        world.files[name] = citizen / f"{name}.pdf"
        world.files[name].write_bytes(data)
        world.files[f"{name}-receipt"] = _write_json(
            citizen / f"{name}.pdf.receipt.json", receipt_to_json(receipts[digest])
        )
        world.digests[name] = "0x" + digest.hex()
        world.roots[name] = "0x" + receipts[digest].merkle.root.hex()
    altered = pdfs["diploma"].replace(b"2026", b"2016")
    world.files["diploma-altered"] = citizen / "diploma-altered.pdf"
    world.files["diploma-altered"].write_bytes(altered)
    world.files["unknown"] = citizen / "never-issued.pdf"
    world.files["unknown"].write_bytes(b"%PDF-1.7\n% a file no agency ever issued\n%%EOF\n")

    for name, doc in sealed.items():
        full = record.attach_receipt(doc, receipts[doc.digest])
        world.files[name] = _write_json(citizen / f"{name}.sealed.json", record.to_json(full))
        world.digests[name] = "0x" + bytes(doc.digest).hex()
    redacted = record.redact(
        record.attach_receipt(sealed["certificate"], receipts[sealed["certificate"].digest]),
        ["/address"],
    )
    world.files["certificate-redacted"] = _write_json(
        citizen / "certificate-redacted.sealed.json", record.to_json(redacted)
    )
    tampered = record.to_json(
        record.attach_receipt(sealed["certificate"], receipts[sealed["certificate"].digest])
    )
    tampered["data"]["child"]["born"] = "2025-03-14"
    world.files["certificate-tampered"] = _write_json(
        citizen / "certificate-tampered.sealed.json", tampered
    )

    revoke_record(
        store=store,
        registry=registry,
        account=agency,
        agency_id=agency_id,
        digest=hashlib.sha256(pdfs["licence"]).digest(),
        reason=Reason.ISSUED_IN_ERROR,
    )
    revoke_record(
        store=store,
        registry=registry,
        account=agency,
        agency_id=agency_id,
        digest=bytes(sealed["old-certificate"].digest),
        reason=Reason.SUPERSEDED,
        replacement=bytes(sealed["corrected-certificate"].digest),
    )
    return world


@dataclass
class Server:
    """uvicorn serving an ASGI app in a thread, on a free loopback port."""

    app: Any
    url: str = ""
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def start(self) -> Server:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web app did not start (see the log above)")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)


def make_app(world: World) -> Any:
    """The real FastAPI app over the world's operator."""
    from api.app import create_app

    return create_app(operator=world.operator, run_worker=False)
