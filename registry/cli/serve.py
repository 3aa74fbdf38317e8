"""`registry serve` (the HTTP API and web page, with the anchoring worker), `registry worker`
(the anchoring worker alone) and `registry token ...` (API tokens for agencies and the
registry authority)."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from registry.cli.common import (
    PASSPHRASE_ENV,
    JsonOpt,
    console,
    err_console,
    passphrase_for,
    print_json,
)
from registry.errors import InvalidInput
from registry.service.agencies import find_agency
from registry.service.tokens import (
    issue_api_token,
    list_api_tokens,
    revoke_api_token,
    token_store,
)
from registry.settings import Settings, load_settings

EMBEDDED_WARNING = (
    "[bold yellow]Embedded chain:[/bold yellow] the chain lives in this process's memory. "
    "Every anchor VANISHES when the server stops, so the store is a temporary one "
    "({store}) and is deleted on exit: nothing issued here can be verified later. "
    "For a registry that persists, run `registry node`, `registry init`, `registry deploy`, "
    "then `registry serve`."
)

WORKER_HEALTHCHECK_S = 60


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="API processes sharing the port and the store (uvicorn's own supervisor "
            "restarts one that dies). Each runs an anchoring worker, but only the holder of an "
            "agency account's lease anchors for it. Not with the embedded chain. There is no "
            "--reload.",
        ),
    ] = 1,
) -> None:
    """Run the HTTP API and the verification page, with the anchoring worker in the background.

    With a configured node and registry (`registry init`, `registry deploy`) it serves that
    registry and its store, persistently; the keystore passphrase comes from
    REGISTRY_KEYSTORE_PASSPHRASE (or is asked for). With nothing configured it runs on an
    embedded in-memory chain with a temporary store and a demo agency, and says so: those
    anchors vanish on exit. Stop with Ctrl-C: the batch in flight finishes; the rest resumes
    at the next start.

    With --workers N, N processes answer on one port and one store (SQLite in WAL mode, or
    PostgreSQL), each built from the same settings; one anchors per agency account (a lease
    the others take over if it dies). docs/operating.md, "Several server processes".

    Example: registry serve --port 8000 --workers 2
    """
    import uvicorn

    from api.server import uvicorn_options

    settings = load_settings()
    config = {"host": host, "port": port, "log_level": log_level, **uvicorn_options(settings)}
    scheme = "https" if settings.tls_certfile else "http"
    if settings.rpc == "embedded":
        if workers > 1:
            raise InvalidInput(
                "the embedded chain lives inside one process: --workers needs a node "
                "(`registry node`, `registry init`, `registry deploy`)",
                field="--workers",
            )
        _serve_embedded(settings, config)
        return
    if workers > 1:
        _serve_processes(settings, config, workers=workers, scheme=scheme)
        return
    from api.app import create_app
    from registry.service.operator import Operator

    operator = Operator.open(settings)
    try:
        passphrase = os.environ.get(PASSPHRASE_ENV)
        if passphrase is None and sys.stdin.isatty():
            passphrase = str(typer.prompt("Keystore passphrase", hide_input=True))
        if passphrase is None:
            err_console.print(
                f"no {PASSPHRASE_ENV}: serving verification and reads only (no issuing)"
            )
        app = create_app(operator=operator, passphrase=passphrase)
        console.print(
            f"Serving registry {operator.registry.address} on chain {operator.registry.chain_id} "
            f"({settings.rpc}), store {operator.store.url}, at {scheme}://{host}:{port}/"
        )
        uvicorn.run(app, timeout_graceful_shutdown=int(settings.api_wait_timeout) + 5, **config)  # type: ignore[arg-type]
    finally:
        operator.close()


def _serve_processes(
    settings: Settings, config: dict[str, object], *, workers: int, scheme: str
) -> None:
    """`workers` uvicorn processes, each building the app from the settings (the app factory,
    `api.app:create_app`); this process opens the registry once first (it migrates the store
    and fails early on a bad configuration), then only supervises."""
    import uvicorn

    from registry.service.operator import Operator

    operator = Operator.open(settings)
    try:
        banner = (
            f"Serving registry {operator.registry.address} on chain {operator.registry.chain_id} "
            f"({settings.rpc}), store {operator.store.url}, at {scheme}://{config['host']}:"
            f"{config['port']}/ with {workers} processes"
        )
    finally:
        operator.close()
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase is None and sys.stdin.isatty():
        # The worker processes read it where create_app looks: their inherited environment.
        os.environ[PASSPHRASE_ENV] = str(typer.prompt("Keystore passphrase", hide_input=True))
    elif passphrase is None:
        err_console.print(f"no {PASSPHRASE_ENV}: serving verification and reads only (no issuing)")
    console.print(banner)
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        workers=workers,
        # uvicorn replaces a worker that has not answered its supervisor's ping in this many
        # seconds; its default (5) kills workers still importing the app on a busy machine.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        timeout_graceful_shutdown=int(settings.api_wait_timeout) + 5,
        **config,  # type: ignore[arg-type]
    )


def worker() -> None:
    """Run the anchoring worker alone, without the API: the one `registry serve` runs. For
    every active agency whose keys are in the data directory it seals pending records into
    batches (batch_size, batch_age) and anchors them, resuming unfinished batches first; for
    operators who submit records from their own systems or another server and anchor here.
    The keystore passphrase comes from REGISTRY_KEYSTORE_PASSPHRASE (or is asked for).
    SIGTERM or Ctrl-C stops it cleanly: the batch in flight finishes, the rest resumes at the
    next start (exit 0).

    Example: registry worker
    """
    from registry.service.anchoring import run_anchoring
    from registry.service.operator import Operator

    settings = load_settings()
    if settings.rpc == "embedded":
        raise InvalidInput(
            "the embedded chain lives only inside one process; configure a node "
            "(`registry node`, `registry init`, `registry deploy`) or run `registry serve`"
        )
    operator = Operator.open(settings)
    try:
        passphrase = passphrase_for(operator.keys_dir)
        anchored = run_anchoring(
            operator,
            passphrase=passphrase,
            on_started=lambda: console.print(
                f"Anchoring for registry {operator.registry.address} on chain "
                f"{operator.registry.chain_id} ({settings.rpc}), store {operator.store.url}; "
                "Ctrl-C to stop"
            ),
        )
    finally:
        operator.close()
    console.print(f"anchoring worker stopped ({anchored} batches anchored)")


def _serve_embedded(settings: Settings, config: dict[str, object]) -> None:
    """The throw-away registry: in-memory chain, temporary store and keys, deleted on exit."""
    import uvicorn

    from api.app import create_app
    from registry.service.embedded import open_embedded

    if settings.database_url:
        raise InvalidInput(
            "the embedded chain vanishes on exit, so REGISTRY_DATABASE_URL would keep records "
            "whose anchors no longer exist: unset it, or run a node (`registry node`) and set "
            "REGISTRY_RPC"
        )
    scheme = "https" if settings.tls_certfile else "http"
    parent = serve_tmp_parent(settings)
    remove_stale_serve_dirs(parent)
    data_dir = Path(tempfile.mkdtemp(prefix=f"{SERVE_DIR_PREFIX}{os.getpid()}-", dir=parent))
    operator = None
    watchdog = _watch_over(data_dir)
    try:
        passphrase = secrets.token_urlsafe(24)  # keys live and die with the temporary directory
        operator, admin = open_embedded(settings, data_dir=data_dir, passphrase=passphrase)
        app = create_app(operator=operator, passphrase=passphrase)
        runtime = app.state.registry
        runtime.keyring.put_admin(admin)
        agency, issuer = operator.create_agency(
            "Demo Agency", passphrase=passphrase, admin=admin, fund_from_dev=True
        )
        runtime.keyring.put(agency.id, issuer)
        _, admin_token = issue_api_token(operator.store, agency_id=None, label="serve: admin")
        _, agency_token = issue_api_token(operator.store, agency_id=agency.id, label="serve: demo")
        console.print(EMBEDDED_WARNING.format(store=data_dir))
        console.print(
            f"Registry {operator.registry.address} on the embedded chain "
            f"{operator.registry.chain_id}; page and API at {scheme}://{config['host']}:"
            f"{config['port']}/ (OpenAPI at /docs)"
        )
        console.print(f"admin token:             {admin_token}")
        console.print(f"'Demo Agency' token:     {agency_token}")
        uvicorn.run(app, **config)  # type: ignore[arg-type]
    finally:
        if operator is not None:
            operator.close()
        shutil.rmtree(data_dir, ignore_errors=True)
        if watchdog.stdin is not None:
            watchdog.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            watchdog.wait(timeout=5)
        console.print(f"embedded registry discarded ({data_dir} deleted)")


# The embedded registry's directory holds a store and key files (encrypted under a passphrase
# that lives only in this process's memory). It must not outlive the process, even one that is
# SIGKILLed or dies of a segfault, where no `finally` runs. Three layers:
# 1. it lives on /dev/shm (memory) when there is one, so it never reaches a disk;
# 2. a watchdog process holds the read end of a pipe from this one: at EOF (this process is
#    gone, however it ended) it deletes the directory;
# 3. the next `registry serve` deletes directories whose process no longer runs (a watchdog
#    killed too, a reboot with a disk-backed temp directory).
SERVE_DIR_PREFIX = "registry-serve-"
_SERVE_DIR = re.compile(re.escape(SERVE_DIR_PREFIX) + r"(\d+)-")
_WATCHDOG = """\
import shutil, signal, sys
for name in ("SIGINT", "SIGHUP", "SIGTERM"):
    signal.signal(getattr(signal, name), signal.SIG_IGN)
