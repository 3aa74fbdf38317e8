"""Leases: at most one process at a time sends transactions from an agency account.

Two `registry serve` processes on one store must never both anchor for the same account: they
would sign different transactions with the same nonce, or anchor one root twice. The lease is
held for as long as the process lives and is released by the operating system or the database
when it dies, so another process takes over at its next pass:

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a dedicated
  connection; the server drops it when that connection closes (process killed, network cut).
- SQLite: an exclusive `flock` on a file next to the database (`<db>.lease-<account>`); the
  kernel drops it when the process exits, however it exits.
- An in-memory SQLite store (tests, the embedded demo) lives in one process: a lock in it.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from registry.store.db import Store

__all__ = ["AccountLease", "lease_key"]

log = logging.getLogger(__name__)

_IN_PROCESS: set[tuple[int, str]] = set()
_IN_PROCESS_LOCK = threading.Lock()


def lease_key(account: str) -> int:
    """The signed 64-bit advisory-lock key of an account (stable across processes)."""
    digest = hashlib.sha256(b"registry-lease:" + account.lower().encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AccountLease:
    """The right to send transactions from `account`, taken without waiting (`acquire`)."""

    def __init__(self, store: Store, account: str) -> None:
        self.store = store
        self.account = account.lower()
        self._conn: Connection | None = None
        self._file: IO[str] | None = None
        self._memory = False

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None or self._memory

    def acquire(self) -> bool:
        """Take the lease if free, keep it if held; False when another process holds it."""
        if self.store.dialect == "postgresql":
            return self._acquire_pg()
        database = self.store.engine.url.database
        if not database or database == ":memory:":
            return self._acquire_memory()
        return self._acquire_file(Path(database))

    def release(self) -> None:
        """Give the lease back (also done by the OS or the database when the process dies)."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
                self._conn.close()
            except SQLAlchemyError:
                pass  # the connection is gone, and the lock with it
            self._conn = None
        if self._file is not None:
            try:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            finally:
                self._file.close()
                self._file = None
        if self._memory:
            with _IN_PROCESS_LOCK:
                _IN_PROCESS.discard((id(self.store.engine), self.account))
            self._memory = False

    # ------------------------------------------------------------ backends

    def _acquire_pg(self) -> bool:
        if self._conn is not None:
            try:  # still ours while the connection that holds it is alive
                self._conn.execute(text("SELECT 1"))
                return True
            except SQLAlchemyError:
                log.warning("lease on %s lost with its database connection", self.account)
                self._conn = None
        conn = self.store.engine.connect()
        try:
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": lease_key(self.account)}
            ).scalar()
            conn.commit()
        except SQLAlchemyError:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def _acquire_file(self, database: Path) -> bool:
        if self._file is not None:
            return True
        path = database.with_name(f"{database.name}.lease-{self.account}")
        handle = open(path, "a+", encoding="ascii")  # noqa: SIM115 (held while leased)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def _acquire_memory(self) -> bool:
        if self._memory:
            return True
        key = (id(self.store.engine), self.account)
        with _IN_PROCESS_LOCK:
            if key in _IN_PROCESS:
                return False
            _IN_PROCESS.add(key)
        self._memory = True
        return True
