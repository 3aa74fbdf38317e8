"""The one sealing path: structured records to sealed documents, one by one or in bulk, in this
process or in worker processes, and the one pool of those workers.

An agency seals with deterministic salts (`seal_with_secret`: the same record gives the same
digest, so submitting it again is idempotent); `seal_each` does that for a request's records,
refusing the first bad one by its index; `sealed_chunks` feeds a bulk job chunk by chunk, in
a `SealPool`'s workers when the job is large. `seal_records` seals with fresh random salts (no
agency secret), hashing the fields in the workers of a shared pool. The pools live here, not in
the core: `registry.record` only provides the pure per-record and per-chunk steps.
"""

from __future__ import annotations

import binascii
import gc
import hashlib
import json
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from itertools import chain, islice
from typing import Any, TypeVar

from registry import record, salts
from registry.errors import InvalidInput
from registry.salts import record_salt_source
from registry.service import documents

T = TypeVar("T")

Sealed = tuple[bytes, str]
"""A sealed record: its digest and its sealed document as compact JSON (no receipt)."""

POOL_THRESHOLD = 4_000
"""Below this many records, sealing in this process beats handing them to worker processes."""

HASH_POOL_THRESHOLD = 2_000
"""`seal_records`: from this many records on (with more than one worker), the field hashing
runs in worker processes."""


def seal_with_secret(secret: bytes, data: Mapping[str, Any]) -> record.SealedDocument:
    """`record.seal_record` with salts derived from `secret` and the record itself."""
    try:
        source = record_salt_source(secret, data)
    except Exception:  # not canonicalizable: let the record module name the exact problem
        record.seal_record(data)
        raise
    return record.seal_record(data, salt_source=source)


def _sealed(doc: record.SealedDocument) -> Sealed:
    return bytes(doc.digest), record.sealed_json_bytes(doc).decode("ascii")


def _seal_walked_once(secret: bytes, data: Mapping[str, Any]) -> Sealed:
    """`_sealed(seal_with_secret(secret, data))` with the record walked once, not twice (the
    salt source and the sealing each walk it): the bulk path, where the walk is a tenth of
    the cost. The salts are `registry.salts`'s (seed over the fields sorted by pointer,
    SHAKE-256 stream), taken from the same walk; tests/service/test_sealing.py checks the
    result against seal_with_secret."""
    copy, leaves = record._prepare(data)  # raises the RecordError seal_record would
    count = len(leaves)
    ordered = sorted(range(count), key=lambda i: leaves[i][0])
    seed = salts._seed(secret, [record.FieldLeaf(*leaves[i]) for i in ordered])
    stream = hashlib.shake_256(seed).digest(record.SALT_BYTES * count)
    size = record.SALT_BYTES
    in_order = [b""] * count
    for rank, index in enumerate(ordered):
        in_order[index] = stream[size * rank : size * (rank + 1)]
    digits = binascii.hexlify(b"".join(in_order))
    doc = record._trusted_document(
        copy,
        record._salts_of(leaves, digits.decode("ascii"), 0),
        record._digest_of(leaves, digits, 0),
        tuple(leaves),
    )
    return bytes(doc.digest), record.sealed_json_bytes(doc).decode("ascii")


def seal_chunk(
    secret: bytes, records: Sequence[Mapping[str, Any]], data_key: bytes | None = None
) -> list[Sealed]:
    """Seal records with deterministic salts, in input order (in this process or a worker).
    With the agency's `data_key`, each document comes back in its stored form, encrypted
    (`documents.encrypt_items`): a bulk job's workers do that too, not the storing process."""
    sealed = [_seal_walked_once(secret, data) for data in records]
    if data_key is None:
        return sealed
    stored = documents.encrypt_items(data_key, [(d, "record", doc) for d, doc in sealed])
    return [(digest, str(document)) for digest, _, document in stored]


