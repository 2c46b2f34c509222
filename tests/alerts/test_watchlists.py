"""Watchlists: keyword syntax as the keyword search reads it, one match per (watchlist, trend, state)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from apps.alerts.models import BatchEntry, Channel, MuteTerm, Notification, Watchlist, WatchMatch
from apps.alerts.services import alerts_dispatch
from apps.alerts.watch_matching import watch_matcher_current
from apps.alerts.watch_query import documents_lexemes, keywords_tsqueries, node_matches, tsquery_parse
from apps.core.models import Event
from apps.core.services import event_emit
from tests.alerts.factories import ChannelFactory, TrendFactory

pytestmark = pytest.mark.django_db


def _user(name="ann"):
    return get_user_model().objects.create_user(name, f"{name}@example.com", "pw-123456789")


def _state(trend, to="viral", previous="emerging"):
    return event_emit(
        kind=Event.Kind.TREND_STATE_CHANGED, subject=trend, payload={"from": previous, "to": to, "score": trend.score}
    )


def _watchlist(user, channels=(), **fields):
    watchlist = Watchlist.objects.create(user=user, name=fields.pop("name", "mine"), **fields)
    watchlist.channels.set(channels)
    return watchlist


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ('"rate cut"', "Central bank announces a rate cut"),
        ('"rate cut"', "Cut the rate of growth"),
        ("chips -export", "Chip export ban widens"),
        ("chips -export", "New chips from the fab"),
        ("chip or battery", "Battery chemistry breakthrough"),
        ("running shoes", "Runners ran in new shoes"),
        ("-sport", "Election results tonight"),
        ('"the chip ban"', "Chip ban: the export rules"),
    ],
)
def test_keyword_matches_exactly_when_the_keyword_search_would(keyword, text):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_tsvector('english', %s) @@ websearch_to_tsquery('english', %s)", [text.lower(), keyword]
        )
        expected = cursor.fetchone()[0]
    (query,) = keywords_tsqueries([keyword])
    (document,) = documents_lexemes([text.lower()])
    assert node_matches(tsquery_parse(query), document) is expected


def test_a_trend_matches_a_watchlist_once_per_state_however_many_events():
    ann = _user()
    channel = ChannelFactory(user=ann)
    watchlist = _watchlist(ann, [channel], keywords=["chip"])
    trend = TrendFactory(title="Chip export ban widens", score=8.0)
    _state(trend)
    _state(trend)
    alerts_dispatch(enqueue=False)
    _state(trend)
    alerts_dispatch(enqueue=False)
    _state(trend, to="sustained", previous="viral")
    result = alerts_dispatch(enqueue=False)

    matches = list(WatchMatch.objects.order_by("id").values_list("watchlist", "trend", "state"))
    assert matches == [(watchlist.pk, trend.pk, "viral"), (watchlist.pk, trend.pk, "sustained")]
    assert result.watch_matches == 1
    notes = Notification.objects.filter(channel=channel).order_by("id")
    match_ids = WatchMatch.objects.order_by("id").values_list("pk", flat=True)
    assert [n.dedup_key for n in notes] == [f"watch:{m}" for m in match_ids]
    assert notes[0].message["title"] == "Chip export ban widens"


def test_filters_state_score_category_and_mute_terms():
    ann = _user()
    channel = ChannelFactory(user=ann)
    _watchlist(ann, [channel], name="viral chips", keywords=["chip"], min_state="viral", min_score=5)
    _watchlist(ann, [channel], name="no bans", keywords=["chip"], mute=["ban"])
    _watchlist(ann, [channel], name="tech only", categories=["Technology"])
    low = TrendFactory(title="Chip fab opens", score=2.0)
    banned = TrendFactory(title="Chip ban", score=9.0)
    _state(low, to="emerging", previous="")
    _state(banned)
    alerts_dispatch(enqueue=False)

    got = set(WatchMatch.objects.values_list("watchlist__name", "title"))
    assert got == {("no bans", "Chip fab opens"), ("viral chips", "Chip ban")}


def test_operators_mute_term_silences_a_trend_for_everyone():
    ann = _user()
    _watchlist(ann, [ChannelFactory(user=ann)], keywords=["chip"])
    MuteTerm.objects.create(term='"export ban"')
    _state(TrendFactory(title="Chip export ban widens"))
    _state(TrendFactory(title="Chip fab opens"))
    alerts_dispatch(enqueue=False)
    assert list(WatchMatch.objects.values_list("title", flat=True)) == ["Chip fab opens"]


def test_a_watchlist_never_sends_to_another_users_channel():
    ann, bob = _user("ann"), _user("bob")
    bobs = ChannelFactory(user=bob)
    _watchlist(ann, [bobs, ChannelFactory(user=ann)], keywords=["chip"])
    _state(TrendFactory(title="Chip fab opens"))
    alerts_dispatch(enqueue=False)
    assert WatchMatch.objects.count() == 1
    assert not Notification.objects.filter(channel=bobs).exists()


def test_digest_watchlist_collects_into_the_users_daily_email_channel():
    ann = _user()
    _watchlist(ann, keywords=["chip"], digest=True)
    _state(TrendFactory(title="Chip fab opens"))
    alerts_dispatch(enqueue=False)
    digest = Channel.objects.get(user=ann, kind="email")
    assert digest.config == {"to": ["ann@example.com"]} and digest.batch_minutes == 24 * 60
    assert digest.batch_entries.count() == 1


def test_matcher_is_reused_while_nothing_changes_and_rebuilt_after_an_edit():
    ann = _user()
    watchlist = _watchlist(ann, [ChannelFactory(user=ann)], keywords=["chip"])
    first = watch_matcher_current()
    assert watch_matcher_current() is first  # 10,000 watchlists are not compiled again on every pass

    watchlist.keywords = ["battery"]
    watchlist.save()
    _state(TrendFactory(title="Battery chemistry breakthrough"))
    _state(TrendFactory(title="Chip fab opens"))
    alerts_dispatch(enqueue=False)
    assert watch_matcher_current() is not first
    assert list(WatchMatch.objects.values_list("title", flat=True)) == ["Battery chemistry breakthrough"]


@pytest.mark.parametrize("change", ["new watchlist", "unlinked channel", "disabled by update", "mute term"])
def test_the_next_pass_sees_every_change_the_matcher_depends_on(change):
    ann = _user()
    channel = ChannelFactory(user=ann)
    watchlist = _watchlist(ann, [channel], keywords=["chip"])
    _state(TrendFactory(title="Chip fab opens"))
    alerts_dispatch(enqueue=False)  # the matcher is built and cached here
    assert Notification.objects.filter(channel=channel).count() == 1

    if change == "new watchlist":
        _watchlist(ann, [channel], name="batteries", keywords=["battery"])
        title, expected = "Battery chip recall", 2
    elif change == "unlinked channel":
        watchlist.channels.clear()
        title, expected = "Chip ban", 0
    elif change == "disabled by update":  # a queryset update leaves updated_at alone
        Watchlist.objects.filter(pk=watchlist.pk).update(enabled=False)
        title, expected = "Chip ban", 0
    else:
        MuteTerm.objects.create(term="ban")
        title, expected = "Chip ban", 0
    before = Notification.objects.filter(channel=channel).count()
    _state(TrendFactory(title=title))
    alerts_dispatch(enqueue=False)
    assert Notification.objects.filter(channel=channel).count() - before == expected


def test_a_channel_switched_off_gets_nothing_from_the_cached_matcher():
    ann = _user()
    channel = ChannelFactory(user=ann)
    _watchlist(ann, [channel], keywords=["chip"])
    _state(TrendFactory(title="Chip fab opens"))
    alerts_dispatch(enqueue=False)
    Channel.objects.filter(pk=channel.pk).update(enabled=False)  # as a permanent send failure does
    _state(TrendFactory(title="Chip ban"))
    alerts_dispatch(enqueue=False)
    assert WatchMatch.objects.count() == 2
    assert Notification.objects.filter(channel=channel).count() == 1


def test_batch_entries_written_in_the_match_statement_reach_the_owners_enabled_channels_only():
    ann, bob = _user("ann"), _user("bob")
    mine = ChannelFactory(user=ann, batch_minutes=5)
    off = ChannelFactory(user=ann, batch_minutes=5, enabled=False)
    bobs = ChannelFactory(user=bob, batch_minutes=5)
    direct = ChannelFactory(user=ann)
    _watchlist(ann, [mine, off, bobs, direct], keywords=["chip"])
    _state(TrendFactory(title="Chip fab opens"))
    _state(TrendFactory(title="Chip ban"))
    result = alerts_dispatch(enqueue=False)

    assert result.watch_matches == 2
    assert mine.batch_entries.count() == 2
    assert not off.batch_entries.exists() and not bobs.batch_entries.exists()
    assert Notification.objects.filter(channel=direct).count() == 2
    assert not Notification.objects.filter(channel__in=[mine, bobs]).exists()


@pytest.mark.parametrize(("model", "column"), [(WatchMatch, "watchlist_id"), (BatchEntry, "channel_id")])
def test_match_rows_carry_no_index_their_unique_constraint_already_covers(model, column):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    assert not [name for name, c in constraints.items() if c["index"] and c["columns"] == [column]]
    assert any(c["unique"] and c["columns"][0] == column for c in constraints.values())
