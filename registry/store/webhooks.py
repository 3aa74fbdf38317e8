"""The repository's webhooks and their durable outbox.

A delivery row is written in the transaction that makes the change it reports (a batch
confirmed: `enqueue_batch_confirmed`, called by `mark_confirmed`), so no event is lost to a
crash or a restart. Deliveries are claimed with a lease (several server processes on one
store never send one at the same moment; a process that dies mid-delivery leaves it to be
claimed again when the lease ends), and finished as delivered, retried later, or failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, literal, literal_column, or_, select, update
from sqlalchemy.orm import Session

from registry.store.db import begin_write
from registry.store.errors import NotFound
from registry.store.models import (
    Agency,
    Batch,
    DeliveryState,
    Webhook,
    WebhookDelivery,
    table,
    utcnow,
)
from registry.store.sql import _records, _rowcount, append_event

_webhooks = table(Webhook)
_deliveries = table(WebhookDelivery)

RECORDS_ANCHORED = "records.anchored"

# A literal, not a bound parameter: only then can the planners use the partial index.
_PENDING = _deliveries.c.state == literal_column("'pending'")


# ---------------------------------------------------------------- webhooks


def add_webhook(
    session: Session,
    *,
    agency_id: int,
    public_id: str,
    url: str,
    secret: str,
    events: Sequence[str],
) -> Webhook:
    """Register a webhook of the agency (`secret` as the service stores it: encrypted)."""
    begin_write(session)
    hook = Webhook(
        public_id=public_id,
        agency_id=agency_id,
        url=url,
        secret=secret,
        events=",".join(events),
        created_at=utcnow(),
    )
    session.add(hook)
    session.flush()
    append_event(
        session,
        kind="webhook.created",
        subject=f"agency:{agency_id}",
        detail={"webhook": public_id, "events": list(events)},
    )
    return hook


def live_webhooks(session: Session, *, agency_id: int) -> list[Webhook]:
    """The agency's webhooks not deleted, oldest first."""
    stmt = select(Webhook).where(Webhook.agency_id == agency_id, Webhook.deleted_at.is_(None))
    return list(session.scalars(stmt.order_by(Webhook.id)))


def webhook_by_public_id(session: Session, public_id: str, *, agency_id: int) -> Webhook | None:
    """The agency's live webhook with this id; another agency's is never found."""
    return session.scalars(
        select(Webhook).where(
            Webhook.public_id == public_id,
            Webhook.agency_id == agency_id,
            Webhook.deleted_at.is_(None),
        )
    ).first()


def delete_webhook(session: Session, public_id: str, *, agency_id: int) -> int:
    """Delete the agency's webhook (kept as deleted: its deliveries stay readable) and cancel
    what it had still to deliver; returns how many deliveries were cancelled. NotFound when
    the agency has no such webhook."""
    begin_write(session)
    hook = webhook_by_public_id(session, public_id, agency_id=agency_id)
    if hook is None:
        raise NotFound(f"no webhook {public_id} of this agency")
    hook.deleted_at = utcnow()
    result = session.execute(
        update(_deliveries)
        .where(_deliveries.c.webhook_id == hook.id, _PENDING)
        .values(state=DeliveryState.CANCELLED.value, lease_until=None)
    )
    append_event(
        session,
        kind="webhook.deleted",
        subject=f"agency:{agency_id}",
        detail={"webhook": public_id},
    )
    return _rowcount(result)


# ---------------------------------------------------------------- the outbox


