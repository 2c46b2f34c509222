"""Topics are events, not themes: real encoder, real database, the pipeline as the command runs it."""

import io
import itertools
from collections import Counter
from datetime import timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.test import override_settings

from apps.trends.models import Item
from apps.trends.pipeline.evidence import clustering_text, language_native, pair_similarity

from .conftest import T0

FLOODS = {
    "alberta": [
        "Calgary floods force 75,000 from their homes as Bow River rises",
        "Alberta flooding: downtown Calgary evacuated, Stampede grounds under water",
        "High River residents wait to return after Alberta floods",
        "Canmore and Calgary brace for more rain as Alberta flood crisis deepens",
        "Calgary Zoo animals moved as Bow and Elbow rivers burst their banks",
        "Alberta premier Redford says flood rebuilding will take years",
    ],
    "manila": [
        "Manila floods: half of Metro Manila under water after monsoon rains",
        "Philippines capital paralysed as floods submerge Manila streets",
        "Marikina River overflows, thousands evacuated in Metro Manila",
        "Manila flood death toll rises as habagat rains continue",
        "Quezon City and Marikina residents wade through chest-deep floodwater",
        "Philippine president Aquino visits Manila flood evacuation centres",
    ],
    "sardinia": [
        "Sardinia floods: cyclone Cleopatra kills 16 on Italian island",
        "Olbia devastated as deadly floods sweep Sardinia",
        "Italy declares state of emergency after Sardinia flooding",
        "Sardinia storm: bridges collapse, cars swept away in Olbia",
        "Letta promises aid as Sardinia counts cost of cyclone Cleopatra",
        "Rescuers search for missing after floods hit Sardinia towns",
    ],
}


def _stream(make_item, stories: dict[str, list[str]], spread_minutes: float = 24 * 60) -> dict[int, str]:
    """Create the headlines interleaved over ``spread_minutes``; returns item id -> story."""
    rows = [(story, title) for story, titles in stories.items() for title in titles]
    order = np.random.default_rng(0).permutation(len(rows))
    step = spread_minutes / len(rows)
    story_of = {}
    for k, index in enumerate(order):
        story, title = rows[index]
        story_of[make_item(title, minutes=k * step).pk] = story
    return story_of


def _run() -> None:
    call_command("run_pipeline", "--as-of", (T0 + timedelta(days=3)).isoformat(), stdout=io.StringIO())


def _topics_by_story(story_of: dict[int, str]) -> dict[str, set[int]]:
    topics: dict[str, set[int]] = {}
    for pk, topic_id in Item.objects.filter(pk__in=story_of).values_list("pk", "topic_id"):
        topics.setdefault(story_of[pk], set()).add(topic_id)
    return topics


def _assert_no_topic_shared(topics: dict[str, set[int]]) -> None:
    shared = [(a, b) for a, b in itertools.combinations(topics, 2) if topics[a] & topics[b]]
    assert not shared, f"stories sharing a topic: {shared}"


@pytest.mark.django_db
@pytest.mark.parametrize("spread_minutes", [24 * 60 * 2, 30], ids=["a-day-apart", "at-once"])
def test_three_floods_in_three_places_stay_three_topics(make_item, spread_minutes):
    story_of = _stream(make_item, FLOODS, spread_minutes)
    _run()
    topics = _topics_by_story(story_of)
    _assert_no_topic_shared(topics)
    # Each flood is one story, not scattered: most of its headlines share one topic.
    for story in topics:
        counts = Counter(
            Item.objects.filter(pk__in=[p for p, s in story_of.items() if s == story]).values_list(
                "topic_id", flat=True
            )
        )
        assert counts.most_common(1)[0][1] >= 4, (story, counts)


@pytest.mark.django_db
def test_a_roundup_headline_joins_neither_story_it_mentions(make_item):
    stories = {
        "apple": [
            "Apple quarterly profit beats forecasts on iPhone sales",
            "Apple earnings: iPhone revenue jumps, shares rise after hours",
            "Tim Cook hails record iPhone quarter as Apple results top estimates",
            "Apple results: strong iPhone demand lifts quarterly revenue",
        ],
        "gm": [
            "GM recalls 1.6 million cars over faulty ignition switch",
            "General Motors expands ignition switch recall linked to crashes",
            "GM ignition recall: Barra apologises to families of victims",
            "Regulators question GM over delayed ignition switch recall",
        ],
    }
    story_of = _stream(make_item, stories)
    roundup = make_item("What's News: Apple results, GM recall, Fed minutes and more", minutes=60 * 25)
    _run()
    topics = _topics_by_story(story_of)
    _assert_no_topic_shared(topics)
    roundup.refresh_from_db()
    assert roundup.topic_id not in topics["apple"] | topics["gm"]


@pytest.mark.django_db
def test_a_topic_of_500_items_does_not_absorb_another_event_of_its_kind(make_item):
    places = ["Calgary", "High River", "Canmore", "Alberta", "the Bow River", "Okotoks", "Medicine Hat"]
    what = [
        "floods force evacuations in",
        "flood waters rise in",
        "residents return after flooding in",
        "clean-up begins after floods in",
        "rain worsens flooding in",
        "army deployed to flooded",
        "flood damage estimated in",
        "power cut as floods hit",
    ]
    when = ["", " on Friday", " overnight", " as Redford tours the area", " - live updates", " again"]
    big = [f"{w.capitalize()} {p}{t}" for w, p, t in itertools.product(what, places, when)][:500]
    story_of = _stream(make_item, {"alberta": big, "sardinia": FLOODS["sardinia"]}, spread_minutes=36 * 60)
    _run()
    topics = _topics_by_story(story_of)
    alberta = Counter(
        Item.objects.filter(pk__in=[p for p, s in story_of.items() if s == "alberta"]).values_list(
            "topic_id", flat=True
        )
    )
    assert alberta.most_common(1)[0][1] >= 250  # a large topic, the case under test
    large = {topic_id for topic_id, n in alberta.items() if n >= 5}
    assert not large & topics["sardinia"]


def test_retweets_mentions_and_links_are_not_evidence():
    assert clustering_text("RT @cnnbrk: Floods hit Calgary http://t.co/abc #yycflood via @CBC") == (
        "Floods hit Calgary #yycflood via"
    )
    assert clustering_text("MT @user Train derails in Spain www.example.com/x") == "Train derails in Spain"
    assert clustering_text("mail me at a@b.com") == "mail me at a@b.com"  # an address is not a mention
    assert clustering_text("") == ""


@override_settings(
    PIPELINE_ENCODER_LANGUAGES=["en"], PIPELINE_TOPIC_FOREIGN_SEMANTIC_WEIGHT=0.3, PIPELINE_TOPIC_LEXICAL_WEIGHT=0.4
)
def test_the_encoder_counts_less_between_two_items_it_cannot_read():
    semantic, lexical = np.array([0.8, 0.8, 0.8]), np.array([0.5, 0.5, 0.5])
    native_a, native_b = np.array([True, False, False]), np.array([False, True, False])
    assert pair_similarity(semantic, lexical, native_a, native_b).tolist() == pytest.approx([1.0, 1.0, 0.44])
    assert language_native("en") and language_native("") and not language_native("es")
