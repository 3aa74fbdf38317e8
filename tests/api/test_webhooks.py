"""Webhooks (issue 16): an agency registers a URL and hears, signed, when its records are
anchored; deliveries come from a durable outbox, are retried with backoff, and survive a
restart. Tested with a real HTTP receiver on the loopback interface (allowed by the
`webhook_allow_private` setting here, refused by default).

Attacker tests first: URLs pointing at the server's own machine, its network or the cloud
metadata address are refused; a replayed delivery is detectable by its timestamp; the secret
is shown once and stored encrypted (it must sign, so it cannot be a hash); another agency's
webhooks are neither listed, nor deletable, nor readable (404, naming nobody)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import PASSPHRASE, SEED_A, SEED_B, Api, serving_api
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from registry import keys
from registry.service import webhooks
from registry.service.operator import Operator
from registry.store import Store, repo

EMBEDDED = pytest.mark.parametrize("chain_env_session", ["embedded"], indirect=True)

FAST = {
    "webhook_allow_private": True,
    "webhook_interval": 0.05,
    "webhook_retry_base": 0.2,
    "webhook_retry_max": 0.5,
}


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records what it is sent and answers each request
    with the next status of `answers` (then 200)."""

    url: str
    got: list[Delivery] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while len(self.got) < count:
            assert time.monotonic() < deadline, f"{len(self.got)} of {count} deliveries came"
            time.sleep(0.05)
        return self.got


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(size)
            me = box[0]
            status = me.answers.pop(0) if me.answers else 200
            me.got.append(Delivery({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box[0]
    server.shutdown()
    server.server_close()


def problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return dict(answer.json())


def register(api: Api, url: str, who: str = "a") -> Any:
    headers = api.agency_a if who == "a" else api.agency_b
    return api.client.post("/v1/webhooks", json={"url": url}, headers=headers)


# ------------------------------------------------------------------ attackers first


@EMBEDDED
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_urls_into_the_servers_own_networks_are_refused(api: Api) -> None:
    assert api.runtime.settings.webhook_allow_private is False  # the default
    for url in (
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.0.0.7/hook",
        "http://192.168.1.1/hook",
        "http://172.16.0.1/hook",
        "http://0.0.0.0/hook",
        "http://2130706433/hook",  # 127.0.0.1 as one number
        "http://0x7f.1/hook",
        "http://100.64.0.1/hook",  # carrier-grade NAT: not public either
    ):
        body = problem(register(api, url), 422)
        assert body["type"].endswith("unsafe-url"), (url, body)
        assert body["errors"][0]["field"] == "body/url"
    for url in (
        "file:///etc/passwd",
        "ftp://example.org/x",
        "gopher://example.org/",
        "https://user:password@example.org/hook",
        "http:///nohost",
        "not a url",
    ):
        assert problem(register(api, url), 422)["errors"][0]["field"] == "body/url", url
    assert api.client.get("/v1/webhooks", headers=api.agency_a).json()["webhooks"] == []


def test_the_target_is_checked_again_and_pinned_at_delivery() -> None:
    """A DNS answer changed after registration (rebinding) cannot move a delivery inside: the
    check runs again at each delivery, and the request goes to the very address checked, with
    the URL's host as Host header and TLS server name."""
    with pytest.raises(webhooks.UnsafeWebhookUrl):
        webhooks.check_target("http://localhost:9/x", allow_private=False)
    target = webhooks.check_target("https://127.0.0.1:8443/a/b?c=1", allow_private=True)
    url, headers, extensions = webhooks._pinned_request(target)
    assert url == "https://127.0.0.1:8443/a/b?c=1"
    assert headers == {"Host": "127.0.0.1:8443"} and extensions == {"sni_hostname": "127.0.0.1"}
    target = webhooks.check_target("http://localhost/x", allow_private=True)
    url, headers, _ = webhooks._pinned_request(target)
    assert url in ("http://127.0.0.1/x", "http://[::1]/x") and headers == {"Host": "localhost"}


def test_a_replayed_delivery_is_detectable_by_its_timestamp() -> None:
    secret, body = "whsec_test", b'{"type":"records.anchored"}'
    now = int(time.time())
    header = webhooks.sign(secret, body, timestamp=now)
    assert webhooks.check_signature(secret, header, body, now=now + 10)
    # The same bytes replayed ten minutes later: refused.
    assert not webhooks.check_signature(secret, header, body, now=now + 600)
    # A fresh timestamp on the old signature: the HMAC no longer matches.
    forged = header.replace(f"t={now}", f"t={now + 600}")
    assert not webhooks.check_signature(secret, forged, body, now=now + 600)
    assert not webhooks.check_signature(secret, header, body + b" ", now=now)
    assert not webhooks.check_signature("whsec_other", header, body, now=now)
    assert not webhooks.check_signature(secret, "v1=00", body, now=now)


@EMBEDDED
def test_the_secret_is_shown_once_and_stored_encrypted(
    chain_env: Any, store: Store, tmp_path: Path, receiver: Receiver
) -> None:
    with serving_api(chain_env, store, tmp_path, **FAST) as api:
        created = register(api, receiver.url)
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        assert secret.startswith("whsec_") and len(secret) > 40
        listed = api.client.get("/v1/webhooks", headers=api.agency_a).json()["webhooks"]
        assert listed == [{k: v for k, v in created.json().items() if k != "secret"}]
        with store.engine.connect() as connection:
            stored = connection.execute(text("SELECT secret FROM webhooks")).scalar()
        assert secret not in str(stored) and str(stored).startswith("aesgcm1:")
        assert secret.removeprefix("whsec_") not in str(stored)


@EMBEDDED
def test_another_agencys_webhooks_are_out_of_reach(
    chain_env: Any, store: Store, tmp_path: Path, receiver: Receiver
) -> None:
    with serving_api(chain_env, store, tmp_path, **FAST) as api:
        c = api.client
        hook = register(api, receiver.url, who="b").json()["id"]
        assert c.get("/v1/webhooks", headers=api.agency_a).json()["webhooks"] == []
        gone = problem(c.delete(f"/v1/webhooks/{hook}", headers=api.agency_a), 404)
        assert "Ministry" not in gone["detail"] and api.address_b not in gone["detail"]
        problem(c.get(f"/v1/webhooks/{hook}/deliveries", headers=api.agency_a), 404)
        problem(c.post("/v1/webhooks", json={"url": receiver.url}, headers=api.admin), 403)
        problem(c.get("/v1/webhooks"), 401)
        # A's anchors are never told to B's webhook.
        api.submit({"a's record": 1})
        time.sleep(0.5)
        assert receiver.got == []
        assert [h["id"] for h in c.get("/v1/webhooks", headers=api.agency_b).json()["webhooks"]]


# ------------------------------------------------------------------ delivering


@EMBEDDED
def test_anchors_are_delivered_signed(
    chain_env: Any, store: Store, tmp_path: Path, receiver: Receiver
) -> None:
    with serving_api(chain_env, store, tmp_path, **FAST) as api:
        c = api.client
        created = register(api, receiver.url).json()
        secret = created["secret"]
        records = [{"n": 1}, {"n": 2}]
        bulk = c.post(
            "/v1/records/bulk",
            params={"wait": True},
            json={"records": records, "references": ["W-1", None]},
            headers=api.agency_a,
        ).json()
        (delivery,) = receiver.wait_for(1)
        assert delivery.headers["content-type"] == "application/json"
        assert delivery.headers["x-registry-event"] == "records.anchored"
        signature = delivery.headers["x-registry-signature"]
        assert webhooks.check_signature(secret, signature, delivery.body)
        event = delivery.json
        assert event["id"] == delivery.headers["x-registry-delivery"]
        assert event["type"] == "records.anchored" and event["agency"] == api.address_a
        digests = {r["digest"]: r["reference"] for r in event["records"]}
        assert digests == {bulk["records"][0]["digest"]: "W-1", bulk["records"][1]["digest"]: None}
        root = event["batch"]["root"]
        assert event["batch"]["count"] == 2 and event["recordsComplete"] is True
        assert c.get(f"/v1/records/{bulk['records'][0]['digest']}").json()["batch"]["root"] == root
        assert event["batch"]["anchoredAt"] and event["batch"]["blockNumber"]
        assert c.get(event["records"][0]["receiptUrl"]).status_code == 200
        assert c.get(event["recordsUrl"]).json()["batch"]["root"] == root
        deliveries = c.get(f"/v1/webhooks/{created['id']}/deliveries", headers=api.agency_a).json()[
            "deliveries"
        ]
        assert deliveries[0]["state"] == "delivered" and deliveries[0]["attempts"] == 1
        # Deleting the webhook stops it.
        deleted = c.delete(f"/v1/webhooks/{created['id']}", headers=api.agency_a)
        assert deleted.status_code == 200 and deleted.json()["deleted"] is True
        api.submit({"after delete": 1})
        time.sleep(0.5)
        assert len(receiver.got) == 1


@EMBEDDED
def test_failed_deliveries_are_retried_with_backoff_then_given_up(
    chain_env: Any, store: Store, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.answers = [500, 503]
    settings = {**FAST, "webhook_max_attempts": 3}
    with serving_api(chain_env, store, tmp_path, **settings) as api:
        hook = register(api, receiver.url).json()
        api.submit({"retried": 1})
        first, second, third = receiver.wait_for(3)
        assert first.body == second.body == third.body  # the payload is frozen
        ids = {d.headers["x-registry-delivery"] for d in (first, second, third)}
        assert len(ids) == 1
        # Each attempt is signed anew, at its own time, with the webhook's secret.
        for delivery in (first, second, third):
            signature = delivery.headers["x-registry-signature"]
            assert webhooks.check_signature(hook["secret"], signature, delivery.body)
        deadline = time.monotonic() + 5
        while True:
            (delivery,) = api.client.get(
                f"/v1/webhooks/{hook['id']}/deliveries", headers=api.agency_a
            ).json()["deliveries"]
            if delivery["state"] == "delivered" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert delivery["state"] == "delivered" and delivery["attempts"] == 3
        # A receiver that never accepts: given up after webhook_max_attempts.
        receiver.answers = [500] * 10
        api.submit({"never accepted": 1})
        receiver.wait_for(6)
        time.sleep(0.3)
        latest = api.client.get(
            f"/v1/webhooks/{hook['id']}/deliveries", headers=api.agency_a
        ).json()["deliveries"][0]
        assert latest["state"] == "failed" and latest["attempts"] == 3
        assert latest["lastStatus"] == 500 and latest["nextAttemptAt"] is None
        assert len(receiver.got) == 6


@EMBEDDED
def test_a_redirect_is_not_followed(
    chain_env: Any, store: Store, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.answers = [302]
    with serving_api(chain_env, store, tmp_path, **{**FAST, "webhook_retry_base": 60}) as api:
        hook = register(api, receiver.url).json()
        api.submit({"redirected": 1})
        receiver.wait_for(1)
        time.sleep(0.3)
        (delivery,) = api.client.get(
            f"/v1/webhooks/{hook['id']}/deliveries", headers=api.agency_a
        ).json()["deliveries"]
        assert delivery["state"] == "pending" and delivery["lastStatus"] == 302
        assert "redirect" in delivery["lastError"]


def _restarted_app(
    env: Any, store: Store, settings: Any, data_keys: dict[int, bytes]
) -> tuple[Any, Operator]:
    """A second server over the same store and chain: agencies A and B with the same keys."""
    operator = Operator(settings, registry=env.registry, store=store)
    app = create_app(operator=operator, passphrase=PASSPHRASE)
    runtime = app.state.registry
    with store.session() as session:
        rows = {a.address: a for a in repo.list_agencies(session)}
    for seed, account in ((SEED_A, env.agency_a), (SEED_B, env.agency_b)):
        agency = rows[account.address]
        issuer = operator.issuer_from_keys(
            agency,
            account=account,
            signing_key=keys.signing_key_from_seed(seed),
            salt_secret=seed[::-1],
            data_key=data_keys[agency.id],
        )
        runtime.keyring.put(agency.id, issuer)
    return app, operator


@EMBEDDED
def test_no_event_is_lost_to_a_restart(
    chain_env: Any, store: Store, tmp_path: Path, receiver: Receiver
) -> None:
    # The first server anchors, but stops before its webhook worker's next look at the
    # outbox (an hour away): the delivery waits in the store.
    first = {**FAST, "webhook_interval": 3600.0}
    with serving_api(chain_env, store, tmp_path, **first) as api:
        hook = register(api, receiver.url).json()
        record = api.submit({"before the restart": 1})
        data_keys = {i.agency_id: i.data_key for i in api.runtime.keyring.loaded()}
        settings = api.runtime.settings
    assert receiver.got == []
    with store.session() as session:
        pending = session.execute(
            text("SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'")
        ).scalar()
    assert pending == 1
    app, _ = _restarted_app(chain_env, store, settings.model_copy(update=FAST), data_keys)
    with TestClient(app):
        (delivery,) = receiver.wait_for(1)
    assert webhooks.check_signature(
        hook["secret"], delivery.headers["x-registry-signature"], delivery.body
    )
    assert delivery.json["records"][0]["digest"] == record["digest"]


@EMBEDDED
def test_the_receiver_being_down_is_retried(
    chain_env: Any, store: Store, tmp_path: Path, receiver: Receiver
) -> None:
    port = httpx.URL(receiver.url).port
    with serving_api(chain_env, store, tmp_path, **FAST) as api:
        hook = register(api, f"http://127.0.0.1:{_closed_port()}/hook").json()
        api.submit({"nobody listens": 1})
        wait_until(
            lambda: (
                api.client.get(
                    f"/v1/webhooks/{hook['id']}/deliveries", headers=api.agency_a
                ).json()["deliveries"][0]["attempts"]
                >= 2
            )
        )
        (delivery,) = api.client.get(
            f"/v1/webhooks/{hook['id']}/deliveries", headers=api.agency_a
        ).json()["deliveries"]
        assert delivery["state"] == "pending" and delivery["lastStatus"] is None
        assert "could not deliver" in delivery["lastError"]
        assert "127.0.0.1" not in delivery["lastError"]
    assert port  # the live receiver was not involved


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@EMBEDDED
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_at_most_ten_webhooks_and_events_checked(
    chain_env: Any, store: Store, tmp_path: Path, receiver: Receiver
) -> None:
    with serving_api(chain_env, store, tmp_path, **FAST) as api:
        c = api.client
        bad = c.post(
            "/v1/webhooks",
            json={"url": receiver.url, "events": ["records.lost"]},
            headers=api.agency_a,
        )
        problem(bad, 422)
        for _ in range(webhooks.MAX_WEBHOOKS):
            assert register(api, receiver.url).status_code == 201
        problem(register(api, receiver.url), 422)
        assert len(c.get("/v1/webhooks", headers=api.agency_a).json()["webhooks"]) == 10
        assert register(api, receiver.url, who="b").status_code == 201  # B has its own ten