def enqueue_batch_confirmed(session: Session, batch_id: int) -> int:
    """Queue a `records.anchored` delivery of this batch to every live webhook of its agency
    that asked for it, in the caller's transaction (the batch's confirmation); returns how
    many. One INSERT ... SELECT: nothing when the agency has no webhook."""
    now = utcnow()
    w, b = _webhooks.c, table(Batch).c
    source = (
        select(
            w.id,
            w.agency_id,
            literal(RECORDS_ANCHORED),
            literal(batch_id),
            literal(DeliveryState.PENDING.value),
            literal(0),
            literal(now, _deliveries.c.next_attempt_at.type),
            literal(now, _deliveries.c.created_at.type),
        )
        .select_from(_webhooks.join(table(Batch), b.agency_id == w.agency_id))
        .where(
            b.id == batch_id,
            w.deleted_at.is_(None),
            w.events.contains(RECORDS_ANCHORED),
        )
    )
    d = _deliveries.c
    result = session.execute(
        _deliveries.insert().from_select(
            [
                d.webhook_id,
                d.agency_id,
                d.event,
                d.batch_id,
                d.state,
                d.attempts,
                d.next_attempt_at,
                d.created_at,
            ],
            source,
        )
    )
    return max(0, _rowcount(result))


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A claimed delivery and what sending it needs: the webhook (its URL, its encrypted
    secret), the agency, the batch it reports, and the payload once frozen."""

    id: int
    event: str
    attempts: int
    payload: str | None
    webhook_id: int
    webhook_public_id: str
    url: str
    secret: str
    agency_id: int
    agency_address: str
    batch_id: int | None


def any_due_delivery(session: Session, *, now: datetime | None = None) -> bool:
    """Whether a pending delivery is due (read only: the worker's cheap look, so that an idle
    outbox costs no write lock)."""
    d = _deliveries.c
    stmt = select(d.id).where(_PENDING, d.next_attempt_at <= (now or utcnow())).limit(1)
    return session.execute(stmt).first() is not None


def claim_due_deliveries(
    session: Session, *, limit: int, lease: float, now: datetime | None = None
) -> list[DueDelivery]:
    """Claim up to `limit` pending deliveries that are due and not leased to another process,
    for `lease` seconds; oldest due first. A claim is a conditional UPDATE per row: of two
    processes claiming one row, one wins (on SQLite and PostgreSQL alike)."""
    now = now or utcnow()
    d, w = _deliveries.c, _webhooks.c
    free = or_(d.lease_until.is_(None), d.lease_until < now)
    candidates = session.execute(
        select(d.id)
        .where(_PENDING, d.next_attempt_at <= now, free)
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
    ).scalars()
    claimed: list[int] = []
    until = now + timedelta(seconds=lease)
    for delivery_id in list(candidates):
        result = session.execute(
            update(_deliveries).where(d.id == delivery_id, _PENDING, free).values(lease_until=until)
        )
        if _rowcount(result) == 1:
            claimed.append(int(delivery_id))
    if not claimed:
        return []
    rows = session.execute(
        select(
            d.id,
            d.event,
            d.attempts,
            d.payload,
            w.id,
            w.public_id,
            w.url,
            w.secret,
            w.agency_id,
            table(Agency).c.address,
            d.batch_id,
        )
        .select_from(
            _deliveries.join(_webhooks, w.id == d.webhook_id).join(
                table(Agency), table(Agency).c.id == w.agency_id
            )
        )
        .where(d.id.in_(claimed))
        .order_by(d.next_attempt_at, d.id)
    ).all()
    return [DueDelivery(*row) for row in rows]


def batch_event_facts(
    session: Session, batch_id: int, *, limit: int
) -> tuple[Batch, list[tuple[bytes, str | None]], int]:
    """What a `records.anchored` payload says: the batch, up to `limit` of its records
    (digest, the agency's reference) in leaf order, and how many it holds."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"batch #{batch_id} is not in the store")
    c = _records.c
    rows = session.execute(
        select(c.digest, c.reference)
        .where(c.batch_id == batch_id)
        .order_by(c.leaf_index)
        .limit(limit)
    ).all()
    return batch, [(bytes(digest), reference) for digest, reference in rows], batch.leaf_count


def freeze_payload(session: Session, delivery_id: int, payload: str) -> str:
    """Store the payload of a delivery at its first attempt (every retry sends the same
    body); returns the one stored (an earlier attempt's, if any)."""
    d = _deliveries.c
    session.execute(
        update(_deliveries).where(d.id == delivery_id, d.payload.is_(None)).values(payload=payload)
    )
    stored = session.execute(select(d.payload).where(d.id == delivery_id)).scalar()
    return str(stored)


def finish_delivery_attempt(
    session: Session,
    delivery_id: int,
    *,
    delivered: bool,
    status: int | None,
    error: str | None,
    retry_at: datetime | None,
) -> None:
    """Count one attempt: delivered, or to be retried at `retry_at`, or (None) failed for
    good. The lease is given back. A delivery cancelled meanwhile stays cancelled."""
    d = _deliveries.c
    values: dict[str, object] = {
        "attempts": d.attempts + 1,
        "last_status": status,
        "last_error": error,
        "lease_until": None,
    }
    if delivered:
        values.update(state=DeliveryState.DELIVERED.value, delivered_at=utcnow())
    elif retry_at is None:
        values.update(state=DeliveryState.FAILED.value)
    else:
        values.update(next_attempt_at=retry_at)
    session.execute(update(_deliveries).where(d.id == delivery_id, _PENDING).values(**values))


def list_deliveries(session: Session, *, webhook_id: int, limit: int = 50) -> list[WebhookDelivery]:
    """The webhook's deliveries, newest first."""
    stmt = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def prune_deliveries(session: Session, *, finished_before: datetime) -> int:
    """Delete deliveries finished (delivered, failed, cancelled) and created before
    `finished_before`; returns how many."""
    d = _deliveries.c
    result = session.execute(
        delete(_deliveries).where(
            and_(d.state != DeliveryState.PENDING.value, d.created_at < finished_before)
        )
    )
    return _rowcount(result)
