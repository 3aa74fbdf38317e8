"""Sealed documents at rest: `records.document` now holds an AES-256-GCM ciphertext (text,
"aesgcm1:" + base64 of nonce and ciphertext), and `records.document_purged_at` says when the
contents were deleted by the retention rule or after download.

Rows stored in clear before this revision stay readable and are encrypted by
`Operator.encrypt_clear_documents` (the migration holds no keys).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("document_purged_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.drop_column("document_purged_at")
