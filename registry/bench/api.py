"""HTTP API load benchmark: verifications per second and their latency, phase by phase, and bulk
submission throughput, over loopback against the real server (`registry serve --workers N` in
its own processes, on a fresh anvil node and a SQLite store in a temporary data directory).

Set-up (not timed as verification): `records` structured records are submitted through the API
in bulk (`bulk` per request, `wait=true`: each answer carries the receipts once the server's
worker has anchored them; nothing is verified). Then three phases, each a fixed
list of `POST /v1/verify` requests (receipt JSON alone: the expected outcome is IN_FORCE, the
best a receipt without its document gets), `concurrency` in flight:

- `cold`: `cold` distinct receipts the server has never verified, each sent once. Every
  request costs the full verification work: parsing, proof, signature, and the registry's
  state for that receipt (a chain call or the store's mirror). This is the headline.
- `warm`: the same receipts again, each once, with different bytes (one leading space, valid
  JSON) so that the server's cache of whole answers, keyed on the request bytes, never
  answers: parsing, proof and signature are done again; chain answers may come from the
  verifier's caches.
- `repeat_cache`: `repeat` requests cycling over `distinct` of the warm phase's bodies, byte
  for byte: what the cache of whole answers serves (hashing the body and a lookup). Reported
  apart; it is not a figure of verification work. Each server process has its own cache, so
  with N processes up to `distinct` x (N - 1) of these requests miss it.

Each phase reports verifications/s, p50, p90, p99 (ms), count and errors (a transport error,
a status other than 200, or an outcome other than IN_FORCE) and where the answers' chain checks
came from (`chain_sources`: the server's registry mirror or a node call). Timed per request:
from sending it to having read and parsed the answer. With one server process, each phase also
reports the hits and misses of the server's caches (its /metrics, before and after); with more,
/metrics shows only the process that answers, so they are left out.

The load generator runs in `clients` processes of its own (spawned; `concurrency` connections
split between them), so that it shares no interpreter with the server nor with this process;
each is a bounded asyncio loop speaking HTTP/1.1 keep-alive on raw streams (`client="raw"`;
httpx's async client tops out near 450 requests/s on this 2-core machine: `client="httpx"`
measures through it all the same). The CPU seconds the clients and the server used in each
phase are reported, so a saturated client shows.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import queue
import re
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from registry.chain import RegistryContract, connect, create_keystore
from registry.chain.devnode import free_port, start_anvil
from registry.chain.tx import TxOptions
from registry.service.admin import issue_api_token
from registry.service.operator import Operator
from registry.service.sandbox import funded_account
from registry.settings import Settings, write_config

READY_TIMEOUT = 90.0
ANCHOR_TIMEOUT = 600.0
EXPECTED_OUTCOME = "IN_FORCE"
"""What every verification of the load must answer: receipts are sent without documents."""
CONNECT_SPACING_S = 0.05
HEADLINE = "cold"
PHASES = ("cold", "warm", "repeat_cache")


def _record(i: int) -> dict[str, Any]:
    return {
        "type": "BirthCertificate",
        "number": f"B-2026-{i:07d}",
        "child": {"given": f"Given{i % 977}", "family": f"Family{i % 1013}", "born": "2026-03-14"},
        "place": "Tallinn",
        "parents": [f"Mother{i % 389}", f"Father{i % 397}"],
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[rank]


class _RawClient:
    """Minimal HTTP/1.1 keep-alive client on asyncio streams: send a request, read the answer
    (Content-Length framed, as every answer of this API is)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def connect(self) -> None:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        await self.connect()
        assert self._streams is not None
        reader, writer = self._streams
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        if method == "POST":
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        status = int(lines[0].split()[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in lines
            if line.lower().startswith(b"content-length:")
        )
        return status, await reader.readexactly(length)

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


# ------------------------------------------------------------------ the load, in client processes


@dataclass
class _Share:
    """One client process's part of a phase: its bodies, its connections, its cap."""

    base: str
    bodies: list[bytes]
    connections: int
    seconds: float
    client: str


@dataclass
class _Done:
    """What one client process measured."""

    latencies: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    samples: list[str] = field(default_factory=list)
    began: float = 0.0
    ended: float = 0.0
    cpu_s: float = 0.0


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _send_share(share: _Share, ready: Any, go: Any) -> _Done:
    """Open the connections, say ready, wait for go, send every body once; time each."""
    done = _Done()
    host, port = share.base.removeprefix("http://").split(":")
    count = max(1, min(share.connections, len(share.bodies)))
    raws = [_RawClient(host, int(port)) for _ in range(count)] if share.client == "raw" else []
    for raw in raws:
        # One at a time, as clients arrive: connections opened in one burst are accepted by
        # whichever server process wakes first (uvicorn's workers share one listening socket),
        # often all by one; spaced out, they spread over the processes.
        await raw.connect()
        await asyncio.sleep(CONNECT_SPACING_S)
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    shared = httpx.AsyncClient(base_url=share.base, limits=limits, timeout=60.0)
    headers = {"content-type": "application/json"}
    ready.put(os.getpid())
    while not go.wait(0.01):
        await asyncio.sleep(0)
    next_index = 0
    cpu_before = _cpu_self()
    done.began = time.monotonic()
    deadline = done.began + share.seconds

    async def one_connection(raw: _RawClient | None) -> None:
        nonlocal next_index
        while next_index < len(share.bodies) and time.monotonic() < deadline:
            body = share.bodies[next_index]
            next_index += 1
            sent = time.monotonic()
            status, content = 0, b""
            try:
                if raw is not None:
                    status, content = await raw.request("POST", "/v1/verify", body)
                else:
                    answer = await shared.post("/v1/verify", content=body, headers=headers)
                    status, content = answer.status_code, answer.content
                answer_json = json.loads(content)
                outcome = str(answer_json.get("outcome", f"HTTP {status}"))
                source = str(answer_json.get("chainSource"))
                done.sources[source] = done.sources.get(source, 0) + 1
            except (OSError, asyncio.IncompleteReadError, httpx.HTTPError, ValueError) as exc:
                if raw is not None:
                    raw.close()  # reconnect at the next request
                outcome = f"{type(exc).__name__} (HTTP {status})" if status else type(exc).__name__
            done.latencies.append(time.monotonic() - sent)
            done.outcomes[outcome] = done.outcomes.get(outcome, 0) + 1
            if status != 200 or outcome != EXPECTED_OUTCOME:
                done.errors += 1
                if len(done.samples) < 3:
                    done.samples.append(f"HTTP {status}: {content[:200]!r}")

    try:
        each: list[_RawClient | None] = [*raws] if raws else [None] * count
        await asyncio.gather(*(one_connection(raw) for raw in each))
    finally:
        done.ended = time.monotonic()
        done.cpu_s = _cpu_self() - cpu_before
        for raw in raws:
            raw.close()
        await shared.aclose()
    return done


def _client_process(share: _Share, ready: Any, go: Any, results: Any) -> None:
    """A load client's process: its share of a phase, the result on `results`."""
    results.put(asyncio.run(_send_share(share, ready, go)))


def _run_phase(
    *,
    base: str,
    bodies: list[bytes],
    concurrency: int,
    clients: int,
    seconds: float,
    client: str,
    server_pids: list[int],
) -> dict[str, Any]:
    """Send every body once, from `clients` processes (bodies and connections dealt out),
    and summarise: rate, latency percentiles, count, errors, CPU of clients and server."""
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    processes = []
    used = max(1, min(clients, len(bodies)))
    for k in range(used):
        connections = concurrency // used + (1 if k < concurrency % used else 0)
        share = _Share(base, bodies[k::used], max(1, connections), seconds, client)
        process = context.Process(target=_client_process, args=(share, ready, go, results))
        process.start()
        processes.append(process)
    try:
        for _ in processes:
            ready.get(timeout=READY_TIMEOUT)
        server_before = [_cpu_of([pid]) for pid in server_pids]
        go.set()
        parts: list[_Done] = []
        while len(parts) < len(processes):
            try:
                parts.append(results.get(timeout=1.0))
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in processes):
                    raise RuntimeError("a load client process failed") from None
        server_cpu = [
            _cpu_of([pid]) - before for pid, before in zip(server_pids, server_before, strict=True)
        ]
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
    latencies = [x for part in parts for x in part.latencies]
    outcomes: dict[str, int] = {}
    for part in parts:
        for name, n in part.outcomes.items():
            outcomes[name] = outcomes.get(name, 0) + n
    sources: dict[str, int] = {}
    for part in parts:
        for name, n in part.sources.items():
            sources[name] = sources.get(name, 0) + n
    elapsed = max(p.ended for p in parts) - min(p.began for p in parts)
    return {
        "count": len(latencies),
        "complete": len(latencies) == len(bodies),
        "seconds": round(elapsed, 3),
        "per_s": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(1000 * statistics.median(latencies), 2) if latencies else 0.0,
        "p90_ms": round(1000 * _percentile(latencies, 0.90), 2),
        "p99_ms": round(1000 * _percentile(latencies, 0.99), 2),
        "max_ms": round(1000 * max(latencies, default=0.0), 2),
        "errors": sum(p.errors for p in parts),
        "error_samples": [sample for part in parts for sample in part.samples][:5],
        "outcomes": outcomes,
        # where each answer's chain checks came from ("mirror", "node"; "None": not said)
        "chain_sources": sources,
        "client_cpu_s": round(sum(p.cpu_s for p in parts), 2),
        "server_cpu_s": round(sum(server_cpu), 2),
        # per server process, busiest first: how evenly the processes shared the load
        "server_cpu_s_by_process": sorted((round(c, 2) for c in server_cpu if c), reverse=True),
    }


