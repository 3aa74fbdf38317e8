"""W3C Verifiable Credentials through the API and the verifier, on every backend (embedded chain
and anvil; SQLite and PostgreSQL): GET /v1/records/{digest}/credential (issuing agency only, as
the sealed document), an exported credential VALID through POST /v1/verify, /v1/verify/file and
the CLI's reading of a file, REVOKED once its record is revoked, TAMPERED when altered (even
re-signed by the agency's own key, or naming the agency otherwise than the registry does)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from api_helpers import SEED_A, SEED_B, Api
from typer.testing import CliRunner

from registry.credential import read_credential
from registry.dataintegrity import add_proof
from registry.keys import signing_key_from_seed
from registry.service.verify import verification_input, verify_input
from registry.trustlist import verification_method

BIRTH = {
    "type": "BirthCertificate",
    "child": {"given": "Mari", "family": "Tamm", "born": "2026-03-14"},
    "place": "Tallinn",
    "n": 7,
}


def _check(verdict: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [c for c in verdict["checks"] if c["name"] == name]


def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    return body


def _exported(api: Api, record: dict[str, Any] = BIRTH) -> tuple[str, dict[str, Any]]:
    """Agency A's anchored record and its credential, as the API exports it."""
    digest = api.submit(record)["digest"]
    answer = api.client.get(f"/v1/records/{digest}/credential", headers=api.agency_a)
    assert answer.status_code == 200, answer.text
    assert f'filename="{digest}.credential.json"' in answer.headers["content-disposition"]
    return digest, answer.json()


def _resigned(credential: dict[str, Any], seed: bytes = SEED_A) -> dict[str, Any]:
    key = signing_key_from_seed(seed)
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    return add_proof(
        unsigned,
        signing_key=key,
        verification_method=verification_method(key),
        created="2026-11-24T09:30:00Z",
    )


def _verify(api: Api, credential: dict[str, Any]) -> dict[str, Any]:
    answer = api.client.post("/v1/verify", json=credential)
    assert answer.status_code == 200, answer.text
    verdict: dict[str, Any] = answer.json()
    return verdict


