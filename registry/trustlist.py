"""The alliance's trust list: which country registries a verifier trusts, from when to when,
and who says so (docs/trust.md).

The document reuses the field names of ETSI TS 119 602 "Lists of Trusted Entities" (LoTE),
JSON binding, so that mapping it to an ETSI list later is mechanical:

    {"LoTE": {
       "ListAndSchemeInformation": {LoTEVersionIdentifier, LoTESequenceNumber, LoTEType,
         SchemeOperatorName, SchemeTerritory, ListIssueDateTime, NextUpdate,
         PointerToOtherLoTE, SchemeExtensions},
       "TrustedEntitiesList": [
         {"TrustedEntityInformation": {TEName, TEAddress: {TEPostalAddress: [{Country}]}},
          "TrustedEntityServices": [{"ServiceInformation": {
              ServiceTypeIdentifier, ServiceName,
              ServiceDigitalIdentity: {OtherIds: ["eip155:<chainId>:<address>"],
                                       PublicKeyValues: [Multikey, ...]},
              ServiceStatus, StatusStartingTime, ServiceInformationExtensions},
            "ServiceHistory": [{ServiceStatus, StatusStartingTime}, ...]}]}]},
     "proof": {W3C Data Integrity, cryptosuite eddsa-jcs-2022}}

A registry is trusted for an anchor made while its status was granted: a registry withdrawn on
a date keeps the documents it anchored before that date, and none after. Pure: no I/O.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry import dataintegrity
from registry.errors import InvalidInput, InvalidTrustList, TrustListRejected
from registry.keys import public_key_bytes
from registry.types import Address, checksum_address

LOTE_TYPE = "urn:record-registry:LoTEType:AllianceRecordRegistries"
"""LoTEType of an alliance's list of record registries (ours: ETSI defines EU list types)."""

SERVICE_TYPE = "urn:record-registry:SvcType:RecordRegistry"
"""ServiceTypeIdentifier of a record registry contract."""

GRANTED = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"
WITHDRAWN = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn"
STATUS_NAMES = {GRANTED: "granted", WITHDRAWN: "withdrawn"}
"""The two service statuses (ETSI TS 119 612's URIs, which TS 119 602 lists reuse)."""

KNOWN_EXTENSIONS: frozenset[str] = frozenset()
"""Extension types this verifier understands; any other marked critical rejects the list."""

CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a list's issue time may be before it is refused."""

LIST_FIELD = "LoTE.ListAndSchemeInformation"
ENTRIES_FIELD = "LoTE.TrustedEntitiesList"

_CAIP10 = re.compile(r"eip155:([1-9][0-9]{0,19}):(0x[0-9a-fA-F]{40})")
_COUNTRY = re.compile(r"[A-Z]{2}")


# ------------------------------------------------------------------ CAIP-10


def caip10(chain_id: int, address: str) -> str:
    """The CAIP-10 account id of a contract: `eip155:<chainId>:<checksummed address>`."""
    return f"eip155:{chain_id}:{checksum_address(address)}"


def parse_caip10(text: str, *, field: str = "registry") -> tuple[int, Address]:
    """(chain id, checksummed address) of `eip155:<chainId>:<0x address>`; InvalidInput naming
    `field` otherwise (another namespace than eip155 is refused: only EVM chains are read)."""
    if not isinstance(text, str):
        raise InvalidInput("expected a CAIP-10 id eip155:<chainId>:<address>", field=field)
    match = _CAIP10.fullmatch(text)
    if match is None:
        raise InvalidInput(
            f"{text!r} is not a CAIP-10 id eip155:<chainId>:<0x + 40 hex digits>", field=field
        )
    address = match.group(2)
    checksummed = checksum_address(address.lower())
    if address != address.lower() and address[2:] != address[2:].upper() and address != checksummed:
        raise InvalidInput(
            f"{text!r}: the address's mixed case is not its EIP-55 checksum (a typo?)", field=field
        )
    return int(match.group(1)), checksummed


