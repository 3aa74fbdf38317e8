"""Open data (docs/opendata.md): the registry's activity as a published dataset.

Two sources, one fold (`registry.opendata.ActivityFold`):

* `export_open_data`, for anyone with a node (`registry opendata export`): the registry's event
  log read page by page with the `EventFollower` the audit and the mirror use, the gas of each
  page's anchoring transactions read from their receipts in one JSON-RPC batch, every event
  folded and dropped. The four files are written into a new folder next to DIR and moved into
  place only when all are complete: an outage leaves nothing half-written.
* `OpenDataFeed`, for the server: the events the registry mirror stored (its follower keeps
  them to the confirmation depth and rewinds them on a re-organisation), read incrementally
  after the last one folded; the fold starts over when the mirror was rewound. Without a
  mirror, the feed follows the node itself. The rendered files are kept until the next
  block range with news.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from registry.chain import RegistryContract
from registry.chain.events import EventFollower, RegistryEvent
from registry.chain.gas import gas_used
from registry.errors import ChainUnavailable, InvalidInput, StoreUnavailable
from registry.opendata import (
    ActivityFold,
    ActivityRow,
    CatalogMeta,
    DatasetInfo,
    Distribution,
    catalog_jsonld,
    catalog_turtle,
    write_activity_csv,
    write_activity_json,
)
from registry.service.audit.replay import log_range
from registry.service.mirror import RegistryMirror, decode_event
from registry.store.mirror import mirror_cursor, mirror_events_after
from registry.vocabulary import Reason

__all__ = [
    "CatalogFiles",
    "ExportResult",
    "OpenDataFeed",
    "OpenDataSnapshot",
    "export_open_data",
    "fold_registry_log",
    "open_data_feed",
]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""progress(blocks read, blocks to read)."""

DATA_FILES = ("activity.csv", "activity.json")
CATALOG_FILES = ("catalog.jsonld", "catalog.ttl")


# ---------------------------------------------------------------- folding the log


def fold_events(
    fold: ActivityFold, events: list[RegistryEvent], registry: RegistryContract
) -> None:
    """Fold one page of events, with the gas of its anchoring transactions (one batch of
    receipts for the page)."""
    anchors = [e.tx_hash for e in events if e.name == "Anchored"]
    gas = gas_used(registry.w3, anchors) if anchors else {}
    for event in events:
        fold.add(event, gas_used=gas.get(event.tx_hash))


def fold_registry_log(
    registry: RegistryContract,
    *,
    from_block: int = 0,
    to_block: int | None = None,
    span: int = 5_000,
    retries: int = 4,
    backoff: float = 0.5,
    progress: Progress | None = None,
) -> tuple[ActivityFold, DatasetInfo]:
    """The registry's activity from its event log in [from_block, to_block] (default: the
    head), streamed page by page. ChainUnavailable when the node does not answer."""
    head = log_range(registry, from_block=from_block, to_block=to_block, span=span)
    if from_block > head:
        raise InvalidInput(f"--from-block {from_block}: after the node's head {head}")
    follower = EventFollower(
        registry, from_block=from_block, span=span, retries=retries, backoff=backoff
    )
    fold = ActivityFold()
    total = head - from_block + 1
    for _, end, events in follower.pages(to_block=head):
        fold_events(fold, events, registry)
        if progress is not None:
            progress(end - from_block + 1, total)
    to_time = registry.node.block_time(head)
    info = DatasetInfo(
        chain_id=registry.chain_id,
        registry=registry.address,
        from_block=from_block,
        to_block=head,
        to_time=to_time,
        first_time=fold.first_time if fold.first_time is not None else to_time,
        events=fold.events,
    )
    return fold, info


# ---------------------------------------------------------------- the files


