"""Embedding ahead on the embed queue: exactly once per item, safe under redelivery, used by the pipeline."""

import io
import re
import time
from datetime import timedelta

import numpy as np
import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_celery_results.models import TaskResult

from apps.trends.embed_ahead import embed_batches_dispatch, items_embed, items_embed_pending
from apps.trends.embeddings import texts_embed
from apps.trends.models import Item, PipelineRun
from trendsite.celery import app

from .conftest import T0

TITLES = [
    "Calgary floods force 75,000 from their homes",
    "  Manila   floods submerge half the capital  ",
    "GM recalls 1.6 million cars over ignition switches",
]


@pytest.fixture
def items(make_item):
    return [make_item(title, minutes=k) for k, title in enumerate(TITLES)]


@pytest.mark.django_db
def test_a_batch_stores_the_vector_of_the_text_the_pipeline_embeds(items):
    result = items_embed(item_ids=[i.pk for i in items], claim="task-1")
    assert result == {"claimed": 3, "stored": 3}
    stored = {i.pk: i for i in Item.objects.filter(pk__in=[i.pk for i in items])}
    expected = texts_embed([" ".join(t.split()) for t in TITLES])  # normalised: spaces collapsed
    for item, vector in zip(items, expected, strict=True):
        assert np.allclose(stored[item.pk].embedding, vector, atol=1e-5)
        assert stored[item.pk].embedding_model and stored[item.pk].embed_claim == ""
        assert stored[item.pk].processed_at is None
    assert items_embed_pending() == []
    assert items_embed(item_ids=[i.pk for i in items], claim="task-1") == {"claimed": 0, "stored": 0}


@pytest.mark.django_db
def test_a_live_claim_is_not_taken_but_a_redelivery_and_a_stale_claim_are(items):
    ids = [i.pk for i in items]
    Item.objects.filter(pk__in=ids).update(embed_claim="task-1", embed_claimed_at=timezone.now())
    assert items_embed(item_ids=ids, claim="task-2") == {"claimed": 0, "stored": 0}
    assert items_embed_pending() == []
    assert items_embed(item_ids=ids[:1], claim="task-1")["stored"] == 1  # the same task, redelivered
    with override_settings(EMBED_CLAIM_SECONDS=60):
        Item.objects.filter(pk__in=ids[1:]).update(embed_claimed_at=timezone.now() - timedelta(minutes=5))
        assert items_embed_pending() == ids[1:]
        assert items_embed(item_ids=ids, claim="task-3") == {"claimed": 2, "stored": 2}


@pytest.mark.django_db
def test_a_late_worker_never_overwrites_a_processed_item(items):
    first = items[0]
    Item.objects.filter(pk=first.pk).update(processed_at=timezone.now())
    assert items_embed(item_ids=[first.pk], claim="late") == {"claimed": 0, "stored": 0}
    assert Item.objects.get(pk=first.pk).embedding is None


@pytest.mark.django_db
def test_the_pipeline_uses_stored_vectors_and_embeds_only_the_stragglers(items):
    items_embed(item_ids=[items[0].pk, items[1].pk], claim="task-1")
    call_command("run_pipeline", "--as-of", (T0 + timedelta(hours=1)).isoformat(), stdout=io.StringIO())
    run = PipelineRun.objects.latest("started_at")
    assert run.stats["counts"]["embedded_ahead"] == 2
    assert Item.objects.filter(pk__in=[i.pk for i in items], topic__isnull=False).count() == 3


@pytest.mark.django_db(transaction=True)
def test_batches_dispatched_twice_to_a_real_embed_worker_are_stored_once(make_item):
    created = [make_item(f"Headline number {k} about story {k % 4}", minutes=k) for k in range(7)]
    with (
        override_settings(EMBED_BATCH_SIZE=3),
        start_worker(app, pool="solo", perform_ping_check=False, queues=["embed"], shutdown_timeout=20),
    ):
        assert embed_batches_dispatch() == 3
        embed_batches_dispatch()  # sent again before the worker claimed them: an operator's or beat's repeat
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            Item.objects.filter(embedding__isnull=True).exists()
            or TaskResult.objects.filter(task_name="apps.trends.tasks.embed_batch_task", status="PENDING").exists()
        ):
            time.sleep(0.2)
        time.sleep(1)  # let the repeated batches finish too
    assert Item.objects.filter(pk__in=[i.pk for i in created], embedding__isnull=False).count() == 7
    assert not Item.objects.exclude(embed_claim="").exists()
    results = TaskResult.objects.filter(task_name="apps.trends.tasks.embed_batch_task", status="SUCCESS")
    stored = sum(int(re.match(r'"(\d+) of', r.result).group(1)) for r in results)
    assert stored == 7  # every vector written once, however often its batch was sent


@override_settings(EMBED_AHEAD=False)
@pytest.mark.django_db
def test_with_embedding_ahead_off_nothing_is_dispatched(items):
    assert embed_batches_dispatch() == 0


@pytest.mark.django_db
def test_a_duplicate_in_a_later_run_takes_its_stored_originals_vector(make_item):
    # The original's vector is read back from the database (in binary) for its duplicate: a planted vector no
    # encoding of the headline could give proves it was reused, not re-encoded.
    original = make_item("Calgary floods force 75,000 from their homes", url="https://example.com/calgary")
    call_command("run_pipeline", "--as-of", (T0 + timedelta(hours=1)).isoformat(), stdout=io.StringIO())
    planted = np.zeros(384, dtype=np.float32)
    planted[7] = 1.0
    Item.objects.filter(pk=original.pk).update(embedding=planted)
    duplicate = make_item("Calgary floods force 75,000 from their homes", minutes=5, url="https://example.com/calgary")
    call_command("run_pipeline", "--as-of", (T0 + timedelta(hours=2)).isoformat(), stdout=io.StringIO())

    duplicate.refresh_from_db()
    assert duplicate.duplicate_of_id == original.pk
    assert np.array_equal(np.asarray(duplicate.embedding, dtype=np.float32), planted)
