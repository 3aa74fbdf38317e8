"""Webhooks: an agency hears when its records are anchored, without polling.

An agency registers a URL (`register_webhook`); the server answers with a secret, shown once.
When one of the agency's batches is confirmed, the store queues one delivery per webhook in
the very transaction that confirms it (the durable outbox, `registry.store.webhooks`); the
`WebhookWorker` thread of `registry serve` POSTs it, retrying with exponential backoff, and
marks it failed after `webhook_max_attempts`. Delivery is at least once: a receiver drops a
repeated `X-Registry-Delivery` id.

Signature: `X-Registry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`
(the secret's UTF-8 bytes as the key). A receiver recomputes it over the raw body, compares in
constant time and refuses a `t` older than a few minutes: a captured delivery replayed later
fails (`check_signature`), and changing `t` breaks the HMAC.

The secret must sign, so it cannot be kept as a hash: it is stored encrypted with the agency's
data key (AES-256-GCM, the webhook's id as associated data), like the sealed documents.

SSRF: only http(s) URLs, no user-info; the host is resolved and every address must be
public (`is_global`) unless `webhook_allow_private` is set. The check is made when the webhook
is registered and again at every delivery, which connects to the very address it checked (the
`Host` header and TLS server name stay the URL's host), so a DNS answer changed in between
(rebinding) cannot redirect a delivery inside. Redirects are never followed.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import json
import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from registry.errors import InvalidInput, NotFound, RegistryError
from registry.service.agencies import AgencyRef, agency_by_id
from registry.service.keyring import Keyring
from registry.service.operator import Operator
from registry.settings import Settings
from registry.store import repo
from registry.store.models import utcnow

log = logging.getLogger(__name__)

__all__ = [
    "EVENTS",
    "RECORDS_ANCHORED",
    "SIGNATURE_HEADER",
    "DeliveryInfo",
    "UnsafeWebhookUrl",
    "WebhookCreated",
    "WebhookInfo",
    "WebhookWorker",
    "check_signature",
    "delete_webhook",
    "register_webhook",
    "sign",
    "webhook_deliveries",
    "webhook_worker",
    "webhooks_of",
]

RECORDS_ANCHORED = repo.RECORDS_ANCHORED
EVENTS = (RECORDS_ANCHORED,)
"""The events a webhook may ask for."""

SIGNATURE_HEADER = "X-Registry-Signature"
DELIVERY_HEADER = "X-Registry-Delivery"
EVENT_HEADER = "X-Registry-Event"
USER_AGENT = "PublicRecordsRegistry-Webhooks/1"

MAX_WEBHOOKS = 10
"""Live webhooks per agency."""
MAX_URL_LENGTH = 2048
PAYLOAD_RECORDS = 1000
"""Records listed in one `records.anchored` payload; a larger batch's are paged at
`recordsUrl` (the payload says `recordsComplete: false`)."""
SIGNATURE_TOLERANCE = 300
"""Seconds a receiver should accept a signature's timestamp (replays older than this fail)."""
LEASE_SECONDS = 120.0
KEEP_FINISHED_DAYS = 30
"""Delivered, failed and cancelled deliveries are kept this long (GET .../deliveries)."""

_SECRET_TAG = b"RecordRegistry/webhook-secret/v1"
_NONCE_BYTES = 12


class UnsafeWebhookUrl(InvalidInput):
    """A webhook URL the server refuses to call: not http(s), credentials in it, or a host
    that is (or resolves to) a loopback, private, link-local or otherwise non-public address."""


class WebhookLimit(InvalidInput):
    """The agency already has the most webhooks allowed."""


# ------------------------------------------------------------------ signing


def sign(secret: str, body: bytes, *, timestamp: int) -> str:
    """The `X-Registry-Signature` value of `body` sent at `timestamp` (Unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, "sha256")
    return f"t={timestamp},v1={mac.hexdigest()}"


def check_signature(
    secret: str,
    header: str,
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = SIGNATURE_TOLERANCE,
) -> bool:
    """What a receiver does: True when `header` signs `body` with `secret` and its timestamp
    is within `tolerance` seconds of `now` (a replayed old delivery is refused)."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    stamps = parts.get("t", [])
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp=timestamp).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))


def _new_secret() -> str:
    return "whsec_" + base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode("ascii")


def _seal_secret(data_key: bytes, public_id: str, secret: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(data_key).encrypt(
        nonce, secret.encode("utf-8"), _SECRET_TAG + public_id.encode()
    )
    return "aesgcm1:" + base64.b64encode(nonce + sealed).decode("ascii")


def _open_secret(data_key: bytes, public_id: str, stored: str) -> str:
    raw = base64.b64decode(stored.removeprefix("aesgcm1:"))
    try:
        clear = AESGCM(data_key).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _SECRET_TAG + public_id.encode()
        )
    except InvalidTag as exc:
        raise RegistryError(
            f"webhook {public_id}: its secret does not decrypt with the agency's data key"
        ) from exc
    return clear.decode("utf-8")


