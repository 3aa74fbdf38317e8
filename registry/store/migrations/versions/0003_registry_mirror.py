"""The registry mirror: the contract's events followed into the store to the confirmation
depth (`mirror_events`), the blocks applied with their hashes (`mirror_blocks`, for detecting
and rewinding a re-organisation) and how far the mirror has followed (`mirror_cursor`).
Verification reads the mirror instead of asking the node per request (ARCHITECTURE.md,
"Verification at scale"). Empty when created: the follower fills it from the chain.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mirror_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("registry_address", sa.String(length=42), nullable=False),
        sa.Column("from_block", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("synced_at", sa.Float(), nullable=False),
        sa.Column("agency_version", sa.BigInteger(), nullable=False),
        sa.Column("rewinds", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_mirror_cursor_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirror_cursor")),
    )
    op.create_table(
        "mirror_blocks",
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_mirror_blocks")),
    )
    op.create_table(
        "mirror_events",
        sa.Column("block_number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("log_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("block_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("agency", sa.LargeBinary(length=20), nullable=True),
        sa.Column("subject", sa.LargeBinary(length=32), nullable=True),
        sa.Column("args", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("block_number", "log_index", name=op.f("pk_mirror_events")),
    )
    op.create_index(op.f("ix_mirror_events_agency_subject"), "mirror_events", ["agency", "subject"])


def downgrade() -> None:
    op.drop_index(op.f("ix_mirror_events_agency_subject"), table_name="mirror_events")
    op.drop_table("mirror_events")
    op.drop_table("mirror_blocks")
    op.drop_table("mirror_cursor")
