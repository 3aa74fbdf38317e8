"""The alliance on two anvil nodes with different chain ids (scripts/alliance_demo.py): country
B's server, holding the signed trust list and a node URL for A's chain, judges A's documents;
and `registry verify` does the same from the command line, each receipt on its own chain."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from registry.cli import app as cli

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import alliance_demo

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def alliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    work = tmp_path_factory.mktemp("alliance")
    with ExitStack() as stack:  # the nodes run until the module's tests are done
        result = alliance_demo.run_alliance(work, say=lambda *_: None, stack=stack)
        yield work, result


def test_a_diploma_from_country_a_is_valid_at_country_bs_server(alliance: Any) -> None:
    _, result = alliance
    before = result.outcomes["before"]
    assert before.outcome == "VALID"
    assert before.country == "KZ"
    assert before.agency == "Ministry of Education A"
    assert before.registry is not None and before.registry.startswith("eip155:7001:0x")
    assert "Country A registry (KZ)" in before.trust_reason


def test_a_registry_that_left_keeps_what_it_anchored_before_but_nothing_after(
    alliance: Any,
) -> None:
    _, result = alliance
    after = result.outcomes["after"]
    assert after.outcome == "UNTRUSTED"
    assert "withdrawn from the trust list on" in after.trust_reason
    assert "anchored after" in after.trust_reason
    assert result.outcomes["before"].outcome == "VALID"


def test_a_look_alike_registry_on_a_chain_is_untrusted_naming_chain_and_address(
    alliance: Any,
) -> None:
    work, result = alliance
    fake = result.outcomes["lookalike"]
    assert fake.outcome == "UNTRUSTED"
    assert fake.country is None
    address = json.loads((work / "x" / "issued" / "diploma-lookalike.sealed.json").read_text())
    registry = address["receipt"]["anchor"]["registry"]
    assert f"eip155:7001:{registry}" in fake.trust_reason
    assert "not a trusted registry" in fake.trust_reason


def test_the_server_publishes_the_list_it_holds(alliance: Any) -> None:
    _, result = alliance
    (held,) = result.trust_list["lists"]
    assert held["sequence"] == 2 and held["operator"] == "Alliance Secretariat"
    countries = {r["country"]: r for r in held["registries"]}
    assert set(countries) == {"KZ", "AZ"}
    assert countries["KZ"]["status"]["status"] == "withdrawn"
    assert [h["status"] for h in countries["KZ"]["history"]] == ["granted", "withdrawn"]
    assert held["document"]["proof"]["cryptosuite"] == "eddsa-jcs-2022"


def _verify(work: Path, document: Path, *rpc: str, lists: str = "alliance-2.json") -> Any:
    multikey = _multikey(work)
    args = ["verify", str(document), "--json", "--trust-list", str(work / "lists" / lists)]
    args += ["--trust-list-key", multikey]
    for value in rpc:
        args += ["--rpc", value]
    env = {"REGISTRY_DATA_DIR": str(work / "verifier")}
    return CliRunner().invoke(cli, args, env=env)


def _multikey(work: Path) -> str:
    signed = json.loads((work / "lists" / "alliance-2.json").read_text())
    method = signed["proof"]["verificationMethod"]
    return str(method.split("#")[1])


def _rpc(work: Path, country: str) -> str:
    config = (work / country / "config.toml").read_text()
    url = next(
        line.split("=", 1)[1].strip().strip('"')
        for line in config.splitlines()
        if line.startswith("rpc ")
    )
    chain = next(
        int(line.split("=", 1)[1]) for line in config.splitlines() if line.startswith("chain_id")
    )
    return f"eip155:{chain}={url}"


def test_the_cli_checks_each_receipt_on_its_own_chain(alliance: Any) -> None:
    work, _ = alliance
    sealed = work / "a-docs" / "issued" / "diploma-before.sealed.json"
    answer = _verify(work, sealed, _rpc(work, "country-a"), _rpc(work, "country-b"))
    assert answer.exit_code == 0, answer.output
    verdict = json.loads(answer.output.strip().splitlines()[-1])
    assert verdict["outcome"] == "VALID" and verdict["country"] == "KZ"
    after = work / "a-docs" / "issued" / "diploma-after.sealed.json"
    answer = _verify(work, after, _rpc(work, "country-a"))
    assert json.loads(answer.output.strip().splitlines()[-1])["outcome"] == "UNTRUSTED"


def test_without_a_node_for_the_receipts_chain_the_verdict_is_error_saying_how(
    alliance: Any,
) -> None:
    work, _ = alliance
    sealed = work / "a-docs" / "issued" / "diploma-before.sealed.json"
    answer = _verify(work, sealed, _rpc(work, "country-b"))
    assert answer.exit_code == 3, answer.output
    verdict = json.loads(answer.output.strip().splitlines()[-1])
    assert verdict["outcome"] == "ERROR"
    reasons = " ".join(c["reason"] for c in verdict["checks"])
    assert "no node" in reasons and "eip155:7001=URL" in reasons


def test_the_cli_refuses_the_older_list_once_it_saw_the_newer(alliance: Any) -> None:
    """Rollback: an attacker replays version 1 (where A is still granted) to a verifier."""
    work, _ = alliance
    after = work / "a-docs" / "issued" / "diploma-after.sealed.json"
    newer = _verify(work, after, _rpc(work, "country-a"))
    assert json.loads(newer.output.strip().splitlines()[-1])["outcome"] == "UNTRUSTED"
    older = _verify(work, after, _rpc(work, "country-a"), lists="alliance-1.json")
    assert older.exit_code == 1, older.output
    assert "lower than 2" in older.output


def _independent_eddsa_jcs_2022(secured: dict[str, Any]) -> bool:
    """The W3C vc-di-eddsa "Verify Proof (eddsa-jcs-2022)" steps written from the spec, sharing
    no code with registry.dataintegrity: JCS, SHA-256 of the proof configuration then of the
    document, concatenated, Ed25519 with the key of the did:key."""
    import hashlib

    import base58
    import rfc8785
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    document = {k: v for k, v in secured.items() if k != "proof"}
    proof = dict(secured["proof"])
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-jcs-2022"
    signature = base58.b58decode(proof.pop("proofValue")[1:])
    multikey = proof["verificationMethod"].split("#")[1]
    raw = base58.b58decode(multikey[1:])
    assert raw[:2] == b"\xed\x01"
    hash_data = (
        hashlib.sha256(rfc8785.dumps(proof)).digest()
        + hashlib.sha256(rfc8785.dumps(document)).digest()
    )
    try:
        Ed25519PublicKey.from_public_bytes(raw[2:]).verify(signature, hash_data)
    except InvalidSignature:
        return False
    return True


def test_lists_signed_by_the_cli_pass_an_independent_eddsa_jcs_2022_check(alliance: Any) -> None:
    work, _ = alliance
    for name in ("alliance-1.json", "alliance-2.json"):
        signed = json.loads((work / "lists" / name).read_text())
        assert _independent_eddsa_jcs_2022(signed), name
        signed["LoTE"]["ListAndSchemeInformation"]["LoTESequenceNumber"] += 1
        assert not _independent_eddsa_jcs_2022(signed), name


def test_each_signed_list_is_anchored_on_the_publishers_registry(alliance: Any) -> None:
    work, _ = alliance
    for name in ("alliance-1.json", "alliance-2.json"):
        listed = work / "lists" / name
        receipt = work / "lists" / "anchored" / f"{name}.receipt.json"
        args = ["verify", str(listed), "--receipt", str(receipt), "--json"]
        args += ["--rpc", _rpc(work, "country-b").split("=", 1)[1]]
        registry = json.loads(receipt.read_text())["anchor"]["registry"]
        answer = CliRunner().invoke(cli, [*args, "--registry", registry])
        assert answer.exit_code == 0, answer.output
        assert json.loads(answer.output.strip().splitlines()[-1])["agencyName"] == (
            "Alliance Secretariat"
        )


def test_a_list_from_an_unpinned_key_or_edited_after_signing_is_refused(alliance: Any) -> None:
    work, _ = alliance
    sealed = work / "a-docs" / "issued" / "diploma-before.sealed.json"
    other = "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"  # the W3C vectors' key
    args = ["verify", str(sealed), "--trust-list", str(work / "lists" / "alliance-2.json")]
    answer = CliRunner().invoke(cli, [*args, "--trust-list-key", other])
    assert answer.exit_code == 1 and "not a pinned publisher key" in answer.output
    edited = json.loads((work / "lists" / "alliance-2.json").read_text())
    entry = edited["LoTE"]["TrustedEntitiesList"][0]["TrustedEntityServices"][0]
    entry["ServiceInformation"]["ServiceStatus"] = entry["ServiceHistory"][0]["ServiceStatus"]
    (work / "edited.json").write_text(json.dumps(edited))
    args = ["verify", str(sealed), "--trust-list", str(work / "edited.json")]
    answer = CliRunner().invoke(cli, [*args, "--trust-list-key", _multikey(work)])
    assert answer.exit_code == 1 and "signature does not verify" in answer.output
