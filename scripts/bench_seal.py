"""Benchmark sealing structured records: seal_record, and seal_records in-process and pooled.

    .venv/bin/python scripts/bench_seal.py            # 100,000 records
    .venv/bin/python scripts/bench_seal.py -n 20000 --workers 2

Records are birth certificates with realistic repetition (a few types, places, dates
and common names; unique registry numbers). The pooled run is done twice: the first
call includes starting the worker processes (kept for later calls), the second does not.
Times are the best of ``--repeat`` runs, since other processes share the machine.
"Results kept" includes the garbage collector's work on the growing list of documents;
seal_records pauses the collector while it runs (see its docstring).
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from registry.record import seal_record
from registry.service.sealing import seal_records

EXAMPLE = {
    "type": "BirthCertificate",
    "name": {"given": "Ana", "family": "Ivanova"},
    "born": "2026-01-02",
    "place": "Tallinn",
    "parents": ["Maria Ivanova", "Peter Ivanov"],
    "registry_no": "B-2026-000123",
}

GIVEN = ["Ana", "Maria", "Peter", "Jaan", "Liis", "Mart", "Kadri", "Toomas", "Eva", "Tõnu"]
FAMILY = ["Ivanova", "Ivanov", "Tamm", "Saar", "Sepp", "Mägi", "Kask", "Kukk", "Rebane"]
PLACES = ["Tallinn", "Tartu", "Pärnu", "Narva", "Viljandi", "Rakvere"]


def make_records(count: int, seed: int = 2026) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    records = []
    for i in range(count):
        family = rnd.choice(FAMILY)
        records.append(
            {
                "type": "BirthCertificate",
                "name": {"given": rnd.choice(GIVEN), "family": family},
                "born": f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                "place": rnd.choice(PLACES),
                "parents": [f"{rnd.choice(GIVEN)} {family}", f"{rnd.choice(GIVEN)} {family}"],
                "registry_no": f"B-2026-{i:06d}",
            }
        )
    return records


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def report(label: str, seconds: float, count: int) -> None:
    print(f"{label:<40} {seconds / count * 1e6:8.2f} us/record {count / seconds:12,.0f} records/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--records", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    count: int = args.records
    records = make_records(count)

    loops = 20_000

    def seal_example_and_drop() -> None:
        for _ in range(loops):
            seal_record(EXAMPLE)

    seconds = best_of(args.repeat, seal_example_and_drop)
    report("seal_record, the example, results dropped", seconds, loops)
    seconds = best_of(args.repeat, lambda: [seal_record(EXAMPLE) for _ in range(loops)])
    report("seal_record, the example, results kept", seconds, loops)
    seconds = best_of(args.repeat, lambda: [seal_record(r) for r in records])
    report(f"seal_record loop, {count:,} records", seconds, count)
    seconds = best_of(args.repeat, lambda: seal_records(records, workers=1))
    report("seal_records in-process", seconds, count)

    start = time.perf_counter()
    seal_records(records, workers=args.workers)
    report(f"seal_records {args.workers} workers, first call", time.perf_counter() - start, count)
    seconds = best_of(args.repeat, lambda: seal_records(records, workers=args.workers))
    report(f"seal_records {args.workers} workers, pool warm", seconds, count)


if __name__ == "__main__":
    main()
