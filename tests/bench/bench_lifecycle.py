"""Lifecycle on a generated stream with planted bursts, replayed with --as-of in 15-minute steps.

Steady background topics (one item an hour each) and burst topics (a background trickle, then a burst that
rises, peaks and fades over about 90 minutes). Prints precision and recall of viral detection (a burst
counts as detected when its trend turns viral between burst start and two hours after), the median delay
from burst start to viral, and flapping (a trend changing state more than once within one hour).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np

START = datetime(2026, 1, 5, tzinfo=UTC)
HOURS = 30
STEP = timedelta(minutes=15)
TOPICS = {
    "mars": "NASA Mars rover finds signs of ancient lake water",
    "fed": "Federal Reserve holds interest rates steady amid inflation worries",
    "cup": "World Cup qualifier ends in dramatic penalty shootout",
    "flu": "Health officials warn of early flu season surge in hospitals",
    "phone": "Samsung unveils foldable phone with longer battery life",
    "film": "Blockbuster superhero sequel breaks opening weekend box office record",
    "quake": "Strong earthquake shakes coastal city, buildings damaged",
    "merger": "Two airlines agree to merge in multibillion dollar deal",
}
BURSTS = {"quake": 8.0, "merger": 14.0, "film": 20.0}  # topic -> burst start, hours after START
ANGLES = ["report", "live updates", "what we know", "analysis", "reaction", "explainer", "video", "latest"]


def stream(rng: np.random.Generator) -> list[tuple[str, str, datetime]]:
    """(external_id, title, published_at) for every planted item."""
    rows = []
    for key, headline in TOPICS.items():
        hours = np.arange(0, HOURS, 1.0) + rng.uniform(0, 1, HOURS)
        if key in BURSTS:
            start = BURSTS[key]
            hours = np.concatenate([hours[::3], start + rng.gamma(2.0, 0.25, 30)])  # ~peak at 15–30 min
        for k, hour in enumerate(sorted(hours)):
            title = f"{headline} - {ANGLES[k % len(ANGLES)]} {k}"
            rows.append((f"{key}-{k}", title, START + timedelta(hours=float(hour))))
    return rows


def main() -> None:
    from apps.core.models import Event
    from apps.plugins.models import Source
    from apps.trends.models import Item, Trend
    from apps.trends.pipeline.runner import pipeline_run

    rng = np.random.default_rng(0)
    source = Source.objects.create(name="lifecycle-bench", kind="file")
    rows = stream(rng)
    Item.objects.bulk_create(
        [Item(source=source, external_id=eid, title=title, published_at=when) for eid, title, when in rows]
    )
    as_of = START + STEP
    runs = 0
    while as_of <= START + timedelta(hours=HOURS + 6):
        pipeline_run(workflow="full", as_of=as_of, trigger="bench")
        as_of += STEP
        runs += 1

    planted_of_topic: dict[int, str] = {}
    for topic_id, external_ids in _topic_members(Item).items():
        planted_of_topic[topic_id] = Counter(e.split("-")[0] for e in external_ids).most_common(1)[0][0]
    changes = defaultdict(list)  # trend id -> [(time, to)]
    for event in Event.objects.filter(kind=Event.Kind.TREND_STATE_CHANGED).order_by("id"):
        changes[event.subject_id].append((datetime.fromisoformat(event.payload["at"]), event.payload["to"]))
    detected: dict[str, float] = {}
    false_viral = set()
    for trend in Trend.objects.all():
        planted = planted_of_topic.get(trend.topic_id, "?")
        for when, to in changes[trend.pk]:
            if to != Trend.State.VIRAL:
                continue
            start = START + timedelta(hours=BURSTS.get(planted, -99))
            if planted in BURSTS and start <= when <= start + timedelta(hours=2):
                delay = (when - start).total_seconds() / 60
                detected[planted] = min(detected.get(planted, delay), delay)
            else:
                false_viral.add((trend.pk, planted, when.isoformat()))
    # No flapping: a burst trend changes state at most once per phase (rise: -> viral, fade: -> sustained or
    # declining), so at most 2 changes in the 4 hours from burst start; a steady topic does not change state
    # while its stream is steady.
    burst_changes, steady_changes = [], 0
    for trend in Trend.objects.all():
        planted = planted_of_topic.get(trend.topic_id, "?")
        if planted in BURSTS:
            start = START + timedelta(hours=BURSTS[planted])
            burst_changes.append(sum(start <= t <= start + timedelta(hours=4) for t, _ in changes[trend.pk]))
        else:
            steady_changes += sum(t < START + timedelta(hours=HOURS) for t, _ in changes[trend.pk])
    true_positives = len(detected)
    precision = true_positives / max(true_positives + len(false_viral), 1)
    recall = true_positives / len(BURSTS)
    delays = sorted(detected.values())
    print(f"items {len(rows)}, replay runs {runs} (15-minute steps), trends {Trend.objects.count()}")
    print(f"viral detection precision {precision:.2f} recall {recall:.2f} ({true_positives}/{len(BURSTS)} bursts)")
    print(f"median delay burst start -> viral {statistics.median(delays) if delays else float('nan'):.0f} min")
    print(f"false viral: {sorted(false_viral) or 'none'}")
    print(f"state changes per burst in its 4 hours: {burst_changes} (at most 2 = no flapping)")
    print(f"state changes of steady topics while steady: {steady_changes} (0 = no flapping)")


def _topic_members(item_model) -> dict[int, list[str]]:
    members: dict[int, list[str]] = defaultdict(list)
    for topic_id, external_id in item_model.objects.exclude(topic=None).values_list("topic_id", "external_id"):
        members[topic_id].append(external_id)
    return members
