"""Trend events against every enabled watchlist: matches recorded once per (watchlist, trend, state).

Runs inside ``alerts_dispatch``'s transaction on the events it claimed, so an event is matched exactly when it
is claimed. The match insert is ``ON CONFLICT DO NOTHING … RETURNING``: an event put back by hand, or a second
event for the same trend and state, adds nothing, and only matches that are new fan out to channels.
Watchlists are indexed by the words their keywords require, so an event is checked only against the
watchlists that could match it (plus those without keywords). The compiled matcher is kept between passes and
rebuilt only when a cheap version stamp of the watchlists, their channel links and the mute terms changes:
building it for 10,000 watchlists costs seconds, the stamp a few milliseconds.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from apps.alerts.models import WATCH_STATES, BatchEntry, Channel, MuteTerm, Notification, Watchlist, WatchMatch
from apps.alerts.subjects import TREND_LABEL, EventContext
from apps.alerts.transports import AlertMessage
from apps.alerts.watch_query import Document, Node, documents_lexemes, node_matches, required_lexemes, tsquery_parse
from apps.trends.models import Item

WATCH_KIND = "watch.match"
STATE_RANK = {state: rank for rank, state in enumerate(WATCH_STATES)}


@dataclass
class _Compiled:
    watchlist: Watchlist
    keywords: list[Node | None]
    mute: list[Node | None]
    categories: frozenset[str]
    sources: frozenset[str]
    languages: frozenset[str]
    channel_ids: list[int]
    min_rank: int


@dataclass
class WatchMatcher:
    """Enabled watchlists compiled: parsed queries and an index word -> watchlists.

    ``channel_ids`` are the watchlist's linked channels whatever their state: whether a channel is enabled and
    belongs to the watchlist's owner is checked on fresh rows at fan-out, so a channel switched off (which
    touches no watchlist) is seen by the next pass without rebuilding the matcher."""

    compiled: list[_Compiled] = field(default_factory=list)
    by_word: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    always: list[int] = field(default_factory=list)  # no keywords, or a keyword no word is required for
    global_mute: list[Node | None] = field(default_factory=list)

    @classmethod
    def load(cls, watchlists: list[Watchlist] | None = None) -> WatchMatcher:
        if watchlists is None:
            watchlists = list(Watchlist.objects.filter(enabled=True).order_by("pk"))
        links: dict[int, list[int]] = defaultdict(list)
        through = Watchlist.channels.through.objects.filter(watchlist__enabled=True)
        for watchlist_id, channel_id in through.order_by("pk").values_list("watchlist_id", "channel_id"):
            links[watchlist_id].append(channel_id)
        mute_queries = MuteTerm.objects.filter(enabled=True).values_list("query", flat=True)
        matcher = cls(global_mute=[tsquery_parse(q) for q in mute_queries])
        for watchlist in watchlists:
            keywords = [tsquery_parse(q) for q in watchlist.keyword_queries]
            index = len(matcher.compiled)
            matcher.compiled.append(
                _Compiled(
                    watchlist=watchlist,
                    keywords=keywords,
                    mute=[tsquery_parse(q) for q in watchlist.mute_queries],
                    categories=frozenset(c.lower() for c in watchlist.categories),
                    sources=frozenset(watchlist.sources),
                    languages=frozenset(language.lower() for language in watchlist.languages),
                    channel_ids=links.get(watchlist.pk, []),
                    min_rank=STATE_RANK.get(watchlist.min_state, 0),
                )
            )
            words: set[str] = set()
            for node in keywords if watchlist.keywords else [None]:
                required = required_lexemes(node) if node is not None else None
                if required is None:
                    words = set()
                    break
                words |= required
            if words:
                for word in words:
                    matcher.by_word[word].append(index)
            elif not keywords or any(required_lexemes(n) is None for n in keywords):
                matcher.always.append(index)
        return matcher

    def candidates(self, document: Document) -> list[_Compiled]:
        hit = set(self.always)
        for word in document:
            hit.update(self.by_word.get(word, ()))
        return [self.compiled[i] for i in sorted(hit)]


# What the compiled matcher depends on, in one query: a row created or deleted moves a count or a max(id) (ids
# are never reused), an edit through save() moves max(updated_at), and the hash of the enabled ids catches a
# switch flipped by a queryset update(), which leaves updated_at alone. Link rows are only added or removed.
_STAMP_SQL = """
    SELECT (SELECT row(count(*), max(id), max(updated_at),
                       md5(string_agg(id::text, ',' ORDER BY id) FILTER (WHERE enabled)))::text FROM {watchlists}),
           (SELECT row(count(*), max(id))::text FROM {links}),
           (SELECT row(count(*), max(id), max(updated_at),
                       md5(string_agg(id::text, ',' ORDER BY id) FILTER (WHERE enabled)))::text FROM {mute})
