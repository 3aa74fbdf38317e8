"""HTTP hardening, against the real app served by uvicorn with `registry serve`'s options
(`api.server.uvicorn_options`) on a loopback port: X-Forwarded-For believed only from trusted
proxies, a rate limit on every route but /healthz (IPv6 by /64), security headers on every
answer, HSTS only over HTTPS, and a server that cuts off slow, oversized and malformed request
heads, stalled bodies and connections past its limit. `registry serve` on the embedded chain
leaves no directory behind even when SIGKILLed."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from api.ratelimit import TokenBucket, client_key
from api.server import uvicorn_options
from registry.chain.devnode import free_port
from registry.cli.serve import SERVE_DIR_PREFIX, remove_stale_serve_dirs
from registry.service.admin import issue_api_token
from registry.service.embedded import open_embedded
from registry.service.operator import Operator
from registry.settings import Settings
from registry.store import add_agency

DIGEST = "0x" + "ab" * 32
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    """One embedded registry for the module; each test serves it under settings of its own."""
    operator, _ = open_embedded(
        Settings(), data_dir=tmp_path_factory.mktemp("registry"), passphrase="p" * 24
    )
    yield operator
    operator.close()


@dataclass
class Served:
    url: str
    port: int
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread

    def get(self, path: str, **headers: str) -> httpx.Response:
        return httpx.get(self.url + path, headers=headers, timeout=10)


@pytest.fixture
def serve(embedded: Operator) -> Iterator[Any]:
    """serve(**settings): the app over the embedded registry, with those settings, served by
    uvicorn with `uvicorn_options(settings)` in a thread."""
    running: list[Served] = []

    def start(**overrides: Any) -> Served:
        settings = embedded.settings.model_copy(update=overrides)
        operator = Operator(settings, registry=embedded.registry, store=embedded.store)
        app = create_app(operator=operator, run_worker=False)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", backlog=4096, **uvicorn_options(settings)
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        served = Served(f"http://127.0.0.1:{port}", port, settings, server, thread)
        running.append(served)
        return served

    yield start
    for served in running:
        served.server.should_exit = True
        served.thread.join(timeout=10)


def raw(port: int, head: bytes, *, timeout: float = 5.0) -> bytes:
    """Send `head` as is on a new connection; what the server answers before closing."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(head)
        chunks = []
        try:
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
        return b"".join(chunks)


def status_of(answer: bytes) -> int:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert match is not None, answer[:200]
    return int(match.group(1))


# ------------------------------------------------------------------ proxies and rate limits


def test_forwarded_for_from_loopback_is_not_a_fresh_bucket(serve: Any) -> None:
    """Without trusted proxies, a client naming another address in X-Forwarded-For is still
    itself: (before: uvicorn trusted 127.0.0.1, so each forged address got a full bucket)."""
    served = serve(api_rate=0.01, api_burst=3)
    codes = [
        served.get("/v1/agencies", **{"X-Forwarded-For": f"198.51.100.{i}"}).status_code
        for i in range(6)
    ]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429, 429], codes


def test_forwarded_for_is_believed_from_a_trusted_proxy(serve: Any) -> None:
    served = serve(api_rate=0.01, api_burst=2, trusted_proxies=["127.0.0.0/8"])
    for i in range(5):  # five clients behind the proxy: a bucket each
        ok = served.get("/v1/agencies", **{"X-Forwarded-For": f"198.51.100.{i}"})
        assert ok.status_code == 200, ok.text
    same = [
        served.get("/v1/agencies", **{"X-Forwarded-For": "203.0.113.9"}).status_code
        for _ in range(3)
    ]
    assert same == [200, 200, 429]
    limited = served.get("/v1/agencies", **{"X-Forwarded-For": "203.0.113.9"})
    assert "203.0.113.9" in limited.json()["detail"]
    assert int(limited.headers["Retry-After"]) >= 1


def test_ipv6_clients_share_a_bucket_per_64(serve: Any) -> None:
    served = serve(api_rate=0.01, api_burst=2, trusted_proxies=["127.0.0.1"])
    one_64 = ["2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:2:abcd:1:2:3"]
    codes = [served.get("/metrics", **{"X-Forwarded-For": a}).status_code for a in one_64]
    assert codes == [200, 200, 429]
    assert served.get("/metrics", **{"X-Forwarded-For": "2001:db8:1:3::1"}).status_code == 200
    assert client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("192.0.2.7") == "192.0.2.7" and client_key("testclient") == "testclient"


