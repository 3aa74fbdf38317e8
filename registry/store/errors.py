"""Errors raised by the record store, all under `RegistryError` so the CLI and API map them once."""

from __future__ import annotations

from registry.errors import RegistryError

PG_START_HINT = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
"""How to start the local PostgreSQL cluster on the Debian machines this project runs on."""


class StoreError(RegistryError):
    """The record store refused or failed an operation."""


class StoreUnavailable(StoreError):
    """The database cannot be opened or reached: nothing could be read or written."""

    exit_code = 3


class WrongStore(StoreError):
    """This store belongs to another chain or registry; mixing them is refused."""


class DuplicateRecord(StoreError):
    """Kept for callers of v1; the store no longer raises it (digests are unique per agency)."""

    def __init__(self, message: str, *, digest: bytes, agency_id: int) -> None:
        super().__init__(message)
        self.digest = digest
        self.agency_id = agency_id


class DuplicateAgency(StoreError):
    """An agency with this address is already in the store."""


class NotFound(StoreError):
    """A batch, agency, token or revocation id names nothing in the store."""


class WrongAgency(StoreError):
    """The batch or record belongs to another agency."""


class InvalidTransition(StoreError):
    """A batch or revocation cannot move from its current state to the one asked for."""


class ClaimLost(StoreError):
    """Records to seal are no longer pending for this agency (another worker sealed them)."""
