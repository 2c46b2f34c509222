"""Channel configs: validated per kind with one line per problem; credentials never quoted."""

import pytest
from django.core.exceptions import ValidationError

from apps.alerts.channel_config import channel_config_masked, channel_config_validate
from apps.core.config_secrets import MASK


@pytest.mark.parametrize(
    ("kind", "config", "messages"),
    [
        ("email", {}, ["Channel 'c' config: 'to' must be a non-empty list of addresses, e.g. [\"ops@example.com\"]"]),
        (
            "email",
            {"to": "ops@example.com"},
            ["Channel 'c' config: 'to' must be a non-empty list of addresses, e.g. [\"ops@example.com\"]"],
        ),
        ("email", {"to": ["ops@example.com", "bad"]}, ["Channel 'c' config: 'to' has an invalid address 'bad'"]),
        (
            "slack",
            {"webhook_url": "ftp://hooks.slack.com/secret-part"},
            ["Channel 'c' config: 'webhook_url' must be an http(s) URL"],
        ),
        (
            "webhook",
            {"url": "example.com", "secret": "short"},
            [
                "Channel 'c' config: 'url' must be an http(s) URL, got 'example.com'",
                "Channel 'c' config: 'secret' is required: a string of at least 16 characters",
            ],
        ),
        ("console", {"verbose": True}, ["Channel 'c' config: unknown key 'verbose' (known: none)"]),
        (
            "pager",
            {},
            ["Channel 'c' config: unknown channel kind 'pager' (known: email, slack, webhook, console, apprise)"],
        ),
        (
            "email",
            ["ops@example.com"],
            ['Channel \'c\' config: must be a JSON object like {"to": ["ops@example.com"]}, got list'],
        ),
    ],
)
def test_bad_configs_are_refused_with_one_line_each(kind, config, messages):
    with pytest.raises(ValidationError) as caught:
        channel_config_validate(kind=kind, name="c", config=config)
    assert caught.value.messages == messages
    assert "secret-part" not in " ".join(caught.value.messages)


@pytest.mark.parametrize(
    ("kind", "config"),
    [
        ("email", {"to": ["ops@example.com"]}),
        ("slack", {"webhook_url": "https://hooks.slack.com/services/T/B/X"}),
        ("webhook", {"url": "https://example.com/hook", "secret": "0123456789abcdef"}),
        ("console", {}),
    ],
)
def test_good_configs_pass(kind, config):
    assert channel_config_validate(kind=kind, name="c", config=config) == config


def test_masking_hides_the_slack_url_and_the_webhook_secret_only():
    assert channel_config_masked(kind="slack", config={"webhook_url": "https://hooks.slack.com/x"}) == {
        "webhook_url": MASK
    }
    assert channel_config_masked(kind="webhook", config={"url": "https://e.com/h", "secret": "s" * 16}) == {
        "url": "https://e.com/h",
        "secret": MASK,
    }
    assert channel_config_masked(kind="email", config={"to": ["a@b.c"]}) == {"to": ["a@b.c"]}