"""

_cached: tuple[tuple, WatchMatcher] | None = None  # (stamp, matcher) of this process's last load


def watch_matcher_current() -> WatchMatcher:
    """The compiled matcher of the enabled watchlists, rebuilt only when the stamp says something changed.

    Read inside the dispatch transaction, so the stamp and a rebuild see the same rows the pass matches."""
    global _cached
    sql = _STAMP_SQL.format(
        watchlists=Watchlist._meta.db_table,
        links=Watchlist.channels.through._meta.db_table,
        mute=MuteTerm._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        stamp = tuple(cursor.fetchone())
    if _cached is None or _cached[0] != stamp:
        _cached = (stamp, WatchMatcher.load())
    return _cached[1]


def _languages_of(trend_ids: list[int]) -> dict[int, set[str]]:
    rows = Item.objects.filter(topic__trend__in=trend_ids).values_list("topic__trend", "language").distinct()
    languages: dict[int, set[str]] = defaultdict(set)
    for trend_id, language in rows:
        if language:
            languages[trend_id].add(language.lower())
    return languages


def _matches(entry: _Compiled, context: EventContext, document: Document, languages) -> bool:
    if STATE_RANK.get(context.state or "", -1) < entry.min_rank:
        return False
    if entry.watchlist.min_score and (context.score or 0.0) < entry.watchlist.min_score:
        return False
    if entry.categories and (context.category or "").lower() not in entry.categories:
        return False
    if entry.keywords and not any(node_matches(node, document) for node in entry.keywords):
        return False
    if any(node_matches(node, document) for node in entry.mute):
        return False
    if entry.sources and not (context.sources & entry.sources):
        return False
    return not (entry.languages and not (languages() & entry.languages))


# One statement per pass: the matches go in as (watchlist, event) pairs joined to one row per event (a title is
# sent once, not once per watchlist), and the new ones fan out to their owner's enabled batching channels inside
# the database. Only the matches that still need Python come back: a watchlist with a digest, or with an enabled
# channel of its owner that does not batch (a notification with a message). The count comes first on every row;
# the LEFT JOIN keeps one row when nothing comes back.
_MATCH_SQL = """
    WITH events AS (
        SELECT * FROM unnest(%(trend)s::bigint[], %(state)s::text[], %(score)s::float8[], %(title)s::text[],
                             %(event)s::bigint[]) WITH ORDINALITY AS e(trend, state, score, title, event, n)
    ), matched AS (
        INSERT INTO {matches} (watchlist_id, trend_id, trend_key, state, score, title, event_id, created_at)
        SELECT x.w, e.trend, e.trend, e.state, e.score, e.title, e.event, now()
        FROM unnest(%(watchlist)s::bigint[], %(n)s::bigint[]) AS x(w, n) JOIN events e ON e.n = x.n
        ON CONFLICT (watchlist_id, trend_key, state) DO NOTHING
        RETURNING id, watchlist_id, event_id
    ), own AS (
        SELECT l.watchlist_id, c.id AS channel_id, c.batch_minutes
        FROM {links} l JOIN {watchlists} w ON w.id = l.watchlist_id
             JOIN {channels} c ON c.id = l.channel_id AND c.enabled AND c.user_id = w.user_id
        WHERE l.watchlist_id IN (SELECT DISTINCT watchlist_id FROM matched)
    ), batched AS (
        INSERT INTO {entries} (channel_id, match_id, created_at)
        SELECT own.channel_id, m.id, now() FROM matched m JOIN own ON own.watchlist_id = m.watchlist_id
        WHERE own.batch_minutes > 0
        ON CONFLICT (channel_id, match_id) DO NOTHING
    )
    SELECT (SELECT count(*) FROM matched), m.id, m.watchlist_id, m.event_id
    FROM (SELECT 1) AS one LEFT JOIN matched m
         ON m.watchlist_id = ANY(%(digest)s::bigint[])
         OR EXISTS (SELECT 1 FROM own WHERE own.watchlist_id = m.watchlist_id AND own.batch_minutes = 0)
"""

_ENTRY_SQL = """
    INSERT INTO {table} (channel_id, match_id, created_at)
    SELECT c, m, now() FROM unnest(%s::bigint[], %s::bigint[]) AS x(c, m)
    ON CONFLICT (channel_id, match_id) DO NOTHING
"""


def digest_channel(*, user_id: int, email: str) -> Channel:
    """The user's personal digest: an email channel to their own address that batches a day of matches."""
    channel, _ = Channel.objects.get_or_create(
        name=f"digest-user-{user_id}",
        defaults={
            "user_id": user_id,
            "kind": "email",
            "config": {"to": [email]},
            "batch_minutes": settings.WATCH_DIGEST_MINUTES,
        },
    )
    return channel


@dataclass
class WatchResult:
    matches: int = 0
    pending_ids: list[int] = field(default_factory=list)  # notifications for channels that do not batch


