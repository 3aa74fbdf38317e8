"""The verdict precedence of docs/receipt.md section 5.3, tested as a table: for every pair of
rules (earlier, later) a verification that triggers both gets the earlier rule's verdict. Moving
any rule before another breaks at least one of these tests."""

from __future__ import annotations

import itertools

import pytest

from registry.chain.contract import Reason
from registry.checks import Check, CheckName
from registry.service.verify import Outcome, outcome_of

ALL = (
    CheckName.FORMAT,
    CheckName.INTEGRITY,
    CheckName.INCLUSION,
    CheckName.SIGNATURE,
    CheckName.TRUST,
    CheckName.ANCHORED,
    CheckName.AGENCY,
    CheckName.KEY,
    CheckName.REVOCATION,
)

# rule name -> (checks it sets, verdict). In precedence order, first wins.
RULES: list[tuple[str, dict[str, Check], Outcome]] = [
    ("tampered", {CheckName.INTEGRITY: Check.failed(CheckName.INTEGRITY, "x")}, Outcome.TAMPERED),
    (
        "untrusted registry",
        {CheckName.TRUST: Check.failed(CheckName.TRUST, "x")},
        Outcome.UNTRUSTED,
    ),
    ("could not check", {CheckName.AGENCY: Check.errored(CheckName.AGENCY, "x")}, Outcome.ERROR),
    (
        "not anchored by the named agency",
        {CheckName.ANCHORED: Check.failed(CheckName.ANCHORED, "x", notAnchored=True)},
        Outcome.UNKNOWN,
    ),
    ("key not the agency's", {CheckName.KEY: Check.failed(CheckName.KEY, "x")}, Outcome.UNTRUSTED),
    (
        "superseded",
        {
            CheckName.REVOCATION: Check.failed(
                CheckName.REVOCATION, "x", reasonCode=Reason.SUPERSEDED
            )
        },
        Outcome.SUPERSEDED,
    ),
    (
        "revoked",
        {CheckName.REVOCATION: Check.failed(CheckName.REVOCATION, "x", reasonCode=Reason.FRAUD)},
        Outcome.REVOKED,
    ),
]
# Further UNTRUSTED triggers that rank with "key not the agency's" (same verdict, same rank).
SAME_RANK_AS_KEY = [
    Check.failed(CheckName.SIGNATURE, "x"),
    Check.failed(CheckName.ANCHORED, "misstated count"),
    Check.failed(CheckName.AGENCY, "anchor void: compromised", void=True),
]


def checks_with(*overrides: dict[str, Check]) -> list[Check]:
    by_name = {name: Check.passed(name, "ok") for name in ALL}
    for override in overrides:
        by_name.update(override)
    return [by_name[name] for name in ALL]


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        (a, b)
        for a, b in itertools.combinations(RULES, 2)
        # two revocation verdicts come from one check: they cannot both hold
        if not (a[0] == "superseded" and b[0] == "revoked")
    ],
    ids=lambda rule: rule[0],
)
def test_earlier_rule_wins(earlier, later) -> None:
    _, first, verdict = earlier
    _, second, _ = later
    assert outcome_of(checks_with(second, first), document=True) is verdict
    assert outcome_of(checks_with(second, first), document=False) is verdict


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule[0])
def test_each_rule_alone(rule) -> None:
    _, checks, verdict = rule
    assert outcome_of(checks_with(checks), document=True) is verdict


@pytest.mark.parametrize("trigger", SAME_RANK_AS_KEY, ids=lambda c: c.name)
def test_untrusted_anchor_signature_or_void_beats_revocation(trigger: Check) -> None:
    revoked = {CheckName.REVOCATION: Check.failed(CheckName.REVOCATION, "x", reasonCode=3)}
    assert outcome_of(checks_with(revoked, {trigger.name: trigger}), document=True) is (
        Outcome.UNTRUSTED
    )
    unknown = {CheckName.ANCHORED: Check.failed(CheckName.ANCHORED, "x", notAnchored=True)}
    if trigger.name != CheckName.ANCHORED:
        assert outcome_of(checks_with({trigger.name: trigger}, unknown), document=True) is (
            Outcome.UNKNOWN
        )


def test_all_pass_is_valid_with_a_document_and_in_force_without() -> None:
    assert outcome_of(checks_with(), document=True) is Outcome.VALID
    assert outcome_of(checks_with(), document=False) is Outcome.IN_FORCE


def test_revoked_beats_in_force() -> None:
    revoked = {CheckName.REVOCATION: Check.failed(CheckName.REVOCATION, "x", reasonCode=1)}
    assert outcome_of(checks_with(revoked), document=False) is Outcome.REVOKED
