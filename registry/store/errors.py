"""The record store's errors. They are defined in `registry.errors` (the one root, importable
by every layer, the API's problem table included) and re-exported here for the store's callers."""

from __future__ import annotations

from registry.errors import ClaimLost as ClaimLost
from registry.errors import DuplicateAgency as DuplicateAgency
from registry.errors import DuplicateRecord as DuplicateRecord
from registry.errors import InvalidTransition as InvalidTransition
from registry.errors import NotFound as NotFound
from registry.errors import StoreError as StoreError
from registry.errors import StoreUnavailable as StoreUnavailable
from registry.errors import WrongAgency as WrongAgency
from registry.errors import WrongStore as WrongStore

PG_START_HINT = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
"""How to start the local PostgreSQL cluster on the Debian machines this project runs on."""
