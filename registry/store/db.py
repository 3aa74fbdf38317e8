"""Opening the store: engine set-up for SQLite or PostgreSQL, schema migrations, sessions.

SQLite is the default (a file in the data directory) and runs in WAL mode with foreign keys on
and a busy timeout. SQLAlchemy, not the `sqlite3` driver, emits BEGIN, so a SELECT is inside
the transaction it belongs to (the driver's legacy mode would run it outside one) and a writer
can ask for `BEGIN IMMEDIATE` to take the write lock up front.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from registry.errors import ConfigError, StoreError, StoreUnavailable
from registry.store.errors import PG_START_HINT

if TYPE_CHECKING:  # Alembic is imported when migrating: a process that opens no store skips it
    from alembic.config import Config

__all__ = [
    "MIGRATIONS_DIR",
    "SQLITE_BEGIN",
    "Store",
    "alembic_config",
    "begin_write",
    "downgrade",
    "is_outage",
    "open_store",
    "outage_message",
    "outage_of",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BEGIN = "registry_sqlite_begin"
"""Execution option naming the SQLite BEGIN mode of a connection: DEFERRED or IMMEDIATE."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 5
# Key of the PostgreSQL advisory lock that serialises migrations of concurrent openers.
_MIGRATION_LOCK = 0x5245_4749_5354_5259  # "REGISTRY"


class Store:
    """An open store: an engine whose schema is at the latest migration, and its sessions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._on_close: list[Callable[[], None]] = []

    def on_close(self, close: Callable[[], None]) -> None:
        """Call `close` when the store closes (connections opened outside the pool)."""
        self._on_close.append(close)

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back if it raises.

        Objects stay readable after the block (no expiry on commit). `write=True` takes
        SQLite's write lock when the transaction starts (BEGIN IMMEDIATE): use it for a
        transaction that reads and then writes (count pending, then claim), which another
        writer could otherwise invalidate ("database is locked"). No effect on PostgreSQL.

        A database that stops answering mid-block (server restarted, connection cut, SQLite
        locked past its busy timeout) raises StoreUnavailable: callers see one outage error,
        whatever the driver said. The pool drops the dead connection (and pings before
        reuse on PostgreSQL), so the next session works once the database is back.
        """
        with self._sessions() as session:
            try:
                if write:
                    begin_write(session)
                yield session
                session.commit()
            except BaseException as exc:
                # A connection that is gone has nothing to roll back on the server.
                with suppress(DBAPIError):
                    session.rollback()
                if isinstance(exc, DBAPIError) and is_outage(exc):
                    raise StoreUnavailable(outage_message(exc)) from exc
                raise

    def ping(self) -> None:
        """One round trip to the database (liveness); StoreUnavailable when it is down."""
        with self.session() as session:
            session.execute(text("SELECT 1"))

    def close(self) -> None:
        """Close every connection: those opened outside the pool, then the pool's."""
        closers, self._on_close = self._on_close, []
        for close in closers:
            close()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_outage(exc: DBAPIError) -> bool:
    """Whether a driver error means the database could not be reached or stopped answering
    (as opposed to a statement it refused: a constraint, a type, a bug of ours)."""
    return isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated


def outage_of(exc: BaseException) -> StoreUnavailable | None:
    """The StoreUnavailable a driver error raised outside `Store.session()` stands for (a
    connection lost while a lazy attribute loaded, say), or None when `exc` is no outage."""
    if isinstance(exc, DBAPIError) and is_outage(exc):
        return StoreUnavailable(outage_message(exc))
    return None


def outage_message(exc: DBAPIError) -> str:
    """One line for the server's log: the driver's reason, without SQLAlchemy's boilerplate."""
    reason = " ".join(str(exc.orig).split()) if exc.orig is not None else type(exc).__name__
    return f"the store stopped answering: {reason}"


