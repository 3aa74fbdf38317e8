"""The pure core of the open data: events folded into monthly rows per agency and a
registry-wide series, written as RFC 4180 CSV and JSON (registry/opendata.py)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from opendata_helpers import HOSTILE_NAME, read_csv

from registry.opendata import (
    COLUMNS,
    ActivityFold,
    ActivityRow,
    DatasetInfo,
    month_of,
    write_activity_csv,
    write_activity_json,
)

A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
B = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
JAN = 1767225600  # 2026-01-01T00:00:00Z
DAY = 86_400
ZERO = b"\0" * 32


@dataclass(frozen=True)
class Ev:
    name: str
    timestamp: int
    args: dict[str, Any] = field(default_factory=dict)
    tx_hash: bytes = b"\x01" * 32


def registered(agency: str, name: str, at: int) -> Ev:
    return Ev("AgencyRegistered", at, {"agency": agency, "name": name, "signingKey": b"k" * 32})


def anchored(agency: str, count: int, at: int, tx: int = 1) -> Ev:
    root = tx.to_bytes(32, "big")
    return Ev("Anchored", at, {"agency": agency, "root": root, "leafCount": count}, root)


def revoked(
    agency: str, reason: int, at: int, *, batch: bool = False, replaced: bool = False
) -> Ev:
    return Ev(
        "Revoked",
        at,
        {
            "agency": agency,
            "root": b"r" * 32,
            "hash": b"r" * 32 if batch else b"h" * 32,
            "reason": reason,
            "replacement": b"n" * 32 if replaced else ZERO,
        },
    )


def fold_of(events: list[Ev], gas: int = 1_000) -> ActivityFold:
    fold = ActivityFold()
    for event in events:
        fold.add(event, gas_used=gas if event.name == "Anchored" else None)
    return fold


def by_key(rows: list[ActivityRow]) -> dict[tuple[str, str], ActivityRow]:
    return {(r.month, r.agency or "*"): r for r in rows}


def test_months_agencies_and_the_registry_series() -> None:
    events = [
        Ev("RoleGranted", JAN, {"role": ZERO, "account": A, "sender": A}),
        registered(A, "Civil Registry Office", JAN + 10),
        anchored(A, 250, JAN + 100, tx=1),
        anchored(A, 100, JAN + 200, tx=2),
        anchored(A, 50, JAN + 300, tx=3),
        registered(B, "Ministry of Education", JAN + 40 * DAY),  # February
        anchored(B, 7, JAN + 41 * DAY, tx=4),
        revoked(A, 2, JAN + 42 * DAY, replaced=True),
        revoked(B, 1, JAN + 42 * DAY, batch=True),
        Ev(
            "RevokedByAuthority",
            JAN + 43 * DAY,
            {"agency": A, "root": b"r" * 32, "hash": b"x" * 32, "reason": 5},
        ),
        Ev("AgencySuspended", JAN + 44 * DAY, {"agency": B}),
        Ev("SigningKeyProposed", JAN + 70 * DAY, {"agency": A, "key": b"n" * 32}),  # March
        Ev(
            "SigningKeyRotated",
            JAN + 70 * DAY,
            {"agency": A, "oldKey": b"k" * 32, "newKey": b"n" * 32},
        ),
        Ev("AgencyCompromised", JAN + 71 * DAY, {"agency": A, "since": JAN + 69 * DAY}),
        Ev("AgencyMoved", JAN + 72 * DAY, {"agency": A, "oldAccount": A, "newAccount": B}),
    ]
    fold = fold_of(events)
    rows = list(fold.rows(until=JAN + 100 * DAY))  # April: a month with no events
    got = by_key(rows)
    assert [r.month for r in rows if r.scope == "registry"] == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
    ]
    jan_a = got[("2026-01", A)]
    assert (jan_a.records_anchored, jan_a.batches_anchored) == (400, 3)
    assert (jan_a.median_records_per_batch, jan_a.largest_batch) == (100, 250)
    assert jan_a.gas_used_anchoring == 3_000 and jan_a.agency_name == "Civil Registry Office"
    assert ("2026-01", B) not in got  # not registered yet
    feb = got[("2026-02", "*")]
    assert (feb.records_anchored, feb.revocations, feb.agencies_registered) == (7, 3, 1)
    assert (feb.revoked_superseded, feb.revoked_issued_in_error, feb.revoked_court_order) == (
        1,
        1,
        1,
    )
    assert (feb.supersessions, feb.batch_revocations, feb.revocations_by_authority) == (1, 1, 1)
    assert got[("2026-02", B)].agency_status == "suspended"
    assert feb.agencies_active == 1
    mar_a = got[("2026-03", A)]
    assert (mar_a.key_proposals, mar_a.key_rotations, mar_a.compromise_marks) == (1, 1, 1)
    assert (mar_a.account_moves, mar_a.agency_status) == (1, "active")  # a move ends it
    apr = got[("2026-04", "*")]
    assert (apr.records_anchored, apr.median_records_per_batch, apr.agencies_active) == (0, None, 1)
    assert got[("2026-04", B)].agency_status == "suspended"  # carried over
    assert dict(fold.batch_sizes())["101-1,000"] == 1
    assert dict((r.value, n) for r, n in fold.reason_totals()) == {1: 1, 2: 1, 3: 0, 4: 0, 5: 1}


def test_one_transaction_counts_its_gas_once_and_medians_may_be_halves() -> None:
    fold = ActivityFold()
    fold.add(registered(A, "A", JAN), gas_used=None)
    same_tx = b"\x09" * 32
    for count in (3, 4):
        event = Ev(
            "Anchored",
            JAN + 5,
            {"agency": A, "root": bytes([count]) * 32, "leafCount": count},
            same_tx,
        )
        fold.add(event, gas_used=70_000)
    (registry, agency) = list(fold.rows(until=JAN))
    assert agency.gas_used_anchoring == 70_000 and registry.gas_used_anchoring == 70_000
    assert agency.median_records_per_batch == 3.5


def test_an_agency_registered_before_the_log_read_is_unnamed_not_an_error() -> None:
    fold = fold_of([anchored(A, 5, JAN)])
    rows = list(fold.rows())
    assert [(r.scope, r.agency, r.agency_name, r.records_anchored) for r in rows] == [
        ("registry", "", "", 5),
        ("agency", A, "", 5),
    ]


def test_no_events_no_rows() -> None:
    assert list(ActivityFold().rows(until=JAN)) == []


def _info(fold: ActivityFold) -> DatasetInfo:
    return DatasetInfo(
        chain_id=31337,
        registry="0x5FbDB2315678afecb367f032d93F642f64180aa3",
        from_block=0,
        to_block=9,
        to_time=JAN + 3 * DAY,
        first_time=fold.first_time or JAN,
        events=fold.events,
    )


def test_csv_is_rfc_4180_and_a_hostile_name_survives_it_and_json() -> None:
    fold = fold_of([registered(A, HOSTILE_NAME, JAN), anchored(A, 12, JAN + 1)])
    out = io.StringIO(newline="")
    assert write_activity_csv(fold.rows(until=JAN), out) == 2
    text = out.getvalue()
    assert text.startswith(",".join(c.name for c in COLUMNS) + "\r\n")
    assert text.endswith("\r\n")
    quoted = '"' + HOSTILE_NAME.replace('"', '""') + '"'
    assert quoted in text  # quoted, inner quotes doubled, line break kept inside the quotes
    rows = read_csv(text)
    assert [r["agency_name"] for r in rows] == ["", HOSTILE_NAME]
    assert rows[0]["agencies_active"] == "1" and rows[1]["agencies_active"] == ""
    document = io.StringIO()
    write_activity_json(
        fold.rows(until=JAN),
        document,
        info=_info(fold),
        batch_sizes=fold.batch_sizes(),
        reasons=fold.reason_totals(),
    )
    data = json.loads(document.getvalue())
    assert data["rows"][1]["agency_name"] == HOSTILE_NAME
    assert data["rows"][1]["agencies_active"] is None
    assert [c["name"] for c in data["columns"]] == [c.name for c in COLUMNS]
    assert data["registry"] == "eip155:31337:0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_every_column_is_described() -> None:
    for column in COLUMNS:
        assert column.type in ("string", "integer", "number")
        assert len(column.description) > 20, column.name


event_kinds = st.sampled_from(["anchor", "revoke", "suspend", "reinstate", "rotate", "register"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([A, B]),
            event_kinds,
            st.integers(min_value=0, max_value=400 * DAY),
            st.integers(min_value=1, max_value=50_000),
            st.integers(min_value=1, max_value=5),
        ),
        max_size=40,
    )
)
def test_the_registry_row_is_the_sum_of_its_agencies(
    actions: list[tuple[str, str, int, int, int]],
) -> None:
    events: list[Ev] = [registered(A, "A", JAN), registered(B, "B", JAN)]
    for n, (agency, kind, offset, count, reason) in enumerate(sorted(actions, key=lambda x: x[2])):
        at = JAN + offset
        events.append(
            {
                "anchor": anchored(agency, count, at, tx=n + 10),
                "revoke": revoked(agency, reason, at, replaced=reason == 2),
                "suspend": Ev("AgencySuspended", at, {"agency": agency}),
                "reinstate": Ev("AgencyReinstated", at, {"agency": agency}),
                "rotate": Ev(
                    "SigningKeyRotated",
                    at,
                    {"agency": agency, "oldKey": b"k" * 32, "newKey": b"n" * 32},
                ),
                "register": registered(agency, "again", at),
            }[kind]
        )
    fold = fold_of(events, gas=7)
    rows = list(fold.rows(until=JAN + 400 * DAY))
    months = sorted({r.month for r in rows})
    assert months[0] == "2026-01" and months[-1] == month_of(JAN + 400 * DAY)
    summed = [
        c.name
        for c in COLUMNS
        if c.type == "integer" and c.name not in ("agencies_active", "largest_batch")
    ]
    for month in months:
        registry = next(r for r in rows if r.month == month and r.scope == "registry")
        agencies = [r for r in rows if r.month == month and r.scope == "agency"]
        assert len(agencies) == 2
        for column in summed:
            assert getattr(registry, column) == sum(getattr(r, column) for r in agencies), column
        sizes = [r.largest_batch for r in agencies if r.largest_batch is not None]
        assert registry.largest_batch == (max(sizes) if sizes else None)
    total = sum(count for _, kind, _, count, _ in actions if kind == "anchor")
    assert sum(r.records_anchored for r in rows if r.scope == "registry") == total
    out = io.StringIO(newline="")
    write_activity_csv(rows, out)
    assert len(read_csv(out.getvalue())) == len(rows)
