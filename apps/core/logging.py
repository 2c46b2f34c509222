"""JSON log lines carrying the request id of the request (or task) that wrote them, with credentials masked."""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import UTC, datetime

from apps.core.redact import text_redacted
from apps.core.url_mask import text_urls_masked

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        if request_id == "-":
            request_id = getattr(getattr(record, "request", None), "request_id", "-")
        record.request_id = request_id
        return True


class RedactFilter(logging.Filter):
    """Masks credentials (``key=`` and other secret query values, URLs' ``user:password@``, bearer tokens,
    Authorization and Cookie values) in the message and traceback of every record. Set on every handler in
    LOGGING, so a line from any logger, ours or a library's, passes through it before it is written."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = text_redacted(text_urls_masked(message))
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = text_redacted(text_urls_masked(record.exc_text))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info or record.exc_text:
            entry["exc_info"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
