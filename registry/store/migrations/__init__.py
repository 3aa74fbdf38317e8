"""Alembic migrations of the store schema; run by `open_store`, never by hand."""
