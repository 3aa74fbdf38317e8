"""The trust list's format and the verifier's rules (registry/trustlist.py), without a chain:
each rule of docs/trust.md is a test, written the way an attacker would try to get past it."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry import dataintegrity
from registry.errors import InvalidInput, InvalidTrustList, TrustListRejected
from registry.keys import public_key_bytes, signing_key_from_seed
from registry.trustlist import (
    GRANTED,
    WITHDRAWN,
    SeenVersion,
    add_registry,
    caip10,
    check_trust_list,
    new_trust_list,
    parse_caip10,
    parse_trust_list,
    sign_trust_list,
    withdraw_registry,
)

PUBLISHER = signing_key_from_seed(b"\x51" * 32)
OTHER = signing_key_from_seed(b"\x52" * 32)
PINNED = [dataintegrity.multikey_from_public_key(public_key_bytes(PUBLISHER))]
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
JOINED = datetime(2026, 1, 1, tzinfo=UTC)
REG_A = "eip155:31337:0x5FbDB2315678afecb367f032d93F642f64180aa3"
REG_B = "eip155:31338:0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"


def alliance(*, now: datetime = NOW, days: int = 30) -> dict[str, Any]:
    doc = new_trust_list(operator="Alliance Secretariat", territory="ZZ")
    doc = add_registry(doc, name="Country A registry", country="KZ", registry=REG_A, since=JOINED)
    doc = add_registry(doc, name="Country B registry", country="AZ", registry=REG_B, since=JOINED)
    return sign_trust_list(doc, key=PUBLISHER, now=now, valid_for=timedelta(days=days))


def resign(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with a fresh proof by the publisher (what a forger cannot do)."""
    bare = {k: v for k, v in doc.items() if k != "proof"}
    return dataintegrity.add_proof(
        bare,
        signing_key=PUBLISHER,
        verification_method=doc["proof"]["verificationMethod"],
        created=doc["proof"]["created"],
    )


