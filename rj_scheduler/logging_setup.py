"""Structured JSON logs on standard error, each line with the request id.

Log lines never carry a participant's phone number, email or address: log
objects by their identifiers.
"""

from __future__ import annotations

import json
import logging
import sys

from flask import Flask, g, has_request_context

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


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
        handler.addFilter(RequestIdFilter())
        handler._rj_json = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.propagate = True