@pytest.mark.parametrize(
    "path",
    ["/metrics", "/v1/agencies", f"/v1/records/{DIGEST}", f"/v1/records/{DIGEST}/receipt", "/"],
)
def test_every_public_route_is_rate_limited(serve: Any, path: str) -> None:
    served = serve(api_rate=0.01, api_burst=2)
    codes = [served.get(path).status_code for _ in range(3)]
    assert codes[2] == 429, (path, codes)
    assert served.get("/healthz").status_code == 200  # liveness is never throttled


def test_writes_spend_only_when_refused(serve: Any, embedded: Operator) -> None:
    """An agency's issuing system is not throttled by its volume; token guessing is."""
    with embedded.store.session() as session:
        agency = add_agency(
            session, address="0x" + "22" * 20, name="Writes Office", signing_public_key=b"\1" * 32
        )
        agency_id = agency.id
    _, token = issue_api_token(embedded.store, agency_id=agency_id, label="writes")
    served = serve(api_rate=0.01, api_burst=2)
    body = {"digest": DIGEST}

    def submit(bearer: str) -> int:
        answer = httpx.post(
            served.url + "/v1/records/digest",
            json=body,
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=10,
        )
        return answer.status_code

    assert 429 not in [submit(token) for _ in range(5)]
    assert [submit("prr_" + "x" * 43) for _ in range(3)] == [401, 401, 429]
    assert submit(token) == 429  # the address is out of tokens now, whoever it claims to be


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=2)
    assert bucket.take("a", now=0.0) == 0.0 and bucket.take("a", now=0.0) == 0.0
    assert bucket.take("a", now=0.0) == pytest.approx(0.5)
    assert bucket.take("a", now=0.5) == 0.0
    assert bucket.take("2001:db8::1", now=0.0) == 0.0
    assert bucket.take("2001:db8::2", now=0.0) == 0.0
    assert bucket.take("2001:db8::3", now=0.0) > 0  # same /64


# ------------------------------------------------------------------ headers


def test_security_headers_on_every_answer(embedded: Operator) -> None:
    settings = embedded.settings.model_copy(update={"api_rate": 0.01, "api_burst": 5})
    operator = Operator(settings, registry=embedded.registry, store=embedded.store)
    with TestClient(create_app(operator=operator, run_worker=False)) as client:
        answers = [
            client.get("/"),
            client.get("/static/app.js"),
            client.get("/v1/records/not-a-digest"),  # 422
            client.get("/nowhere"),  # 404
            client.get("/healthz"),
        ]
        answers += [client.get("/v1/agencies") for _ in range(2)]  # the second: 429
    assert [a.status_code for a in answers] == [200, 200, 422, 404, 200, 200, 429]
    for answer in answers:
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (answer.request.url, name)
        assert "strict-transport-security" not in answer.headers  # plain HTTP


def test_hsts_only_over_https(embedded: Operator) -> None:
    app = create_app(operator=embedded, run_worker=False)
    with TestClient(app, base_url="https://registry.example") as client:
        answer = client.get("/healthz")
    assert answer.headers["strict-transport-security"] == "max-age=31536000"
    assert answer.headers["content-security-policy"] == SECURITY_HEADERS["content-security-policy"]


def test_hsts_behind_a_trusted_tls_proxy_only(serve: Any) -> None:
    """X-Forwarded-Proto: https is believed from a trusted proxy (HSTS), not from anyone."""
    untrusted = serve()
    assert (
        "strict-transport-security"
        not in untrusted.get("/healthz", **{"X-Forwarded-Proto": "https"}).headers
    )
    trusted = serve(trusted_proxies=["127.0.0.1"])
    answer = trusted.get("/healthz", **{"X-Forwarded-Proto": "https"})
    assert answer.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in trusted.get("/healthz").headers


# ------------------------------------------------------------------ slow and malformed requests


