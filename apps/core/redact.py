"""Which header and query-parameter names carry credentials, and text with such values masked.

One list for the outbound client (which drops them on a hop to another origin) and the log filter (which
masks them in every line), so a credential the client knows about is also one the logs hide.
"""

from __future__ import annotations

import re

MASK = "********"

# Exact names (lower case) of query parameters that carry a credential: API keys (YouTube's ``key``),
# OAuth tokens and client secrets, passwords.
CREDENTIAL_PARAMS = frozenset(
    {
        "key",
        "api_key",
        "apikey",
        "api-key",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth",
        "auth_token",
        "client_secret",
        "secret",
        "password",
        "passwd",
        "sessionid",
    }
)
# Headers that always carry a credential, and a pattern for the custom ones APIs invent (X-Api-Key,
# X-Auth-Token, Private-Token, X-Goog-Api-Key ...).
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_CREDENTIAL_HEADER_PATTERN = re.compile(r"api[-_]?key|token|secret|auth|session|password", re.IGNORECASE)

_PARAM_NAMES = "|".join(sorted((re.escape(name) for name in CREDENTIAL_PARAMS), key=len, reverse=True))
# ``name=value`` inside a URL or a query string: the name must start the query or follow ``&``/``?``/``;``,
# so ``monkey=1`` keeps its value while ``key=...`` does not.
_QUERY_SECRET = re.compile(rf"(?i)(?<![\w-])({_PARAM_NAMES})=[^&#\s'\"<>]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9\-._~+/]{8,}=*")
_HEADER_LINE = re.compile(
    r"(?i)\b(authorization|proxy-authorization|cookie|x-api-key)(['\"]?\s*[:=]\s*['\"]?)[^'\",\n]+"
)


def header_is_credential(name: str) -> bool:
    """True for a request header whose value is a credential (Authorization, Cookie, X-Api-Key ...)."""
    lowered = name.lower()
    return lowered in CREDENTIAL_HEADERS or bool(_CREDENTIAL_HEADER_PATTERN.search(lowered))


def param_is_credential(name: str) -> bool:
    """True for a query parameter whose value is a credential (key, api_key, token, client_secret ...)."""
    return name.lower() in CREDENTIAL_PARAMS


def text_redacted(text: str) -> str:
    """``text`` with credential query values, bearer/basic tokens and credential header values masked."""
    text = _QUERY_SECRET.sub(rf"\1={MASK}", text)
    text = _BEARER.sub(rf"\1 {MASK}", text)
    return _HEADER_LINE.sub(rf"\1\2{MASK}", text)
