"""The one settings object: environment (REGISTRY_*), an optional TOML config file, defaults.

Defaults give a first run that needs nothing else: the embedded chain and SQLite in the data
directory. Validated at start-up; passed in (CLI context, FastAPI Depends), never global.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from registry.errors import ConfigError

CONFIG_ENV = "REGISTRY_CONFIG"
DEFAULT_DATA_DIR = Path(".registry")


def chain_rpc(value: str) -> tuple[int, str]:
    """(chain id, URL) of an 'eip155:<chainId>=URL' entry; ValueError saying the form."""
    name, sep, url = value.partition("=")
    namespace, _, chain = name.partition(":")
    if not sep or namespace != "eip155" or not chain.isdigit() or not url:
        raise ValueError(f"{value!r}: expected 'eip155:<chainId>=URL'")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{value!r}: the URL must start with http:// or https://")
    return int(chain), url


class Settings(BaseSettings):
    """Every knob of the registry, with its default."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="forbid")

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Where keys, config and SQLite live.")
    rpc: str = Field("embedded", description="JSON-RPC URL of the chain, or 'embedded'.")
    chain_id: int | None = Field(
        None, description="Expected chain id; refused if the node differs."
    )
    registry_address: str | None = Field(None, description="Address of the deployed registry.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default SQLite in data_dir."
    )
    confirmations: int = Field(1, ge=1, description="Blocks (the tx's own included) to wait for.")
    tx_timeout: float = Field(120.0, gt=0, description="Seconds to wait for a tx to confirm.")
    rpc_timeout: float = Field(10.0, gt=0, description="Seconds per JSON-RPC request.")
    gas_margin: float = Field(1.2, ge=1.0, le=3.0, description="Gas limit = estimate x margin.")
    log_span: int = Field(5_000, ge=1, description="Blocks per eth_getLogs request.")
    trusted: list[str] = Field(
        default_factory=list,
        description="Trusted registries (or OpenAttestation DocumentStores) for verification, "
        "each 'eip155:<chainId>:0xADDRESS' (CAIP-10) or 'CHAIN_ID:0xADDRESS'.",
    )
    chain_rpcs: list[str] = Field(
        default_factory=list,
        description="A JSON-RPC URL per chain for receipts of other chains (trust lists name "
        "registries on several), each 'eip155:<chainId>=URL'; the CLI's repeatable "
        "--rpc eip155:<chainId>=URL.",
    )
    trust_lists: list[Path] = Field(
        default_factory=list,
        description="Trust list files (docs/trust.md): the registries they name are trusted "
        "for anchors made while their status was granted.",
    )
    trust_list_keys: list[str] = Field(
        default_factory=list,
        description="Pinned publisher keys (Ed25519 Multikey, 'z6Mk...'): a trust list must be "
        "signed by one of them.",
    )
    revocation_ttl: float = Field(
        5.0, ge=0, description="Seconds a verifier may cache a revocation status."
    )
    mirror: bool = Field(
        True,
        description="Follow the registry's events into the store (the registry mirror) and "
        "verify from it; False: ask the node for every verification.",
    )
    mirror_max_lag: float = Field(
        10.0,
        gt=0,
        description="Seconds since the mirror was last seen at the confirmed head beyond which "
        "verification asks the node instead (a change on chain shows in verdicts within this "
        "bound once it has `confirmations` blocks).",
    )
    batch_size: int = Field(10_000, ge=1, le=2**32 - 1, description="Records per batch (max).")
    batch_age: float = Field(2.0, ge=0, description="Seconds before a partial batch is sealed.")
    max_record_bytes: int = Field(1 << 20, ge=1, description="Largest JSON record accepted.")

    # --- retention of sealed documents (personal data; docs/operating.md) ---
    document_retention_days: int | None = Field(
        None,
        ge=0,
        description="Delete a sealed document's contents this many days after its batch was "
        "anchored (block time), keeping digest, batch and receipt; None: keep them.",
    )
    delete_document_after_download: bool = Field(
        False,
        description="Delete a sealed document's contents once the agency has downloaded it "
        "(digest, batch and receipt stay).",
    )

    # --- HTTP API and its anchoring worker (api/, `registry serve`) ---
    api_max_body_bytes: int = Field(
        20 * 1024 * 1024, ge=1024, description="Largest HTTP request body accepted (413 above)."
    )
    api_max_bulk_records: int = Field(
        10_000, ge=1, description="Most records one bulk submission may carry."
    )
    api_wait_timeout: float = Field(
        30.0, ge=0, description="Longest a `wait=true` submission waits for its receipt (s)."
    )
    api_verify_rate: float = Field(
        20.0, ge=0, description="Verify requests per second per client address; 0 = no limit."
    )
    api_verify_burst: int = Field(
        60, ge=1, description="Verify requests a client may send at once before the rate applies."
    )
    api_retry_after: int = Field(
        10, ge=1, description="Retry-After (s) sent with 503 when the chain or store is down."
    )
    api_worker_interval: float = Field(
        0.5, gt=0, description="Seconds between the anchoring worker's passes."
    )
    api_shutdown_grace: float = Field(
        30.0, ge=0, description="Seconds shutdown waits for an anchoring step in flight."
    )
    api_rate: float = Field(
        50.0,
        ge=0,
        description="Requests per second per client on every route but /healthz; 0 = no limit.",
    )
    api_burst: int = Field(
        200, ge=1, description="Requests a client may send at once before `api_rate` applies."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks (e.g. '10.0.0.5', '10.0.0.0/8') of reverse proxies "
        "whose X-Forwarded-For / X-Forwarded-Proto are believed; none by default.",
    )
    api_hsts_max_age: int = Field(
        31_536_000,
        ge=0,
        description="Strict-Transport-Security max-age (s), sent on answers served over HTTPS "
        "(TLS here or X-Forwarded-Proto from a trusted proxy); 0 = no HSTS.",
    )
    http_header_timeout: float = Field(
        10.0, gt=0, description="Seconds a client has to send a request's line and headers."
    )
    http_body_timeout: float = Field(
        30.0, gt=0, description="Seconds a request body may stall between two reads."
    )
    http_keep_alive: float = Field(
        5.0, gt=0, description="Seconds an idle keep-alive connection is kept open."
    )
    http_max_header_bytes: int = Field(
        16 * 1024, ge=1024, description="Largest request line plus headers (431 above)."
    )
    http_max_headers: int = Field(100, ge=8, description="Most header fields in one request.")
    http_max_connections: int = Field(
        4_000,
        ge=16,
        description="Open connections the server accepts; past it, new ones are closed at once.",
    )
    tls_certfile: Path | None = Field(
        None, description="PEM certificate chain: `registry serve` speaks HTTPS itself."
    )
    tls_keyfile: Path | None = Field(None, description="PEM private key of `tls_certfile`.")
    serve_tmp_dir: Path | None = Field(
        None,
        description="Parent of the throw-away directory of `registry serve` on the embedded "
        "chain; default /dev/shm (memory) when present, else the system temp directory.",
    )
    api_idempotency_hours: float = Field(
        24.0,
        gt=0,
        description="Hours an `Idempotency-Key` and its answer are kept (same key, same "
        "request: the same answer; another request: refused).",
    )

    # --- webhooks (`POST /v1/webhooks`; delivered by `registry serve`) ---
    webhook_allow_private: bool = Field(
        False,
        description="Allow webhook URLs whose host is a loopback, private, link-local or "
        "otherwise non-public address (tests, a receiver on the operator's own network).",
    )
    webhook_timeout: float = Field(
        5.0, gt=0, le=60, description="Seconds a webhook receiver has to answer a delivery."
    )
    webhook_interval: float = Field(
        1.0, gt=0, description="Seconds between the webhook worker's looks at its outbox."
    )
    webhook_retry_base: float = Field(
        10.0, gt=0, description="Seconds before the first retry of a failed delivery (doubles)."
    )
    webhook_retry_max: float = Field(
        3600.0, gt=0, description="Longest wait between two attempts of a delivery (s)."
    )
    webhook_max_attempts: int = Field(
        30,
        ge=1,
        le=100,
        description="Attempts of a delivery before it is marked failed (30: about a day).",
    )

    @field_validator("trusted")
    @classmethod
    def _trusted_form(cls, values: list[str]) -> list[str]:
        """'CHAIN_ID:0xADDRESS', or CAIP-10 'eip155:CHAIN_ID:0xADDRESS' (kept as the former)."""
        normal = []
        for value in values:
            given = value.removeprefix("eip155:")
            chain, _, address = given.partition(":")
            if not chain.isdigit() or len(address) != 42 or not address.startswith("0x"):
                raise ValueError(
                    f"{value!r}: expected 'eip155:<chainId>:0xADDRESS' or 'CHAIN_ID:0xADDRESS'"
                )
            normal.append(given)
        return normal

    @field_validator("chain_rpcs")
    @classmethod
    def _chain_rpcs_form(cls, values: list[str]) -> list[str]:
        for value in values:
            chain_rpc(value)
        return values

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies_list(cls, value: Any) -> Any:
        """REGISTRY_TRUSTED_PROXIES may be a JSON list or comma-separated."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_form(cls, values: list[str]) -> list[str]:
        import ipaddress

        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(f"{value!r}: expected an IP address or network") from None
        return values

    @field_validator("rpc")
    @classmethod
    def _rpc_form(cls, value: str) -> str:
        if value != "embedded" and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s):// JSON-RPC URL or 'embedded'")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = config_path()
        if config is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config))
        return tuple(sources)

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"


def config_path() -> Path | None:
    """$REGISTRY_CONFIG, else DATA_DIR/config.toml when it exists (written by `registry init`)."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit)
    default = Path(os.environ.get("REGISTRY_DATA_DIR", str(DEFAULT_DATA_DIR))) / "config.toml"
    return default if default.is_file() else None


def write_config(path: Path, values: dict[str, Any]) -> None:
    """Merge `values` into the TOML config file (created if missing)."""
    import tomllib

    current: dict[str, Any] = {}
    if path.is_file():
        current = tomllib.loads(path.read_text())
    current.update({k: v for k, v in values.items() if v is not None})
    lines = ["# Public Records Registry settings (any REGISTRY_* variable overrides them)"]
    for key, value in sorted(current.items()):
        if isinstance(value, str):
            lines.append(f"{key} = {json.dumps(value)}")
        elif isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            lines.append(f"{key} = {value}")
        elif isinstance(value, list):
            lines.append(f"{key} = {json.dumps(value)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def load_settings(**overrides: Any) -> Settings:
    """Build and validate the settings; a bad value becomes one ConfigError naming the field."""
    config = os.environ.get(CONFIG_ENV)
    if config and not Path(config).is_file():
        raise ConfigError(f"{CONFIG_ENV}={config}: config file not found")
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"setting {where}: {first['msg']}") from exc
    except ValueError as exc:  # a malformed TOML file
        raise ConfigError(f"config file {config}: {exc}") from exc
