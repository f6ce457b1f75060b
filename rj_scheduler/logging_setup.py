"""Structured JSON logs on standard error, each line with the request id.

Log lines never carry a participant's phone number, email or address: log
objects by their identifiers. Nor a participant's private link: the token in
``/i/<token>`` opens their page, so every request line (the development
server's, gunicorn's access log) and our own lines show ``/i/[redacted]``.
"""

from __future__ import annotations

import json
import logging
import re
import sys

from flask import Flask, g, has_request_context

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


_PRIVATE_LINK = re.compile(r"/i/[^\s\"'?#/]+")
# Loggers that write request lines (paths) themselves, outside our own "rj_scheduler" loggers.
REQUEST_LINE_LOGGERS = ("werkzeug", "gunicorn.access")


def redact_private_links(text: str) -> str:
    """``text`` with the token of every participant link replaced: ``/i/[redacted]``."""
    return _PRIVATE_LINK.sub("/i/[redacted]", text)


class RedactPrivateLinks(logging.Filter):
    """Rewrites a record whose message names a participant's private link, before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_private_links(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def register_logging(app: Flask) -> None:
    root = logging.getLogger("rj_scheduler")
    root.setLevel(app.config["LOG_LEVEL"])
    if not any(getattr(h, "_rj_json", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RedactPrivateLinks())
        handler.addFilter(RequestIdFilter())
        handler._rj_json = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.propagate = True
    for name in REQUEST_LINE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactPrivateLinks) for f in logger.filters):
            logger.addFilter(RedactPrivateLinks())
