"""Search over items: semantic (real embeddings, pgvector HNSW), keyword (full text, misspelling fallback),
hybrid (reciprocal rank fusion), through the API with real PostgreSQL and Redis."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import override_settings
from rest_framework.test import APIClient
from waffle.models import Switch

from apps.plugins.models import Source
from apps.trends.embeddings import embedding_model_name, texts_embed
from apps.trends.models import Item, Topic, Trend
from apps.trends.pipeline.embed import item_embedding_text
from apps.trends.search import (
    SearchFilters,
    hnsw_session_configure,
    items_semantic_search,
    query_embedding_cache_key,
    semantic_params,
    semantic_sql,
)
from apps.trends.vectors import vector_cursor
from tests.trends.conftest import T0, unit_vector

RARE = "QZ4471"
FILLER = " Officials gave further details later in the day and more updates are expected this week." * 5
HEADLINES = [
    ("bank", "Central bank raises interest rates to fight inflation", ""),
    ("floods", "Heavy rain floods the city centre overnight", ""),
    ("phone", "New smartphone launched with a bigger screen and faster chip", ""),
    # The rare token sits beyond the 300 characters the embedding reads: only full text can find it.
    ("recall", "Battery recall widens across Europe", FILLER + f" Affected units carry the serial prefix {RARE}."),
    ("cup", "Local football club wins the national cup final", ""),
    ("moon", "Scientists discover water ice on a distant moon", ""),
    ("poll", "Election: the opposition leads in the latest poll", ""),
    ("oil", "Stock markets slide as oil prices jump", ""),
]
ANY_OF_THREE = "city or smartphone or inflation"
PARAPHRASE = "monetary policy tightening to curb rising prices"


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def corpus(db, source) -> dict[str, Item]:
    """The headlines as embedded, original items; 'bank' belongs to a topic with a trend."""
    items = {}
    for n, (key, title, text) in enumerate(HEADLINES):
        items[key] = Item.objects.create(
            source=source, external_id=key, title=title, text=text, language="en", published_at=T0 + timedelta(hours=n)
        )
    vectors = texts_embed([item_embedding_text(i) for i in items.values()])
    for item, vector in zip(items.values(), vectors, strict=True):
        item.embedding, item.embedding_model = vector, embedding_model_name()
        item.save(update_fields=["embedding", "embedding_model"])
    topic = Topic.objects.create(item_count=1)
    Trend.objects.create(topic=topic, title="Rates go up", state=Trend.State.VIRAL, score=7.5)
    items["bank"].topic = topic
    items["bank"].save(update_fields=["topic"])
    return items


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [hit["id"] for hit in response.json()["results"]]


def test_semantic_finds_a_paraphrase_that_keyword_search_misses(client, corpus):
    semantic = client.get("/api/v1/search/semantic", {"q": PARAPHRASE})
    keyword = client.get("/api/v1/search/keyword", {"q": PARAPHRASE})
    assert _ids(semantic)[0] == corpus["bank"].pk
    assert corpus["bank"].pk not in _ids(keyword)
    top = semantic.json()["results"][0]
    assert top["similarity"] > 0.4
    assert top["trend"] == {"id": corpus["bank"].topic.trend.pk, "title": "Rates go up", "state": "viral", "score": 7.5}


def test_keyword_finds_an_exact_rare_token_that_semantic_search_misses(client, corpus):
    keyword = client.get("/api/v1/search/keyword", {"q": RARE})
    assert _ids(keyword) == [corpus["recall"].pk]
    hit = keyword.json()["results"][0]
    assert hit["match"] == "fulltext"
    assert f"[[{RARE.lower()}]]" in hit["snippet"].lower()
    assert corpus["recall"].pk not in _ids(client.get("/api/v1/search/semantic", {"q": RARE}))


def test_hybrid_finds_both_and_says_each_results_ranks(client, corpus):
    paraphrase = client.get("/api/v1/search/", {"q": PARAPHRASE}).json()
    rare = client.get("/api/v1/search/", {"q": RARE}).json()
    assert paraphrase["mode"] == "hybrid" and paraphrase["semantic"] is True
    assert paraphrase["results"][0]["id"] == corpus["bank"].pk
    assert paraphrase["results"][0]["ranks"] == {"semantic": 1, "keyword": None}
    assert rare["results"][0]["id"] == corpus["recall"].pk
    assert rare["results"][0]["ranks"] == {"semantic": None, "keyword": 1}
    assert rare["results"][0]["score"] == pytest.approx(1 / 61, abs=1e-6)


def test_hybrid_fusion_puts_an_item_both_lists_rank_first(client, corpus):
    hit = client.get("/api/v1/search/", {"q": "interest rates inflation"}).json()["results"][0]
    assert hit["id"] == corpus["bank"].pk
    assert hit["ranks"] == {"semantic": 1, "keyword": 1}
    assert hit["score"] == pytest.approx(2 / 61, abs=1e-6)


def test_mode_switches_between_searches(client, corpus):
    assert client.get("/api/v1/search/", {"q": RARE, "mode": "keyword"}).json()["mode"] == "keyword"
    semantic = client.get("/api/v1/search/", {"q": PARAPHRASE, "mode": "semantic"}).json()
    assert semantic["mode"] == "semantic" and "ranks" not in semantic["results"][0]


def test_a_misspelled_word_is_found_through_trigrams(client, corpus):
    response = client.get("/api/v1/search/keyword", {"q": "smartfone"})
    assert _ids(response) == [corpus["phone"].pk]
    assert response.json()["results"][0]["match"] == "trigram"


def test_new_titles_join_the_trigram_lexicon(client, corpus, source):
    assert _ids(client.get("/api/v1/search/keyword", {"q": "volcanoe"})) == []
    item = Item.objects.create(source=source, external_id="v", title="Volcano erupts in Iceland", published_at=T0)
    assert _ids(client.get("/api/v1/search/keyword", {"q": "volcanoe"})) == [item.pk]


def test_filters_apply_to_every_mode(client, corpus, source):
    other = Source.objects.create(name="other", kind="file")
    Item.objects.filter(pk=corpus["bank"].pk).update(source=other, language="de")
    for mode in ("semantic", "keyword", "hybrid"):
        q = PARAPHRASE if mode != "keyword" else "interest rates"
        assert corpus["bank"].pk in _ids(client.get("/api/v1/search/", {"q": q, "mode": mode, "source": "other"}))
        assert corpus["bank"].pk not in _ids(client.get("/api/v1/search/", {"q": q, "mode": mode, "source": "wire"}))
        assert corpus["bank"].pk not in _ids(client.get("/api/v1/search/", {"q": q, "mode": mode, "language": "en"}))
    window = {"since": (T0 + timedelta(hours=1)).isoformat(), "until": (T0 + timedelta(hours=3)).isoformat()}
    found = _ids(client.get("/api/v1/search/keyword", {"q": ANY_OF_THREE, **window}))
    assert set(found) == {corpus["floods"].pk, corpus["phone"].pk}
    topic = _ids(client.get("/api/v1/search/semantic", {"q": PARAPHRASE, "topic": corpus["bank"].topic_id}))
    assert topic == [corpus["bank"].pk]


def test_duplicates_are_left_out(client, corpus, source):
    copy = Item.objects.create(
        source=source, external_id="copy", title=corpus["bank"].title, duplicate_of=corpus["bank"], published_at=T0
    )
    assert copy.pk not in _ids(client.get("/api/v1/search/keyword", {"q": "interest rates"}))


@pytest.mark.django_db
def test_a_selective_filter_still_fills_the_hnsw_result(source):
    """Iterative index scans: 3 of 600 items in the time window, all far from the query, are still found."""
    query = unit_vector(0)
    inside = T0 + timedelta(days=30)
    rows = [
        Item(
            source=source,
            external_id=f"n{n}",
            title=f"near {n}",
            embedding=unit_vector(0, noise=0.02, seed=n),
            published_at=T0 + timedelta(minutes=n),
        )
        for n in range(600)
    ]
    rows += [
        Item(source=source, external_id=f"f{n}", title="far", embedding=unit_vector(5 + n), published_at=inside)
        for n in range(3)
    ]
    Item.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE trends_item")
    filters = SearchFilters(since=inside - timedelta(minutes=1))
    sql, params = semantic_sql(filters)

    def nearest(iterative_scan: str) -> tuple[str, list]:
        with (
            override_settings(SEARCH_HNSW_ITERATIVE_SCAN=iterative_scan),
            transaction.atomic(),
            vector_cursor() as cursor,
        ):
            hnsw_session_configure(cursor)
            # A table this small is cheaper to sort than to walk the index: make the planner walk it.
            cursor.execute("SET LOCAL enable_sort = off")
            arguments = semantic_params(vector=query, filter_params=params, limit=10, max_distance=2.0)
            cursor.execute("EXPLAIN " + sql, arguments)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute(sql, arguments)
            return plan, cursor.fetchall()

    plan, found = nearest("relaxed_order")
    assert "item_embedding_hnsw" in plan
    assert len(found) == 3
    assert len(nearest("off")[1]) < 3  # one scan of ef_search candidates, all outside the window


def test_the_query_embedding_is_cached_and_reused(client, corpus):
    key = query_embedding_cache_key(PARAPHRASE)
    assert key.startswith("search:embedding:")
    assert cache.get(key) is None
    client.get("/api/v1/search/semantic", {"q": PARAPHRASE})
    assert np.frombuffer(cache.get(key), dtype=np.float32).shape == texts_embed(["x"]).shape[1:]
    # The same text, differently spaced, hits the same entry; planting the moon headline's vector there
    # shows the second query used the cached vector instead of embedding the text again.
    assert query_embedding_cache_key(f"  {PARAPHRASE.replace(' ', '   ')} ") == key
    cache.set(key, np.asarray(corpus["moon"].embedding, dtype=np.float32).tobytes())
    assert _ids(client.get("/api/v1/search/semantic", {"q": PARAPHRASE}))[0] == corpus["moon"].pk


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "required"),
        ({"q": ""}, "blank"),
        ({"q": "   "}, "blank"),
        ({"q": "x" * 501}, "500 characters"),
        ({"q": "bad\x07bell"}, "control characters (U+0007)"),
        ({"q": "nul\x00"}, "Null characters"),
        ({"q": "?!"}, "letter or digit"),
        ({"q": "ok", "limit": "0"}, "greater than or equal to 1"),
        ({"q": "ok", "limit": "101"}, "less than or equal to 100"),
        ({"q": "ok", "limit": "ten"}, "valid integer"),
        ({"q": "ok", "source": "nope"}, "Unknown source 'nope'"),
        ({"q": "ok", "category": "nope"}, "Unknown category 'nope'"),
        ({"q": "ok", "since": "yesterday"}, "Datetime has wrong format"),
        ({"q": "ok", "since": "2026-03-02T00:00Z", "until": "2026-03-01T00:00Z"}, "later than"),
        ({"q": "ok", "topic": "-3"}, "greater than or equal to 1"),
        ({"q": "ok", "topic": "99999999999999999999"}, "less than or equal to"),
        ({"q": "ok", "since": "0001-01-01T00:00:00+01:00"}, "out of range"),
        ({"q": "ok", "language": "english!"}, "pattern"),
        ({"q": "ok", "mode": "fuzzy"}, "not a valid choice"),
    ],
)
def test_invalid_input_is_a_400_with_a_message(client, db, params, message):
    response = client.get("/api/v1/search/", params)
    assert response.status_code == 400
    assert message.lower() in response.content.decode().lower()


@pytest.mark.parametrize("url", ["/api/v1/search/semantic", "/api/v1/search/keyword"])
def test_each_search_refuses_an_over_long_query(client, db, url):
    response = client.get(url, {"q": "word " * 101})
    assert response.status_code == 400
    assert "500 characters" in response.content.decode()


def test_semantic_search_switched_off_is_a_503_and_hybrid_falls_back_to_keywords(client, corpus):
    Switch.objects.update_or_create(name="search.semantic", defaults={"active": False})
    for url, params in (("/api/v1/search/semantic", {}), ("/api/v1/search/", {"mode": "semantic"})):
        response = client.get(url, {"q": PARAPHRASE, **params})
        assert response.status_code == 503
        assert "switched off" in response.content.decode()
    hybrid = client.get("/api/v1/search/", {"q": "interest rates"}).json()
    assert hybrid["semantic"] is False
    assert hybrid["results"][0]["ranks"] == {"keyword": 1}
    assert client.get("/api/v1/search/keyword", {"q": "interest rates"}).status_code == 200


def test_limit_bounds_the_answer(client, corpus):
    assert len(_ids(client.get("/api/v1/search/keyword", {"q": ANY_OF_THREE}))) == 3
    assert len(_ids(client.get("/api/v1/search/keyword", {"q": ANY_OF_THREE, "limit": 2}))) == 2


def test_a_renamed_title_joins_the_trigram_lexicon(client, corpus):
    Item.objects.filter(pk=corpus["moon"].pk).update(title="Glacier retreat measured by satellites")
    assert _ids(client.get("/api/v1/search/keyword", {"q": "glacer"})) == [corpus["moon"].pk]


@pytest.mark.parametrize(
    "q", ["'", '"', "a & b | !c", "(((", "-rain", "rain:*", "<b>rain</b>", "x" * 500, "the", "o'neil", "rain -"]
)
def test_query_syntax_never_breaks_a_search(client, corpus, q):
    for mode in ("keyword", "semantic", "hybrid"):
        response = client.get("/api/v1/search/", {"q": q, "mode": mode})
        assert response.status_code in (200, 400), response.content
        assert response.status_code == 200 or "letter or digit" in response.content.decode()


def test_snippets_are_plain_text_with_markers(client, corpus, source):
    Item.objects.create(source=source, external_id="amp", title="Rain & wind: storm warning for O'Hare")
    hit = client.get("/api/v1/search/keyword", {"q": "warning"}).json()["results"][0]
    assert hit["snippet"] == "Rain & wind: storm [[warning]] for O'Hare"  # not HTML-escaped: the client escapes


def test_semantic_search_works_without_redis(corpus, caplog):
    dead_redis = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    with override_settings(CACHES=dead_redis):
        hits = items_semantic_search(query=PARAPHRASE, filters=SearchFilters(), limit=3)
    assert hits[0].item.pk == corpus["bank"].pk
    assert "cache unavailable" in caplog.text
