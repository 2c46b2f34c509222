"""The topic stage's in-memory neighbour search (pipeline/placed.py) finds what pgvector's exact scan finds."""

from datetime import timedelta

import numpy as np
import pytest
from django.conf import settings

from apps.trends.models import Topic
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.placed import placed_rows
from apps.trends.pipeline.topics import _nearest_members
from apps.trends.vectors import vector_cursor

from .conftest import T0

# The query topic_assign ran per item before, with the index turned off: the exact answer.
_EXACT_SQL = """
SELECT n.id, n.topic_id, 1 - (n.embedding <=> %s), n.language
FROM trends_item AS n
WHERE n.duplicate_of_id IS NULL AND n.topic_id IS NOT NULL AND n.embedding IS NOT NULL
    AND coalesce(n.published_at, n.collected_at) >= %s
ORDER BY n.embedding <=> %s
LIMIT %s
"""


def _exact(vector, since, limit):
    with vector_cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(_EXACT_SQL, [vector, since, vector, limit])
        return [(pk, topic, float(sim), language) for pk, topic, sim, language in cursor.fetchall()]


def _random_unit(rng):
    vector = rng.normal(size=384).astype(np.float32)
    return vector / np.linalg.norm(vector)


@pytest.mark.django_db
def test_in_memory_neighbours_equal_the_exact_pgvector_scan_across_batches(make_item):
    rng = np.random.default_rng(7)
    topics = [Topic.objects.create(item_count=0) for _ in range(4)]
    window = timedelta(hours=settings.PIPELINE_TOPIC_ACTIVE_HOURS)
    stored = []
    # Placed originals over six days (some fall out of the window), plus rows the search must skip: items
    # embedded ahead but not placed, and duplicates.
    for k in range(80):
        item = make_item(f"p{k}", minutes=k * 110, embedding=_random_unit(rng), topic=topics[k % 4], language="en")
        stored.append(item)
    make_item("ahead", minutes=9000, embedding=_random_unit(rng))
    make_item("dup", minutes=9000, embedding=_random_unit(rng), topic=topics[0], duplicate_of=stored[0])
    ctx = StageContext(as_of=T0)
    limit = settings.PIPELINE_TOPIC_NEIGHBOURS
    for batch_start in (8000, 8600):
        batch = [
            make_item(f"q{batch_start}-{k}", minutes=batch_start + k, embedding=_random_unit(rng)) for k in range(12)
        ]
        found = _nearest_members(batch, ctx)
        for item, neighbours in zip(batch, found, strict=True):
            expected = _exact(item.embedding, item.published_at - window, limit)
            assert [(pk, topic, language) for pk, topic, _, language in neighbours] == [
                (pk, topic, language) for pk, topic, _, language in expected
            ]
            assert np.allclose([n[2] for n in neighbours], [e[2] for e in expected], atol=1e-6)
        # The batch is placed between the two searches: the second must see it, as the database does.
        for item in batch[:6]:
            item.topic = topics[1]
            item.save()
        ctx.placed.add(placed_rows(batch[:6]))
