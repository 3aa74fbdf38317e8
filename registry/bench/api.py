"""HTTP API load benchmark: verifications per second and their latency, and bulk submission
throughput, over loopback against the real server (`registry serve` in its own process, on a
fresh anvil node and a SQLite store in a temporary data directory).

The load generator is a bounded async loop: a fixed number of requests, a fixed number in
flight, and a time cap. Verifications send receipt JSON alone (POST /v1/verify; the expected
outcome is IN_FORCE, the best a receipt without its document gets), cycling over
`distinct` receipts of anchored records, after one warm-up pass over each: the figure is the
server's steady state, in which chain answers come from the verifier's caches (kept current by
following the registry's events). A second, "cold" phase verifies receipts the server has
never seen, one request each: every one costs a JSON-RPC call to the node. Timed per request:
from sending it to having read and parsed the answer.

The verification load runs on asyncio streams speaking HTTP/1.1 keep-alive by default
(`client="raw"`): httpx's async client itself tops out near 450 requests/s on this 2-core
machine, so with it the figure would be the client's, not the server's. `client="httpx"`
measures through httpx all the same. Setup and bulk submission always go through httpx.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
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
EXPECTED_OUTCOME = "IN_FORCE"
"""What every verification of the load must answer: receipts are sent without documents."""


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
    """Minimal HTTP/1.1 keep-alive client on asyncio streams: POST a body, read the answer
    (Content-Length framed, as every answer of this API is)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
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


async def _verify_load(
    *,
    base: str,
    bodies: list[bytes],
    total: int,
    concurrency: int,
    seconds: float,
    client: str,
) -> dict[str, Any]:
    """Send `total` verifications (cycling over `bodies`), `concurrency` at a time, for at most
    `seconds`; latencies and outcomes."""
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    failures = 0
    next_index = 0
    deadline = time.perf_counter() + seconds
    host, port = base.removeprefix("http://").split(":")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    shared = httpx.AsyncClient(base_url=base, limits=limits, timeout=60.0)
    headers = {"content-type": "application/json"}

    async def one_client() -> None:
        nonlocal next_index, failures
        raw = _RawClient(host, int(port)) if client == "raw" else None
        try:
            while next_index < total and time.perf_counter() < deadline:
                body = bodies[next_index % len(bodies)]
                next_index += 1
                sent = time.perf_counter()
                if raw is not None:
                    status, content = await raw.post("/v1/verify", body)
                else:
                    answer = await shared.post("/v1/verify", content=body, headers=headers)
                    status, content = answer.status_code, answer.content
                outcome = json.loads(content).get("outcome", f"HTTP {status}")
                latencies.append(time.perf_counter() - sent)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                # A receipt sent alone is IN_FORCE at best (no document checked): protocol v2.
                if status != 200 or outcome != EXPECTED_OUTCOME:
                    failures += 1
        finally:
            if raw is not None:
                raw.close()

    began = time.perf_counter()
    try:
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
    finally:
        await shared.aclose()
    elapsed = time.perf_counter() - began
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p90_ms": round(1000 * _percentile(latencies, 0.90), 2),
        "p99_ms": round(1000 * _percentile(latencies, 0.99), 2),
        "max_ms": round(1000 * max(latencies), 2),
        "failures": failures,
        "outcomes": outcomes,
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


