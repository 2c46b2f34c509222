"""Request bodies PostgreSQL can store: it refuses NUL characters in text and JSON, so they are a 400; and
bodies Python can parse: one nested deeper than the decoder's recursion limit is a 400 too."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

NUL_MESSAGE = "Null characters (\\u0000) are not allowed."
TOO_DEEP_MESSAGE = "JSON parse error - the body is nested too deeply."


def has_nul(value: Any) -> bool:
    """Whether a NUL character hides anywhere in a JSON value, keys included (walked without recursion, so a
    deeply nested value is an answer, not a RecursionError)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class NulFreeJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies with NUL characters or nesting the decoder cannot follow (a 400
    instead of a database error or a 500)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP_MESSAGE) from None
        if has_nul(data):
            raise ParseError(NUL_MESSAGE)
        return data
