"""What an event is about, loaded once per batch: the facts rules filter on and the message people read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from apps.core.models import Event
from apps.plugins.models import Source
from apps.trends.models import Item, Trend

TREND_LABEL = "trends.trend"
SOURCE_LABEL = "plugins.source"


_ID_PLACEHOLDER = 987654321


@lru_cache(maxsize=32)
def _change_path(label: str) -> str:
    app_label, model = label.split(".", 1)
    try:
        return reverse(f"admin:{app_label}_{model}_change", args=[_ID_PLACEHOLDER])
    except NoReverseMatch:
        return ""


def admin_link(label: str, object_id: int | None) -> str:
    """Absolute admin URL of an object (``ALERTS_SITE_URL`` + the change page), or "" when there is none."""
    if object_id is None or not label:
        return ""
    path = _change_path(label)  # one reverse() per model, not per event: batches of thousands
    if not path:
        return ""
    return settings.ALERTS_SITE_URL.rstrip("/") + path.replace(str(_ID_PLACEHOLDER), str(object_id))


@dataclass
class EventContext:
    """One event as rules see it. ``state``, ``category``, ``score`` and ``words`` exist for trend events only."""

    event: Event
    subject_key: str
    title: str
    state: str | None = None
    category: str | None = None
    score: float | None = None
    words: str = ""
    text: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)
    link: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    load_sources: Callable[[], set[str]] = field(default=set, repr=False)
    _sources: set[str] | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        return self.event.kind

    @property
    def is_trend(self) -> bool:
        return self.state is not None

    @property
    def sources(self) -> set[str]:
        """Source names involved, loaded on first use: only rules that filter on sources pay for it."""
        if self._sources is None:
            self._sources = self.load_sources()
        return self._sources


def _trend_sources_loader(topic_id: int, loaded: dict[int, set[str]]) -> Callable[[], set[str]]:
    """Loads a topic's source names once per batch, however many of its events a rule looks at."""

    def load() -> set[str]:
        if topic_id not in loaded:
            names = Item.objects.filter(topic_id=topic_id).values_list("source__name", flat=True).distinct()
            loaded[topic_id] = set(names)
        return loaded[topic_id]

    return load


def _trend_context(event: Event, trend: Trend | None, loaded: dict[int, set[str]]) -> EventContext:
    payload = event.payload or {}
    if trend is None:  # deleted since: the event still says what happened
        return EventContext(
            event=event,
            subject_key=f"{TREND_LABEL}:{event.subject_id}",
            title=payload.get("title", f"trend #{event.subject_id}"),
            state=payload.get("to", ""),
            score=payload.get("score"),
            data=payload,
        )
    state = payload.get("to", trend.state) if event.kind == Event.Kind.TREND_STATE_CHANGED else trend.state
    score = payload.get("score", trend.score)
    category = trend.category.name if trend.category_id else ""
    keywords = list(trend.topic.keywords or []) if trend.topic_id else []
    fields = [("State", state), ("Score", f"{score:.2f}"), ("Velocity", f"{trend.velocity:.2f}")]
    if event.kind == Event.Kind.TREND_STATE_CHANGED and payload.get("from"):
        fields.insert(0, ("Change", f"{payload['from']} → {state}"))
    if category:
        fields.append(("Category", category))
    if keywords:
        fields.append(("Keywords", ", ".join(str(k) for k in keywords[:8])))
    return EventContext(
        event=event,
        subject_key=f"{TREND_LABEL}:{trend.pk}",
        title=trend.title,
        state=state,
        category=category,
        score=score,
        words=" ".join([trend.title, trend.summary, *map(str, keywords)]).lower(),
        text=trend.summary[:500],
        fields=fields,
        link=admin_link(TREND_LABEL, trend.pk),
        data={**payload, "trend_id": trend.pk, "state": state, "score": score, "category": category},
        load_sources=_trend_sources_loader(trend.topic_id, loaded),
    )


def _source_context(event: Event, source: Source | None) -> EventContext:
    payload = event.payload or {}
    name = source.name if source else payload.get("source", f"source #{event.subject_id}")
    error = payload.get("error") or (source.health.last_error if source and hasattr(source, "health") else "")
    if event.kind == Event.Kind.PLUGIN_RECOVERED:
        title, text = f"Source {name} recovered", ""
    else:
        title = f"Source {name} is failing ({payload.get('failures', '?')} failures in a row)"
        text = f"Last error: {error}" if error else ""
    fields = [("Source", name)]
    if source:
        fields.append(("Kind", source.kind))
    return EventContext(
        event=event,
        subject_key=f"{SOURCE_LABEL}:{event.subject_id}",
        title=title,
        text=text[:1000],
        fields=fields,
        link=admin_link(SOURCE_LABEL, event.subject_id),
        data={**payload, "source": name},
        load_sources=lambda: {name},
    )


def _system_context(event: Event) -> EventContext:
    payload = event.payload or {}
    failed = payload.get("failed", [])
    if event.kind == Event.Kind.SYSTEM_UNHEALTHY:
        title = "System unhealthy: " + ", ".join(failed)
    else:
        title = "System recovered"
    checks = payload.get("checks", {})
    fields = [(name, "ok" if check.get("ok") else check.get("error", "failed")) for name, check in checks.items()]
    return EventContext(
        event=event, subject_key="system", title=title, fields=fields, data=payload, link=admin_link("", None)
    )


def event_contexts(events: list[Event]) -> list[EventContext]:
    """Contexts for a batch of events, with their subjects loaded in one query per kind of subject."""
    trend_ids = [e.subject_id for e in events if e.subject_type == TREND_LABEL]
    source_ids = [e.subject_id for e in events if e.subject_type == SOURCE_LABEL]
    trends = Trend.objects.select_related("category", "topic").in_bulk(trend_ids) if trend_ids else {}
    sources = Source.objects.select_related("health").in_bulk(source_ids) if source_ids else {}
    contexts, topic_sources = [], {}
    for event in events:
        if event.subject_type == TREND_LABEL:
            contexts.append(_trend_context(event, trends.get(event.subject_id), topic_sources))
        elif event.subject_type == SOURCE_LABEL:
            contexts.append(_source_context(event, sources.get(event.subject_id)))
        elif event.kind.startswith("system."):
            contexts.append(_system_context(event))
        else:
            contexts.append(
                EventContext(
                    event=event,
                    subject_key=f"{event.subject_type}:{event.subject_id}" if event.subject_type else event.kind,
                    title=str(event.payload.get("title", event.kind)),
                    data=event.payload or {},
                )
            )
    return contexts
