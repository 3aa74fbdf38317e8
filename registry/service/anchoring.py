"""The anchoring worker: a background thread that, for every agency whose keys this server holds,
seals batches at the size and age limits and takes each to confirmed on chain.

Shutdown is graceful: `stop()` lets the step in flight finish (a transaction being sent is
recorded in the store before it is broadcast, then awaited), starts no new one, and returns.
Whatever is left (pending records, a sealed batch) is durable and is resumed at the next start,
where the first pass finishes every unfinished batch before sealing new ones.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from registry.errors import ChainError, ContractRevert, RegistryError
from registry.service.chain_reader import CachingChainReader
from registry.service.issuing import Issuer
from registry.service.keyring import Keyring
from registry.service.operator import Operator
from registry.service.verify import redact_urls
from registry.store import repo
from registry.store.lease import AccountLease

log = logging.getLogger(__name__)

BACKOFF_INITIAL = 0.5
BACKOFF_MAX = 30.0
PURGE_INTERVAL = 3600.0
"""Seconds between two passes of the documents' retention rule."""


class _Background:
    """A daemon thread running `_run` until `_stop` is set: started once, restartable."""

    _thread_name = "background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        raise NotImplementedError


class AnchoringWorker(_Background):
    """Seals and anchors every agency's records whose keys the keyring holds (module doc)."""

    _thread_name = "anchoring-worker"

    def __init__(
        self,
        keyring: Keyring,
        *,
        interval: float,
        grace: float,
        on_anchored: Callable[[float], None] | None = None,
        on_chain_error: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.keyring = keyring
        self.interval = interval
        self.grace = grace
        self._on_anchored = on_anchored
        self._on_chain_error = on_chain_error
        self._wake = threading.Event()
        self._retry_at: dict[int, float] = {}
        self._failures: dict[int, int] = {}
        self._leases: dict[str, AccountLease] = {}
        self._waiting: set[str] = set()
        self._next_purge = 0.0
        self.passes = 0
        self.last_error: str | None = None

    # ------------------------------------------------------------ control

    def wake(self) -> None:
        """Run a pass now rather than at the next interval (a client waits for a receipt)."""
        self._wake.set()

    def retry_now(self, agency_id: int) -> None:
        """Forget the agency's backoff and run a pass now (it was just reinstated)."""
        self._retry_at.pop(agency_id, None)
        self._failures.pop(agency_id, None)
        self._wake.set()

    def stop(self) -> bool:
        """Finish the step in flight, start no new one; True if the thread ended in time."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is None:
            return True
        thread.join(self.grace)
        if thread.is_alive():
            log.warning(
                "anchoring worker still busy after %.0fs; its batch is recorded in the store "
                "and resumes at the next start",
                self.grace,
            )
            return False
        return True

    # ------------------------------------------------------------ work

    def _run(self) -> None:
        try:
            names = self.keyring.load_available()
            if names:
                log.info("anchoring for %s", ", ".join(names))
        except Exception:
            log.exception("anchoring worker: cannot load agency keys")
        try:
            while not self._stop.is_set():
                self.run_pass()
                self._wake.wait(self.interval)
                self._wake.clear()
        finally:
            self.release_leases()

    def run_pass(self) -> None:
        """One pass over every loaded agency: resume unfinished batches, seal, anchor; and, at
        most every PURGE_INTERVAL seconds, the documents' retention rule."""
        self.passes += 1
        self._purge_when_due()
        for issuer in self.keyring.loaded():
            if self._stop.is_set():
                return
            agency_id = issuer.agency_id
            if time.monotonic() < self._retry_at.get(agency_id, 0.0):
                continue
            if not self._leased(issuer):
                continue  # another process anchors for this account; retry next pass
            try:
                self._issue(issuer)
            except ContractRevert as exc:  # e.g. the agency is suspended: wait, do not spin
                self._backoff(agency_id, exc, chain=True, at_least=BACKOFF_MAX)
            except (ChainError, OSError) as exc:
                self._backoff(agency_id, exc, chain=True)
            except RegistryError as exc:
                self._backoff(agency_id, exc, chain=False)
            except Exception as exc:  # a bug must not kill the worker: log it, back off
                log.exception("anchoring worker: unexpected error for agency #%s", agency_id)
                self._backoff(agency_id, exc, chain=False)
            else:
                self._failures.pop(agency_id, None)
                self._retry_at.pop(agency_id, None)

    def _issue(self, issuer: Issuer) -> None:
        # Unfinished batches first (resume after a restart or an outage), then new ones.
        for batch_id in [*issuer.unfinished(), *issuer.seal_batches()]:
            if self._stop.is_set():
                return  # never start anchoring a batch once shutdown began
            with self.keyring.sending(issuer.account.address):
                try:
                    issuer.anchor_batch(batch_id)
                except (ChainError, OSError) as exc:
                    with issuer.store.session() as session:
                        repo.record_attempt(session, batch_id, error=str(exc))
                    raise
            self._anchored(issuer, batch_id)

    def _purge_when_due(self) -> None:
        """Delete sealed contents past `document_retention_days` (no rule set: nothing)."""
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_INTERVAL
        try:
            purged = self.keyring.operator.purge_documents()
        except RegistryError as exc:
            log.warning("document retention: %s; next try in %ss", exc, PURGE_INTERVAL)
            return
        if purged:
            log.info("document retention: %s", purged)

    def _leased(self, issuer: Issuer) -> bool:
        """Whether this process holds the account's lease (taking it when free): two servers on
        one store never send from one account, and one takes over when the other dies."""
        account = str(issuer.account.address)
        lease = self._leases.get(account)
        if lease is None:
            lease = self._leases[account] = AccountLease(issuer.store, account)
        try:
            held = lease.acquire()
        except Exception as exc:  # the store is down: no lease, no anchoring
            log.warning(
                "anchoring for %s: cannot take the lease: %s", account, redact_urls(str(exc))
            )
            return False
        if not held and account not in self._waiting:
            log.info("another process anchors for %s; waiting to take over", account)
            self._waiting.add(account)
        elif held and account in self._waiting:
            log.info("took over anchoring for %s", account)
            self._waiting.discard(account)
        return held

    def release_leases(self) -> None:
        """Give back every account lease (at shutdown, after the step in flight)."""
        for lease in self._leases.values():
            lease.release()
        self._leases.clear()

    def _anchored(self, issuer: Issuer, batch_id: int) -> None:
        if self._on_anchored is None:
            return
        with issuer.store.session() as session:
            confirmed, oldest = repo.batch_latency_bounds(session, batch_id)
        if confirmed is None:
            return
        if oldest is None:
            oldest = confirmed
        seconds = (_aware(confirmed) - _aware(oldest)).total_seconds()
        self._on_anchored(max(0.0, seconds))

    def _backoff(
        self, agency_id: int, exc: BaseException, *, chain: bool, at_least: float = 0.0
    ) -> None:
        failures = self._failures.get(agency_id, 0) + 1
        self._failures[agency_id] = failures
        delay = max(at_least, min(BACKOFF_MAX, BACKOFF_INITIAL * 2 ** (failures - 1)))
        self._retry_at[agency_id] = time.monotonic() + delay
        # node and database URLs may carry credentials: scheme and host only, even in the log
        shown = redact_urls(str(exc))
        self.last_error = f"{type(exc).__name__}: {shown}"
        log.warning("anchoring for agency #%s: %s; retrying in %.1fs", agency_id, shown, delay)
        if chain and self._on_chain_error is not None:
            self._on_chain_error()


def anchoring_worker(
    keyring: Keyring,
    *,
    on_anchored: Callable[[float], None] | None = None,
    on_chain_error: Callable[[], None] | None = None,
) -> AnchoringWorker:
    """The anchoring worker for this keyring, paced by the operator's settings (the one
    `registry serve` and `registry worker` run)."""
    settings = keyring.operator.settings
    return AnchoringWorker(
        keyring,
        interval=settings.api_worker_interval,
        grace=settings.api_shutdown_grace,
        on_anchored=on_anchored,
        on_chain_error=on_chain_error,
    )


def run_anchoring(
    operator: Operator,
    *,
    passphrase: str,
    stop: threading.Event | None = None,
    on_started: Callable[[], None] | None = None,
) -> int:
    """Run the anchoring worker in the foreground, for every active agency whose keys are in
    the data directory, until SIGTERM or SIGINT (or `stop` is set); then stop it gracefully
    (the batch in flight finishes, the rest resumes at the next start). Returns the number of
    batches anchored. Signals are caught only when called from the main thread."""
    # Imported here: webhooks imports httpx, which the rest of this module never needs.
    from registry.service.webhooks import webhook_worker

    anchored: list[float] = []
    keyring = Keyring(operator, passphrase)
    worker = anchoring_worker(keyring, on_anchored=anchored.append)
    # The batches this worker confirms put their webhook deliveries in the outbox: deliver
    # them here too, as `registry serve` does.
    webhooks = webhook_worker(keyring)
    done = stop or threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        done.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        worker.start()
        webhooks.start()
        if on_started is not None:
            on_started()
        while not done.wait(0.2):
            if not worker.running:
                raise RegistryError("the anchoring worker stopped unexpectedly")
    finally:
        worker.stop()
        webhooks.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return len(anchored)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class ChainFollower(_Background):
    """Keeps the verifier's cached chain answers current: reads the registry's new events about
    once a second (CachingChainReader.sync) in a thread of its own, so that anchoring, which
    may wait minutes for confirmations, never delays it."""

    _thread_name = "chain-follower"

    def __init__(
        self,
        reader: CachingChainReader,
        *,
        interval: float,
        on_error: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.reader = reader
        self.interval = interval
        self._on_error = on_error
        self._failing = False

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while True:
            try:
                self.reader.sync()
                if self._failing:
                    log.info("chain follower: the node answers again")
                self._failing = False
            except Exception as exc:  # node down: answers expire by TTL until it is back
                if not self._failing:
                    log.warning("chain follower: %s: %s", type(exc).__name__, redact_urls(str(exc)))
                self._failing = True
                if self._on_error is not None:
                    self._on_error()
            if self._stop.wait(self.interval):
                return
