"""What integrators of the API need (issue 16): an agency's own `reference` for a record
(unique per agency) and an index to list an agency's records newest first; bulk submissions
and their records in input order (`bulk_submissions`, `bulk_items`); webhooks and their
durable outbox (`webhooks`, `webhook_deliveries`); `Idempotency-Key`s and the answers they
replay (`idempotency_keys`). Existing records get no reference; every new table starts empty.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 64-bit ids on PostgreSQL; SQLite only auto-numbers an INTEGER PRIMARY KEY.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # ADD COLUMN (nullable) and CREATE INDEX: no copy of the records table, on either database.
    op.add_column("records", sa.Column("reference", sa.String(128), nullable=True))
    op.create_index(
        "uq_records_agency_id_reference",
        "records",
        ["agency_id", "reference"],
        unique=True,
        sqlite_where=sa.text("reference IS NOT NULL"),
        postgresql_where=sa.text("reference IS NOT NULL"),
    )
    op.create_index(op.f("ix_records_agency_id_id"), "records", ["agency_id", "id"])

    op.create_table(
        "bulk_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        _time("created_at"),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_bulk_submissions_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_submissions")),
        sa.UniqueConstraint("public_id", name=op.f("uq_bulk_submissions_public_id")),
    )
    op.create_table(
        "bulk_items",
        sa.Column("bulk_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("record_id", BIG_ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["bulk_id"],
            ["bulk_submissions.id"],
            name=op.f("fk_bulk_items_bulk_id_bulk_submissions"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_bulk_items_record_id_records")
        ),
        sa.PrimaryKeyConstraint("bulk_id", "position", name=op.f("pk_bulk_items")),
    )

    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("events", sa.String(200), nullable=False),
        _time("created_at"),
        _time("deleted_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_webhooks_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
        sa.UniqueConstraint("public_id", name=op.f("uq_webhooks_public_id")),
    )
    op.create_index(op.f("ix_webhooks_agency_id"), "webhooks", ["agency_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_attempt_at"),
        _time("lease_until", nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _time("created_at"),
        _time("delivered_at", nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'failed', 'cancelled')",
            name=op.f("ck_webhook_deliveries_state"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_webhook_deliveries_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_webhook_deliveries_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "webhook_id",
            "event",
            "batch_id",
            name=op.f("uq_webhook_deliveries_webhook_id_event_batch_id"),
        ),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_webhook_id_id"), "webhook_deliveries", ["webhook_id", "id"]
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )

    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        _time("created_at"),
        _time("expires_at"),
        sa.CheckConstraint(
            "state IN ('processing', 'done')", name=op.f("ck_idempotency_keys_state")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_idempotency_keys_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("agency_id", "key", name=op.f("uq_idempotency_keys_agency_id_key")),
    )
    op.create_index(op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_keys_expires_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_index(op.f("ix_webhook_deliveries_webhook_id_id"), table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index(op.f("ix_webhooks_agency_id"), table_name="webhooks")
    op.drop_table("webhooks")
    op.drop_table("bulk_items")
    op.drop_table("bulk_submissions")
    op.drop_index(op.f("ix_records_agency_id_id"), table_name="records")
    op.drop_index("uq_records_agency_id_reference", table_name="records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("reference")