# ------------------------------------------------------------------ SSRF


@dataclass(frozen=True)
class Target:
    """A webhook URL checked for delivery: its parts and the public address to connect to."""

    url: SplitResult
    host: str
    port: int
    address: str


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return not address.is_global or address.is_multicast


def check_target(url: str, *, allow_private: bool, where: str = "body/url") -> Target:
    """`url` parsed, its host resolved and every address checked (UnsafeWebhookUrl naming
    `where` otherwise); the target connects to the first address."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeWebhookUrl(f"longer than {MAX_URL_LENGTH} characters", field=where)
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeWebhookUrl(f"not a URL: {exc}", field=where) from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeWebhookUrl("only http:// and https:// URLs are called", field=where)
    if parts.username is not None or parts.password is not None:
        raise UnsafeWebhookUrl("a webhook URL carries no user name or password", field=where)
    host = parts.hostname
    if not host:
        raise UnsafeWebhookUrl("the URL names no host", field=where)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeWebhookUrl(f"the host {host!r} does not resolve", field=where) from exc
    addresses = [str(info[4][0]) for info in found]
    if not addresses:
        raise UnsafeWebhookUrl(f"the host {host!r} does not resolve", field=where)
    if not allow_private:
        for text in addresses:
            if _refused(ipaddress.ip_address(text.split("%")[0])):
                raise UnsafeWebhookUrl(
                    f"the host {host!r} is or resolves to a non-public address ({text}): "
                    "loopback, private, link-local and reserved addresses are refused",
                    field=where,
                )
    return Target(url=parts, host=host, port=port, address=addresses[0])


def _pinned_request(target: Target) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL to connect to (the checked address), the Host header, and the TLS server
    name: a delivery goes to the address checked, never to one a second lookup returns."""
    parts = target.url
    ip = ipaddress.ip_address(target.address.split("%")[0])
    shown = f"[{ip}]" if ip.version == 6 else str(ip)
    default = 443 if parts.scheme == "https" else 80
    netloc = shown if target.port == default else f"{shown}:{target.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host = target.host if parts.port is None else f"{target.host}:{parts.port}"
    if ":" in target.host and parts.port is None:
        host = f"[{target.host}]"
    extensions: dict[str, Any] = {}
    if parts.scheme == "https":
        extensions["sni_hostname"] = target.host
    return url, {"Host": host}, extensions


# ------------------------------------------------------------------ registering


@dataclass(frozen=True)
class WebhookInfo:
    """A webhook as its agency sees it (never its secret)."""

    id: str
    url: str
    events: list[str]
    created_at: datetime


@dataclass(frozen=True)
class WebhookCreated(WebhookInfo):
    """A webhook just registered, with its secret (shown this once)."""

    secret: str


def register_webhook(
    keyring: Keyring, agency: AgencyRef, *, url: str, events: list[str] | None = None
) -> WebhookCreated:
    """Register a webhook of the agency: the URL checked (UnsafeWebhookUrl), a fresh secret
    stored encrypted with the agency's data key and returned once."""
    settings = keyring.operator.settings
    wanted = list(dict.fromkeys(events or [RECORDS_ANCHORED]))
    for n, event in enumerate(wanted):
        if event not in EVENTS:
            raise InvalidInput(
                f"unknown event {event!r}; expected one of {', '.join(EVENTS)}",
                field=f"body/events/{n}",
            )
    check_target(url, allow_private=settings.webhook_allow_private)
    data_key = keyring.issuer_for(agency).data_key
    public_id = "wh_" + secrets.token_hex(12)
    secret = _new_secret()
    store = keyring.operator.store
    with store.session(write=True) as session:
        if len(repo.live_webhooks(session, agency_id=agency.id)) >= MAX_WEBHOOKS:
            raise WebhookLimit(
                f"an agency has at most {MAX_WEBHOOKS} webhooks; delete one first", field="body"
            )
        hook = repo.add_webhook(
            session,
            agency_id=agency.id,
            public_id=public_id,
            url=url,
            secret=_seal_secret(data_key, public_id, secret),
            events=wanted,
        )
        created = hook.created_at
    return WebhookCreated(id=public_id, url=url, events=wanted, created_at=created, secret=secret)


def webhooks_of(operator: Operator, agency: AgencyRef) -> list[WebhookInfo]:
    """The agency's live webhooks, oldest first."""
    with operator.store.session() as session:
        return [
            WebhookInfo(h.public_id, h.url, h.events.split(","), h.created_at)
            for h in repo.live_webhooks(session, agency_id=agency.id)
        ]


