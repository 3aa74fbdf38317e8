"""The registry mirror (ARCHITECTURE.md, "Verification at scale"): the contract's events
followed into the store, to the confirmation depth, so that verifying a receipt reads the
store instead of asking the node.

Following (`RegistryMirror.follow`, one process at a time: it holds the mirror's lease):
each step reads the blocks after the cursor up to `head - (confirmations - 1)` in pages of at
most `span` blocks (one eth_getLogs each) and the headers of the page's first and last block
and of every block holding an event (one JSON-RPC batch where the node accepts them). The
page's first block must name the cursor's block as its parent and every log's block hash must
be its header's, else the chain moved under us: a re-organisation. Then the mirror is rewound
to the newest applied block the node still has (its hash unchanged) and followed again from
there. A fresh store starts at the registry's deployment block.

Reading (`check`, `key_window`, `agency_name`): when the follower saw the mirror current
within `max_lag` seconds, a receipt whose anchor block the mirror covers is answered from the
store, "as of block N"; otherwise the caller asks the node (None here).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from registry.chain import CheckResult, KeyWindow, RegistryContract
from registry.chain.events import (
    REGISTRY_EVENTS,
    EventFollower,
    RegistryEvent,
    RegistryState,
    replay,
)
from registry.chain.node import BlockInfo
from registry.errors import ChainUnavailable, StoreUnavailable
from registry.merkle import verify_proof
from registry.receipt import Receipt
from registry.store import Store
from registry.store.lease import AccountLease
from registry.store.mirror import (
    MirrorCursorRow,
    MirrorEventRow,
    MirrorReads,
    apply_mirror_page,
    mirror_agency_events,
    mirror_blocks_from,
    mirror_cursor,
    rewind_mirror,
    start_mirror,
    touch_mirror,
)
from registry.types import checksum_address

__all__ = ["MirrorAnswer", "RegistryMirror", "decode_event", "encode_args"]

log = logging.getLogger(__name__)

_HASH_EVENTS = frozenset({"Anchored", "Revoked", "RevokedByAuthority"})
_SUBJECT = {
    "Anchored": "root",
    "Revoked": "hash",
    "RevokedByAuthority": "hash",
    "AgencyRegistered": "signingKey",
    "SigningKeyProposed": "key",
    "SigningKeyRotated": "newKey",
}
_HEADER_BATCH = 64


@dataclass(frozen=True)
class MirrorAnswer(CheckResult):
    """What `check(agency, leaf, proof, root)` answers, read from the mirror as of a block."""

    as_of_block: int = 0


class _Moved(Exception):
    """The chain changed while a page was read (a log's block is no longer the header's)."""


def encode_args(args: dict[str, Any]) -> str:
    """An event's arguments as JSON: bytes as {"$b": hex}, everything else as is."""

    def value(v: Any) -> Any:
        if isinstance(v, bytes | bytearray):
            return {"$b": bytes(v).hex()}
        if isinstance(v, list | tuple):
            return [value(x) for x in v]
        return v

    return json.dumps({k: value(v) for k, v in args.items()}, separators=(",", ":"))


def _decode_args(text: str) -> dict[str, Any]:
    def value(v: Any) -> Any:
        if isinstance(v, dict) and set(v) == {"$b"}:
            return bytes.fromhex(v["$b"])
        if isinstance(v, list):
            return [value(x) for x in v]
        return v

    return {k: value(v) for k, v in json.loads(text).items()}


def decode_event(row: MirrorEventRow) -> RegistryEvent:
    """A stored event as the follower decoded it from the chain."""
    return RegistryEvent(
        name=row.name,
        args=_decode_args(row.args),
        block_number=row.block_number,
        log_index=row.log_index,
        tx_hash=row.tx_hash,
        timestamp=row.timestamp,
        block_hash=row.block_hash,
    )