def begin_write(session: Session) -> None:
    """On SQLite, start the session's transaction with BEGIN IMMEDIATE (take the write lock now).

    A deferred transaction that reads first and writes later can fail with "database is
    locked" if another writer commits in between; taking the lock up front makes the writer
    wait (busy_timeout) instead. PostgreSQL needs nothing here: it locks rows.
    """
    if session.get_bind().dialect.name == "sqlite" and not session.in_transaction():
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})


def open_store(url: str | None, *, data_dir: Path, migrate: bool = True) -> Store:
    """Open (and migrate to the latest schema) the store at `url`, default SQLite in `data_dir`.

    Accepts `sqlite:///path` and `postgresql://` / `postgresql+psycopg://` URLs. A database
    that cannot be reached raises StoreUnavailable with a one-line hint on what to do.
    """
    if url is None:
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create data directory {data_dir}: {exc}") from exc
        parsed = URL.create("sqlite", database=str(data_dir / "registry.db"))
    else:
        parsed = _parse_url(url)
    engine = _sqlite_engine(parsed) if parsed.get_backend_name() == "sqlite" else _pg_engine(parsed)
    try:
        _check_connection(engine)
        if migrate:
            upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine)


def _parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"database URL {url!r} is not a valid SQLAlchemy URL") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ConfigError("database URL: an in-memory SQLite store would lose every record")
        return parsed
    raise ConfigError(
        f"database URL {parsed.render_as_string(hide_password=True)!r}: "
        "only sqlite:/// and postgresql:// are supported"
    )


def _sqlite_engine(url: URL) -> Engine:
    if url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: object) -> None:
    # Let SQLAlchemy emit BEGIN itself (see the module docstring).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # Wait for a lock rather than fail at once; first, as switching to WAL may wait too.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous=FULL")  # a committed record survives power loss
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
    if mode not in ("DEFERRED", "IMMEDIATE"):
        raise StoreError(f"unknown SQLite BEGIN mode {mode!r}")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _pg_engine(url: URL) -> Engine:
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def _check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as exc:
        raise StoreUnavailable(unavailable_message(engine.url, exc)) from exc


def unavailable_message(url: URL, exc: DBAPIError) -> str:
    where = url.render_as_string(hide_password=True)
    reason = " ".join(str(exc.orig).split()) if exc.orig is not None else str(exc)
    if url.get_backend_name() == "sqlite":
        return f"cannot open SQLite store {where}: {reason}; check the path and its permissions"
    if "does not exist" in reason and "database" in reason:
        hint = f"create it (createdb -h {url.host} -U {url.username} {url.database}) or fix the URL"
    elif "authentication" in reason or "password" in reason:
        hint = "fix the user or password in the database URL (REGISTRY_DATABASE_URL)"
    else:
        hint = f"start PostgreSQL ({PG_START_HINT}) or fix the database URL (REGISTRY_DATABASE_URL)"
    return f"cannot connect to PostgreSQL at {where}: {reason}; {hint}"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config for the store's migrations, built in code (no alembic.ini needed).

    `url` is only used by Alembic commands run without a connection, such as `revision
    --autogenerate` from a developer's shell.
    """
    from alembic.config import Config

    config = Config()
    # ConfigParser treats % as interpolation; a path may contain one.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the schema to `revision` in one transaction, one opener at a time."""
    from alembic import command

    _run_migrations(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the schema down to `revision` ('base' drops every table)."""
    from alembic import command

    _run_migrations(engine, lambda config: command.downgrade(config, revision))


def _run_migrations(engine: Engine, run: Callable[[Config], None]) -> None:
    from alembic.util.exc import CommandError

    config = alembic_config()
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection = connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        try:
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                    )
                config.attributes["connection"] = connection
                run(config)
        except CommandError as exc:
            raise StoreError(
                f"cannot migrate the store schema: {exc} "
                "(is the database from a newer version of the registry?)"
            ) from exc
        except OperationalError as exc:
            raise StoreUnavailable(unavailable_message(engine.url, exc)) from exc
