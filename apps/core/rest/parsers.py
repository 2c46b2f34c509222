"""Request bodies PostgreSQL can store: it refuses NUL characters in text and JSON, so they are a 400."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

NUL_MESSAGE = "Null characters (\\u0000) are not allowed."


def has_nul(value: Any) -> bool:
    """Whether a NUL character hides anywhere in a JSON value, keys included."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


class NulFreeJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies with NUL characters (a 400 instead of a database error)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if has_nul(data):
            raise ParseError(NUL_MESSAGE)
        return data
