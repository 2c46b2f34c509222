"""URLs as they may be shown or stored as text: credentials in the userinfo and in credential-like query
values masked, and one spelling for comparing URLs (``http://LOCALHOST:80/x`` is ``http://localhost/x``).

Every place that shows a URL (API, admin, run details, ``last_error``, run errors, logs) masks it here, so
what counts as a credential in a URL is decided once.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

from apps.core.redact import CREDENTIAL_PARAMS, MASK

# Query parameters masked when a URL is shown: the client's credential list plus the signatures of signed
# URLs (S3, GCS, Azure SAS), which grant access as much as a token does.
MASKED_PARAMS = CREDENTIAL_PARAMS | frozenset(
    {
        "sig",
        "signature",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "private_token",
        "jwt",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A URL inside free text: a scheme, ``://`` and everything up to whitespace, a quote or an angle bracket.
_URL_IN_TEXT = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+")
# Punctuation that ends a sentence rather than the URL it follows.
_TRAILING = ".,;:)]}!?"


def param_is_masked(name: str) -> bool:
    """True for a query parameter whose value is never shown (key, token, password, sig, signature ...)."""
    return name.lower() in MASKED_PARAMS


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    return parts if parts.scheme and parts.netloc else None


def _query_masked(query: str) -> str:
    pairs = []
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        pairs.append(f"{name}={MASK}" if sep and value and param_is_masked(name) else pair)
    return "&".join(pairs)


def url_masked(url: str) -> str:
    """``url`` with its userinfo (``user:password@``) and credential-like query values replaced by the mask;
    everything else, the spelling included, as given. Text that is not a URL comes back unchanged."""
    parts = _split(url)
    if parts is None:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(netloc=netloc, query=_query_masked(parts.query)))


def url_normalised(url: str) -> str:
    """One spelling of ``url`` for comparison: scheme and host lower-cased, the default port and an empty
    path's missing ``/`` made explicit as httpx and browsers do. "" for text that is not a URL."""
    parts = _split(url)
    if parts is None:
        return ""
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    port = parts.port
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    if parts.username is not None or parts.password is not None:
        netloc = f"{parts.netloc.rpartition('@')[0]}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def url_host(url: str) -> str:
    """Where a URL sends what goes with it: ``scheme://host:port``, normalised; "" for text that is not a URL."""
    parts = _split(url)
    if parts is None:
        return ""
    scheme = parts.scheme.lower()
    return f"{scheme}://{(parts.hostname or '')}:{parts.port or _DEFAULT_PORTS.get(scheme, '')}"


def _each_url(text: str, replace) -> str:
    def one(match: re.Match) -> str:
        url = match.group(0)
        stripped = url.rstrip(_TRAILING)
        return replace(stripped) + url[len(stripped) :]

    return _URL_IN_TEXT.sub(one, text)


def text_urls_masked(text: str) -> str:
    """``text`` (an error message, a log line) with every URL in it masked as ``url_masked`` does."""
    return _each_url(text, url_masked)


def text_url_hidden(text: str, *, secret_url: str) -> str:
    """``text`` with every spelling of ``secret_url`` (a URL that is itself the credential, like a Slack
    webhook) replaced by the mask: URLs are compared normalised, so ``http://LOCALHOST:80/services/...`` in an
    error is hidden as surely as the stored spelling."""
    target = url_normalised(secret_url)
    if not target:
        return text
    text = _each_url(text, lambda url: MASK if url_normalised(url) == target else url)
    path = urlsplit(target).path
    if len(path) >= 8:  # the webhook's path is its secret: hide it even when quoted without the host
        text = text.replace(path, MASK)
    return text
