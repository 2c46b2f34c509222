"""URLs shown as text: userinfo and credential-like query values masked, one spelling for comparisons."""

from __future__ import annotations

import logging

import pytest

from apps.core.redact import MASK
from apps.core.url_mask import text_url_hidden, text_urls_masked, url_host, url_masked, url_normalised


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://bob:hunter2@feeds.example/rss", f"https://{MASK}@feeds.example/rss"),
        ("https://bob@feeds.example/rss", f"https://{MASK}@feeds.example/rss"),
        ("https://f.example/rss?token=abc&lang=en", f"https://f.example/rss?token={MASK}&lang=en"),
        ("https://f.example/rss?API_KEY=abc", f"https://f.example/rss?API_KEY={MASK}"),
        (
            "https://b.example/o?sig=abc&signature=def&X-Amz-Signature=g",
            f"https://b.example/o?sig={MASK}&signature={MASK}&X-Amz-Signature={MASK}",
        ),
        ("https://f.example/rss?monkey=1&keyboard=2", "https://f.example/rss?monkey=1&keyboard=2"),
        ("not a url", "not a url"),
    ],
)
def test_url_masked_hides_userinfo_and_credential_values_only(url, shown):
    assert url_masked(url) == shown


def test_urls_inside_text_are_masked_and_the_sentence_kept():
    text = "fetching https://u:pw@h.example/x?access_token=s3cr3t, then http://ok.example/y."
    assert (
        text_urls_masked(text) == f"fetching https://{MASK}@h.example/x?access_token={MASK}, then http://ok.example/y."
    )


def test_normalised_urls_compare_equal_whatever_the_spelling():
    assert url_normalised("HTTP://LOCALHOST:80/services/a") == url_normalised("http://localhost/services/a")
    assert url_normalised("https://Hooks.Slack.com:443") == "https://hooks.slack.com/"
    assert (
        url_host("https://API.x.com/2") == url_host("https://api.x.com:443/other") != url_host("https://evil.example/2")
    )


def test_a_secret_url_is_hidden_in_any_spelling():
    secret = "http://LOCALHOST:1/services/T0/B0/TOPSECRET"
    text = "network error fetching http://localhost:1/services/T0/B0/TOPSECRET: refused"
    assert text_url_hidden(text, secret_url=secret) == f"network error fetching {MASK}: refused"


def test_log_lines_mask_urls_with_credentials(caplog):
    from apps.core.logging import RedactFilter

    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "feed %s failed", ("https://a:b@f.example/?sig=z",), None
    )
    RedactFilter().filter(record)
    assert record.getMessage() == f"feed https://{MASK}@f.example/?sig={MASK} failed"
