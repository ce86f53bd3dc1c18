"""Settings read once from the environment, typed, failing fast with one clear line."""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from dataclasses import dataclass, field

# AgentOS's own default allow-list (agno/os/settings.py); AGNO_CORS_ORIGINS extends it.
DEFAULT_CORS_ORIGINS = (
    "http://localhost:3000",
    "https://agno.com",
    "https://www.agno.com",
    "https://app.agno.com",
    "https://os-stg.agno.com",
    "https://os.agno.com",
)


class ConfigError(Exception):
    """A missing or malformed setting; the message names the variable."""


@dataclass(frozen=True)
class DatabaseConfig:
    db_id: str
    url: str
    schema: str = "ai"
    session_table: str = "agno_sessions"
    runs_table: str = "agno_runs"
    # "auto" (detected at first use), "agno2" (legacy layout) or "agno3" (AGNO_DB_LAYOUT).
    generation: str = "auto"
    # The embedded SQLite database used when nothing is configured: its directory and tables are
    # created at start-up.
    embedded: bool = False

    @property
    def dialect(self) -> str:
        return "sqlite" if self.url.startswith("sqlite") else "postgresql"


@dataclass
class Settings:
    databases: dict[str, DatabaseConfig] = field(default_factory=dict)
    default_db_id: str | None = None
    # Only an explicit AGNO_DEFAULT_DB_ID routes id-less requests when several databases are
    # configured; otherwise they get AgentOS's 400 (contract §1.8).
    default_db_explicit: bool = False
    security_key: str | None = None
    cors_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS
    port: int = 8080
    pool_size: int = 5
    pool_timeout: float = 10.0
    statement_timeout_ms: int = 30000
    max_body_bytes: int = 16 * 1024 * 1024
    layout_recheck_seconds: float = 60.0
    # Reverse proxies in front of the service whose X-Forwarded-* headers are believed (ProxyFix).
    # 0 trusts none: a client cannot forge its address with X-Forwarded-For.
    trusted_proxies: int = 0


LAYOUT_CHOICES = ("auto", "agno2", "agno3")


def parse_layouts(raw: str | None, db_ids) -> dict[str, str]:
    """`AGNO_DB_LAYOUT`: one value for every database (`agno2`), or `db_id=value` pairs separated
    by commas (`main=agno2,archive=auto`). Values: auto, agno2, agno3."""
    raw = (raw or "").strip()
    if not raw:
        return {}
    if "=" not in raw:
        value = raw.lower()
        if value not in LAYOUT_CHOICES:
            raise ConfigError(f"AGNO_DB_LAYOUT: expected one of {', '.join(LAYOUT_CHOICES)}, got {raw!r}")
        return {db_id: value for db_id in db_ids}
    out = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        db_id, sep, value = item.partition("=")
        db_id, value = db_id.strip(), value.strip().lower()
        if not sep or not db_id:
            raise ConfigError(f"AGNO_DB_LAYOUT: expected db_id=layout pairs, got {item.strip()!r}")
        if db_id not in db_ids:
            raise ConfigError(f"AGNO_DB_LAYOUT: {db_id!r} is not a configured db_id")
        if value not in LAYOUT_CHOICES:
            raise ConfigError(f"AGNO_DB_LAYOUT[{db_id!r}]: expected one of {', '.join(LAYOUT_CHOICES)}, got {value!r}")
        out[db_id] = value
    return out


# The async drivers' URLs Google ADK is configured with (`--session_service_uri`) name the same
# databases: they are opened with psycopg 3 and pysqlite here.
_ASYNC_PREFIXES = {"postgresql+asyncpg://": "postgresql+psycopg://",
                   "postgresql+psycopg_async://": "postgresql+psycopg://",
                   "sqlite+aiosqlite:///": "sqlite:///"}


