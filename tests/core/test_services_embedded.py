"""The embedded PostgreSQL has pgvector; the embedded Redis is a safe broker and a working cache."""

import time

import pytest
from django.core.cache import cache
from django.db import connection, models
from django_redis import get_redis_connection
from pgvector.django import CosineDistance, HnswIndex, VectorField

from trendsite import embedded

pytestmark = pytest.mark.django_db


class Probe(models.Model):
    embedding = VectorField(dimensions=384)

    class Meta:
        app_label = "core"
        indexes = [
            HnswIndex(name="probe_embedding_hnsw", fields=["embedding"], opclasses=["vector_cosine_ops"]),
        ]


@pytest.fixture
def probe_table():
    with connection.schema_editor() as editor:
        editor.create_model(Probe)
    yield Probe
    with connection.schema_editor() as editor:
        editor.delete_model(Probe)


def _unit(index: int, dims: int = 384) -> list[float]:
    vector = [0.0] * dims
    vector[index] = 1.0
    return vector


def test_vector_extension_is_installed_at_0_8_5():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        (version,) = cursor.fetchone()
    assert version == "0.8.5"


def test_vector_field_round_trips_384_dimensions(probe_table):
    values = [i / 1000 for i in range(384)]
    row = probe_table.objects.create(embedding=values)
    loaded = probe_table.objects.get(pk=row.pk).embedding
    assert len(loaded) == 384
    assert loaded == pytest.approx(values, abs=1e-6)


def test_hnsw_cosine_query_returns_nearest_row(probe_table):
    rows = [probe_table.objects.create(embedding=_unit(i)) for i in range(20)]
    query = _unit(7)
    query[8] = 0.3  # closest to row 7, second closest to row 8
    nearest = probe_table.objects.order_by(CosineDistance("embedding", query))[:2]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # small table: make the planner show the index
        plan = nearest.explain()
        assert [n.pk for n in nearest] == [rows[7].pk, rows[8].pk]
    assert "probe_embedding_hnsw" in plan


def test_cache_set_get_and_expire():
    cache.set("greeting", {"hello": "world"}, timeout=1)
    assert cache.get("greeting") == {"hello": "world"}
    assert 0 < cache.ttl("greeting") <= 1
    time.sleep(1.2)
    assert cache.get("greeting") is None


def test_embedded_broker_never_evicts_and_the_cache_is_bounded_apart_from_it(settings):
    import redis

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    assert broker.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    cache_server = get_redis_connection("default")
    assert cache_server.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    assert int(cache_server.config_get("maxmemory")["maxmemory"]) == 128 * 1024 * 1024
    # Two instances: filling the cache cannot take memory from the broker.
    assert broker.info("server")["tcp_port"] != cache_server.info("server")["tcp_port"]


def test_throwaway_services_stop_and_leave_no_process():
    with embedded.throwaway() as services:
        data_dir = embedded.Path(services.data_dir)
        assert embedded.status(data_dir) == {"postgresql": True, "redis-broker": True, "redis-cache": True}
        assert embedded.discover(data_dir) == services
    assert embedded.status(data_dir) == {"postgresql": False, "redis-broker": False, "redis-cache": False}
    assert not data_dir.exists()


def test_the_cache_role_evicts_old_query_embeddings_instead_of_refusing_writes(settings):
    """The cache's Redis arguments (embedded, compose) at a 1 MB bound: 4 MB of query embeddings all go in,
    memory stays under the bound, and the newest entries are the ones kept."""
    from django.core.cache import caches

    from tests.redis_servers import redis_server

    role_args = [a if a != embedded.CACHE_MAXMEMORY else "1mb" for a in embedded.REDIS_ROLES["cache"][1]]
    with redis_server(*role_args) as (url, _):
        settings.CACHES = {**settings.CACHES, "bounded": {**settings.CACHES["default"], "LOCATION": f"{url}/0"}}
        bounded = caches["bounded"]
        entry = bytes(384 * 4)  # one query embedding: 384 float32, the size query_embed stores
        for n in range(4 * 1024 * 1024 // len(entry)):
            bounded.set(f"search:emb:{n}", entry, timeout=3600)  # never raises: old keys make room
        server = get_redis_connection("bounded")
        assert server.info("memory")["used_memory"] <= 1024 * 1024 * 1.05
        assert bounded.get(f"search:emb:{n}") == entry and bounded.get("search:emb:0") is None
