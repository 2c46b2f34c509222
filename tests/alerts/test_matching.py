"""The rule filter matrix: each filter alone, against events that pass and events that do not."""

import pytest

from apps.alerts.matching import rule_matches
from apps.alerts.models import AlertRule
from apps.alerts.subjects import event_contexts
from apps.core.models import Event
from apps.core.services import event_emit
from apps.plugins.models import Source
from apps.trends.models import Category, Item
from tests.alerts.factories import TrendFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    """name -> event: a viral tech trend from 'hn', a new politics trend from 'wire', a failing source."""
    hn, wire = Source.objects.create(name="hn", kind="hackernews"), Source.objects.create(name="wire", kind="rss")
    tech = Category.objects.get_or_create(name="Technology")[0]
    politics = Category.objects.get_or_create(name="Politics")[0]
    chip = TrendFactory(title="Chip export ban widens", category=tech, score=9.0)
    chip.topic.keywords = ["semiconductor", "export"]
    chip.topic.save()
    vote = TrendFactory(title="Parliament vote delayed", category=politics, score=2.0, state="emerging")
    Item.objects.create(source=hn, external_id="1", title="chips", topic=chip.topic)
    Item.objects.create(source=wire, external_id="2", title="vote", topic=vote.topic)
    return {
        "viral_tech": event_emit(
            kind=Event.Kind.TREND_STATE_CHANGED, subject=chip, payload={"from": "emerging", "to": "viral", "score": 9.0}
        ),
        "new_politics": event_emit(kind=Event.Kind.TREND_CREATED, subject=vote, payload={"topic_id": vote.topic_id}),
        "hn_failed": event_emit(
            kind=Event.Kind.PLUGIN_FAILED, subject=hn, payload={"source": "hn", "failures": 3, "error": "HTTP 500"}
        ),
    }


MATRIX = [
    # (rule fields, events it must match)
    ({}, {"viral_tech", "new_politics", "hn_failed"}),
    ({"event_kinds": ["trend.created"]}, {"new_politics"}),
    ({"event_kinds": ["plugin.failed", "trend.state_changed"]}, {"viral_tech", "hn_failed"}),
    ({"states": ["viral"]}, {"viral_tech"}),
    ({"states": ["emerging"]}, {"new_politics"}),
    ({"states": ["dead"]}, set()),
    ({"categories": ["technology"]}, {"viral_tech"}),
    ({"categories": ["Politics", "Sports"]}, {"new_politics"}),
    ({"keywords": ["SEMICONDUCTOR"]}, {"viral_tech"}),  # topic keywords, any case
    ({"keywords": ["vote", "nothing"]}, {"new_politics"}),
    ({"keywords": ["weather"]}, set()),
    ({"sources": ["hn"]}, {"viral_tech", "hn_failed"}),
    ({"sources": ["wire"]}, {"new_politics"}),
    ({"min_score": 5}, {"viral_tech"}),
    ({"min_score": 0.5}, {"viral_tech", "new_politics"}),
    (
        {"event_kinds": ["trend.state_changed"], "states": ["viral"], "categories": ["Technology"], "min_score": 9},
        {"viral_tech"},
    ),
    ({"states": ["viral"], "categories": ["Politics"]}, set()),
]


@pytest.mark.parametrize(("fields", "expected"), MATRIX, ids=[str(f) for f, _ in MATRIX])
def test_rule_filter_matrix(events, fields, expected):
    rule = AlertRule(name="r", **fields)
    contexts = {ctx.event.pk: ctx for ctx in event_contexts(list(events.values()))}
    matched = {name for name, event in events.items() if rule_matches(rule, contexts[event.pk])}
    assert matched == expected


def test_a_deleted_trend_still_matches_on_what_its_event_says(events):
    from apps.trends.models import Trend

    Trend.objects.all().delete()
    [context] = event_contexts([Event.objects.get(pk=events["viral_tech"].pk)])
    assert rule_matches(AlertRule(name="r", states=["viral"]), context)
    assert context.title.startswith("trend #")


def test_source_event_message_carries_the_last_error_and_the_admin_link(events):
    [context] = event_contexts([events["hn_failed"]])
    assert context.title == "Source hn is failing (3 failures in a row)"
    assert context.text == "Last error: HTTP 500"
    assert context.link.endswith(f"/admin/plugins/source/{events['hn_failed'].subject_id}/change/")
