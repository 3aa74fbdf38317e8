"""Initial schema (protocol v2): chain binding, agencies, API tokens, batches, records,
revocations, journal. Digests and batch roots are unique per agency, as on chain.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 64-bit ids on PostgreSQL; SQLite only auto-numbers an INTEGER PRIMARY KEY.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "registry_meta",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("genesis_hash", sa.String(66), nullable=False),
        sa.Column("registry_address", sa.String(42), nullable=False),
        _time("created_at"),
        sa.CheckConstraint("id = 1", name=op.f("ck_registry_meta_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_meta")),
    )
    op.create_table(
        "agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("account", sa.String(42), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("signing_public_key", sa.String(66), nullable=False),
        sa.Column("compromised_since", sa.BigInteger(), nullable=True),
        _time("created_at"),
        sa.CheckConstraint(
            "status IN ('active', 'suspended', 'compromised')", name=op.f("ck_agencies_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
        sa.UniqueConstraint("account", name=op.f("uq_agencies_account")),
        sa.UniqueConstraint("address", name=op.f("uq_agencies_address")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        _time("created_at"),
        _time("revoked_at", nullable=True),
        sa.CheckConstraint("scope IN ('agency', 'admin')", name=op.f("ck_api_tokens_scope")),
        sa.CheckConstraint(
            "(scope = 'admin' AND agency_id IS NULL) "
            "OR (scope = 'agency' AND agency_id IS NOT NULL)",
            name=op.f("ck_api_tokens_scope_agency"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_api_tokens_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("leaf_count", sa.Integer(), nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
        sa.Column("signing_public_key", sa.LargeBinary(32), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("tx_nonce", sa.BigInteger(), nullable=True),
        sa.Column("tx_raw", sa.LargeBinary(), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("anchored_at", sa.BigInteger(), nullable=True),
        sa.Column("confirmations", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _time("created_at"),
        _time("sealed_at"),
        _time("submitted_at", nullable=True),
        _time("confirmed_at", nullable=True),
        sa.CheckConstraint(
            "state IN ('sealed', 'submitted', 'anchored', 'confirmed', 'failed')",
            name=op.f("ck_batches_state"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_batches_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("agency_id", "root", name=op.f("uq_batches_agency_id_root")),
    )
    op.create_index(op.f("ix_batches_state_id"), "batches", ["state", "id"])
    op.create_table(
        "records",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("digest_kind", sa.String(8), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("leaf_index", sa.Integer(), nullable=True),
        sa.Column("document", sa.Text(), nullable=True),
        _time("created_at"),
        sa.CheckConstraint(
            "digest_kind IN ('file', 'record')", name=op.f("ck_records_digest_kind")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'batched', 'anchored', 'revoked')",
            name=op.f("ck_records_status"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_records_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_records_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.UniqueConstraint("agency_id", "digest", name=op.f("uq_records_agency_id_digest")),
    )
    op.create_index(op.f("ix_records_digest"), "records", ["digest"])
    op.create_index(
        op.f("ix_records_pending"),
        "records",
        ["agency_id", "id"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        op.f("ix_records_batch_id_leaf_index"),
        "records",
        ["batch_id", "leaf_index"],
        unique=True,
        sqlite_where=sa.text("batch_id IS NOT NULL"),
        postgresql_where=sa.text("batch_id IS NOT NULL"),
    )
    op.create_table(
        "revocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("record_id", BIG_ID, nullable=True),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.Column("reason", sa.SmallInteger(), nullable=False),
        sa.Column("replacement", sa.LargeBinary(32), nullable=True),
        sa.Column("by_authority", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        _time("created_at"),
        sa.CheckConstraint("reason BETWEEN 1 AND 5", name=op.f("ck_revocations_reason")),
        sa.CheckConstraint(
            "state IN ('submitted', 'confirmed')", name=op.f("ck_revocations_state")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_revocations_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_revocations_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_revocations_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocations")),
        sa.UniqueConstraint(
            "agency_id",
            "hash",
            "by_authority",
            name=op.f("uq_revocations_agency_id_hash_by_authority"),
        ),
    )
    op.create_index(op.f("ix_revocations_hash"), "revocations", ["hash"])
    op.create_table(
        "journal",
        sa.Column("id", BIG_ID, nullable=False),
        _time("at"),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal")),
    )
    op.create_index(op.f("ix_journal_subject_id"), "journal", ["subject", "id"])
    _make_journal_append_only()


def _make_journal_append_only() -> None:
    """Triggers that refuse UPDATE and DELETE on the journal, whoever connects."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER journal_no_{verb.lower()} BEFORE {verb} ON journal "
                "BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'journal is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER journal_no_change BEFORE UPDATE OR DELETE ON journal "
        "FOR EACH ROW EXECUTE FUNCTION journal_append_only()"
    )
    op.execute(
        "CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON journal "
        "FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS journal_no_truncate ON journal")
        op.execute("DROP TRIGGER IF EXISTS journal_no_change ON journal")
        op.execute("DROP FUNCTION IF EXISTS journal_append_only()")
    op.drop_index(op.f("ix_journal_subject_id"), table_name="journal")
    op.drop_table("journal")
    op.drop_index(op.f("ix_revocations_hash"), table_name="revocations")
    op.drop_table("revocations")
    op.drop_index(op.f("ix_records_batch_id_leaf_index"), table_name="records")
    op.drop_index(op.f("ix_records_pending"), table_name="records")
    op.drop_index(op.f("ix_records_digest"), table_name="records")
    op.drop_table("records")
    op.drop_index(op.f("ix_batches_state_id"), table_name="batches")
    op.drop_table("batches")
    op.drop_table("api_tokens")
    op.drop_table("agencies")
    op.drop_table("registry_meta")