def test_a_signed_list_passes_and_names_each_country_registry() -> None:
    trust = check_trust_list(alliance(), pinned=PINNED, now=NOW)
    assert trust.sequence == 1 and trust.operator == "Alliance Secretariat"
    a = trust.entry_for(31337, "0x5fbdb2315678afecb367f032d93f642f64180aa3")
    assert a is not None and a.country == "KZ" and a.name == "Country A registry"
    assert a.registry == REG_A and a.status.status == GRANTED
    assert trust.entry_for(31337, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512") is None


def test_the_list_uses_etsi_field_names_and_a_w3c_proof() -> None:
    doc = alliance()
    info = doc["LoTE"]["ListAndSchemeInformation"]
    assert {"LoTESequenceNumber", "SchemeOperatorName", "SchemeTerritory"} <= set(info)
    assert {"ListIssueDateTime", "NextUpdate"} <= set(info)
    service = doc["LoTE"]["TrustedEntitiesList"][0]["TrustedEntityServices"][0]
    assert service["ServiceInformation"]["ServiceDigitalIdentity"]["OtherIds"] == [REG_A]
    proof = doc["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["verificationMethod"] == f"did:key:{PINNED[0]}#{PINNED[0]}"


def test_the_proof_checks_with_the_did_key_alone() -> None:
    """Any Data Integrity implementation can check it: the key is in the did:key."""
    doc = alliance()
    method = doc["proof"]["verificationMethod"]
    verified = dataintegrity.verify_proof(
        doc,
        resolve_key=lambda m: dataintegrity.public_key_from_multikey(m.split("#")[1]),
    )
    assert verified.verification_method == method
    assert verified.public_key == public_key_bytes(PUBLISHER)


def test_a_list_past_its_next_update_is_rejected() -> None:
    doc = alliance(days=30)
    with pytest.raises(TrustListRejected, match="out of date"):
        check_trust_list(doc, pinned=PINNED, now=NOW + timedelta(days=30))
    check_trust_list(doc, pinned=PINNED, now=NOW + timedelta(days=29))


def test_a_list_issued_in_the_future_is_rejected() -> None:
    doc = alliance(now=NOW + timedelta(hours=1))
    with pytest.raises(TrustListRejected, match="in the future"):
        check_trust_list(doc, pinned=PINNED, now=NOW)


def test_a_lower_sequence_number_than_one_seen_is_a_rollback() -> None:
    first = alliance()
    seen = check_trust_list(first, pinned=PINNED, now=NOW)
    second = sign_trust_list(first, key=PUBLISHER, now=NOW, valid_for=timedelta(days=30))
    newer = check_trust_list(second, pinned=PINNED, now=NOW, seen=SeenVersion(1, seen.digest))
    assert newer.sequence == 2
    with pytest.raises(TrustListRejected, match="lower than 2"):
        check_trust_list(first, pinned=PINNED, now=NOW, seen=SeenVersion(2, newer.digest))


def test_two_lists_under_one_sequence_number_are_refused() -> None:
    first = alliance()
    seen = check_trust_list(first, pinned=PINNED, now=NOW)
    other = withdraw_registry(first, registry=REG_B, at=NOW)
    other["LoTE"]["ListAndSchemeInformation"]["LoTESequenceNumber"] = 1
    forked = sign_trust_list(other, key=PUBLISHER, now=NOW, valid_for=timedelta(days=30))
    with pytest.raises(TrustListRejected, match="already seen with other content"):
        check_trust_list(forked, pinned=PINNED, now=NOW, seen=SeenVersion(1, seen.digest))
    # the same list again is fine (a verifier restarts)
    check_trust_list(first, pinned=PINNED, now=NOW, seen=SeenVersion(1, seen.digest))


def test_an_unknown_critical_extension_rejects_the_list() -> None:
    doc = alliance()
    doc["LoTE"]["ListAndSchemeInformation"]["SchemeExtensions"] = [
        {"type": "urn:example:must-check-sanctions", "critical": True}
    ]
    with pytest.raises(TrustListRejected, match="marked critical"):
        check_trust_list(resign(doc), pinned=PINNED, now=NOW)
    doc["LoTE"]["ListAndSchemeInformation"]["SchemeExtensions"][0]["critical"] = False
    check_trust_list(resign(doc), pinned=PINNED, now=NOW)


def test_an_unknown_critical_extension_on_an_entry_rejects_the_list() -> None:
    doc = alliance()
    service = doc["LoTE"]["TrustedEntitiesList"][1]["TrustedEntityServices"][0]
    service["ServiceInformation"]["ServiceInformationExtensions"] = [
        {"type": "urn:example:only-diplomas", "critical": True}
    ]
    with pytest.raises(TrustListRejected, match=r"TrustedEntitiesList\[1\].*critical"):
        check_trust_list(resign(doc), pinned=PINNED, now=NOW)


def test_an_edit_after_signing_breaks_the_signature() -> None:
    """The attacker adds their own registry to a published list."""
    doc = alliance()
    entry = copy.deepcopy(doc["LoTE"]["TrustedEntitiesList"][0])
    ids = entry["TrustedEntityServices"][0]["ServiceInformation"]["ServiceDigitalIdentity"]
    ids["OtherIds"] = ["eip155:31337:0x" + "66" * 20]
    doc["LoTE"]["TrustedEntitiesList"].append(entry)
    with pytest.raises(TrustListRejected, match="signature does not verify"):
        check_trust_list(doc, pinned=PINNED, now=NOW)


def test_a_later_withdrawal_date_slipped_in_breaks_the_signature() -> None:
    doc = withdraw_registry(alliance(), registry=REG_B, at=NOW)
    signed = sign_trust_list(doc, key=PUBLISHER, now=NOW, valid_for=timedelta(days=30))
    info = signed["LoTE"]["TrustedEntitiesList"][1]["TrustedEntityServices"][0]
    info["ServiceInformation"]["StatusStartingTime"] = "2030-01-01T00:00:00Z"
    with pytest.raises(TrustListRejected, match="signature does not verify"):
        check_trust_list(signed, pinned=PINNED, now=NOW)


def test_a_list_signed_by_an_unpinned_key_is_rejected() -> None:
    doc = new_trust_list(operator="Alliance Secretariat", territory="ZZ")
    doc = add_registry(doc, name="Evil registry", country="KZ", registry=REG_A, since=JOINED)
    forged = sign_trust_list(doc, key=OTHER, now=NOW, valid_for=timedelta(days=30))
    with pytest.raises(TrustListRejected, match="not a pinned publisher key"):
        check_trust_list(forged, pinned=PINNED, now=NOW)


def test_a_proof_naming_the_pinned_key_but_signed_by_another_fails() -> None:
    doc = alliance()
    bare = {k: v for k, v in doc.items() if k != "proof"}
    forged = dataintegrity.add_proof(
        bare,
        signing_key=OTHER,
        verification_method=doc["proof"]["verificationMethod"],
        created=doc["proof"]["created"],
    )
    with pytest.raises(TrustListRejected, match="signature does not verify"):
        check_trust_list(forged, pinned=PINNED, now=NOW)


def test_a_verification_method_that_is_not_a_did_key_is_refused() -> None:
    doc = alliance()
    bare = {k: v for k, v in doc.items() if k != "proof"}
    other = dataintegrity.add_proof(
        bare,
        signing_key=PUBLISHER,
        verification_method="https://attacker.example/keys/1",
        created=doc["proof"]["created"],
    )
    with pytest.raises(TrustListRejected, match="did:key"):
        check_trust_list(other, pinned=PINNED, now=NOW)


def test_an_unsigned_list_is_rejected() -> None:
    doc = {k: v for k, v in alliance().items() if k != "proof"}
    with pytest.raises(TrustListRejected, match="no proof"):
        check_trust_list(doc, pinned=PINNED, now=NOW)


def test_status_windows_trust_anchors_made_while_granted() -> None:
    withdrawn_at = datetime(2026, 6, 1, tzinfo=UTC)
    doc = withdraw_registry(alliance(), registry=REG_B, at=withdrawn_at)
    trust = parse_trust_list(doc)
    b = trust.entries[1]
    assert [p.status for p in b.history] == [GRANTED, WITHDRAWN]
    assert b.untrusted_at(withdrawn_at - timedelta(seconds=1)) is None
    late = b.untrusted_at(withdrawn_at + timedelta(seconds=1))
    assert late is not None and "withdrawn" in late and "2026-06-01" in late
    early = b.untrusted_at(JOINED - timedelta(days=1))
    assert early is not None and "only from 2026-01-01" in early


def test_editing_a_signed_list_makes_the_next_version() -> None:
    signed = alliance()
    edited = withdraw_registry(signed, registry=REG_B, at=NOW)
    assert "proof" not in edited
    assert edited["LoTE"]["ListAndSchemeInformation"]["LoTESequenceNumber"] == 2
    assert signed["LoTE"]["ListAndSchemeInformation"]["LoTESequenceNumber"] == 1


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("LoTE", "ListAndSchemeInformation", "LoTESequenceNumber"), "3", "LoTESequenceNumber"),
        (("LoTE", "ListAndSchemeInformation", "LoTESequenceNumber"), True, "LoTESequenceNumber"),
        (("LoTE", "ListAndSchemeInformation", "NextUpdate"), "tomorrow", "NextUpdate"),
        (("LoTE", "ListAndSchemeInformation", "NextUpdate"), "2026-12-01T00:00:00", "NextUpdate"),
        (("LoTE", "ListAndSchemeInformation", "LoTEType"), "urn:other", "LoTEType"),
        (("LoTE", "TrustedEntitiesList"), {}, "TrustedEntitiesList"),
    ],
)
def test_malformed_fields_are_named(path: tuple[str, ...], value: Any, field: str) -> None:
    doc = alliance()
    target = doc
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = value
    with pytest.raises(InvalidTrustList) as caught:
        parse_trust_list(doc)
    assert caught.value.field is not None and caught.value.field.endswith(field)