def watch_matches_record(*, contexts: list[EventContext], matcher: WatchMatcher | None = None) -> WatchResult:
    """Record the new matches of these events' trends and fan each new one out once per channel: a pending
    notification on a channel without batching, a batch entry on one with ``batch_minutes``."""
    result = WatchResult()
    trend_contexts = [
        c for c in contexts if c.event.subject_type == TREND_LABEL and c.data.get("trend_id") and c.state in STATE_RANK
    ]
    if not trend_contexts:
        return result
    matcher = matcher or watch_matcher_current()
    if not matcher.compiled:
        return result
    documents = documents_lexemes([c.words for c in trend_contexts])
    needs_languages = any(entry.languages for entry in matcher.compiled)
    languages = _languages_of([c.data["trend_id"] for c in trend_contexts]) if needs_languages else {}
    pairs: list[tuple[int, int]] = []  # (watchlist, 1-based index of the event)
    seen: set[tuple[int, int, str]] = set()  # two events of one trend and state in a batch: one row
    for n, (context, document) in enumerate(zip(trend_contexts, documents, strict=True), start=1):
        if any(node_matches(node, document) for node in matcher.global_mute):
            continue
        trend_id = context.data["trend_id"]
        language_set = languages.get(trend_id, set())
        for entry in matcher.candidates(document):
            key = (entry.watchlist.pk, trend_id, context.state)
            if key not in seen and _matches(entry, context, document, lambda s=language_set: s):
                seen.add(key)
                pairs.append((entry.watchlist.pk, n))
    if not pairs:
        return result
    sql = _MATCH_SQL.format(
        matches=WatchMatch._meta.db_table,
        entries=BatchEntry._meta.db_table,
        links=Watchlist.channels.through._meta.db_table,
        watchlists=Watchlist._meta.db_table,
        channels=Channel._meta.db_table,
    )
    params = {
        "trend": [c.data["trend_id"] for c in trend_contexts],
        "state": [c.state for c in trend_contexts],
        "score": [float(c.score or 0) for c in trend_contexts],
        "title": [c.title[:500] for c in trend_contexts],
        "event": [c.event.pk for c in trend_contexts],
        "watchlist": [w for w, _ in pairs],
        "n": [n for _, n in pairs],
        "digest": [e.watchlist.pk for e in matcher.compiled if e.watchlist.digest],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        returned = cursor.fetchall()
    result.matches = returned[0][0]
    by_event = {c.event.pk: c for c in trend_contexts}
    _fan_out([(m, w, by_event[e]) for _, m, w, e in returned if m is not None], matcher, result)
    return result


def _fan_out(inserted: list[tuple[int, int, EventContext]], matcher: WatchMatcher, result: WatchResult) -> None:
    """The part of the fan-out the match statement leaves to Python: notifications for the owner's channels
    that do not batch, and entries in the owner's personal digest (created on first use)."""
    compiled = {entry.watchlist.pk: entry for entry in matcher.compiled}
    wanted = {cid for _, w, _ in inserted for cid in compiled[w].channel_ids}
    # Fresh rows each pass: a channel switched off since the matcher was built gets nothing.
    channels = Channel.objects.filter(enabled=True, batch_minutes=0).in_bulk(wanted) if wanted else {}
    digest_users = {compiled[w].watchlist.user_id for _, w, _ in inserted if compiled[w].watchlist.digest}
    emails = dict(get_user_model().objects.filter(pk__in=digest_users).exclude(email="").values_list("pk", "email"))
    digests = {user_id: digest_channel(user_id=user_id, email=email) for user_id, email in emails.items()}
    entries: list[tuple[int, int]] = []
    notifications: list[Notification] = []
    for match_id, watchlist_id, context in inserted:
        entry = compiled[watchlist_id]
        # A user's watchlist sends to that user's channels only, whatever was stored.
        owner = entry.watchlist.user_id
        targets = [channels[c] for c in entry.channel_ids if c in channels and channels[c].user_id == owner]
        if entry.watchlist.digest and owner in digests:
            targets.append(digests[owner])
        trend_id, state, score = context.data["trend_id"], context.state, float(context.score or 0)
        for channel in targets:
            if channel.batch_minutes:
                entries.append((channel.pk, match_id))
                continue
            message = AlertMessage(
                event_kind=WATCH_KIND,
                title=context.title[:500],
                fields=[("Watchlist", entry.watchlist.name), ("State", state), ("Score", f"{score:.2f}")],
                data={"trend_id": trend_id, "state": state, "watchlist": entry.watchlist.name, "match_id": match_id},
            )
            notifications.append(
                Notification(
                    channel=channel,
                    event_id=context.event.pk,
                    event_kind=WATCH_KIND,
                    subject_key=f"{TREND_LABEL}:{trend_id}",
                    dedup_key=f"watch:{match_id}",
                    message=json.loads(json.dumps(message.to_dict(), cls=DjangoJSONEncoder)),
                )
            )
    if entries:
        with connection.cursor() as cursor:
            cursor.execute(
                _ENTRY_SQL.format(table=BatchEntry._meta.db_table), [list(c) for c in zip(*entries, strict=True)]
            )
    created = Notification.objects.bulk_create(notifications)
    result.pending_ids.extend(n.pk for n in created)
