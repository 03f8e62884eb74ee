"""JSON logs, one object per line, carrying the request id.

Personal data never goes into a log line: records carry ids (account ids, payment ids,
request ids), never ID numbers, names, phone numbers or document contents. Only the
extra fields named in ``_SAFE_EXTRAS`` are copied into the output, so a careless
``extra={"citizen": ...}`` is dropped rather than written.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime

from wallet_api.observability.context import current_request_id

__all__ = ["JsonFormatter", "configure_logging", "dict_config"]

_SAFE_EXTRAS = frozenset(
    {
        "account_id", "attempts", "batch_id", "consumer", "count", "device_id", "duration_ms",
        "event_id", "kid", "method", "org_id", "path_template", "payment_id", "pgdata", "pid",
        "provider", "socket", "state", "status", "topic", "worker", "version", "url",
    }
)  # fmt: skip


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            out["request_id"] = request_id
        for key in _SAFE_EXTRAS:
            if key in record.__dict__:
                out[key] = record.__dict__[key]
        if record.exc_info and record.exc_info[0] is not None:
            # The type and the frames, not str(exc): messages may quote user input.
            out["error"] = record.exc_info[0].__name__
            out["trace"] = "".join(traceback.format_tb(record.exc_info[2]))
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("pgserver", "asyncio", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def dict_config(level: str = "INFO") -> dict[str, object]:
    """The same JSON logging as a ``logging.config`` dictionary, for servers that take one (granian)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "wallet_api.observability.logging.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "_granian": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "granian.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "pgserver": {"level": "WARNING"},
        },
    }
