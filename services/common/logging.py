"""structlog JSON logging. Every line carries ``service`` and ``request_id``.

The request id is bound in a context variable. Greenlets have their own contexts, so each
nameko worker (one greenthread) and each gateway request has its own.
"""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars

_configured_for: str | None = None


def _add_defaults(service: str):
    def processor(_logger, _name, event_dict):
        event_dict.setdefault("service", service)
        event_dict.setdefault("request_id", get_contextvars().get("request_id"))
        return event_dict

    return processor


def configure(service: str, level: str = "INFO") -> None:
    """Configure structlog and the stdlib root logger to print JSON lines to stdout."""
    global _configured_for
    if _configured_for == service:
        return
    _configured_for = service
    shared = [
        structlog.contextvars.merge_contextvars,
        _add_defaults(service),
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelName(level.upper())
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.JSONRenderer()],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("amqp", "kombu", "nameko", "urllib3", "waitress"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str | None = None):
    return structlog.get_logger(name)


def bind_request(request_id: str | None, **extra) -> None:
    clear_contextvars()
    bind_contextvars(request_id=request_id, **extra)


__all__ = ["configure", "get_logger", "bind_request", "clear_contextvars"]