class RecordRejected(InvalidInput):
    """One record of many cannot be sealed. `index` names it; `cause` is the sealing error
    (its `field` the pointer inside the record), None when `problem` is about the record as a
    whole (not a JSON object, too large)."""

    def __init__(self, index: int, problem: str, *, cause: InvalidInput | None = None) -> None:
        super().__init__(f"records[{index}]: {problem}")
        self.field = f"records[{index}]"
        self.problem = problem
        self.index = index
        self.cause = cause


def seal_each(
    secret: bytes, records: Sequence[Any], *, max_record_bytes: int | None = None
) -> list[Sealed]:
    """Seal a request's records with deterministic salts, in input order; the first bad one
    raises RecordRejected: not a JSON object, larger than `max_record_bytes` (compact UTF-8
    JSON), or refused by the sealing."""
    sealed: list[Sealed] = []
    for index, data in enumerate(records):
        if not isinstance(data, dict):
            raise RecordRejected(index, "expected a JSON object (a record)")
        if max_record_bytes is not None:
            size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
            if size > max_record_bytes:
                raise RecordRejected(
                    index, f"record is {size} bytes; the limit is {max_record_bytes}"
                )
        try:
            doc = seal_with_secret(secret, data)
        except InvalidInput as exc:
            raise RecordRejected(index, getattr(exc, "problem", "") or str(exc), cause=exc) from exc
        sealed.append(_sealed(doc))
    return sealed


class SealPool:
    """Worker processes (started with "spawn") that seal records, the CPU-heavy step, while
    this process stores, batches and anchors. Start once, reuse for every bulk job. As with any
    spawn pool, a script using one must guard its top level with `if __name__ == "__main__":`.
    `warm`: import the sealing code in every worker now, not during the first job."""

    def __init__(self, workers: int = 1, *, warm: bool = True) -> None:
        self.workers = workers
        self.pid = os.getpid()
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        if warm:
            list(self._pool.map(seal_chunk, [b"\0" * 32] * workers, [[{"w": 1}]] * workers))

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]:
        """Run `fn(*args)` in a worker (a module-level function: it is pickled by name)."""
        return self._pool.submit(fn, *args)

    def seal(
        self,
        secret: bytes,
        records: Iterable[Mapping[str, Any]],
        *,
        chunk: int = 5_000,
        ahead: int | None = None,
        data_key: bytes | None = None,
    ) -> Iterator[list[Sealed]]:
        """Sealed chunks in input order, as soon as each is ready. The pool works ahead by at
        most `ahead` chunks (default: two per worker): `records` is read lazily, so a job of
        any size holds a few chunks of records and sealed documents at a time, never all.
        `data_key`: the documents come back encrypted (`seal_chunk`)."""
        window = max(1, 2 * self.workers if ahead is None else ahead)
        source = iter(records)
        in_flight: deque[Future[list[Sealed]]] = deque()
        try:
            while True:
                while len(in_flight) < window:
                    part = list(islice(source, chunk))
                    if not part:
                        break
                    in_flight.append(self._pool.submit(seal_chunk, secret, part, data_key))
                if not in_flight:
                    return
                yield in_flight.popleft().result()
        finally:
            for future in in_flight:
                future.cancel()  # the consumer stopped (an error): seal nothing more

    def close(self, *, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self) -> SealPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sealed_chunks(
    secret: bytes,
    records: Iterable[Mapping[str, Any]],
    *,
    pool: SealPool | None = None,
    chunk: int = 5_000,
    data_key: bytes | None = None,
) -> Iterator[list[Sealed]]:
    """A bulk job's records sealed with deterministic salts, chunk by chunk in input order: in
    the pool's workers when one is given and the job is large (POOL_THRESHOLD records or
    more), else here, one chunk at a time (so the caller stores each before the next is
    sealed). `records` may be any iterable, a generator included: it is read a chunk at a
    time (the pool a few chunks ahead), never materialised. `data_key`: the documents come
    back encrypted, in their stored form (`seal_chunk`)."""
    source: Iterator[Mapping[str, Any]] = iter(records)
    if pool is not None:
        head = list(islice(source, POOL_THRESHOLD))
        if len(head) < POOL_THRESHOLD:
            pool = None  # a small job: cheaper here than through the workers
        source = chain(head, source)
        del head
    if pool is not None:
        yield from pool.seal(secret, source, chunk=chunk, data_key=data_key)
        return
    while part := list(islice(source, chunk)):
        yield seal_chunk(secret, part, data_key)
        del part  # the next chunk is read only now: one chunk held at a time