# ------------------------------------------------------------------ the model


@dataclass(frozen=True)
class StatusPeriod:
    """A status and the time it started (it lasts until the next one starts)."""

    status: str
    since: datetime

    @property
    def name(self) -> str:
        return STATUS_NAMES[self.status]


@dataclass(frozen=True)
class RegistryEntry:
    """One country's registry on the list."""

    name: str
    country: str
    chain_id: int
    address: Address
    history: tuple[StatusPeriod, ...]
    """Oldest first; the last is the current status."""
    publisher_keys: tuple[str, ...]
    """Multikeys of the country's publishing authority (for the lists it points to)."""

    @property
    def registry(self) -> str:
        return caip10(self.chain_id, self.address)

    @property
    def status(self) -> StatusPeriod:
        return self.history[-1]

    def status_at(self, moment: datetime) -> StatusPeriod | None:
        """The status in force at `moment` (None: before the registry was listed)."""
        current = None
        for period in self.history:
            if period.since <= moment:
                current = period
        return current

    def untrusted_at(self, moment: datetime) -> str | None:
        """Why an anchor made at `moment` is not trusted, or None when it is."""
        period = self.status_at(moment)
        at = iso(moment)
        if period is None:
            return (
                f"{self.name} ({self.country}) is on the trust list only from "
                f"{iso(self.history[0].since)}; this record was anchored before, at {at}"
            )
        if period.status != GRANTED:
            return (
                f"{self.name} ({self.country}) was {period.name} from the trust list on "
                f"{iso(period.since)}; this record was anchored after, at {at}"
            )
        return None


@dataclass(frozen=True)
class TrustList:
    """A parsed trust list (its proof not yet checked: see `check_trust_list`)."""

    sequence: int
    operator: str
    territory: str
    issued: datetime
    next_update: datetime
    pointers: tuple[str, ...]
    entries: tuple[RegistryEntry, ...]
    digest: bytes
    """SHA-256 of the list's canonical JSON (RFC 8785), proof included: what a verifier
    remembers."""
    document: Mapping[str, Any]
    """The list as read, proof included."""
    unknown_critical: tuple[tuple[str, str], ...] = ()
    """(path, type) of each extension marked critical that this verifier does not know."""

    @property
    def signer(self) -> str | None:
        """The proof's verificationMethod (None: unsigned)."""
        proof = self.document.get("proof")
        method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
        return method if isinstance(method, str) else None

    @property
    def identity(self) -> str:
        """Which list this is, across its versions: its territory and its publisher's key
        (not the operator's name, which a publisher may translate or rename)."""
        return f"{self.territory}/{self.signer}"

    def entry_for(self, chain_id: int, address: str) -> RegistryEntry | None:
        wanted = address.lower()
        for entry in self.entries:
            if entry.chain_id == chain_id and entry.address.lower() == wanted:
                return entry
        return None


def iso(moment: datetime) -> str:
    """UTC, seconds, `Z`: the one date-time form of the list."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------ reading


class _Reader:
    """Typed reads of a JSON object with the JSON path of every failure."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            raise InvalidTrustList("expected an object", field=path)
        self.value, self.path = value, path

    def at(self, name: str) -> str:
        return f"{self.path}.{name}"

    def get(self, name: str, kind: type | tuple[type, ...], *, required: bool = True) -> Any:
        if name not in self.value:
            if required:
                raise InvalidTrustList("missing", field=self.at(name))
            return None
        value = self.value[name]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            want = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise InvalidTrustList(f"expected {_json_type(want)}", field=self.at(name))
        return value

    def obj(self, name: str, *, required: bool = True) -> _Reader | None:
        value = self.get(name, Mapping, required=required)
        return None if value is None else _Reader(value, self.at(name))

    def items(self, name: str, *, required: bool = True) -> list[tuple[str, Any]]:
        values = self.get(name, list, required=required) or []
        return [(f"{self.at(name)}[{i}]", v) for i, v in enumerate(values)]

    def time(self, name: str) -> datetime:
        return parse_time(self.get(name, str), field=self.at(name))

    def text(self, name: str) -> str:
        """A MultiLangString list ([{lang, value}]): the English value, else the first."""
        items = self.items(name)
        if not items:
            raise InvalidTrustList("expected at least one {lang, value}", field=self.at(name))
        texts: list[tuple[str, str]] = []
        for path, item in items:
            read = _Reader(item, path)
            texts.append((read.get("lang", str), read.get("value", str)))
        return next((v for lang, v in texts if lang.startswith("en")), texts[0][1])