sys.stdin.buffer.read()
shutil.rmtree(sys.argv[1], ignore_errors=True)
"""


def serve_tmp_parent(settings: Settings) -> Path:
    """Where embedded registries live: `serve_tmp_dir`, else /dev/shm, else the temp dir."""
    if settings.serve_tmp_dir is not None:
        settings.serve_tmp_dir.mkdir(parents=True, exist_ok=True)
        return settings.serve_tmp_dir
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return Path(tempfile.gettempdir())


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_serve_dirs(parent: Path) -> list[Path]:
    """Delete this user's embedded-registry directories under `parent` whose server is gone."""
    removed = []
    with contextlib.suppress(OSError):
        for path in parent.iterdir():
            match = _SERVE_DIR.match(path.name)
            if match is None or not path.is_dir() or path.is_symlink():
                continue
            if path.stat().st_uid != os.getuid() or _process_alive(int(match.group(1))):
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _watch_over(data_dir: Path) -> subprocess.Popen[bytes]:
    """Start the watchdog that deletes `data_dir` once this process has exited (pipe EOF). In
    a session of its own, so Ctrl-C or a closed terminal does not end it first."""
    return subprocess.Popen(
        [sys.executable, "-I", "-c", _WATCHDOG, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


# ------------------------------------------------------------------ tokens

token_app = typer.Typer(
    help="API tokens (shown once; only their hash is stored). "
    "Example: registry token create --agency 'Civil Registry Office'",
    no_args_is_help=True,
)


@token_app.command("create")
def token_create(
    admin: Annotated[
        bool, typer.Option("--admin", help="A token for the registry authority (admin API).")
    ] = False,
    agency: Annotated[
        str | None, typer.Option("--agency", help="A token for this agency (name or address).")
    ] = None,
    label: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create an API token and print it once (the store keeps only its SHA-256).

    Example: registry token create --agency "Civil Registry Office" --label "issuing system"
    """
    if admin == (agency is not None):
        raise InvalidInput("pass exactly one of --admin or --agency NAME")
    with token_store(load_settings()) as store:
        agency_id, who = (None, "the registry authority (admin)")
        if agency is not None:
            found = find_agency(store, agency)
            agency_id, who = found.id, f"agency {found.name!r}"
        token_id, token = issue_api_token(
            store, agency_id=agency_id, label=label or ("admin" if admin else who)
        )
    err_console.print(f"token #{token_id} for {who}; it is shown only this once:")
    if not json_out:  # with --json the token is in the JSON document
        typer.echo(token)
    if json_out:
        print_json({"id": token_id, "token": token, "scope": "admin" if admin else "agency"})


@token_app.command("list")
def token_list(json_out: JsonOpt = False) -> None:
    """List tokens: id, scope, agency, label, dates (never the tokens themselves).

    Example: registry token list
    """
    with token_store(load_settings()) as store:
        rows = [
            {
                "id": t.id,
                "scope": t.scope,
                "agency": t.agency_name,
                "label": t.label,
                "createdAt": t.created_at.isoformat(),
                "revokedAt": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            for t in list_api_tokens(store)
        ]
    for row in rows:
        state = "revoked" if row["revokedAt"] else "live"
        console.print(
            f"#{row['id']:<4} {row['scope']:<6} {state:<7} {row['agency'] or '-'}: {row['label']}"
        )
    if json_out:
        print_json({"tokens": rows})


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (from `registry token list`).")],
) -> None:
    """Revoke a token: it stops working at once.

    Example: registry token revoke 3
    """
    with token_store(load_settings()) as store:
        # On the server, even the last admin token may go (`token create --admin` undoes it).
        revoke_api_token(store, token_id, keep_last_admin=False)
    console.print(f"token #{token_id} revoked")


__all__ = ["serve", "token_app", "worker"]
