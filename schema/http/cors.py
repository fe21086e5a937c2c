"""Browsers on other origins (CORS): a portal served from its own origin calls ``/graphql``
with a bearer token, so the browser asks first (a preflight) and the hub answers for the
origins its settings allow. Starlette's CORSMiddleware does the protocol; this module says
what the hub allows."""

from __future__ import annotations

from typing import Any

from resolvers.settings import Settings

# The portals' development servers (Vite, and Next.js or create-react-app), on both loopback
# names: allowed by default in development only.
DEV_ORIGINS = (
    "http://localhost:5173",
    "http://127.0.0.1:5173",
    "http://localhost:3000",
    "http://127.0.0.1:3000",
)
# The request headers the hub reads: the caller's token, the JSON body's type, the client's
# request id (echoed back). Partners' X-Api-Key is left out on purpose: a key is a server's
# secret and never belongs in a browser.
ALLOWED_HEADERS = ("authorization", "content-type", "x-request-id")
# Response headers a browser script may read: the request id to quote in a report, and when
# to retry a 503 or 429.
EXPOSED_HEADERS = ("x-request-id", "retry-after")


def allowed_origins(settings: Settings) -> list[str]:
    """The origins allowed to call the hub from a browser."""
    if settings.cors_origins is None:
        return list(DEV_ORIGINS) if settings.environment == "development" else []
    return [o.strip().rstrip("/") for o in settings.cors_origins.split(",") if o.strip()]


def cors_options(settings: Settings) -> dict[str, Any]:
    """CORSMiddleware's options: bearer tokens, never cookies, so no credentials mode."""
    return {
        "allow_origins": allowed_origins(settings),
        "allow_methods": ["GET", "POST"],
        "allow_headers": list(ALLOWED_HEADERS),
        "expose_headers": list(EXPOSED_HEADERS),
        "allow_credentials": False,
        "max_age": settings.cors_max_age_seconds,
    }