def delete_webhook(operator: Operator, agency: AgencyRef, public_id: str) -> int:
    """Delete one of the agency's webhooks (NotFound for any other id, another agency's
    included, without saying whose); its pending deliveries are cancelled. Returns how many."""
    with operator.store.session(write=True) as session:
        return repo.delete_webhook(session, public_id, agency_id=agency.id)


@dataclass(frozen=True)
class DeliveryInfo:
    """One delivery as its agency sees it."""

    id: str
    event: str
    state: str
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


def webhook_deliveries(
    operator: Operator, agency: AgencyRef, public_id: str, *, limit: int = 50
) -> list[DeliveryInfo]:
    """The webhook's latest deliveries, newest first (NotFound: not this agency's)."""
    with operator.store.session() as session:
        hook = repo.webhook_by_public_id(session, public_id, agency_id=agency.id)
        if hook is None:
            raise NotFound(f"no webhook {public_id} of this agency")
        return [
            DeliveryInfo(
                id=_delivery_id(d.id),
                event=d.event,
                state=d.state,
                attempts=d.attempts,
                last_status=d.last_status,
                last_error=d.last_error,
                next_attempt_at=d.next_attempt_at if d.state == "pending" else None,
                created_at=d.created_at,
                delivered_at=d.delivered_at,
            )
            for d in repo.list_deliveries(session, webhook_id=hook.id, limit=limit)
        ]


def _delivery_id(number: int) -> str:
    return f"dlv_{number}"


# ------------------------------------------------------------------ delivering


def _iso(moment: datetime | int | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, int):
        moment = datetime.fromtimestamp(moment, tz=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _payload(operator: Operator, delivery: repo.DueDelivery) -> str:
    """The body of a `records.anchored` delivery: the batch and its records (digest and the
    agency's own reference), compact JSON, keys sorted."""
    assert delivery.batch_id is not None
    with operator.store.session() as session:
        batch, records, count = repo.batch_event_facts(
            session, delivery.batch_id, limit=PAYLOAD_RECORDS
        )
    root = "0x" + bytes(batch.root).hex()
    body = {
        "id": _delivery_id(delivery.id),
        "type": delivery.event,
        "createdAt": _iso(utcnow()),
        "agency": delivery.agency_address,
        "batch": {
            "root": root,
            "count": count,
            "blockNumber": batch.block_number,
            "anchoredAt": _iso(batch.anchored_at),
            "txHash": None if batch.tx_hash is None else "0x" + bytes(batch.tx_hash).hex(),
        },
        "records": [
            {
                "digest": "0x" + digest.hex(),
                "reference": reference,
                "receiptUrl": f"/v1/records/0x{digest.hex()}/receipt",
            }
            for digest, reference in records
        ],
        "recordsComplete": count <= len(records),
        "recordsUrl": f"/v1/batches/{root}/records",
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Attempt:
    """How one attempt went."""

    delivered: bool
    status: int | None
    error: str | None


def _send(
    delivery: repo.DueDelivery,
    body: bytes,
    secret: str,
    *,
    settings: Settings,
    transport: httpx.BaseTransport | None,
) -> Attempt:
    """POST one delivery to its webhook (checked again, pinned to the address checked)."""
    try:
        target = check_target(
            delivery.url, allow_private=settings.webhook_allow_private, where="url"
        )
    except UnsafeWebhookUrl as exc:
        return Attempt(False, None, f"refused: {exc}")
    url, headers, extensions = _pinned_request(target)
    timestamp = int(time.time())
    headers.update(
        {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: _delivery_id(delivery.id),
            SIGNATURE_HEADER: sign(secret, body, timestamp=timestamp),
        }
    )
    try:
        with httpx.Client(
            timeout=settings.webhook_timeout, follow_redirects=False, transport=transport
        ) as client:
            request = client.build_request(
                "POST", url, content=body, headers=headers, extensions=extensions
            )
            response = client.send(request, stream=True)
            response.close()  # the answer's body is not read: only its status counts
    except httpx.HTTPError as exc:
        return Attempt(False, None, f"{type(exc).__name__}: could not deliver")
    if 200 <= response.status_code < 300:
        return Attempt(True, response.status_code, None)
    if 300 <= response.status_code < 400:
        return Attempt(False, response.status_code, "redirects are not followed")
    return Attempt(False, response.status_code, f"the receiver answered {response.status_code}")


def _retry_at(settings: Settings, attempts: int) -> datetime | None:
    """When to try again after `attempts` failed attempts (None: give up): exponential
    backoff from `webhook_retry_base`, at most `webhook_retry_max`, with 20% jitter so that
    deliveries failed together do not all come back together."""
    if attempts >= settings.webhook_max_attempts:
        return None
    delay = min(settings.webhook_retry_max, settings.webhook_retry_base * 2 ** (attempts - 1))
    delay *= random.uniform(0.8, 1.2)  # spreads retries out; not a secret
    return utcnow() + timedelta(seconds=delay)


def deliver_due(
    keyring: Keyring,
    *,
    limit: int = 20,
    threads: int = 4,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """One pass: claim the deliveries due, send them (a few at once, so one slow receiver
    does not hold the others back), record each attempt. Returns how many were attempted."""
    operator = keyring.operator
    settings = operator.settings
    with operator.store.session() as session:
        if not repo.any_due_delivery(session):
            return 0
    with operator.store.session(write=True) as session:
        due = repo.claim_due_deliveries(session, limit=limit, lease=LEASE_SECONDS)
    if not due:
        return 0

    def attempt(delivery: repo.DueDelivery) -> None:
        try:
            result = _attempt(keyring, delivery, settings=settings, transport=transport)
        except Exception as exc:  # never lose the worker to one delivery
            log.exception("webhook delivery %s: unexpected error", delivery.id)
            result = Attempt(False, None, f"{type(exc).__name__}: internal error")
        attempts = delivery.attempts + 1
        retry = None if result.delivered else _retry_at(settings, attempts)
        with operator.store.session(write=True) as session:
            repo.finish_delivery_attempt(
                session,
                delivery.id,
                delivered=result.delivered,
                status=result.status,
                error=result.error,
                retry_at=retry,
            )
        if not result.delivered:
            log.info(
                "webhook %s delivery %s attempt %s: %s",
                delivery.webhook_public_id,
                delivery.id,
                attempts,
                result.error,
            )

    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(due)))) as pool:
        list(pool.map(attempt, due))
    return len(due)


