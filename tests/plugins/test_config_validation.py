"""Source config validation never raises anything but a ValidationError of one-line messages, whatever the
JSON: wrong types, lists or strings instead of objects, unknown keys, huge or deeply nested values."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.plugins.collectors import COLLECTORS, collector_class, source_config_validate
from apps.plugins.models import Source

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def _kind_configs(kind: str):
    """Objects over the kind's own keys (and a stray one), so validation gets past the unknown-key check."""
    names = [spec.name for spec in collector_class(kind).fields]
    return st.dictionaries(st.sampled_from([*names, "stray"]), JSON, max_size=len(names) + 1)


def _assert_validates_cleanly(kind: str, config) -> None:
    try:
        cleaned = source_config_validate(kind=kind, name="prop", config=config)
    except ValidationError as exc:
        assert exc.messages and all(message and "\n" not in message for message in exc.messages)
        assert all(len(message) < 600 for message in exc.messages)
        return
    assert set(cleaned) <= {spec.name for spec in collector_class(kind).fields}


@pytest.mark.parametrize("kind", list(COLLECTORS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_validation_returns_messages_or_a_clean_config_for_any_json(kind, data):
    config = data.draw(JSON | _kind_configs(kind))
    _assert_validates_cleanly(kind, config)


@pytest.mark.parametrize(
    ("kind", "config", "message"),
    [
        ("rss", {"urls": []}, "'urls' must not be empty"),
        ("rss", {"urls": "http://a.example/feed"}, "'urls' must be a list"),
        ("rss", {"urls": [1, 2]}, "'urls' entries must be strings, got 1"),
        ("rss", {"urls": [["http://a.example"]]}, "'urls' entries must be strings"),
        ("reddit", {"subreddits": []}, "'subreddits' must not be empty"),
        ("reddit", {"subreddits": [{"name": "news"}]}, "'subreddits' entries must be strings"),
        ("twitter", {"queries": [None]}, "'queries' entries must be strings"),
        ("file", {"path": 5}, "'path' must be a string"),
        ("file", {"path": "x.csv", "mapping": {"title": ["T"], "external_id": "id"}}, "must be a column name"),
        ("file", {"path": "x.csv", "mapping": {"title": "T", "external_id": "id", "metrics": "views"}}, "metrics"),
        ("file", {"path": "x.csv", "preset": "uci", "encoding": "no-such-codec"}, "'encoding'"),
        ("hackernews", ["top"], "must be a JSON object, got list"),
        ("hackernews", "top", "must be a JSON object, got str"),
        ("hackernews", {"lists": "top"}, "unknown key 'lists'"),
        ("rss", {"urls": ["http://a.example/" + "x" * 100_000]}, "string of 100,017 characters"),
        ("replay", {"path": "x.csv", "started_at": [[[[[[[[[["deep"]]]]]]]]]]}, "nested deeper than 8 levels"),
    ],
)
def test_malformed_configs_get_one_line_messages(kind, config, message):
    with pytest.raises(ValidationError) as raised:
        source_config_validate(kind=kind, name="bad", config=config)
    assert any(message in text for text in raised.value.messages), raised.value.messages


def test_a_deeply_nested_config_is_refused_without_recursing():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValidationError, match="nested deeper than 8 levels"):
        source_config_validate(kind="rss", name="deep", config={"urls": deep})


def _add_form(config_text: str, *, kind: str = "rss") -> dict:
    return {
        "name": "added",
        "kind": kind,
        "config": config_text,
        "enabled": "on",
        "poll_interval": 900,
        "runs-TOTAL_FORMS": 0,
        "runs-INITIAL_FORMS": 0,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("config_text", "message"),
    [
        ("[" * 5000, "nested deeper than 8 levels"),
        ("[" * 500 + "]" * 500, "nested deeper than 8 levels"),
        ('{"urls": []}', "must not be empty"),
        ('{"urls": {"a": 1}}', "must be a list"),
        ('["http://a.example/feed"]', "must be a JSON object, got list"),
        ('"http://a.example/feed"', "must be a JSON object, got str"),
        ('{"urls": ["http://a.example/feed"], "extra": 1}', "unknown key"),
        ('{"urls": [', "not valid JSON"),
        (json.dumps({"urls": ["http://a.example/" + "x" * 5000]}), "string of 5,017 characters"),
    ],
)
def test_admin_add_form_answers_bad_configs_with_a_form_error(admin_client, config_text, message):
    response = admin_client.post(reverse("admin:plugins_source_add"), _add_form(config_text))
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Source.objects.filter(name="added").exists()