def test_oversized_and_malformed_heads_are_refused(serve: Any) -> None:
    served = serve()
    port = served.port
    ok = raw(port, b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert status_of(ok) == 200
    two_hosts = b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n"
    assert status_of(raw(port, two_hosts)) == 400
    big = b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n"
    assert status_of(raw(port, big)) == 431
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
    assert status_of(raw(port, b"GET /healthz HTTP/1.1\r\nHost: a\r\n" + many + b"\r\n")) == 431
    long_url = b"GET /healthz?" + b"q" * 20_000 + b" HTTP/1.1\r\nHost: a\r\n\r\n"
    assert status_of(raw(port, long_url)) in (414, 431)
    assert served.get("/healthz").status_code == 200


def test_a_50_mb_header_is_cut_off_early(serve: Any) -> None:
    served = serve()
    sent = 0
    chunk = b"a" * 65536
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Huge: ")
        try:
            while sent < 50 * 1024 * 1024:
                conn.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
    assert sent < 50 * 1024 * 1024 // 4, f"the server kept reading: {sent} bytes"
    assert served.get("/healthz").status_code == 200


@pytest.mark.alone  # timing: /healthz within a second while 2,000 connections wait
def test_two_thousand_unfinished_heads_leave_healthz_answering(serve: Any) -> None:
    """2,000 connections that never finish their headers (before: held open for ever) do not
    stop /healthz, and are closed by the header deadline."""
    served = serve(http_header_timeout=2.0)
    conns = []
    started = time.monotonic()
    try:
        for _ in range(2000):
            conn = socket.create_connection(("127.0.0.1", served.port), timeout=5)
            conn.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ")
            conns.append(conn)
        t0 = time.monotonic()
        assert served.get("/healthz").status_code == 200
        assert time.monotonic() - t0 < 1.0
        time.sleep(max(0.0, started + 2.0 + 1.5 - time.monotonic()))
        closed = 0
        for conn in conns:
            conn.settimeout(3)
            try:
                answer = conn.recv(4096)
                closed += answer == b"" or answer.startswith(b"HTTP/1.1 408")
            except (ConnectionResetError, TimeoutError):
                closed += 0
        assert closed == len(conns), f"{len(conns) - closed} slow connections still open"
        assert served.get("/healthz").status_code == 200
    finally:
        for conn in conns:
            conn.close()


def test_idle_connection_and_stalled_body_are_closed(serve: Any) -> None:
    served = serve(http_header_timeout=1.0, http_body_timeout=1.0)
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as idle:
        t0 = time.monotonic()
        assert status_of(idle.recv(4096)) == 408
        assert time.monotonic() - t0 < 3
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as stalled:
        stalled.sendall(
            b"POST /v1/verify/digest HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"digest": '
        )
        t0 = time.monotonic()
        answer = b""
        try:
            while chunk := stalled.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
        assert time.monotonic() - t0 < 4, "a stalled body kept the connection"
    assert served.get("/healthz").status_code == 200


def test_connections_past_the_limit_are_closed_at_once(serve: Any) -> None:
    served = serve(http_max_connections=20, http_header_timeout=30.0)
    held = [socket.create_connection(("127.0.0.1", served.port), timeout=5) for _ in range(20)]
    try:
        time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", served.port), timeout=5) as extra:
            t0 = time.monotonic()
            with contextlib.suppress(ConnectionResetError):
                assert extra.recv(1) == b""
            assert time.monotonic() - t0 < 2
    finally:
        for conn in held:
            conn.close()
    time.sleep(0.2)
    assert served.get("/healthz").status_code == 200


def test_serve_passes_the_hardening_to_uvicorn() -> None:
    options = uvicorn_options(Settings(trusted_proxies=["10.0.0.5/8", "::1"]))
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "10.0.0.0/8,::1/128"
    assert options["server_header"] is False
    plain = uvicorn_options(Settings())
    assert plain["proxy_headers"] is False and plain["forwarded_allow_ips"] == ""
    assert plain["http"].limits.max_header_bytes == 16 * 1024


# ------------------------------------------------------------------ the embedded directory


def _start_serve(tmp: Path) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    env = {**os.environ, "REGISTRY_DATA_DIR": str(tmp / "data"), "COLUMNS": "200"}
    env["REGISTRY_SERVE_TMP_DIR"] = str(tmp / "serve")
    env.pop("REGISTRY_DATABASE_URL", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from registry.cli import main; main()",
            "serve",
            "--port",
            f"{port}",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return server, port
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "serve did not start"
        time.sleep(0.2)


def test_sigkilled_serve_leaves_no_store_or_keys(tmp_path: Path) -> None:
    server, _ = _start_serve(tmp_path)
    try:
        [data_dir] = list((tmp_path / "serve").iterdir())
        assert data_dir.name.startswith(f"{SERVE_DIR_PREFIX}{server.pid}-")
        assert list(data_dir.rglob("*.json")), "the keystores are there while it runs"
    finally:
        server.send_signal(signal.SIGKILL)
        server.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while data_dir.exists():
        assert time.monotonic() < deadline, (
            f"{data_dir} outlived the server: {os.listdir(data_dir)}"
        )
        time.sleep(0.1)


def test_next_serve_removes_directories_of_dead_servers(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = tmp_path / f"{SERVE_DIR_PREFIX}{gone.pid}-abc"
    (stale / "keys").mkdir(parents=True)
    (stale / "keys" / "admin.json").write_text("{}")
    alive = tmp_path / f"{SERVE_DIR_PREFIX}{os.getpid()}-def"
    alive.mkdir()
    other = tmp_path / "unrelated-1-x"
    other.mkdir()
    assert remove_stale_serve_dirs(tmp_path) == [stale]
    assert not stale.exists() and alive.exists() and other.exists()