def test_a_bad_registry_id_or_country_is_named() -> None:
    doc = alliance()
    service = doc["LoTE"]["TrustedEntitiesList"][0]["TrustedEntityServices"][0]
    service["ServiceInformation"]["ServiceDigitalIdentity"]["OtherIds"] = ["eip155:1:0x1234"]
    with pytest.raises(InvalidTrustList, match=r"TrustedEntitiesList\[0\].*OtherIds\[0\]"):
        parse_trust_list(doc)
    doc = alliance()
    address = doc["LoTE"]["TrustedEntitiesList"][1]["TrustedEntityInformation"]["TEAddress"]
    address["TEPostalAddress"][0]["Country"] = "Kazakhstan"
    with pytest.raises(InvalidTrustList, match="ISO 3166-1 alpha-2"):
        parse_trust_list(doc)


def test_a_registry_listed_twice_is_refused() -> None:
    doc = alliance()
    doc["LoTE"]["TrustedEntitiesList"].append(copy.deepcopy(doc["LoTE"]["TrustedEntitiesList"][0]))
    with pytest.raises(InvalidTrustList, match="listed twice"):
        parse_trust_list(doc)


def test_publisher_edits_refuse_bad_input() -> None:
    doc = alliance()
    with pytest.raises(InvalidInput, match="already on the list"):
        add_registry(doc, name="again", country="KZ", registry=REG_A, since=JOINED)
    with pytest.raises(InvalidInput, match="--registry"):
        add_registry(doc, name="x", country="KZ", registry="0x5FbDB23", since=JOINED)
    with pytest.raises(InvalidInput, match="not on the list"):
        withdraw_registry(doc, registry="eip155:5:0x" + "11" * 20, at=NOW)
    withdrawn = withdraw_registry(doc, registry=REG_B, at=NOW)
    with pytest.raises(InvalidInput, match="already withdrawn"):
        withdraw_registry(withdrawn, registry=REG_B, at=NOW + timedelta(days=1))
    with pytest.raises(InvalidInput, match="must come after"):
        withdraw_registry(doc, registry=REG_A, at=JOINED - timedelta(days=1))
    with pytest.raises(InvalidInput, match="positive"):
        sign_trust_list(doc, key=PUBLISHER, now=NOW, valid_for=timedelta(0))


