"""Prometheus metrics of one app (a registry of its own, so several apps can live in one
process): records by state and batch ages read from the store at scrape time; verification
outcomes, anchoring latency and chain errors counted as they happen."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from registry.service.caches import CacheStats
from registry.service.queries import PipelineStats

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _PipelineCollector(Collector):
    """Reads the store when scraped, so the figures are never stale."""

    def __init__(self, stats: Callable[[], PipelineStats], worker_running: Callable[[], bool]):
        self._stats = stats
        self._worker_running = worker_running

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("registry_store_up", "1 when the store answered this scrape.")
        try:
            stats = self._stats()
        except Exception as exc:  # a scrape must never fail: report the store as down
            log.warning("metrics: store unreadable: %s", type(exc).__name__)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        records = GaugeMetricFamily(
            "registry_records", "Records in the store by status.", labels=["status"]
        )
        for status, count in sorted(stats.records.items()):
            records.add_metric([status], float(count))
        yield records
        batches = GaugeMetricFamily("registry_batches", "Batches by state.", labels=["state"])
        for state, count in sorted(stats.batches.items()):
            batches.add_metric([state], float(count))
        yield batches
        yield GaugeMetricFamily(
            "registry_oldest_pending_age_seconds",
            "Age of the oldest record still pending (0 when none).",
            value=stats.oldest_pending_age,
        )
        yield GaugeMetricFamily(
            "registry_oldest_unfinished_batch_age_seconds",
            "Age of the oldest batch sealed but not yet confirmed (0 when none).",
            value=stats.oldest_unfinished_batch_age,
        )
        yield GaugeMetricFamily(
            "registry_anchoring_worker_running",
            "1 while the background anchoring worker runs.",
            value=1.0 if self._worker_running() else 0.0,
        )


class _CacheCollector(Collector):
    """Hits, misses, evictions and fill of the bounded caches, read when scraped."""

    def __init__(self) -> None:
        self.sources: list[Callable[[], CacheStats]] = []

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        figures = [stats() for stats in self.sources]
        label = ["cache"]
        hits = CounterMetricFamily("registry_cache_hits", "Lookups answered.", labels=label)
        misses = CounterMetricFamily("registry_cache_misses", "Lookups not answered.", labels=label)
        evictions = CounterMetricFamily(
            "registry_cache_evictions",
            "Entries dropped, least recently used first, to stay within the bound.",
            labels=label,
        )
        size = GaugeMetricFamily("registry_cache_entries", "Entries held now.", labels=label)
        bound = GaugeMetricFamily("registry_cache_max_entries", "The bound.", labels=label)
        for f in figures:
            hits.add_metric([f.name], float(f.hits))
            misses.add_metric([f.name], float(f.misses))
            evictions.add_metric([f.name], float(f.evictions))
            size.add_metric([f.name], float(f.size))
            bound.add_metric([f.name], float(f.max_size))
        yield from (hits, misses, evictions, size, bound)


class Metrics:
    def __init__(
        self, *, stats: Callable[[], PipelineStats], worker_running: Callable[[], bool]
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.verifications = Counter(
            "registry_verifications",
            "Verification results by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.chain_errors = Counter(
            "registry_chain_errors",
            "Chain calls that failed (node down, refused), by where they happened.",
            ["where"],
            registry=self.registry,
        )
        self.anchoring_latency = Histogram(
            "registry_anchoring_latency_seconds",
            "From the submission of a batch's oldest record to the batch's confirmation.",
            buckets=(0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600),
            registry=self.registry,
        )
        self.anchored_batches = Counter(
            "registry_anchored_batches",
            "Batches the worker took to confirmed.",
            registry=self.registry,
        )
        self.registry.register(_PipelineCollector(stats, worker_running))
        self._caches = _CacheCollector()
        self.registry.register(self._caches)

    def watch_caches(self, *caches: Callable[[], CacheStats]) -> None:
        """Report these caches (their `stats` methods) from now on."""
        self._caches.sources.extend(caches)

    def render(self) -> bytes:
        return generate_latest(self.registry)