# ------------------------------------------------------------------ the server's side


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (Linux /proc; just `pid` elsewhere)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def _cpu_of(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes (Linux /proc; 0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


_CACHE_LINE = re.compile(r'^registry_cache_(hits|misses)_total\{cache="([^"]+)"\} (\S+)$', re.M)


def _cache_counts(base: str) -> dict[str, dict[str, float]]:
    """The server's cache hits and misses (/metrics of the process that answers)."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    counts: dict[str, dict[str, float]] = {}
    for kind, name, value in _CACHE_LINE.findall(text):
        counts.setdefault(name, {})[kind] = float(value)
    return counts


def _cache_delta(
    before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]
) -> dict[str, dict[str, int]]:
    return {
        name: {
            kind: int(value - before.get(name, {}).get(kind, 0.0)) for kind, value in kinds.items()
        }
        for name, kinds in after.items()
    }


async def _wait_ready(client: httpx.AsyncClient, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited at start (code {server.returncode})")
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the server was not ready within {READY_TIMEOUT:.0f} s")


async def _issue(
    base: str, token: str, server: subprocess.Popen[bytes], *, records: int, bulk: int
) -> tuple[list[bytes], dict[str, Any]]:
    """Submit `records` in bulk with `wait=true` (each answer carries the receipts once its
    records are anchored), the chunks concurrently; any receipt an answer lacks (the wait is
    bounded) is fetched once anchored. Every receipt's bytes, in submission order."""
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=600.0) as client:
        await _wait_ready(client, server)
        start = time.monotonic()

        async def submit(first: int) -> list[tuple[str, bytes | None]]:
            chunk = [_record(i) for i in range(first, min(records, first + bulk))]
            answer = await client.post(
                "/v1/records/bulk", params={"wait": "true"}, json={"records": chunk}, headers=auth
            )
            answer.raise_for_status()
            return [
                (item["digest"], _receipt_bytes(item["receipt"]))
                for item in answer.json()["records"]
            ]

        chunks = await asyncio.gather(*(submit(first) for first in range(0, records, bulk)))
        items = [item for chunk in chunks for item in chunk]
        missing = [i for i, (_, receipt) in enumerate(items) if receipt is None]
        late = await _fetch_receipts(base, [items[i][0] for i in missing], start=start)
        found = [receipt for _, receipt in items]
        for i, receipt in zip(missing, late, strict=True):
            found[i] = receipt
        issued = time.monotonic() - start
    return [r for r in found if r is not None], {
        "records": records,
        "bulk_size": bulk,
        "issued_records_per_s": round(records / issued, 1),
        "receipts_late": len(missing),
    }


def _receipt_bytes(receipt: dict[str, Any] | None) -> bytes | None:
    """A receipt as the API serves it (compact JSON, as GET .../receipt answers)."""
    if receipt is None:
        return None
    return json.dumps(receipt, ensure_ascii=False, separators=(",", ":")).encode()


async def _fetch_receipts(
    base: str, digests: list[str], *, start: float, connections: int = 8
) -> list[bytes]:
    """These records' receipt bytes, in order, waiting for each to be anchored (GET
    .../receipt: 409 until then; it verifies nothing)."""
    host, port = base.removeprefix("http://").split(":")
    found: list[bytes] = [b""] * len(digests)
    next_index = 0

    async def one_connection() -> None:
        nonlocal next_index
        raw = _RawClient(host, int(port))
        try:
            while next_index < len(digests):
                i = next_index
                next_index += 1
                while True:
                    status, body = await raw.request("GET", f"/v1/records/{digests[i]}/receipt")
                    if status == 200:
                        break
                    if status != 409 or time.monotonic() - start > ANCHOR_TIMEOUT:
                        raise RuntimeError(f"receipt of {digests[i]}: HTTP {status}")
                    await asyncio.sleep(0.2)
                found[i] = body
        finally:
            raw.close()

    await asyncio.gather(*(one_connection() for _ in range(min(connections, len(digests)))))
    return found


def _deploy(url: str, data: Path, passphrase: str) -> str:
    """A registry on the node at `url`, one agency with keys in `data`; its API token."""
    w3 = connect(url)
    admin = funded_account(w3)
    create_keystore(admin, data / "keys" / "admin.json", passphrase)
    registry, _ = RegistryContract.deploy(w3, admin, options=TxOptions(poll_interval=0.01))
    values = {"rpc": url, "registry_address": registry.address, "chain_id": registry.chain_id}
    write_config(data / "config.toml", values)
    operator = Operator.open(Settings(data_dir=data, **values))  # type: ignore[arg-type]
    try:
        agency, _ = operator.create_agency(
            "Bench Office", passphrase=passphrase, admin=admin, fund_from_dev=True
        )
        _, token = issue_api_token(operator.store, agency_id=agency.id, label="bench")
    finally:
        operator.close()
    return token


def _start_server(
    data: Path, passphrase: str, *, workers: int
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "REGISTRY_DATA_DIR": str(data),
        "REGISTRY_KEYSTORE_PASSPHRASE": passphrase,
        "REGISTRY_API_VERIFY_RATE": "0",  # the load comes from one address
        "REGISTRY_API_RATE": "0",
        "REGISTRY_BATCH_AGE": "0.2",
        # the load clients open their connections, then wait for the others to be ready
        "REGISTRY_HTTP_KEEP_ALIVE": "120",
    }
    env.pop("REGISTRY_CONFIG", None)
    command = [sys.executable, "-c", "from registry.cli import main; main()", "serve"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--log-level", "warning", "--workers", str(workers)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    return server, f"http://127.0.0.1:{port}"


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _phases(
    base: str,
    server: subprocess.Popen[bytes],
    receipts: list[bytes],
    *,
    cold: int,
    repeat: int,
    distinct: int,
    concurrency: int,
    clients: int,
    seconds: float,
    client: str,
    workers: int,
) -> dict[str, Any]:
    """The three phases (module doc), each with the server's cache counts when observable."""
    cold_bodies = receipts[:cold]
    # One leading space: the same receipt, other bytes (the whole-answer cache misses).
    warm_bodies = [b" " + body for body in cold_bodies]
    recent = warm_bodies[-max(1, min(distinct, len(warm_bodies))) :]
    repeat_bodies = [recent[i % len(recent)] for i in range(repeat)]
    plan = {"cold": cold_bodies, "warm": warm_bodies, "repeat_cache": repeat_bodies}
    figures: dict[str, Any] = {}
    pids = _tree(server.pid)
    for name in PHASES:
        before = _cache_counts(base) if workers == 1 else None
        result = _run_phase(
            base=base,
            bodies=plan[name],
            concurrency=concurrency,
            clients=clients,
            seconds=seconds,
            client=client,
            server_pids=pids,
        )
        result["distinct_receipts"] = len(set(plan[name]))
        if before is not None:
            result["server_caches"] = _cache_delta(before, _cache_counts(base))
        figures[name] = result
    return figures


def measure_api(
    *,
    records: int | None = None,
    bulk: int = 5_000,
    cold: int = 20_000,
    repeat: int = 20_000,
    distinct: int = 2_000,
    concurrency: int = 16,
    clients: int = 2,
    seconds: float = 600.0,
    client: str = "raw",
    workers: int = 1,
    rpc: str | None = None,
) -> dict[str, Any]:
    """Start anvil (unless `rpc` names a node) and `registry serve --workers N`, issue
    `records` (default: `cold`) through the API, then measure the three phases."""
    records = max(records or 0, cold, 1)
    node = start_anvil() if rpc is None else None
    url = rpc or (node.url if node is not None else "")
    began = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="registry-bench-api-") as tmp:
            data = Path(tmp) / "data"
            passphrase = secrets.token_urlsafe(16)
            token = _deploy(url, data, passphrase)
            server, base = _start_server(data, passphrase, workers=workers)
            try:
                receipts, figures = asyncio.run(
                    _issue(base, token, server, records=records, bulk=bulk)
                )
                figures["setup_s"] = round(time.monotonic() - began, 1)
                figures.update(
                    _phases(
                        base,
                        server,
                        receipts,
                        cold=cold,
                        repeat=repeat,
                        distinct=distinct,
                        concurrency=concurrency,
                        clients=clients,
                        seconds=seconds,
                        client=client,
                        workers=workers,
                    )
                )
            finally:
                _stop(server)
    finally:
        if node is not None:
            node.stop()
    figures.update(
        headline=HEADLINE,
        workers=workers,
        chain="anvil" if rpc is None else rpc,
        store="sqlite",
        server=f"registry serve --workers {workers} (uvicorn)",
        load_client={
            "kind": "asyncio HTTP/1.1 keep-alive" if client == "raw" else "httpx",
            "processes": clients,
            "connections": concurrency,
        },
        cpus=os.cpu_count(),
        commit=_commit(),
    )
    return figures


def compare_workers(**options: Any) -> dict[str, Any]:
    """`measure_api` with 1 server process, then with 2; both figures and the ratios 2:1."""
    one = measure_api(**{**options, "workers": 1})
    two = measure_api(**{**options, "workers": 2})
    ratios = {
        f"{phase}_per_s": round(two[phase]["per_s"] / one[phase]["per_s"], 2)
        for phase in PHASES
        if one[phase]["per_s"] > 0
    }
    return {"workers_1": one, "workers_2": two, "ratio_2_to_1": ratios, "headline": HEADLINE}


def _commit() -> dict[str, Any] | None:
    """The git commit of the code measured, and whether the checkout had changes to tracked
    files on top of it, when run from a checkout."""
    here = Path(__file__).parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10
        )
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return {"sha": head.stdout.strip(), "uncommitted_changes": bool(changes.stdout.strip())}