def _json_type(name: str) -> str:
    return {"str": "a string", "int": "an integer", "list": "an array", "Mapping": "an object"}.get(
        name, name
    )


def parse_time(text: str, *, field: str) -> datetime:
    """An RFC 3339 date-time with a time zone (e.g. 2026-11-30T09:00:00Z)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidTrustList(
            f"{text!r} is not a date-time with a time zone (e.g. 2026-11-30T09:00:00Z)",
            field=field,
        )
    return moment.astimezone(UTC)


def _extensions(items: list[tuple[str, Any]], unknown: list[tuple[str, str]]) -> None:
    """Collect the extensions marked critical that this verifier does not understand."""
    for path, item in items:
        read = _Reader(item, path)
        kind = read.get("type", str)
        critical = read.get("critical", bool, required=False)
        if critical and kind not in KNOWN_EXTENSIONS:
            unknown.append((path, kind))


def list_digest(document: Mapping[str, Any]) -> bytes:
    """SHA-256 of the document's RFC 8785 canonical form."""
    return hashlib.sha256(rfc8785.dumps(document)).digest()


def parse_trust_list(document: Any) -> TrustList:
    """Read a trust list; InvalidTrustList naming the field at fault."""
    root = _Reader(document, "$")
    lote = root.obj("LoTE")
    assert lote is not None
    info = lote.obj("ListAndSchemeInformation")
    assert info is not None
    version = info.get("LoTEVersionIdentifier", int)
    if version != 1:
        raise InvalidTrustList(
            f"version {version} is not supported (1 is)", field=info.at("LoTEVersionIdentifier")
        )
    lote_type = info.get("LoTEType", str)
    if lote_type != LOTE_TYPE:
        raise InvalidTrustList(f"expected {LOTE_TYPE!r}", field=info.at("LoTEType"))
    sequence = info.get("LoTESequenceNumber", int)
    if sequence < 1:
        raise InvalidTrustList("must be 1 or more", field=info.at("LoTESequenceNumber"))
    territory = info.get("SchemeTerritory", str)
    issued, next_update = info.time("ListIssueDateTime"), info.time("NextUpdate")
    if next_update <= issued:
        raise InvalidTrustList("must be after ListIssueDateTime", field=info.at("NextUpdate"))
    pointers = []
    for path, item in info.items("PointerToOtherLoTE", required=False):
        pointers.append(_Reader(item, path).get("LoTELocation", str))
    unknown: list[tuple[str, str]] = []
    _extensions(info.items("SchemeExtensions", required=False), unknown)
    entries = [_entry(path, item, unknown) for path, item in lote.items("TrustedEntitiesList")]
    seen: set[tuple[int, str]] = set()
    for (path, _), entry in zip(lote.items("TrustedEntitiesList"), entries, strict=True):
        key = (entry.chain_id, entry.address)
        if key in seen:
            raise InvalidTrustList(f"registry {entry.registry} is listed twice", field=path)
        seen.add(key)
    return TrustList(
        sequence=sequence,
        operator=info.text("SchemeOperatorName"),
        territory=territory,
        issued=issued,
        next_update=next_update,
        pointers=tuple(pointers),
        entries=tuple(entries),
        digest=list_digest(document),
        document=document,
        unknown_critical=tuple(unknown),
    )


