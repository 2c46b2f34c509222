"""Synthetic but realistic data for the API benchmark, loaded with binary COPY.

Twenty themes of news words. Each topic draws four words of one theme; its centroid is the mean of the real
embeddings of those words (so a real query embedding about the theme lands near it), and its items are the
centroid plus Gaussian noise (cosine ≈ 0.8 to the centroid), titled with the topic's words and a few others.
Indexes that slow a bulk load (HNSW, GIN) are dropped first and rebuilt after, as a restore would.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from django.db import connection, transaction
from psycopg.types.json import Jsonb

THEMES = {
    "finance": "bank rates inflation stocks bonds lender mortgage currency dollar recession earnings investors",
    "energy": "oil gas prices pipeline opec crude refinery drilling barrel solar wind grid",
    "tech": "smartphone chip software startup cloud app processor laptop browser update developers hardware",
    "ai": "intelligence model chatbot robots automation neural training algorithm assistant openai data ethics",
    "space": "rocket launch nasa orbit satellite moon mars astronauts telescope mission spacecraft asteroid",
    "health": "vaccine hospital virus patients doctors outbreak cancer drug trial disease flu clinic",
    "climate": "warming emissions carbon drought wildfire heatwave glacier storm flooding hurricane rainfall climate",
    "politics": "election parliament minister vote senate campaign president coalition ballot policy party debate",
    "football": "football club goal league striker coach transfer cup final stadium referee match",
    "tennis": "tennis open grand slam serve wimbledon seed racket champion ranking tiebreak court",
    "film": "movie actor director premiere box office sequel studio oscar trailer cast festival",
    "music": "album singer concert tour band chart song festival guitar rapper record grammy",
    "crime": "police arrest court trial judge fraud theft suspect prison verdict investigation charges",
    "travel": "airline flights airport tourism hotel passengers delays cruise visa border holiday train",
    "cars": "electric vehicle tesla battery charging carmaker recall engine sales autonomous factory hybrid",
    "food": "restaurant chef recipe coffee wine farmers harvest prices supermarket organic bakery menu",
    "education": "school students teachers university exam tuition campus degree classroom scholarship curriculum",
    "housing": "rent housing prices homes buyers construction landlord tenants apartments market zoning",
    "gaming": "game console nintendo playstation xbox esports players studio release patch gamers",
    "science": "researchers study physics particle genome species fossil discovery lab experiment evolution quantum",
}
FILLER = [
    "new",
    "report",
    "says",
    "after",
    "amid",
    "over",
    "latest",
    "big",
    "week",
    "today",
    "first",
    "more",
    "world",
    "local",
]
LANGUAGES = ["en"] * 16 + ["de", "de", "fr", "es"]
SOURCES = [f"bench-{n}" for n in range(5)]
START = datetime(2026, 10, 1, tzinfo=UTC)
SPAN = timedelta(days=30)
NOISE = 0.038  # per dimension: cosine to the centroid ≈ 1/sqrt(1 + 384 * NOISE²) ≈ 0.8


def theme_words() -> dict[str, list[str]]:
    return {theme: words.split() for theme, words in THEMES.items()}


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def _copy(cursor, table: str, columns: list[tuple[str, str]], rows) -> None:
    names = ", ".join(name for name, _ in columns)
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([kind for _, kind in columns])
        for row in rows:
            copy.write_row(row)


def data_load(*, items: int, trends: int, seed: int = 0) -> dict:
    """Create sources, ``trends`` topics with one trend each, and ``items`` items; returns what the load
    generated (for the locustfile and the recall check) and its timings."""
    from apps.plugins.models import Source
    from apps.trends.embeddings import embedding_model_name, texts_embed
    from apps.trends.models import Category
    from apps.trends.vectors import vector_cursor

    rng = np.random.default_rng(seed)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    words = theme_words()
    vocabulary = sorted({w for ws in words.values() for w in ws})
    word_vector = dict(zip(vocabulary, texts_embed(vocabulary), strict=True))
    timings["embed vocabulary"] = time.perf_counter() - started

    source_ids = [Source.objects.get_or_create(name=n, defaults={"kind": "file"})[0].pk for n in SOURCES]
    category_ids = list(Category.objects.values_list("id", flat=True))
    themes = list(words)
    model = embedding_model_name()

    started = time.perf_counter()
    topic_theme = rng.integers(0, len(themes), size=trends)
    topic_words = [list(rng.choice(words[themes[t]], size=4, replace=False)) for t in topic_theme]
    centroids = _unit_rows(np.stack([np.mean([word_vector[w] for w in tw], axis=0) for tw in topic_words]))
    item_topic = rng.integers(0, trends, size=items)
    vectors = _unit_rows(centroids[item_topic] + rng.normal(scale=NOISE, size=(items, centroids.shape[1])))
    offsets = rng.random(items) * SPAN.total_seconds()
    timings["generate"] = time.perf_counter() - started

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'trends_item' "
            "AND (indexdef LIKE '%%USING hnsw%%' OR indexdef LIKE '%%USING gin%%')"
        )
        rebuilt = cursor.fetchall()
        for name, _ in rebuilt:
            cursor.execute(f'DROP INDEX "{name}"')
    now = datetime.now(tz=UTC)
    with transaction.atomic(), vector_cursor() as cursor:
        _copy(
            cursor,
            "trends_topic",
            [
                ("id", "int8"),
                ("created_at", "timestamptz"),
                ("updated_at", "timestamptz"),
                ("centroid", "vector"),
                ("item_count", "int4"),
                ("source_count", "int4"),
                ("first_seen_at", "timestamptz"),
                ("last_item_at", "timestamptz"),
                ("keywords", "jsonb"),
                ("is_active", "bool"),
            ],
            (
                (t + 1, now, now, centroids[t], 20, 3, START, START + SPAN, Jsonb(topic_words[t]), True)
                for t in range(trends)
            ),
        )
        _copy(
            cursor,
            "trends_item",
            [
                ("id", "int8"),
                ("source_id", "int8"),
                ("external_id", "text"),
                ("url", "text"),
                ("canonical_url", "text"),
                ("title", "text"),
                ("text", "text"),
                ("author", "text"),
                ("published_at", "timestamptz"),
                ("collected_at", "timestamptz"),
                ("updated_at", "timestamptz"),
                ("language", "text"),
                ("language_hint", "text"),
                ("metrics", "jsonb"),
                ("content_hash", "text"),
                ("embedding", "vector"),
                ("embedding_model", "text"),
                ("topic_id", "int8"),
                ("category_id", "int8"),
                ("processed_at", "timestamptz"),
            ],
            _item_rows(rng, items, item_topic, topic_words, vectors, offsets, source_ids, category_ids, model),
        )
        _copy(
            cursor,
            "trends_trend",
            [
                ("id", "int8"),
                ("topic_id", "int8"),
                ("title", "text"),
                ("summary", "text"),
                ("key_points", "jsonb"),
                ("category_id", "int8"),
                ("state", "text"),
                ("score", "float8"),
                ("velocity", "float8"),
                ("acceleration", "float8"),
                ("peak_score", "float8"),
                ("first_detected_at", "timestamptz"),
                ("state_changed_at", "timestamptz"),
                ("updated_at", "timestamptz"),
            ],
            (
                (
                    t + 1,
                    t + 1,
                    " ".join(topic_words[t]).capitalize(),
                    "",
                    Jsonb([]),
                    category_ids[t % len(category_ids)],
                    ("emerging", "viral", "sustained", "declining")[t % 4],
                    float(rng.random() * 10),
                    float(rng.random() * 3),
                    0.0,
                    10.0,
                    START,
                    START,
                    now,
                )
                for t in range(trends)
            ),
        )
        _copy(
            cursor,
            "trends_trendsnapshot",
            [
                ("trend_id", "int8"),
                ("taken_at", "timestamptz"),
                ("score", "float8"),
                ("item_count", "int4"),
                ("velocity", "float8"),
            ],
            ((t + 1, START + timedelta(hours=h), float(h), h, 1.0) for t in range(trends) for h in range(12)),
        )
        for table in ("trends_topic", "trends_item", "trends_trend"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    timings["copy"] = time.perf_counter() - started

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET max_parallel_maintenance_workers = 1")
        for _, definition in rebuilt:
            cursor.execute(definition)
        cursor.execute("ANALYZE")
    timings["indexes"] = time.perf_counter() - started
    return {
        "themes": words,
        "filler": FILLER,
        "sources": SOURCES,
        "trend_ids": [1, trends],
        "timings": timings,
    }


def _item_rows(rng, items, item_topic, topic_words, vectors, offsets, source_ids, category_ids, model):
    every_word = [w for ws in theme_words().values() for w in ws] + FILLER
    for n in range(items):
        t = int(item_topic[n])
        picked = list(rng.choice(topic_words[t], size=3, replace=False)) + list(rng.choice(every_word, size=3))
        rng.shuffle(picked)
        title = " ".join(picked).capitalize()
        published = START + timedelta(seconds=float(offsets[n]))
        yield (
            n + 1,
            source_ids[n % len(source_ids)],
            f"bench-{n}",
            f"https://news.example.com/{n}",
            f"https://news.example.com/{n}",
            title,
            f"{title}. More on {' and '.join(topic_words[t])} as the story develops.",
            "",
            published,
            published,
            published,
            LANGUAGES[n % len(LANGUAGES)],
            "",
            Jsonb({"points": int(n % 500)}),
            "",
            vectors[n],
            model,
            t + 1,
            category_ids[t % len(category_ids)],
            published,
        )


def vocabulary_dump(data: dict, path) -> None:
    """What the locustfile needs to make up queries, as JSON."""
    path.write_text(json.dumps({k: data[k] for k in ("themes", "filler", "sources", "trend_ids")}))