async def _load(
    base: str,
    token: str,
    server: subprocess.Popen[bytes],
    *,
    records: int,
    bulk: int,
    distinct: int,
    cold: int,
    verifications: int,
    concurrency: int,
    seconds: float,
    client_kind: str,
) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60.0) as client:
        await _wait_ready(client, server)

        # Bulk submission: durable (stored, sealed with salts) on each answer.
        digests: list[str] = []
        start = time.perf_counter()
        for first in range(0, records, bulk):
            chunk = [_record(i) for i in range(first, min(records, first + bulk))]
            answer = await client.post("/v1/records/bulk", json={"records": chunk}, headers=auth)
            answer.raise_for_status()
            digests.extend(item["digest"] for item in answer.json()["records"])
        submitted = time.perf_counter() - start
        # ...and until every batch is anchored on chain (the worker's pace, not the API's).
        last_of_each = [*digests[bulk - 1 :: bulk], digests[-1]]
        while True:
            codes = [
                (await client.get(f"/v1/records/{d}/receipt")).status_code for d in last_of_each
            ]
            if all(code == 200 for code in codes):
                break
            if time.perf_counter() - start > 300:
                raise RuntimeError("records were not anchored within 300 s")
            await asyncio.sleep(0.1)
        anchored = time.perf_counter() - start

        step = max(1, len(digests) // distinct)
        warm = set(digests[::step][:distinct])
        receipts = [await _receipt(client, d) for d in digests[::step][:distinct]]
        cold_digests = [d for d in digests if d not in warm][:cold]
        cold_receipts = [await _receipt(client, d) for d in cold_digests]
        headers = {"content-type": "application/json"}
        for body in receipts:  # warm-up: each receipt's chain answers into the caches
            (await client.post("/v1/verify", content=body, headers=headers)).raise_for_status()

    base_figures = {
        "records": records,
        "bulk_size": bulk,
        "submit_records_per_s": round(records / submitted, 1),
        "anchored_records_per_s": round(records / anchored, 1),
    }
    steady = await _verify_load(
        base=base,
        bodies=receipts,
        total=verifications,
        concurrency=concurrency,
        seconds=seconds,
        client=client_kind,
    )
    figures: dict[str, Any] = {**base_figures}
    figures.update({f"verify_{k}": v for k, v in steady.items()})
    figures["verify_concurrency"] = concurrency
    figures["distinct_receipts"] = len(receipts)
    if cold_receipts:
        first_time = await _verify_load(
            base=base,
            bodies=cold_receipts,
            total=len(cold_receipts),
            concurrency=concurrency,
            seconds=seconds,
            client=client_kind,
        )
        figures.update({f"verify_cold_{k}": v for k, v in first_time.items()})
    return figures


async def _receipt(client: httpx.AsyncClient, digest: str) -> bytes:
    answer = await client.get(f"/v1/records/{digest}/receipt")
    answer.raise_for_status()
    return answer.content


def measure_api(
    *,
    records: int = 5_000,
    bulk: int = 1_000,
    distinct: int = 500,
    cold: int = 1_000,
    verifications: int = 20_000,
    concurrency: int = 16,
    seconds: float = 60.0,
    client: str = "raw",
    rpc: str | None = None,
) -> dict[str, Any]:
    """Start anvil (unless `rpc` names a node) and `registry serve`, then measure."""
    node = start_anvil() if rpc is None else None
    url = rpc or (node.url if node is not None else "")
    try:
        with tempfile.TemporaryDirectory(prefix="registry-bench-api-") as tmp:
            data = Path(tmp) / "data"
            passphrase = secrets.token_urlsafe(16)
            w3 = connect(url)
            admin = funded_account(w3)
            create_keystore(admin, data / "keys" / "admin.json", passphrase)
            registry, _ = RegistryContract.deploy(w3, admin, options=TxOptions(poll_interval=0.01))
            values = {
                "rpc": url,
                "registry_address": registry.address,
                "chain_id": registry.chain_id,
            }
            write_config(data / "config.toml", values)
            operator = Operator.open(Settings(data_dir=data, **values))  # type: ignore[arg-type]
            try:
                agency, _ = operator.create_agency(
                    "Bench Office", passphrase=passphrase, admin=admin, fund_from_dev=True
                )
                _, token = issue_api_token(operator.store, agency_id=agency.id, label="bench")
            finally:
                operator.close()
            port = free_port()
            env = {
                **os.environ,
                "REGISTRY_DATA_DIR": str(data),
                "REGISTRY_KEYSTORE_PASSPHRASE": passphrase,
                "REGISTRY_API_VERIFY_RATE": "0",  # the load comes from one address
                "REGISTRY_BATCH_AGE": "0.2",
            }
            env.pop("REGISTRY_CONFIG", None)
            command = [sys.executable, "-c", "from registry.cli import main; main()"]
            server = subprocess.Popen(
                [*command, "serve", "--port", str(port), "--log-level", "warning"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
            try:
                figures = asyncio.run(
                    _load(
                        f"http://127.0.0.1:{port}",
                        token,
                        server,
                        records=records,
                        bulk=bulk,
                        distinct=distinct,
                        cold=cold,
                        verifications=verifications,
                        concurrency=concurrency,
                        seconds=seconds,
                        client_kind=client,
                    )
                )
            finally:
                server.send_signal(signal.SIGINT)
                try:
                    server.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
    finally:
        if node is not None:
            node.stop()
    figures.update(
        chain="anvil" if rpc is None else rpc,
        store="sqlite",
        server="registry serve (uvicorn, 1 process)",
        load_client="asyncio HTTP/1.1 keep-alive" if client == "raw" else "httpx",
        cpus=os.cpu_count(),
    )
    return figures