def _entry(path: str, item: Any, unknown: list[tuple[str, str]]) -> RegistryEntry:
    read = _Reader(item, path)
    information = read.obj("TrustedEntityInformation")
    assert information is not None
    address = information.obj("TEAddress")
    assert address is not None
    postal = address.items("TEPostalAddress")
    if not postal:
        raise InvalidTrustList("expected one postal address", field=address.at("TEPostalAddress"))
    country_read = _Reader(postal[0][1], postal[0][0])
    country = country_read.get("Country", str)
    if not _COUNTRY.fullmatch(country):
        raise InvalidTrustList(
            f"{country!r} is not an ISO 3166-1 alpha-2 code", field=country_read.at("Country")
        )
    services = read.items("TrustedEntityServices")
    if len(services) != 1:
        raise InvalidTrustList(
            "expected exactly one service: the country's registry",
            field=read.at("TrustedEntityServices"),
        )
    service = _Reader(services[0][1], services[0][0])
    info = service.obj("ServiceInformation")
    assert info is not None
    if info.get("ServiceTypeIdentifier", str) != SERVICE_TYPE:
        raise InvalidTrustList(f"expected {SERVICE_TYPE!r}", field=info.at("ServiceTypeIdentifier"))
    identity = info.obj("ServiceDigitalIdentity")
    assert identity is not None
    ids = identity.items("OtherIds")
    if len(ids) != 1:
        raise InvalidTrustList(
            "expected exactly one CAIP-10 registry id", field=identity.at("OtherIds")
        )
    try:
        chain_id, contract = parse_caip10(ids[0][1], field=ids[0][0])
    except InvalidInput as exc:
        raise InvalidTrustList(exc.problem, field=exc.field) from None
    keys = []
    for key_path, key in identity.items("PublicKeyValues", required=False):
        try:
            dataintegrity.public_key_from_multikey(key)
        except InvalidInput as exc:
            raise InvalidTrustList(f"not an Ed25519 Multikey ({exc})", field=key_path) from None
        keys.append(key)
    _extensions(info.items("ServiceInformationExtensions", required=False), unknown)
    current = _status(info)
    history = [_status(_Reader(v, p)) for p, v in service.items("ServiceHistory", required=False)]
    periods = sorted([*history, current], key=lambda period: period.since)
    if periods[-1] is not current:
        raise InvalidTrustList(
            "the current status must start after every status in ServiceHistory",
            field=info.at("StatusStartingTime"),
        )
    return RegistryEntry(
        name=information.text("TEName"),
        country=country,
        chain_id=chain_id,
        address=contract,
        history=tuple(periods),
        publisher_keys=tuple(keys),
    )


def _status(read: _Reader) -> StatusPeriod:
    status = read.get("ServiceStatus", str)
    if status not in STATUS_NAMES:
        raise InvalidTrustList(
            f"expected {GRANTED!r} or {WITHDRAWN!r}", field=read.at("ServiceStatus")
        )
    return StatusPeriod(status, read.time("StatusStartingTime"))


# ------------------------------------------------------------------ the verifier's rules


@dataclass(frozen=True)
class SeenVersion:
    """The newest version of a list a verifier has accepted before."""

    sequence: int
    digest: bytes