def _mirror_row(event: RegistryEvent, header: BlockInfo) -> MirrorEventRow:
    agency = event.args.get("agency")
    subject = _SUBJECT.get(event.name)
    return MirrorEventRow(
        block_number=event.block_number,
        log_index=event.log_index,
        block_hash=header.hash,
        tx_hash=event.tx_hash,
        timestamp=header.timestamp,
        name=event.name,
        agency=bytes.fromhex(str(agency)[2:]) if agency else None,
        subject=bytes(event.args[subject]) if subject else None,
        args=encode_args(event.args),
    )


class RegistryMirror:
    """The mirror of one registry in one store: followed by `follow()`, read by `check()`."""

    def __init__(
        self,
        store: Store,
        registry: RegistryContract,
        *,
        confirmations: int = 1,
        span: int = 5_000,
        max_lag: float = 10.0,
        snapshot_ttl: float = 0.1,
        from_block: int | None = None,
    ) -> None:
        if confirmations < 1:
            raise ValueError(f"confirmations {confirmations}: must be at least 1")
        self.store = store
        self.registry = registry
        self.confirmations = confirmations
        self.span = span
        self.max_lag = max_lag
        self.snapshot_ttl = snapshot_ttl
        self._from_block = from_block
        self._lease = AccountLease(store, f"mirror-{registry.address.lower()}")
        self._reads = MirrorReads(store)
        self._lock = threading.Lock()
        self._snapshot: tuple[float, MirrorCursorRow | None] = (float("-inf"), None)
        self._state: tuple[tuple[int, int], RegistryState] | None = None
        self._required = -1

    # ------------------------------------------------------------ following

    @property
    def leading(self) -> bool:
        """Whether this process is the one that follows (holds the mirror's lease)."""
        return self._lease.held

    def release(self) -> None:
        """Give back the lease and close the readers' connections."""
        self._lease.release()
        self._reads.close()

    def follow(self, *, max_pages: int | None = None) -> int:
        """One following step (all pages up to the confirmed head, or `max_pages`): returns
        how many events were applied. Does nothing while another process follows.
        ChainUnavailable when the node does not answer."""
        with self._lock:
            if not self._lease.acquire():
                return 0
            try:
                return self._follow(max_pages)
            finally:
                self._snapshot = (float("-inf"), None)  # read what was just written

    def _follow(self, max_pages: int | None) -> int:
        node = self.registry.node
        with self.store.session() as session:
            cursor = mirror_cursor(session)
        if cursor is None or not self._ours(cursor):
            cursor = self._start()
        head = node.head()
        target = head - (self.confirmations - 1)
        if target <= cursor.block_number:
            if cursor.block_number >= 0:
                (now,) = node.blocks([cursor.block_number])
                if now.hash != cursor.block_hash:
                    self._rewind(cursor)
                    return 0
            with self.store.session() as session:
                touch_mirror(
                    session,
                    block_number=cursor.block_number,
                    block_hash=cursor.block_hash,
                    at=time.time(),
                )
            return 0
        applied = pages = 0
        while cursor.block_number < target and (max_pages is None or pages < max_pages):
            start = cursor.block_number + 1
            end = min(start + self.span - 1, target)
            try:
                moved, count = self._apply_page(cursor, start, end, last=end == target)
            except _Moved as exc:
                log.info("registry mirror: the chain moved while reading: %s; next step", exc)
                return applied
            if moved is None:  # the cursor's block is no longer the chain's
                self._rewind(cursor)
                return applied
            cursor = moved
            applied += count
            pages += 1
        return applied

    def _ours(self, cursor: MirrorCursorRow) -> bool:
        return (
            cursor.chain_id == self.registry.chain_id
            and cursor.registry_address.lower() == self.registry.address.lower()
        )

    def _start(self) -> MirrorCursorRow:
        first = self._from_block if self._from_block is not None else self._deployment_block()
        before = self.registry.node.block(first - 1).hash if first > 0 else b"\0" * 32
        with self.store.session() as session:
            start_mirror(
                session,
                chain_id=self.registry.chain_id,
                registry_address=self.registry.address,
                from_block=first,
                block_hash=before,
                synced_at=0.0,
            )
        with self.store.session() as session:
            cursor = mirror_cursor(session)
        assert cursor is not None
        log.info("registry mirror: following %s from block %d", self.registry.address, first)
        return cursor

    def _deployment_block(self) -> int:
        """The first block with the registry's code (binary search on eth_getCode); 0 when the
        node cannot tell (a pruned node does not serve old state)."""
        node, address = self.registry.node, self.registry.address
        low, high = 0, node.head()
        try:
            while low < high:
                middle = (low + high) // 2
                if node.code(address, block=middle):
                    high = middle
                else:
                    low = middle + 1
        except Exception as exc:  # a node without old state: follow from the start
            log.info("registry mirror: deployment block unknown (%s); from block 0", exc)
            return 0
        return low

    def _apply_page(
        self, cursor: MirrorCursorRow, start: int, end: int, *, last: bool
    ) -> tuple[MirrorCursorRow | None, int]:
        follower = EventFollower(
            self.registry,
            from_block=start,
            names=REGISTRY_EVENTS,
            span=end - start + 1,
            retries=0,
            timestamps=False,
        )
        events = [e for _, _, page in follower.pages(to_block=end) for e in page]
        numbers = sorted({start, end, *(e.block_number for e in events)})
        headers = {h.number: h for h in self._headers(numbers)}
        if start > 0 and headers[start].parent_hash != cursor.block_hash:
            return None, 0
        for event in events:
            if event.block_hash and event.block_hash != headers[event.block_number].hash:
                raise _Moved(f"block {event.block_number} changed")
        rows = [_mirror_row(e, headers[e.block_number]) for e in events]
        synced_at = time.time() if last else cursor.synced_at
        with self.store.session() as session:
            applied = apply_mirror_page(
                session,
                expect_block=cursor.block_number,
                events=rows,
                blocks=[(n, headers[n].hash) for n in numbers],
                to_block=end,
                to_hash=headers[end].hash,
                synced_at=synced_at,
                agency_changed=any(e.name not in _HASH_EVENTS for e in events),
            )
        if not applied:
            raise _Moved("another follower moved the cursor")
        moved = replace(cursor, block_number=end, block_hash=headers[end].hash)
        return replace(moved, synced_at=synced_at), len(rows)

    def _headers(self, numbers: Sequence[int]) -> list[BlockInfo]:
        node = self.registry.node
        out: list[BlockInfo] = []
        for i in range(0, len(numbers), _HEADER_BATCH):
            out.extend(node.blocks(numbers[i : i + _HEADER_BATCH]))
        return out

    def _rewind(self, cursor: MirrorCursorRow) -> None:
        """Rewind to the newest applied block the chain still has; rebuild from the start
        when none is kept (a re-organisation deeper than the blocks kept)."""
        with self.store.session() as session:
            kept = mirror_blocks_from(session, below=cursor.block_number)
        for i in range(0, len(kept), _HEADER_BATCH):
            chunk = kept[i : i + _HEADER_BATCH]
            try:
                now = self.registry.node.blocks([n for n, _ in chunk])
            except ChainUnavailable:
                now = [self.registry.node.block(n) for n, _ in chunk]
            for (number, hash_), header in zip(chunk, now, strict=True):
                if header.hash == hash_:
                    with self.store.session() as session:
                        dropped = rewind_mirror(session, to_block=number, to_hash=hash_)
                    log.warning(
                        "registry mirror: re-organisation: rewound from block %d to %d "
                        "(%d events dropped)",
                        cursor.block_number,
                        number,
                        dropped,
                    )
                    return
        log.warning("registry mirror: re-organisation deeper than the kept blocks; rebuilding")
        self._from_block = cursor.from_block
        self._start()

    # ------------------------------------------------------------ reading

    def require_head(self) -> None:
        """This process just changed the chain (anchored, revoked, changed an agency): answer
        from the node until the mirror has reached the head as it is now, so that the change
        shows at once (read your writes) however far the follower is behind."""
        try:
            head = self.registry.node.head()
        except ChainUnavailable:  # at least one block past the mirror's, whatever the head
            try:
                cursor = self._reads.cursor()
            except StoreUnavailable:
                cursor = None
            head = cursor.block_number + 1 if cursor is not None else 1 << 62
        self._required = max(self._required, head)
        self._snapshot = (float("-inf"), None)

    def current(self) -> MirrorCursorRow | None:
        """The cursor when the mirror is current (the follower saw it at the confirmed head
        within `max_lag` seconds), else None: then the caller asks the node."""
        at, cursor = self._snapshot
        now = time.monotonic()
        if now - at >= self.snapshot_ttl:
            try:
                cursor = self._reads.cursor()
            except StoreUnavailable as exc:
                log.warning("registry mirror: %s; asking the node", exc)
                cursor = None
            if cursor is not None and not self._ours(cursor):
                cursor = None
            self._snapshot = (now, cursor)
        if cursor is None or time.time() - cursor.synced_at > self.max_lag:
            return None
        if cursor.block_number < self._required:
            return None
        return cursor

    def covers(self, chain_id: int, address: str) -> bool:
        return chain_id == self.registry.chain_id and address.lower() == (
            self.registry.address.lower()
        )

    def state(self, cursor: MirrorCursorRow) -> RegistryState:
        """The agencies' state (agencies, accounts, keys, compromise windows) as of the
        cursor, replayed from the stored events; kept until they change."""
        version = (cursor.agency_version, cursor.rewinds)
        cached = self._state
        if cached is not None and cached[0] == version:
            return cached[1]
        with self.store.session() as session:
            rows = mirror_agency_events(session)
        state = replay(RegistryState(), (decode_event(r) for r in rows))
        self._state = (version, state)
        return state

    def check(self, receipt: Receipt) -> MirrorAnswer | None:
        """The contract's `check()` for this receipt from the mirror; None when the mirror is
        not current or does not cover the receipt's anchor block (ask the node)."""
        a = receipt.anchor
        if not self.covers(a.chain_id, a.registry):
            return None
        cursor = self.current()
        if cursor is None or a.block_number > cursor.block_number:
            return None
        agency = checksum_address(a.agency)
        root, leaf = bytes(receipt.merkle.root), bytes(receipt.leaf)
        try:
            rows = self._reads.hash_events(agency=bytes.fromhex(agency[2:]), root=root, leaf=leaf)
            state = self.state(cursor)
        except StoreUnavailable as exc:
            log.warning("registry mirror: %s; asking the node", exc)
            return None
        view = replace(state, anchors={}, anchor_tx={}, revocations={})
        replay(view, _hash_events(rows, root=root, leaf=leaf))
        if (agency, root) in view.anchors and agency not in view.agencies:
            return None  # cannot be: an anchor needs a registered agency; ask the node
        included = verify_proof(leaf=leaf, proof=list(receipt.merkle.proof), root=root)
        result = view.check(agency=agency, leaf=leaf, root=root, included=included)
        values = {f.name: getattr(result, f.name) for f in fields(CheckResult)}
        return MirrorAnswer(**values, as_of_block=cursor.block_number)

    def key_window(self, agency: str, public_key: bytes) -> KeyWindow | None:
        cursor = self.current()
        if cursor is None:
            return None
        address = checksum_address(agency)
        window = self.state(cursor).keys.get((address, bytes(public_key)))  # type: ignore[arg-type]
        return window if window is not None else KeyWindow(agency=None, valid_from=0, valid_until=0)

    def agency_name(self, agency: str) -> str | None:
        cursor = self.current()
        if cursor is None:
            return None
        info = self.state(cursor).agencies.get(checksum_address(agency))  # type: ignore[call-overload]
        return info.name if info is not None else None


def _hash_events(
    rows: Iterable[MirrorEventRow], *, root: bytes, leaf: bytes
) -> list[RegistryEvent]:
    """The anchor of `root` and the revocations of `root` and `leaf` (a leaf is never a
    root's anchor: an Anchored row whose subject is the leaf is not this batch's)."""
    out = []
    for row in rows:
        if row.name == "Anchored" and row.subject != root:
            continue
        out.append(decode_event(row))
    return out