@given(
    chain=st.integers(min_value=1, max_value=2**63),
    address=st.binary(min_size=20, max_size=20),
)
def test_caip10_round_trips(chain: int, address: bytes) -> None:
    text = caip10(chain, "0x" + address.hex())
    assert parse_caip10(text) == (chain, caip10(chain, "0x" + address.hex()).split(":")[2])


@pytest.mark.parametrize(
    "text",
    [
        "eip155:0:0x" + "11" * 20,  # chain ids start at 1
        "eip155:01:0x" + "11" * 20,
        "cosmos:cosmoshub-3:cosmos1t2uflqwqe0fsj0shcfkrvpukewcw40yjj6hdc0",
        "eip155:1:" + "11" * 20,
        "eip155:1:0x" + "11" * 20 + "\n",
        "eip155:1",
    ],
)
def test_caip10_refuses_what_is_not_an_evm_account(text: str) -> None:
    with pytest.raises(InvalidInput, match="CAIP-10"):
        parse_caip10(text)


def test_versions_are_remembered_by_publisher_key_not_operator_name() -> None:
    """A renamed operator must not reset rollback protection."""
    first = check_trust_list(alliance(), pinned=PINNED, now=NOW)
    renamed = alliance()
    info = renamed["LoTE"]["ListAndSchemeInformation"]
    info["SchemeOperatorName"] = [{"lang": "en", "value": "Alliance Secretariat (renamed)"}]
    assert check_trust_list(resign(renamed), pinned=PINNED, now=NOW).identity == first.identity


def test_a_list_with_an_unknown_critical_extension_can_still_be_shown() -> None:
    """Only a verifier refuses it; the publisher's tools can still read and fix it."""
    doc = alliance()
    doc["LoTE"]["ListAndSchemeInformation"]["SchemeExtensions"] = [
        {"type": "urn:example:x", "critical": True}
    ]
    assert parse_trust_list(doc).unknown_critical == (
        ("$.LoTE.ListAndSchemeInformation.SchemeExtensions[0]", "urn:example:x"),
    )


def test_a_mixed_case_address_with_a_wrong_checksum_is_refused() -> None:
    good = REG_A.split(":")[2]
    typo = good[:-1] + ("A" if good[-1] != "A" else "B")
    with pytest.raises(InvalidInput, match="EIP-55"):
        parse_caip10(f"eip155:1:{typo}")
    assert parse_caip10(f"eip155:1:{good.lower()}")[1] == good