def check_trust_list(
    document: Any,
    *,
    pinned: Collection[str],
    now: datetime,
    seen: SeenVersion | None = None,
) -> TrustList:
    """The verifier's rules (docs/trust.md): a well-formed list, signed (eddsa-jcs-2022) by a
    pinned publisher key, not past its next update, not issued in the future, and not older
    than (nor a different list under the same number as) the version seen before.
    TrustListRejected or InvalidTrustList saying which rule failed."""
    if not isinstance(document, Mapping) or "proof" not in document:
        raise TrustListRejected("the list is not signed: it has no proof")
    trust = parse_trust_list(document)
    try:
        verified = dataintegrity.verify_proof(document, resolve_key=_did_key)
    except (InvalidInput, dataintegrity.InvalidDataIntegrityProof) as exc:
        raise TrustListRejected(f"the list's signature does not verify: {exc}") from None
    for path, kind in trust.unknown_critical:
        raise TrustListRejected(
            f"{path}: extension {kind!r} is marked critical and this verifier does not "
            "understand it, so it must not use the list"
        )
    signer = dataintegrity.multikey_from_public_key(verified.public_key)
    if signer not in pinned:
        raise TrustListRejected(
            f"the list is signed by {signer}, which is not a pinned publisher key "
            f"(pinned: {', '.join(sorted(pinned)) or 'none'})"
        )
    if now >= trust.next_update:
        raise TrustListRejected(
            f"the list is out of date: its NextUpdate {iso(trust.next_update)} has passed "
            f"(now {iso(now)}); fetch the current list from its publisher"
        )
    if trust.issued > now + CLOCK_SKEW:
        raise TrustListRejected(
            f"the list says it was issued at {iso(trust.issued)}, in the future (now {iso(now)})"
        )
    if seen is not None:
        if trust.sequence < seen.sequence:
            raise TrustListRejected(
                f"the list's sequence number {trust.sequence} is lower than {seen.sequence}, "
                "already seen: an older version (a rollback) is never used"
            )
        if trust.sequence == seen.sequence and trust.digest != seen.digest:
            raise TrustListRejected(
                f"the list's sequence number {trust.sequence} was already seen with other "
                "content: a publisher never issues two lists under one number"
            )
    return trust


def _did_key(verification_method: str) -> bytes:
    """The Ed25519 key of a `did:key:<multikey>#<multikey>` verification method."""
    did, _, fragment = verification_method.partition("#")
    multikey = did.removeprefix("did:key:")
    if not did.startswith("did:key:") or (fragment and fragment != multikey):
        raise InvalidInput(
            f"{verification_method!r} is not a did:key verification method",
            field="proof.verificationMethod",
        )
    return dataintegrity.public_key_from_multikey(multikey)


def verification_method(key: Ed25519PrivateKey) -> str:
    """`did:key:<multikey>#<multikey>`: resolvable by any Data Integrity implementation."""
    multikey = dataintegrity.multikey_from_public_key(public_key_bytes(key))
    return f"did:key:{multikey}#{multikey}"


# ------------------------------------------------------------------ the publisher's edits


def new_trust_list(*, operator: str, territory: str, language: str = "en") -> dict[str, Any]:
    """An empty, unsigned list: sequence number 1, issue time and next update set by `sign`."""
    return {
        "LoTE": {
            "ListAndSchemeInformation": {
                "LoTEVersionIdentifier": 1,
                "LoTESequenceNumber": 1,
                "LoTEType": LOTE_TYPE,
                "SchemeOperatorName": [{"lang": language, "value": operator}],
                "SchemeTerritory": territory,
                "ListIssueDateTime": "1970-01-01T00:00:00Z",
                "NextUpdate": "1970-01-02T00:00:00Z",
            },
            "TrustedEntitiesList": [],
        }
    }


