"""Embedding spread over Celery workers (issue 18, item 2): 1 worker, then 2, then 2 with one killed.

20,000 items (the UCI dev headlines repeated with varied ids and times) are embedded ahead by real Celery
worker processes (``-Q embed -P solo``, one torch thread each) fed by ``embed_batches_dispatch``; then one
pipeline run clusters them (the serial stage). Printed: items/s per worker count and the ratio, the serial
stage's share of the wall time, and counts proving no item was embedded twice or left without a vector,
also when one of two workers is killed with SIGKILL mid-batch and restarted (its claimed batch is taken
again once the claim expires and the dispatcher runs, as the beat does every minute).
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from tests.shared_data import UCI_DEV

ITEMS = int(os.environ.get("BENCH_SCALE_ITEMS", "20000"))
START = datetime(2014, 3, 10, tzinfo=UTC)
CLAIM_SECONDS = 15  # the kill phase's claim lease: short, so the lost batch is retaken within the bench


def _items_create() -> None:
    from apps.plugins.models import Source
    from apps.trends.models import Item

    with UCI_DEV.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    source, _ = Source.objects.get_or_create(name="scale", kind="file")
    step = timedelta(hours=48) / ITEMS
    Item.objects.bulk_create(
        [
            Item(
                source=source,
                external_id=f"{k}-{rows[k % len(rows)]['ID']}",
                # A copy number keeps repeated headlines distinct texts (and not exact duplicates).
                title=f"{rows[k % len(rows)]['TITLE']} ({k // len(rows) + 1})",
                url=rows[k % len(rows)]["URL"],
                published_at=START + k * step,
            )
            for k in range(ITEMS)
        ],
        batch_size=2000,
    )


def _reset_vectors() -> None:
    from django_celery_results.models import TaskResult

    from apps.trends.models import Item

    Item.objects.update(embedding=None, embedding_model="", embed_claim="", embed_claimed_at=None)
    TaskResult.objects.filter(task_name="apps.trends.tasks.embed_batch_task").delete()


def _worker(env: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "trendsite", "worker", "-Q", "embed", "-P", "solo"]
    return subprocess.Popen(
        [*command, "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _missing() -> int:
    from apps.trends.models import Item

    return Item.objects.filter(embedding__isnull=True).count()


def _stored_by_tasks() -> int:
    from django_celery_results.models import TaskResult

    results = TaskResult.objects.filter(task_name="apps.trends.tasks.embed_batch_task", status="SUCCESS")
    return sum(int(re.match(r'"(\d+) of', r.result).group(1)) for r in results.only("result"))


def _phase(workers: int, env: dict[str, str], kill: bool = False) -> float:
    """Embed every item with ``workers`` processes; returns items/s (from the first dispatch to the last vector)."""
    from django.test import override_settings

    from apps.trends.embed_ahead import embed_batches_dispatch

    _reset_vectors()
    env = {**env, "EMBED_CLAIM_SECONDS": str(CLAIM_SECONDS if kill else 600)}
    procs = [_worker(env) for _ in range(workers)]
    time.sleep(8)  # the workers load Django and the model before the clock starts
    started = time.perf_counter()
    with override_settings(EMBED_CLAIM_SECONDS=CLAIM_SECONDS if kill else 600):
        embed_batches_dispatch()
        killed_at = None
        deadline = time.perf_counter() + 1800
        while _missing() and time.perf_counter() < deadline:
            time.sleep(1)
            if kill and killed_at is None and _missing() < ITEMS * 0.7:
                procs[0].send_signal(signal.SIGKILL)
                procs[0].wait()
                killed_at = time.perf_counter()
                print(f"  killed worker 1 (SIGKILL) with {_missing()} items left; restarting it", flush=True)
                procs[0] = _worker(env)
            if kill and killed_at and time.perf_counter() - killed_at > CLAIM_SECONDS + 2:
                embed_batches_dispatch()  # what the beat's minute schedule does: retake the expired claim
                killed_at = float("inf")
    seconds = time.perf_counter() - started
    time.sleep(2)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)
    stored = _stored_by_tasks()
    print(
        f"  {workers} worker(s){' with one killed' if kill else ''}: {ITEMS / seconds:.0f} items/s "
        f"({seconds:.1f}s); vectors written {stored} for {ITEMS} items (twice: {max(stored - ITEMS, 0)}), "
        f"left without a vector {_missing()}",
        flush=True,
    )
    return ITEMS / seconds


def main() -> None:
    if not UCI_DEV.exists():
        print(f"skipped: {UCI_DEV} is not here")
        return
    from django.db import connection

    from apps.trends.models import Item
    from apps.trends.pipeline.describe import categories_prototypes
    from apps.trends.pipeline.runner import pipeline_run

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE trends_item, trends_topic, trends_trend, trends_pipelinerun, core_event CASCADE")
    _items_create()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "EMBED_AHEAD": "1"}
    print(f"{ITEMS} items; workers: celery -Q embed -P solo, one torch thread each", flush=True)
    one = _phase(1, env)
    two = _phase(2, env)
    print(f"  ratio 2 workers / 1: {two / one:.2f}x", flush=True)
    _phase(2, env, kill=True)
    # Category prototypes are embedded once per database (then stored); in a deployment whose vectors all come
    # from embed workers that one-off model load is not part of the per-run serial stage, so it is done first.
    started = time.perf_counter()
    categories_prototypes()
    print(f"  category prototypes embedded once, before timing: {time.perf_counter() - started:.1f}s", flush=True)
    started = time.perf_counter()
    run = pipeline_run(workflow="full", as_of=START + timedelta(hours=48))
    serial = time.perf_counter() - started
    embed_seconds = ITEMS / two
    print(
        f"  clustering stage (one pipeline run over the stored vectors): {serial:.1f}s, "
        f"embedded ahead {run.stats['counts'].get('embedded_ahead', 0)}, "
        f"{Item.objects.filter(topic__isnull=False).count()} items with a topic; serial share of the wall time "
        f"with 2 workers {serial / (serial + embed_seconds):.0%}",
        flush=True,
    )
    stages = run.stats.get("stages", {})
    print("  stage seconds: " + ", ".join(f"{name} {v['seconds']:.1f}" for name, v in stages.items()), flush=True)
