"""What one running app holds: the operator (settings, chain, store), the agency keys, one
cached chain reader for verifications, the event index, the rate limiter, the metrics and the
anchoring worker. Built once per app and reached by routes through `api.deps`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from api.metrics import Metrics
from api.ratelimit import TokenBucket
from registry.service.anchoring import AnchoringWorker, ChainFollower, anchoring_worker
from registry.service.chain_reader import (
    CachingChainReader,
    EventIndex,
    VerificationCache,
    caching_reader,
)
from registry.service.embedded import share_between_threads
from registry.service.keyring import Keyring
from registry.service.operator import Operator
from registry.service.queries import pipeline_stats
from registry.service.trust import held_trust_lists
from registry.service.verify import TrustedRegistry
from registry.service.webhooks import WebhookWorker, webhook_worker
from registry.settings import Settings
from registry.trustlist import TrustList

log = logging.getLogger(__name__)


@dataclass
class ApiRuntime:
    settings: Settings
    operator: Operator
    keyring: Keyring
    reader: CachingChainReader
    trusted: list[TrustedRegistry]
    events: EventIndex
    limiter: TokenBucket
    metrics: Metrics
    worker: AnchoringWorker
    follower: ChainFollower | None
    verifications: VerificationCache
    embedded: bool
    trust_lists: list[TrustList] = field(default_factory=list)
    webhooks: WebhookWorker | None = None
    run_worker: bool = True
    owns_operator: bool = False
    _closed: bool = field(default=False, repr=False)

    @classmethod
    def build(
        cls,
        operator: Operator,
        *,
        passphrase: str | None,
        run_worker: bool = True,
        owns_operator: bool = False,
    ) -> ApiRuntime:
        settings = operator.settings
        # Checked before anything starts: a list that fails a rule stops the server with the
        # reason, rather than serving verdicts without the registries it names.
        trust_lists = held_trust_lists(settings)
        embedded = share_between_threads(operator)
        keyring = Keyring(operator, passphrase)
        worker_box: list[AnchoringWorker] = []
        metrics = Metrics(
            stats=lambda: pipeline_stats(operator.store),
            worker_running=lambda: bool(worker_box) and worker_box[0].running,
        )

        def anchored(seconds: float) -> None:
            metrics.anchoring_latency.observe(seconds)
            metrics.anchored_batches.inc()

        worker = anchoring_worker(
            keyring,
            on_anchored=anchored,
            on_chain_error=lambda: metrics.chain_errors.labels("worker").inc(),
        )
        worker_box.append(worker)
        reader = caching_reader(operator)
        follower = None
        if settings.revocation_ttl > 0 or reader.mirror is not None:
            follower = ChainFollower(
                reader,
                interval=min(1.0, settings.revocation_ttl / 2) if settings.revocation_ttl else 1.0,
                on_error=lambda: metrics.chain_errors.labels("follower").inc(),
            )
        verifications = VerificationCache(reader)
        metrics.watch_caches(*(c.stats for c in reader.caches()), verifications.stats)
        return cls(
            settings=settings,
            operator=operator,
            keyring=keyring,
            reader=reader,
            trusted=operator.trusted(trust_lists),
            trust_lists=trust_lists,
            events=EventIndex(operator.registry, span=settings.log_span, mirror=reader.mirror),
            limiter=TokenBucket(rate=settings.api_verify_rate, burst=settings.api_verify_burst),
            metrics=metrics,
            worker=worker,
            follower=follower,
            verifications=verifications,
            embedded=embedded,
            # Webhook deliveries go out from the process that anchors (several may: each
            # delivery is claimed with a lease, so no two send one at once).
            webhooks=webhook_worker(keyring),
            run_worker=run_worker,
            owns_operator=owns_operator,
        )

    def start(self) -> None:
        if self.follower is not None:
            self.follower.start()
        if self.run_worker:
            self.worker.start()
            if self.webhooks is not None:
                self.webhooks.start()

    def stop(self) -> None:
        """Stop the worker (gracefully), then close the store if this app opened it."""
        if self._closed:
            return
        self._closed = True
        self.worker.stop()
        if self.webhooks is not None:
            self.webhooks.stop()
        if self.follower is not None:
            self.follower.stop()
        if self.reader.mirror is not None:
            self.reader.mirror.release()
        if self.owns_operator:
            self.operator.close()