def test_an_exported_credential_is_valid(api: Api) -> None:
    c = api.client
    digest, credential = _exported(api)
    sealed = c.get(f"/v1/records/{digest}/document", headers=api.agency_a).json()
    assert credential["credentialSubject"] == BIRTH
    assert credential["evidence"] == [{"type": "SealedRecord", "document": sealed}]
    assert credential["issuer"]["name"] == "Civil Registry Office"
    assert credential["issuer"]["id"].endswith(f":{api.address_a}")
    assert credential["credentialStatus"]["digest"] == digest
    assert read_credential(credential).ok
    text = json.dumps(credential).encode()
    answers = [
        c.post("/v1/verify", json=credential),
        c.post("/v1/verify", content=text, headers={"content-type": "application/json"}),
        c.post("/v1/verify/file", files={"document": ("birth.credential.json", text)}),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        verdict = answer.json()
        assert verdict["outcome"] == "VALID", verdict
        assert verdict["agencyName"] == "Civil Registry Office"
        assert [c["status"] for c in _check(verdict, "credential")] == ["pass"]
        assert [c["name"] for c in verdict["checks"]][:3] == ["format", "credential", "integrity"]


def test_the_cli_reading_of_a_credential_file_is_valid(api: Api, tmp_path: Path) -> None:
    """`registry verify credential.json` classifies and reads the file as below, on any chain
    (test_credential_cmd.py runs the command itself on anvil)."""
    _, credential = _exported(api)
    path = tmp_path / "birth.credential.json"
    path.write_text(json.dumps(credential, indent=2))
    given = verification_input(path.read_bytes(), where=str(path))
    assert given.kind == "credential" and given.format_error is None
    result = verify_input(given, trusted=api.operator.trusted(), reader=api.operator.reader())
    assert result.outcome == "VALID", result.to_json()


@pytest.mark.parametrize("chain_env_session", ["anvil"], indirect=True)
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
@pytest.mark.anvil
def test_the_cli_verifies_an_api_credential(api: Api, tmp_path: Path) -> None:
    """The credential the API exported, verified by `registry verify` against the node alone."""
    digest, credential = _exported(api)
    path = tmp_path / "birth.credential.json"
    path.write_text(json.dumps(credential, indent=2))
    rpc = api.env.w3.provider.endpoint_uri
    env = {"REGISTRY_DATA_DIR": str(tmp_path / "verifier")}
    runner = CliRunner()
    from registry.cli import app as cli

    def verify(file: Path) -> tuple[int, dict[str, Any]]:
        args = ["verify", str(file), "--rpc", rpc, "--registry", api.env.registry.address]
        result = runner.invoke(cli, [*args, "--json"], env=env)
        return result.exit_code, json.loads(result.output.strip().splitlines()[-1])

    code, verdict = verify(path)
    assert (code, verdict["outcome"]) == (0, "VALID"), verdict
    altered = copy.deepcopy(credential)
    altered["credentialSubject"]["place"] = "Tartu"
    path.write_text(json.dumps(_resigned(altered)))
    code, verdict = verify(path)
    assert (code, verdict["outcome"]) == (1, "TAMPERED"), verdict
    revoked = api.client.post(
        f"/v1/records/{digest}/revoke", json={"reason": 3}, headers=api.agency_a
    )
    assert revoked.status_code == 200, revoked.text
    path.write_text(json.dumps(credential))
    code, verdict = verify(path)
    assert (code, verdict["outcome"]) == (1, "REVOKED"), verdict


def test_a_revoked_records_credential_is_revoked(api: Api) -> None:
    digest, credential = _exported(api)
    assert _verify(api, credential)["outcome"] == "VALID"
    revoked = api.client.post(
        f"/v1/records/{digest}/revoke", json={"reason": 3}, headers=api.agency_a
    )
    assert revoked.status_code == 200, revoked.text
    verdict = _verify(api, credential)
    assert verdict["outcome"] == "REVOKED", verdict
    assert [c["status"] for c in _check(verdict, "credential")] == ["pass"]


def test_a_tampered_credential_is_tampered(api: Api) -> None:
    _, credential = _exported(api)
    altered = copy.deepcopy(credential)
    altered["credentialSubject"]["child"]["given"] = "Eve"
    for forged, fields in (
        (altered, {"credentialSubject.child.given", "proof.proofValue"}),
        # Re-signed with the agency's own key: the proof holds, the sealed record does not.
        (_resigned(altered), {"credentialSubject.child.given"}),
        # Signed by another agency's key: the key is not the receipt's.
        (_resigned(credential, SEED_B), {"proof.verificationMethod"}),
    ):
        verdict = _verify(api, forged)
        assert verdict["outcome"] == "TAMPERED", verdict
        failed = {c["details"]["field"] for c in _check(verdict, "credential")}
        assert failed == fields, verdict
        # Decided offline: the chain is not asked for a forgery.
        assert {c["status"] for c in _check(verdict, "anchored")} == {"skip"}
    # Both the subject and the sealed record changed, re-signed: the digest no longer is the
    # anchored one.
    both = copy.deepcopy(altered)
    both["evidence"][0]["document"]["data"]["child"]["given"] = "Eve"
    verdict = _verify(api, _resigned(both))
    assert verdict["outcome"] == "TAMPERED"
    assert _check(verdict, "integrity")[0]["status"] == "fail"


def test_an_issuer_name_the_registry_does_not_hold_is_tampered(api: Api) -> None:
    """`issuer.name` is shown by every credential verifier and proven by nothing offline: the
    chain's name of the agency decides."""
    _, credential = _exported(api)
    renamed = copy.deepcopy(credential)
    renamed["issuer"]["name"] = "Ministry of Foreign Affairs"
    verdict = _verify(api, _resigned(renamed))
    assert verdict["outcome"] == "TAMPERED", verdict
    [check] = _check(verdict, "credential")
    assert check["status"] == "fail" and check["details"]["field"] == "issuer.name"
    assert "Civil Registry Office" in check["reason"]


def test_a_malformed_credential_is_tampered_naming_the_field(api: Api) -> None:
    c = api.client
    _, credential = _exported(api)
    broken = copy.deepcopy(credential)
    del broken["evidence"][0]["document"]["salts"]
    verdict = _verify(api, broken)
    assert verdict["outcome"] == "TAMPERED"
    [fmt] = _check(verdict, "format")
    assert fmt["status"] == "fail" and fmt["details"]["field"] == "evidence[0].document.salts"
    text = json.dumps(credential)
    doubled = text.replace('"place": ', '"place": "Tartu", "place": ', 1).encode()
    verdict = c.post(
        "/v1/verify", content=doubled, headers={"content-type": "application/json"}
    ).json()
    assert (
        verdict["outcome"] == "TAMPERED" and "duplicate" in _check(verdict, "format")[0]["reason"]
    )
    # A credential's digest is recomputed from its sealed record: a digest beside it is refused.
    with_digest = c.post("/v1/verify", params={"digest": "0x" + "ab" * 32}, json=credential)
    assert with_digest.status_code == 422


def test_only_the_issuing_agency_exports_the_credential(api: Api) -> None:
    c = api.client
    digest = api.submit(BIRTH)["digest"]
    url = f"/v1/records/{digest}/credential"
    _problem(c.get(url), 401)
    _problem(c.get(url, headers={"Authorization": "Bearer prr_not-a-token"}), 401)
    _problem(c.get(url, headers=api.agency_b), 403)
    _problem(c.get(url, headers=api.admin), 403)
    file_record = c.post(
        "/v1/records/digest",
        params={"wait": True},
        json={"digest": "0x" + "cd" * 32},
        headers=api.agency_a,
    )
    assert file_record.status_code == 200, file_record.text
    _problem(c.get(f"/v1/records/0x{'cd' * 32}/credential", headers=api.agency_a), 404)
    _problem(c.get(f"/v1/records/0x{'ef' * 32}/credential", headers=api.agency_a), 404)
    assert c.get(url, headers=api.agency_a).status_code == 200


@pytest.mark.parametrize("chain_env_session", ["embedded"], indirect=True)
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_documented_example_verifies(api: Api) -> None:
    """The OpenAPI example of the route is a credential that reads back, and docs/credentials.md
    shows the same one (its sealed document abbreviated)."""
    paths = api.client.get("/openapi.json").json()["paths"]
    route = paths["/v1/records/{digest}/credential"]["get"]
    example = route["responses"]["200"]["content"]["application/json"]["example"]
    assert read_credential(example).ok
    text = (Path(__file__).resolve().parents[2] / "docs" / "credentials.md").read_text()
    shown = json.loads(text.split("```json\n", 1)[1].split("\n```", 1)[0])
    assert list(shown) == list(example)
    assert {k: v for k, v in shown.items() if k != "evidence"} == {
        k: v for k, v in example.items() if k != "evidence"
    }
