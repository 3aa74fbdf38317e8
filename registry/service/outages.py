"""Failures of the layers below met where they were not expected, as the registry's errors:
the doors map `RegistryError`s and never import the store or the chain."""

from __future__ import annotations

from registry.errors import RegistryError
from registry.store.db import outage_of


def as_registry_error(exc: BaseException) -> RegistryError | None:
    """The registry error `exc` stands for (a database driver's outage raised outside a store
    session becomes StoreUnavailable), or None when it is none of ours: a bug, to be logged."""
    if isinstance(exc, RegistryError):
        return exc
    return outage_of(exc)