def _sha256_of(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def write_data_files(folder: Path, fold: ActivityFold, info: DatasetInfo) -> list[Distribution]:
    """activity.csv and activity.json in `folder`, rows streamed to disk; their sizes and
    SHA-256 for the catalog."""
    with (folder / "activity.csv").open("w", encoding="utf-8", newline="") as f:
        write_activity_csv(fold.rows(until=info.to_time), f)
    with (folder / "activity.json").open("w", encoding="utf-8", newline="\n") as f:
        write_activity_json(
            fold.rows(until=info.to_time),
            f,
            info=info,
            batch_sizes=fold.batch_sizes(),
            reasons=fold.reason_totals(),
        )
    return [Distribution(name, *_sha256_of(folder / name)) for name in DATA_FILES]


def write_catalog_files(
    folder: Path, meta: CatalogMeta, info: DatasetInfo, distributions: list[Distribution]
) -> None:
    document = catalog_jsonld(meta, info, distributions)
    (folder / "catalog.jsonld").write_text(_json(document), encoding="utf-8")
    (folder / "catalog.ttl").write_text(catalog_turtle(document), encoding="utf-8")


def _json(document: object) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


@dataclass(frozen=True)
class ExportResult:
    """What `export_open_data` wrote, and from which part of the chain."""

    directory: Path
    files: dict[str, int]
    """File name -> bytes."""
    info: DatasetInfo
    rows: int
    agencies: int
    seconds: float


def export_open_data(
    registry: RegistryContract,
    directory: Path,
    *,
    meta: CatalogMeta,
    from_block: int = 0,
    to_block: int | None = None,
    span: int = 5_000,
    force: bool = False,
    progress: Progress | None = None,
) -> ExportResult:
    """Write activity.csv, activity.json, catalog.jsonld and catalog.ttl of `registry` into
    `directory`. A folder that already holds files is refused unless `force` (then the four
    files are replaced, nothing else is touched). The files are complete or absent: they are
    written into a new folder beside `directory` and moved into place at the end."""
    started = time.perf_counter()
    directory = Path(os.path.abspath(directory))
    _check_target(directory, force=force)
    fold, info = fold_registry_log(
        registry, from_block=from_block, to_block=to_block, span=span, progress=progress
    )
    staging = _staging_folder(directory)
    try:
        distributions = write_data_files(staging, fold, info)
        write_catalog_files(staging, meta, info, distributions)
        sizes = {name: (staging / name).stat().st_size for name in (*DATA_FILES, *CATALOG_FILES)}
        _move_into_place(staging, directory, force=force)
    except OSError as exc:
        raise InvalidInput(f"{directory}: cannot write ({exc.strerror or exc})") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    rows = sum(1 for _ in fold.rows(until=info.to_time))
    return ExportResult(
        directory=directory,
        files=sizes,
        info=info,
        rows=rows,
        agencies=len(fold.agencies),
        seconds=time.perf_counter() - started,
    )


def _check_target(directory: Path, *, force: bool) -> None:
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(f"{directory}: exists and is not a folder")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise InvalidInput(
            f"{directory}: the folder is not empty; pass --force to replace the open-data "
            "files in it (other files are left alone)"
        )
    if not directory.parent.is_dir():
        raise InvalidInput(f"{directory.parent}: no such folder")
    if not os.access(directory.parent, os.W_OK):
        raise InvalidInput(f"{directory.parent}: not writable")


def _staging_folder(directory: Path) -> Path:
    staging = directory.parent / f".{directory.name}.{secrets.token_hex(6)}.partial"
    try:
        staging.mkdir(mode=0o777)  # the umask applies, as to any folder made here
    except OSError as exc:
        raise InvalidInput(f"{directory.parent}: cannot write ({exc.strerror or exc})") from exc
    return staging


def _move_into_place(staging: Path, directory: Path, *, force: bool) -> None:
    """The complete staging folder becomes `directory`; into an existing folder (empty, or
    with --force) the four files move one by one, each replacing its old version at once."""
    if not directory.exists():
        staging.rename(directory)
        return
    if any(directory.iterdir()) and not force:  # filled while we were reading the chain
        raise InvalidInput(f"{directory}: the folder is not empty; pass --force")
    for name in (*DATA_FILES, *CATALOG_FILES):
        os.replace(staging / name, directory / name)


# ---------------------------------------------------------------- the server's feed


@dataclass(frozen=True)
class CatalogFiles:
    jsonld: bytes
    turtle: bytes


@dataclass
class OpenDataSnapshot:
    """The four files as of one block, rendered once; the catalog per base URL (it names
    where the files are), a few kept."""

    info: DatasetInfo
    rows: list[ActivityRow]
    agencies: dict[str, str]
    batch_sizes: list[tuple[str, int]]
    reasons: list[tuple[Reason, int]]
    csv: bytes
    json: bytes
    distributions: list[Distribution]
    _catalogs: OrderedDict[tuple[str, str], CatalogFiles] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def catalog(self, meta: CatalogMeta) -> CatalogFiles:
        key = (meta.base_url, meta.landing_page or "")
        with self._lock:
            cached = self._catalogs.get(key)
            if cached is not None:
                self._catalogs.move_to_end(key)
                return cached
        document = catalog_jsonld(meta, self.info, self.distributions)
        files = CatalogFiles(_json(document).encode(), catalog_turtle(document).encode())
        with self._lock:
            self._catalogs[key] = files
            while len(self._catalogs) > 4:  # the Host header picks the key: keep it bounded
                self._catalogs.popitem(last=False)
        return files


def render_snapshot(fold: ActivityFold, info: DatasetInfo) -> OpenDataSnapshot:
    rows = list(fold.rows(until=info.to_time))
    csv_text = io.StringIO(newline="")
    write_activity_csv(rows, csv_text)
    json_text = io.StringIO(newline="")
    batch_sizes, reasons = fold.batch_sizes(), fold.reason_totals()
    write_activity_json(rows, json_text, info=info, batch_sizes=batch_sizes, reasons=reasons)
    csv_bytes, json_bytes = csv_text.getvalue().encode(), json_text.getvalue().encode()
    distributions = [
        Distribution(name, len(data), hashlib.sha256(data).hexdigest())
        for name, data in zip(DATA_FILES, (csv_bytes, json_bytes), strict=True)
    ]
    return OpenDataSnapshot(
        info=info,
        rows=rows,
        agencies={str(a): name for a, name in fold.agencies.items()},
        batch_sizes=batch_sizes,
        reasons=reasons,
        csv=csv_bytes,
        json=json_bytes,
        distributions=distributions,
    )


class OpenDataFeed:
    """The operator's registry as open data, kept current from the registry mirror (or, with
    no mirror, from the node to the confirmation depth). `snapshot()` reads what is new at most
    every `ttl` seconds and renders the files again only when something changed."""

    def __init__(
        self,
        registry: RegistryContract,
        *,
        mirror: RegistryMirror | None,
        confirmations: int = 1,
        span: int = 5_000,
        ttl: float = 1.0,
        page: int = 10_000,
    ) -> None:
        self.registry = registry
        self.mirror = mirror
        self.confirmations = confirmations
        self.span = span
        self.ttl = ttl
        self.page = page
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._snapshot: OpenDataSnapshot | None = None
        self._reset()

    def _reset(self) -> None:
        self._fold = ActivityFold()
        self._seen: tuple[int, int, int] | None = None  # (rewinds, block, log index)
        self._follower: EventFollower | None = None
        self._to_block = -1
        self._to_time = 0
        self._dirty = True

    def snapshot(self) -> OpenDataSnapshot:
        """The files as of the newest block read. ChainUnavailable / StoreUnavailable when
        nothing could be read yet; after that, the last good files while the source is down."""
        with self._lock:
            now = time.monotonic()
            if self._snapshot is None or now - self._checked >= self.ttl:
                try:
                    self._refresh()
                    self._checked = now
                except (ChainUnavailable, StoreUnavailable) as exc:
                    if self._snapshot is None:
                        raise
                    log.warning(
                        "open data: %s; serving the files as of block %d",
                        exc,
                        self._snapshot.info.to_block,
                    )
            if self._snapshot is None or self._dirty:
                self._snapshot = render_snapshot(self._fold, self._info())
                self._dirty = False
            return self._snapshot

    def _info(self) -> DatasetInfo:
        fold = self._fold
        to_time = self._to_time or (fold.last_time or 0)
        return DatasetInfo(
            chain_id=self.registry.chain_id,
            registry=self.registry.address,
            from_block=0,
            to_block=max(self._to_block, 0),
            to_time=to_time,
            first_time=fold.first_time if fold.first_time is not None else to_time,
            events=fold.events,
        )

    def _refresh(self) -> None:
        if self.mirror is not None:
            self._from_mirror(self.mirror)
        else:
            self._from_node()

    def _advance(self, to_block: int) -> None:
        if to_block != self._to_block:
            self._to_time = self.registry.node.block_time(to_block) if to_block >= 0 else 0
            self._to_block = to_block
            self._dirty = True

    def _from_mirror(self, mirror: RegistryMirror) -> None:
        store = mirror.store
        with store.session() as session:
            cursor = mirror_cursor(session)
        if cursor is None or cursor.registry_address.lower() != self.registry.address.lower():
            return  # the follower has not started yet
        if self._seen is None or self._seen[0] != cursor.rewinds:
            self._reset()  # first look, or the mirror was rewound: fold again from its start
            self._seen = (cursor.rewinds, -1, -1)
        rewinds, block, index = self._seen
        while True:
            with store.session() as session:
                rows = list(
                    mirror_events_after(
                        session, block_number=block, log_index=index, limit=self.page
                    )
                )
            # Only what the cursor read above covers: a page applied since waits for the next
            # look, with the cursor's block (and its time) that goes with it.
            covered = [r for r in rows if r.block_number <= cursor.block_number]
            if covered:
                fold_events(self._fold, [decode_event(r) for r in covered], self.registry)
                block, index = covered[-1].block_number, covered[-1].log_index
                self._seen = (rewinds, block, index)
                self._dirty = True
            if len(covered) < self.page:
                break
        self._advance(cursor.block_number)

    def _from_node(self) -> None:
        if self._follower is None:
            self._follower = EventFollower(self.registry, span=self.span, retries=0)
        target = self.registry.node.head() - (self.confirmations - 1)
        for _, _, events in self._follower.pages(to_block=target):
            if events:
                fold_events(self._fold, events, self.registry)
                self._dirty = True
        self._advance(target)


def open_data_feed(
    registry: RegistryContract, *, mirror: RegistryMirror | None, confirmations: int, span: int
) -> OpenDataFeed:
    """The server's feed over its registry (through its mirror when it keeps one)."""
    return OpenDataFeed(registry, mirror=mirror, confirmations=confirmations, span=span)
