"""Settings of the hub: one typed object, read from the environment (prefix ``BILIM_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """The user's data folder for the hub: embedded database, signing keys, browser assets."""
    return Path(platformdirs.user_data_dir("bilim-hub", appauthor=False))


class Settings(BaseSettings):
    """Everything the hub reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="BILIM_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="postgresql:// URL; without it the hub starts an embedded PostgreSQL.",
    )
    read_database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("BILIM_READ_DATABASE_URL", "READ_DATABASE_URL"),
        description="postgresql:// URL of a read replica; query operations run there.",
    )
    # The database URLs lead to PgBouncer in transaction mode: no prepared statements kept
    # between transactions and no statement timeout in the connection's startup parameters.
    pgbouncer: bool = False
    data_dir: Path = Field(default_factory=default_data_dir)
    environment: Literal["development", "production", "test"] = "development"
    # The hub serves demo data: GraphiQL offers demo tokens (/demo/tokens) outside production,
    # as it always does in development (schema/http/graphiql.py). Never in production.
    demo: bool = False
    # `bilim serve` fetches GraphiQL's browser files from the npm registry when they are missing.
    fetch_assets: bool = True

    jwt_issuer: str = "bilim-hub"
    jwt_audience: str = "bilim-hub-api"
    # Extra HS256 keys as "kid:secret,kid:secret"; the data folder's keys are always accepted.
    jwt_keys: str = ""
    token_ttl_minutes: int = 60 * 8
    # The longest a token may live (exp - iat, and exp - now): a longer one is refused.
    token_max_lifetime_minutes: int = 60 * 24

    pool_size: int = 8
    pool_max_overflow: int = 4
    # How long a request waits for a pooled connection (request, bookkeeping and replica
    # pools) before it is answered 503 with Retry-After. A burst queues on the pools: 1,000
    # teachers marking at once on two workers wait up to tens of seconds (performance.md), so
    # this is the front proxy's request timeout (nginx's proxy_read_timeout: 60 s), not less.
    pool_timeout_seconds: float = Field(default=60.0, gt=0)
    statement_timeout_ms: int = 15_000
    # A mutation that loses a race (deadlock, serialization failure) runs again, up to this
    # many times in all, before it answers CONFLICT.
    mutation_attempts: int = Field(default=3, ge=1, le=10)

    # Logs on stdout (resolvers/telemetry/logs.py): JSON lines, a short human form, or auto
    # (human when stdout is a terminal); the level of the hub's and uvicorn's loggers.
    log_format: Literal["auto", "json", "human"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = None

    # --- browsers on other origins (CORS; docs/operating.md "Portals on other origins") ---
    # Origins allowed to call /graphql from a browser, comma-separated ("*" for any). None:
    # the dev servers' origins (DEV_ORIGINS) in development, no origin in test or production.
    cors_origins: str | None = None
    # How long a browser may keep a preflight's answer (Chromium keeps it 2 hours at most).
    cors_max_age_seconds: int = Field(default=600, ge=0, le=86_400)

    # /metrics (Prometheus): None serves it outside production only; true or false decide.
    serve_metrics: bool | None = None
    # A request body must keep arriving: 408 after this many seconds without a byte of it, or
    # when the whole body takes longer than body_timeout_seconds (an upload included).
    body_idle_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 120.0

    # Hot read queries answered by one SQL statement that builds their JSON (schema/compiled/).
    compiled_queries: bool = True

    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 4_000
    # Fields of one operation with its fragments expanded, and the most selections of one
    # response name in one selection set (graphql compares those pairwise): resolvers/shape.py.
    max_fields: int = 1_000
    max_repeated_fields: int = 10
    max_page_size: int = 100

    # --- API safety (docs/security.md) ---
    # Secret mixed into API-key hashes; without it a file in the data folder holds one.
    api_key_pepper: str = ""
    # off: the persisted-query extension is refused; apq: automatic persisted queries;
    # allowlist: apq, and portal clients (no token, guardians, pupils) may send only the
    # operations of portals/**/*.graphql.
    persisted_queries: Literal["off", "apq", "allowlist"] = "apq"
    # The longest document a client may persist (the portals' longest is under 1 kB).
    persisted_query_max_bytes: int = 20_000
    # Where the portals' operations live (default: the repository's portals/).
    portals_dir: Path | None = None
    # GitHub's node limit: the most objects one request may ask for.
    max_nodes: int = 20_000
    # Hourly budgets in points (GitHub's scoring: one point per 100 connection fetches, at
    # least one per request; mutations cost more). Anonymous callers share one per address.
    points_per_hour: int = 5_000
    anonymous_points_per_hour: int = 10_000
    # Proxies whose X-Forwarded-For names the caller (uvicorn's forwarded_allow_ips: addresses,
    # networks such as 10.0.0.0/8, or "*", comma-separated). Empty: none; the caller is the
    # connection's peer, and a client's own X-Forwarded-For is ignored.
    trusted_proxies: str = ""
    # --- files (lesson media, library books, homework): docs/operating.md "Files" ---
    # local: a folder (file_store_dir, default <data dir>/files); s3: an S3-compatible bucket.
    file_store: Literal["local", "s3"] = "local"
    file_store_dir: Path | None = None
    s3_endpoint: str | None = None  # host[:port], e.g. minio.edu.kg:9000
    s3_bucket: str | None = None
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_region: str = ""
    s3_secure: bool = True
    # How long a download link the graph hands out stays valid.
    file_link_ttl_seconds: int = 3600

    # --- events leaving the hub (docs/domains/events.md) ---
    # The outbox dispatcher runs in every hub worker (None: yes, except under the tests,
    # which start it themselves); `bilim events run` runs it alone.
    event_dispatcher: bool | None = None
    # A direct server URL for LISTEN when DATABASE_URL leads to PgBouncer (transaction mode
    # cannot carry LISTEN): without it the dispatcher polls.
    events_listen_url: str | None = None
    events_poll_seconds: float = 1.0
    events_batch: int = 500
    events_lease_seconds: float = 30.0
    # After a wake-up, how long a durable consumer lets further events gather before its round
    # (resolvers/events/dispatcher.py): under a burst one read and acknowledgement serve many
    # events; a notice or webhook leaves that much later.
    events_gather_seconds: float = Field(default=0.05, ge=0, le=5)
    # While events keep coming, a consumer's rounds begin at most this often (each then serves
    # every event committed since the last): a busy worker spends its CPU on requests rather
    # than on a round per gather; a notice or webhook leaves up to that much later.
    events_busy_gather_seconds: float = Field(default=0.2, ge=0, le=5)
    # Delivered events are kept this long (the change feed resumes within it), then pruned.
    events_retention_days: int = 30
    # Webhook URLs may lead to loopback and private addresses (tests and development only).
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = 15.0
    webhook_concurrency: int = 64
    # At most this many deliveries at once to one endpoint (a partner's receiver is not
    # flooded by a backlog), and this many claims of due deliveries sent at once per process.
    webhook_concurrency_per_endpoint: int = 16
    webhook_claims_in_flight: int = 3
    webhook_endpoints_per_key: int = 20
    # Notices to families: e-mail through "file" (one .eml per message in <data dir>/mail/)
    # or "smtp"; SMS through an HTTP gateway when sms_gateway_url is set.
    notice_email: Literal["file", "smtp"] = "file"
    notice_from: str = "Bilim Hub <noreply@bilim.edu.kg>"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    sms_gateway_url: str | None = None
    sms_gateway_token: str = ""
    sms_sender: str = "BilimHub"
    # GraphQL subscriptions (graphql-transport-ws on /graphql), per worker.
    ws_connections_per_principal: int = 5
    ws_subscriptions_per_connection: int = 20
    ws_idle_seconds: float = 300.0

    # Connections for the hub's bookkeeping (budgets, keys, persisted queries), apart from the
    # request pool so that bookkeeping commits even when the request rolls back.
    bookkeeping_pool_size: int = 4


def metrics_served(settings: Settings) -> bool:
    """Is /metrics served? By default outside production only (it tells who calls how much)."""
    if settings.serve_metrics is not None:
        return settings.serve_metrics
    return settings.environment != "production"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