# ------------------------------------------------------- random salts (no agency secret)

_shared_lock = threading.Lock()
_shared: SealPool | None = None


def shared_pool(workers: int) -> SealPool:
    """The pool of `workers` processes kept for `seal_records` (a new one after a fork or for
    another number of workers)."""
    global _shared
    with _shared_lock:
        if _shared is None or (_shared.pid, _shared.workers) != (os.getpid(), workers):
            if _shared is not None and _shared.pid == os.getpid():
                _shared.close(wait=False)
            _shared = SealPool(workers, warm=False)
        return _shared


def drop_shared_pool(pool: SealPool | None = None) -> None:
    """Stop the kept pool (`pool`: only if it is still the kept one); the next call starts
    a fresh one."""
    global _shared
    with _shared_lock:
        if pool is None:
            pool = _shared
        if _shared is pool:
            _shared = None
    if pool is not None:
        pool.close(wait=False)


def seal_records(
    records: Sequence[Mapping[str, Any]], *, workers: int | None = None
) -> list[record.SealedDocument]:
    """Seal many records with fresh random salts, like ``[seal_record(r) for r in records]``
    but faster.

    Results are in input order. A bad record raises the error seal_record raises for it,
    with the message naming its index (``records[17]/name: ...``) and the index in
    ``record_index``; nothing is returned then.

    The cyclic garbage collector is paused while it runs and restored on return (if it was
    on): building this many containers otherwise triggers repeated full collections of the
    whole heap, which cost as much as the sealing itself. Nothing here creates reference
    cycles.

    ``workers`` is the number of worker processes (default: the CPUs this process may use).
    With more than one and more than HASH_POOL_THRESHOLD records, the field hashing runs in
    the shared pool (`shared_pool`), created on first use and kept for later calls. This
    process still checks and copies every record (so errors are found in input order), draws
    the salts and builds the documents: the workers get only leaf paths, values and salts,
    and send back record digests.
    """
    if workers is None:
        workers = _available_cpus()
    elif not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise InvalidInput(f"workers must be a positive integer, got {workers!r}")
    with _gc_paused():
        if workers > 1 and len(records) > HASH_POOL_THRESHOLD:
            return _seal_pooled(records, shared_pool(workers))
        docs: list[record.SealedDocument] = []
        for begin in range(0, len(records), record._CHUNK_RECORDS):
            prepared = record._prepare_chunk(records, begin)
            docs.extend(record._build_documents(prepared, record._chunk_digits(prepared), None))
        return docs


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _seal_pooled(
    records: Sequence[Mapping[str, Any]], pool: SealPool
) -> list[record.SealedDocument]:
    in_flight: deque[tuple[Any, bytes, Future[bytes]]] = deque()
    docs: list[record.SealedDocument] = []
    try:
        for begin in range(0, len(records), record._CHUNK_RECORDS):
            prepared = record._prepare_chunk(records, begin)
            digits = record._chunk_digits(prepared)
            future = pool.submit(record._digest_chunk, record._hash_work(prepared, digits))
            in_flight.append((prepared, digits, future))
            if len(in_flight) > 2 * pool.workers:  # bounded memory; the workers stay busy
                prepared, digits, future = in_flight.popleft()
                docs.extend(record._build_documents(prepared, digits, future.result()))
        while in_flight:
            prepared, digits, future = in_flight.popleft()
            docs.extend(record._build_documents(prepared, digits, future.result()))
        return docs
    except BrokenProcessPool:
        drop_shared_pool(pool)  # a worker died; the next call starts a fresh pool
        raise
    finally:
        for _, _, future in in_flight:
            future.cancel()  # after an error: do not hash what nobody will read