def _attempt(
    keyring: Keyring,
    delivery: repo.DueDelivery,
    *,
    settings: Settings,
    transport: httpx.BaseTransport | None,
) -> Attempt:
    operator = keyring.operator
    agency = _agency_ref(operator, delivery.agency_id)
    try:
        data_key = keyring.issuer_for(agency).data_key
    except RegistryError as exc:
        return Attempt(False, None, f"the agency's keys are not available here: {exc}")
    secret = _open_secret(data_key, delivery.webhook_public_id, delivery.secret)
    payload = delivery.payload
    if payload is None:
        fresh = _payload(operator, delivery)
        with operator.store.session(write=True) as session:
            payload = repo.freeze_payload(session, delivery.id, fresh)
    return _send(delivery, payload.encode("utf-8"), secret, settings=settings, transport=transport)


def _agency_ref(operator: Operator, agency_id: int) -> AgencyRef:
    found = agency_by_id(operator.store, agency_id)
    if found is None:
        raise NotFound(f"agency #{agency_id} is not in the store")
    return found


def prune(operator: Operator) -> None:
    """Forget finished deliveries older than KEEP_FINISHED_DAYS and expired idempotency keys."""
    cutoff = utcnow() - timedelta(days=KEEP_FINISHED_DAYS)
    with operator.store.session(write=True) as session:
        repo.prune_deliveries(session, finished_before=cutoff)
        repo.prune_idempotency_keys(session)


class WebhookWorker:
    """The thread that empties the outbox: a pass every `webhook_interval` seconds (sooner
    after `wake()`), and housekeeping once an hour. Started and stopped with the server."""

    def __init__(
        self,
        keyring: Keyring,
        *,
        interval: float,
        transport: httpx.BaseTransport | None = None,
        on_error: Callable[[], None] | None = None,
    ) -> None:
        self.keyring = keyring
        self.interval = interval
        self.transport = transport
        self._on_error = on_error
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_prune = 0.0
        self.passes = 0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="webhook-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the pass in flight (each delivery is bounded by `webhook_timeout`)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_pass()
            self._wake.wait(self.interval)
            self._wake.clear()

    def run_pass(self) -> None:
        self.passes += 1
        try:
            if time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + 3600.0
                prune(self.keyring.operator)
            while deliver_due(self.keyring, transport=self.transport) and not self._stop.is_set():
                pass
        except RegistryError as exc:  # the store is down: try again at the next pass
            log.warning("webhook worker: %s", exc)
            if self._on_error is not None:
                self._on_error()
        except Exception:
            log.exception("webhook worker: unexpected error")


def webhook_worker(keyring: Keyring) -> WebhookWorker:
    """The webhook worker for this keyring, paced by the operator's settings."""
    return WebhookWorker(keyring, interval=keyring.operator.settings.webhook_interval)