def sqlalchemy_url(dsn: str) -> str:
    """Turn a libpq-style URL (or an ADK async-driver URL) into the SQLAlchemy URL for psycopg 3."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if dsn.startswith(prefix):
            return "postgresql+psycopg://" + dsn[len(prefix):]
    for prefix, replacement in _ASYNC_PREFIXES.items():
        if dsn.startswith(prefix):
            return replacement + dsn[len(prefix):]
    return dsn


SQLITE_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")
DEFAULT_SQLITE_PATH = "./data/agno.db"


def agno_db_id(url: str, schema: str) -> str:
    """The id AgentOS gives a database built without `id=` (contract §1.8).

    `PostgresDb(db_url=url)`: uuid5 of `url#schema`. `SqliteDb(db_url=url)`: uuid5 of the URL
    alone, as given (agno 3.1.10 seeds it with `db_url or db_file`; a `SqliteDb(db_file=…)`
    therefore has the uuid5 of the file path, which AGNO_DEFAULT_DB_ID or the map can name).
    """
    seed = url if url.startswith("sqlite") else f"{url}#{schema}"
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, seed))


def sqlite_path(url: str) -> str:
    """The file of a `sqlite:///relative` or `sqlite:////absolute` URL."""
    for prefix in SQLITE_PREFIXES:
        if url.startswith(prefix):
            return url[len(prefix):].split("?", 1)[0]
    raise ValueError(url)


def _validate_url(var: str, url: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"{var}: expected a non-empty database URL")
    url = sqlalchemy_url(url.strip())
    if url.startswith("sqlite"):
        # A file database only: an in-memory one would be private to each pooled connection.
        if not url.startswith(SQLITE_PREFIXES) or sqlite_path(url) in ("", ":memory:"):
            raise ConfigError(f"{var}: expected a SQLite file URL (sqlite:///relative.db or"
                              f" sqlite:////absolute/path.db), got {url!r}")
        return url
    if not url.startswith("postgresql+psycopg://"):
        raise ConfigError(f"{var}: unsupported database URL scheme in {url.split(':', 1)[0]!r}"
                          " (expected postgresql:// or sqlite:///)")
    return url


def _int(env, name, default, minimum=0):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name}: must be >= {minimum}, got {value}")
    return value


def load_settings(env=None) -> Settings:
    """Build the settings from environment variables (os.environ by default)."""
    env = os.environ if env is None else env
    schema = env.get("AGNO_DB_SCHEMA") or "ai"
    if not schema.replace("_", "").isalnum():
        raise ConfigError(f"AGNO_DB_SCHEMA: not a plain identifier: {schema!r}")

    databases: dict[str, DatabaseConfig] = {}
    raw_map = env.get("AGNO_SESSION_DSN_MAP")
    if raw_map:
        try:
            mapping = json.loads(raw_map)
        except ValueError as exc:
            raise ConfigError(f"AGNO_SESSION_DSN_MAP: not valid JSON ({exc})") from None
        if not isinstance(mapping, dict) or not mapping:
            raise ConfigError('AGNO_SESSION_DSN_MAP: expected a non-empty JSON object {"db_id": "dsn"}')
        for db_id, dsn in mapping.items():
            if not db_id:
                raise ConfigError("AGNO_SESSION_DSN_MAP: empty db_id key")
            databases[db_id] = DatabaseConfig(db_id, _validate_url(f"AGNO_SESSION_DSN_MAP[{db_id!r}]", dsn), schema)
    else:
        var = "AGNO_PG_DSN" if env.get("AGNO_PG_DSN") else "DATABASE_URL" if env.get("DATABASE_URL") else None
        if var:
            url = _validate_url(var, env[var])
            db_id = env.get("AGNO_DEFAULT_DB_ID") or agno_db_id(url, schema)
            databases[db_id] = DatabaseConfig(db_id, url, schema)
        else:
            # Nothing configured: an embedded SQLite file, so the service runs on a bare machine.
            path = env.get("AGNO_SQLITE_PATH") or DEFAULT_SQLITE_PATH
            url = _validate_url("AGNO_SQLITE_PATH", f"sqlite:///{path}")
            db_id = env.get("AGNO_DEFAULT_DB_ID") or agno_db_id(url, schema)
            databases[db_id] = DatabaseConfig(db_id, url, schema, embedded=True)

    for db_id, generation in parse_layouts(env.get("AGNO_DB_LAYOUT"), list(databases)).items():
        databases[db_id] = dataclasses.replace(databases[db_id], generation=generation)

    default_db_id = env.get("AGNO_DEFAULT_DB_ID") or (next(iter(databases)) if databases else None)
    if databases and default_db_id not in databases:
        raise ConfigError(f"AGNO_DEFAULT_DB_ID: {default_db_id!r} is not a configured db_id")

    extra = tuple(o.strip() for o in (env.get("AGNO_CORS_ORIGINS") or "").split(",") if o.strip())
    return Settings(
        databases=databases,
        default_db_id=default_db_id,
        default_db_explicit=bool(env.get("AGNO_DEFAULT_DB_ID")),
        security_key=env.get("OS_SECURITY_KEY") or None,
        cors_origins=DEFAULT_CORS_ORIGINS + tuple(o for o in extra if o not in DEFAULT_CORS_ORIGINS),
        port=_int(env, "AGNO_SERVICE_PORT", 8080, minimum=1),
        pool_size=_int(env, "AGNO_DB_POOL_SIZE", 5, minimum=1),
        pool_timeout=float(_int(env, "AGNO_DB_POOL_TIMEOUT", 10, minimum=1)),
        statement_timeout_ms=_int(env, "AGNO_STATEMENT_TIMEOUT_MS", 30000),
        max_body_bytes=_int(env, "AGNO_MAX_BODY_BYTES", 16 * 1024 * 1024, minimum=1),
        layout_recheck_seconds=float(_int(env, "AGNO_LAYOUT_RECHECK_SECONDS", 60)),
        trusted_proxies=_int(env, "AGNO_TRUSTED_PROXIES", 0),
    )