def _edited(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy to edit: a signed (published) list becomes the next version, unsigned."""
    edited = copy.deepcopy(dict(document))
    if edited.pop("proof", None) is not None:
        edited["LoTE"]["ListAndSchemeInformation"]["LoTESequenceNumber"] += 1
    return edited


def add_registry(
    document: Mapping[str, Any],
    *,
    name: str,
    country: str,
    registry: str,
    since: datetime,
    publisher_keys: Sequence[str] = (),
    language: str = "en",
) -> dict[str, Any]:
    """The list with a country's registry added, granted from `since`."""
    parse_trust_list(document)
    chain_id, address = parse_caip10(registry, field="--registry")
    if not _COUNTRY.fullmatch(country):
        raise InvalidInput(f"{country!r} is not an ISO 3166-1 alpha-2 code", field="--country")
    for key in publisher_keys:
        dataintegrity.public_key_from_multikey(key)
    edited = _edited(document)
    if parse_trust_list(document).entry_for(chain_id, address) is not None:
        raise InvalidInput(
            f"{caip10(chain_id, address)} is already on the list", field="--registry"
        )
    identity: dict[str, Any] = {"OtherIds": [caip10(chain_id, address)]}
    if publisher_keys:
        identity["PublicKeyValues"] = list(publisher_keys)
    edited["LoTE"]["TrustedEntitiesList"].append(
        {
            "TrustedEntityInformation": {
                "TEName": [{"lang": language, "value": name}],
                "TEAddress": {"TEPostalAddress": [{"Country": country}]},
            },
            "TrustedEntityServices": [
                {
                    "ServiceInformation": {
                        "ServiceTypeIdentifier": SERVICE_TYPE,
                        "ServiceName": [{"lang": language, "value": f"{name} record registry"}],
                        "ServiceDigitalIdentity": identity,
                        "ServiceStatus": GRANTED,
                        "StatusStartingTime": iso(since),
                    }
                }
            ],
        }
    )
    parse_trust_list(edited)
    return edited


def withdraw_registry(
    document: Mapping[str, Any], *, registry: str, at: datetime
) -> dict[str, Any]:
    """The list with a registry withdrawn from `at` on: its anchors before `at` stay trusted."""
    trust = parse_trust_list(document)
    chain_id, address = parse_caip10(registry, field="--registry")
    entry = trust.entry_for(chain_id, address)
    if entry is None:
        raise InvalidInput(f"{caip10(chain_id, address)} is not on the list", field="--registry")
    if entry.status.status == WITHDRAWN:
        raise InvalidInput(
            f"{entry.registry} was already withdrawn on {iso(entry.status.since)}",
            field="--registry",
        )
    if at <= entry.status.since:
        raise InvalidInput(
            f"the withdrawal ({iso(at)}) must come after the current status began "
            f"({iso(entry.status.since)})",
            field="--at",
        )
    edited = _edited(document)
    index = trust.entries.index(entry)
    service = edited["LoTE"]["TrustedEntitiesList"][index]["TrustedEntityServices"][0]
    info = service["ServiceInformation"]
    service.setdefault("ServiceHistory", []).append(
        {"ServiceStatus": info["ServiceStatus"], "StatusStartingTime": info["StatusStartingTime"]}
    )
    info["ServiceStatus"], info["StatusStartingTime"] = WITHDRAWN, iso(at)
    parse_trust_list(edited)
    return edited


def sign_trust_list(
    document: Mapping[str, Any],
    *,
    key: Ed25519PrivateKey,
    now: datetime,
    valid_for: timedelta,
) -> dict[str, Any]:
    """The list issued now, valid until now + `valid_for`, signed by the publisher's key
    (a list signed before is re-signed as its next version)."""
    if valid_for <= timedelta(0):
        raise InvalidInput("must be positive", field="--valid-days")
    edited = _edited(document)
    info = edited["LoTE"]["ListAndSchemeInformation"]
    info["ListIssueDateTime"], info["NextUpdate"] = iso(now), iso(now + valid_for)
    parse_trust_list(edited)
    return dataintegrity.add_proof(
        edited,
        signing_key=key,
        verification_method=verification_method(key),
        created=iso(now),
    )


def trusted_entries(lists: Iterable[TrustList]) -> list[tuple[TrustList, RegistryEntry]]:
    """Every registry of the held lists, with the list that names it."""
    return [(trust, entry) for trust in lists for entry in trust.entries]


__all__ = [
    "GRANTED",
    "LOTE_TYPE",
    "SERVICE_TYPE",
    "WITHDRAWN",
    "RegistryEntry",
    "SeenVersion",
    "StatusPeriod",
    "TrustList",
    "add_registry",
    "caip10",
    "check_trust_list",
    "iso",
    "list_digest",
    "new_trust_list",
    "parse_caip10",
    "parse_time",
    "parse_trust_list",
    "sign_trust_list",
    "trusted_entries",
    "verification_method",
    "withdraw_registry",
]
