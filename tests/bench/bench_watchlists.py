"""Watchlist matching throughput: trend events through ``alerts_dispatch`` against 1,000 watchlists.

100 users with 10 watchlists each (keywords in the keyword search's syntax: words, phrases, ``-term``; some
with categories, minimum scores and mute terms), each sending to the user's batching channel. Every round
emits one state change for each of 400 fresh trends whose titles draw on the same vocabulary, then times the
dispatch passes that claim, match and record them (matches, batch entries). Prints the median events/s over
the rounds and the matches per round. ``BENCH_WATCHLISTS=10000`` runs the issue's 10,000-watchlist target.
Target: >= 1,000 events/s.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from dataclasses import dataclass

WATCHLISTS = int(os.environ.get("BENCH_WATCHLISTS", "1000"))
PER_USER = 10
TRENDS_PER_ROUND = 400
ROUNDS = 5
# A vocabulary the size of a news day's distinct topic words (made-up words, so stemming keeps them apart): with
# 8-word titles a one-word keyword matches about 1 event in 400, as a real watchlist would.
SYLLABLES = ["ka", "lo", "mi", "tu", "ren", "dor", "vash", "pel", "qui", "zon", "bri", "fal", "gum", "hex", "jop"]
WORDS = sorted({a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES})[:3000]


def _keyword(rng: random.Random) -> str:
    shape = rng.random()
    if shape < 0.3:
        return f'"{rng.choice(WORDS)} {rng.choice(WORDS)}"'
    if shape < 0.5:
        return f"{rng.choice(WORDS)} -{rng.choice(WORDS)}"
    return rng.choice(WORDS)


@dataclass
class WatchFigures:
    rate: float  # median events/s over the rounds
    matches: float  # median matches per round
    batch_entries: int


def watchlists_measure(*, watchlists: int = WATCHLISTS, rounds: int = ROUNDS) -> WatchFigures:
    """Create ``watchlists`` watchlists, time ``rounds`` rounds of dispatch passes, then delete the bench users
    (and with them their watchlists, channels and matches), so another benchmark can run this again."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from apps.alerts.models import BatchEntry, Channel, Watchlist, WatchMatch
    from apps.alerts.services import alerts_dispatch
    from apps.core.models import Event
    from apps.trends.models import Topic, Trend

    rng = random.Random(7)
    users = [
        get_user_model().objects.create_user(f"bench-watch-{n}", f"w{n}@example.com")
        for n in range(watchlists // PER_USER)
    ]
    for user in users:
        channel = Channel.objects.create(name=f"bench-watch-{user.pk}", kind="console", user=user, batch_minutes=5)
        for n in range(PER_USER):
            watchlist = Watchlist.objects.create(
                user=user,
                name=f"w{n}",
                keywords=[_keyword(rng) for _ in range(rng.randint(1, 3))],
                min_score=rng.choice([0, 0, 2.0]),
                min_state=rng.choice(["emerging", "viral"]),
                mute=[rng.choice(WORDS)] if rng.random() < 0.2 else [],
            )
            watchlist.channels.add(channel)
    print(f"{Watchlist.objects.count():,} watchlists of {len(users)} users", flush=True)

    rates, matches = [], []
    for round_no in range(rounds):
        with transaction.atomic():
            for n in range(TRENDS_PER_ROUND):
                title = " ".join(rng.choice(WORDS) for _ in range(8)).capitalize()
                topic = Topic.objects.create(keywords=rng.sample(WORDS, 3))
                trend = Trend.objects.create(topic=topic, title=f"{title} {round_no}-{n}", score=rng.uniform(0, 9))
                Event.objects.create(
                    kind=Event.Kind.TREND_STATE_CHANGED,
                    subject_type="trends.trend",
                    subject_id=trend.pk,
                    payload={"from": "emerging", "to": rng.choice(["viral", "sustained", "emerging"])},
                )
        before = WatchMatch.objects.count()
        started = time.perf_counter()
        events = 0
        while result := alerts_dispatch(enqueue=False):
            if not result.events:
                break
            events += result.events
        elapsed = time.perf_counter() - started
        rates.append(events / elapsed)
        matches.append(WatchMatch.objects.count() - before)
        print(f"round {round_no + 1}: {events} events in {elapsed:.2f}s, {matches[-1]:,} matches", flush=True)
    figures = WatchFigures(statistics.median(rates), statistics.median(matches), BatchEntry.objects.count())
    get_user_model().objects.filter(pk__in=[u.pk for u in users]).delete()
    return figures


def main() -> None:
    figures = watchlists_measure()
    print(f"matched: {figures.rate:,.0f} events/s (median of {ROUNDS}; target >= 1,000)")
    print(f"matches per round: {figures.matches:,.0f}; batch entries: {figures.batch_entries:,}")
