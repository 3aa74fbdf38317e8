"""The vocabulary is defined once (registry/vocabulary.py) and agrees with both of its other
sides: the contract (its Solidity source and the committed artifact's ABI) and the HTTP API's
OpenAPI document. A reason, status or verdict added on one side only fails here."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from registry.chain.artifact import registry_artifact
from registry.checks import CheckName, CheckStatus
from registry.vocabulary import (
    BATCH_REASONS,
    OUTCOME_MEANING,
    REASON_TEXT,
    AgencyStatus,
    Outcome,
    Reason,
    RecordStatus,
    exit_code_of,
    outcomes_described,
    reason_text,
)

SOURCE = Path(__file__).resolve().parents[1] / "contracts" / "RecordRegistry.sol"


@cache
def _solidity() -> str:
    return SOURCE.read_text(encoding="utf-8")


def _solidity_reasons() -> dict[str, int]:
    found = re.findall(r"uint8 public constant REASON_([A-Z_]+) = (\d+);", _solidity())
    return {name: int(value) for name, value in found}


def _solidity_enum(name: str) -> list[str]:
    body = re.search(rf"enum {name} \{{([^}}]*)\}}", _solidity())
    assert body is not None, f"no enum {name} in {SOURCE.name}"
    return [member.strip() for member in body.group(1).split(",") if member.strip()]


def _function_body(name: str) -> str:
    start = _solidity().index(f"function {name}(")
    return _solidity()[start : _solidity().index("\n    }\n", start)]


@cache
def _openapi() -> dict[str, Any]:
    from api.app import create_app
    from registry.settings import Settings

    document: dict[str, Any] = create_app(Settings(), run_worker=False).openapi()
    return document


def _component(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = _openapi()["components"]["schemas"][name]
    return schema


# -- the contract's side ----------------------------------------------------------------------


def test_reasons_are_the_contracts_constants() -> None:
    assert _solidity_reasons() == {reason.name: reason.value for reason in Reason}


def test_every_reason_has_a_getter_in_the_committed_abi() -> None:
    abi = registry_artifact().abi
    getters = {
        item["name"][len("REASON_") :]
        for item in abi
        if item.get("type") == "function" and item.get("name", "").startswith("REASON_")
    }
    assert getters == {reason.name for reason in Reason}


def test_highest_reason_is_the_contracts_bound() -> None:
    """The contract accepts 1..REASON_<last>: a new reason must move that bound too."""
    last = max(Reason)
    for function in ("revoke", "revokeBatch", "revokeByAuthority"):
        assert f"reason > REASON_{last.name}" in _function_body(function), function


def test_batch_reasons_are_those_a_batch_and_the_authority_may_give() -> None:
    for function in ("revokeBatch", "revokeByAuthority"):
        refused = set(re.findall(r"reason == REASON_([A-Z_]+)", _function_body(function)))
        assert {r.name for r in BATCH_REASONS} == {r.name for r in Reason} - refused, function


def test_agency_statuses_are_the_contracts_enum() -> None:
    members = _solidity_enum("AgencyStatus")
    assert [m.lower() for m in members] == [s.label for s in AgencyStatus]
    assert [s.value for s in AgencyStatus] == list(range(len(members)))


# -- the vocabulary itself ----------------------------------------------------------------------


def test_every_reason_and_verdict_has_its_texts() -> None:
    assert set(REASON_TEXT) == set(Reason)
    assert all(REASON_TEXT.values())
    assert reason_text(Reason.WITHDRAWN) == "withdrawn by the agency"
    assert reason_text(0) == "reason 0"
    assert set(OUTCOME_MEANING) == set(Outcome)
    assert exit_code_of(Outcome.VALID) == 0
    assert exit_code_of(Outcome.ERROR) == 3
    assert exit_code_of(Outcome.TAMPERED) == 1


# -- the API's side -----------------------------------------------------------------------------


def test_api_verdicts_are_the_vocabulary() -> None:
    outcome = _component("Outcome")
    assert outcome["enum"] == [str(o) for o in Outcome]
    description = _component("VerificationPublic")["properties"]["outcome"]["description"]
    assert description == outcomes_described()


def test_api_reasons_are_the_vocabulary() -> None:
    single = _component("RevocationCreate")["properties"]["reason"]
    assert (single["minimum"], single["maximum"]) == (min(Reason), max(Reason))
    assert list(range(single["minimum"], single["maximum"] + 1)) == [r.value for r in Reason]
    for reason in Reason:
        assert f"{reason.value} {reason.text}" in single["description"]
    batch = _component("BatchRevocationCreate")["properties"]["reason"]
    assert batch["enum"] == [r.value for r in BATCH_REASONS]


def test_api_agency_statuses_are_the_vocabulary() -> None:
    status = _component("AgencyPublic")["properties"]["status"]
    assert set(status["enum"]) == {s.label for s in AgencyStatus}


def test_api_check_names_and_statuses_are_the_core_ones() -> None:
    check = _component("CheckPublic")["properties"]
    assert check["status"]["enum"] == [str(s) for s in CheckStatus]
    assert check["name"]["description"] == ", ".join(CheckName)


def test_api_record_statuses_are_the_vocabulary() -> None:
    assert _component("RecordStatus")["enum"] == [str(s) for s in RecordStatus]
