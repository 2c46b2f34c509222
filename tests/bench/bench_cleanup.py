"""Cleanup at scale: 1,000,000 items with embeddings, loaded with binary COPY into the real schema.

Prints, for ``manage.py cleanup`` run in a subprocess: wall time, peak RSS, and the p50/p95 of the admin's
trends list requested in a loop while it runs. Next to it, Django's plain ``QuerySet.delete()`` of the same
item rows, also in a subprocess. The ORM delete loads every row it deletes (vectors included) to emulate
``on_delete`` in Python, so it is compared on an identical 100,000-item data set, where both run, and the
ratio is per row (``BENCH_CLEANUP_ORM_ITEMS``). ``BENCH_CLEANUP_ITEMS`` sets the large run's size.

The throw-away server first gets ``max_wal_size`` 8GB and ``wal_compression`` pglz (``_server_tune``).
The item table's HNSW index is not built for the benchmark (building it over 1M vectors takes longer than
everything else here): a PostgreSQL DELETE never touches index entries (VACUUM removes them later), and
the embeddings step writes NULLs, which pgvector does not index. Every other index is in place.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import numpy as np

ITEMS = int(os.environ.get("BENCH_CLEANUP_ITEMS", 1_000_000))
ORM_ITEMS = int(os.environ.get("BENCH_CLEANUP_ORM_ITEMS", 100_000))
TOPICS_PER_MILLION = 10_000
DAYS = 30
CHUNK = 50_000
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
OTHER_MODEL = "old-model-v0-xyz"  # same length as the current name: fixed-width COPY rows

COLUMNS = [
    *("id", "source_id", "external_id", "url", "canonical_url", "title", "text", "author", "published_at"),
    *("collected_at", "updated_at", "language", "language_hint", "metrics", "content_hash", "embedding"),
    *("embedding_model", "topic_id", "processed_at"),
]


def _row_dtype(model_name_length: int) -> np.dtype:
    """One binary COPY tuple with fixed widths: every row is a record, a chunk is one ``tobytes()``."""
    fields = [("count", ">i2")]
    layout = {
        "id": ">i8",
        "source_id": ">i8",
        "external_id": "S10",
        "url": None,
        "canonical_url": None,
        "title": "S20",
        "text": None,
        "author": None,
        "published_at": ">i8",
        "collected_at": ">i8",
        "updated_at": ">i8",
        "language": "S2",
        "language_hint": None,
        "metrics": "S3",  # jsonb binary: version byte 1, then '{}'
        "content_hash": None,
        "embedding": [("dim", ">i2"), ("unused", ">i2"), ("values", ">f4", (384,))],
        "embedding_model": f"S{model_name_length}",
        "topic_id": ">i8",
        "processed_at": ">i8",
    }
    for name in COLUMNS:
        fields.append((f"{name}_len", ">i4"))
        if layout[name] is not None:
            fields.append((name, layout[name]))
    return np.dtype(fields)


def _micros(when: datetime) -> int:
    return int((when - PG_EPOCH).total_seconds() * 1_000_000)


def items_copy(*, count: int, source_id: int, first_topic: int, topics: int, now: datetime, seed: int = 0) -> float:
    """COPY ``count`` items (ids 1..count) into trends_item; seconds taken. Deterministic for a seed:
    90 % published 31–60 days ago, the rest in the last 10 days; 2 % with another model's embedding."""
    from django.db import connection

    from apps.trends.embeddings import embedding_model_name

    current = embedding_model_name()
    assert len(current) == len(OTHER_MODEL)
    dtype = _row_dtype(len(current))
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    sql = f"COPY trends_item ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(header)
        for start in range(0, count, CHUNK):
            n = min(CHUNK, count - start)
            ids = np.arange(start + 1, start + n + 1, dtype=np.int64)
            rows = np.zeros(n, dtype=dtype)
            rows["count"] = len(COLUMNS)
            for name in COLUMNS:
                rows[f"{name}_len"] = dtype[name].itemsize if name in dtype.names else 0
            rows["id"], rows["source_id"] = ids, source_id
            rows["external_id"] = np.char.mod("e%09d", ids).astype("S10")
            rows["title"] = np.char.mod("Bench item %09d", ids).astype("S20")
            old = rng.random(n) < 0.9
            age_days = np.where(old, rng.uniform(DAYS + 1, 2 * DAYS, n), rng.uniform(0, 10, n))
            published = _micros(now) - (age_days * 86_400e6).astype(np.int64)
            rows["published_at"], rows["collected_at"], rows["updated_at"] = published, published, published
            rows["processed_at"] = published
            rows["language"], rows["metrics"] = b"en", b"\x01{}"
            vectors = rng.standard_normal((n, 384), dtype=np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            rows["embedding"]["dim"], rows["embedding"]["values"] = 384, vectors
            rows["embedding_model"] = np.where(rng.random(n) < 0.02, OTHER_MODEL, current).astype(f"S{len(current)}")
            # Recent items go to even topics only: odd topics of dead trends (or none) end up empty.
            rows["topic_id"] = np.where(old, first_topic + ids % topics, first_topic + (ids % (topics // 2)) * 2)
            copy.write(rows.tobytes())
        copy.write((-1).to_bytes(2, "big", signed=True))
    return time.perf_counter() - started


def dataset_load(*, count: int, seed: int = 0) -> dict:
    """Empty the trends tables, then topics, trends (5 % of topics active, 15 % dead or declining and old),
    snapshots, items, duplicates; the item indexes are rebuilt after the COPY (all but HNSW)."""
    from django.db import connection
    from django.utils import timezone

    from apps.plugins.models import Source

    now = timezone.now()
    source, _ = Source.objects.get_or_create(name="bench-cleanup", defaults={"kind": "file", "enabled": False})
    topics = max(count * TOPICS_PER_MILLION // 1_000_000, 100)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE trends_item, trends_topic, trends_trend, trends_trendsnapshot RESTART IDENTITY CASCADE"
        )
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'trends_item' AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = 'trends_item'::regclass)"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(
            "INSERT INTO trends_topic (id, created_at, updated_at, item_count, source_count, keywords, is_active, "
            "last_item_at) SELECT g, %s, %s, 0, 1, '[]', true, %s FROM generate_series(1, %s) g",
            [now, now, now, topics],
        )
        cursor.execute(
            "INSERT INTO trends_trend (topic_id, title, summary, key_points, state, score, velocity, acceleration, "
            "peak_score, first_detected_at, state_changed_at, updated_at) "
            "SELECT g, 'Trend ' || g, '', '[]', "
            "CASE WHEN g %% 20 = 0 THEN (ARRAY['emerging','viral','sustained'])[g %% 3 + 1] "
            "ELSE (ARRAY['dead','declining'])[g %% 2 + 1] END, g %% 100, 1, 0, 100, %s, %s, %s "
            "FROM generate_series(1, %s) g WHERE g %% 20 = 0 OR g %% 20 < 4",
            [now - timedelta(days=90), now - timedelta(days=60), now - timedelta(days=45), topics],
        )
        cursor.execute(
            "INSERT INTO trends_trendsnapshot (trend_id, taken_at, score, item_count, velocity) "
            "SELECT t.id, %s - s * interval '1 hour', 1, 1, 1 FROM trends_trend t, generate_series(1, 24) s",
            [now - timedelta(days=45)],
        )
    copy_seconds = items_copy(count=count, source_id=source.pk, first_topic=1, topics=topics, now=now, seed=seed)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('trends_item', 'id'), %s)", [count])
        cursor.execute("UPDATE trends_item SET duplicate_of_id = id - 1 WHERE id % 50 = 0")
        cursor.execute("UPDATE trends_topic SET representative_item_id = id WHERE id <= %s", [count])
        for _name, definition in indexes:
            if "hnsw" not in definition:
                cursor.execute(definition)
        cursor.execute("VACUUM (ANALYZE) trends_item")
        cursor.execute("ANALYZE")
    return {"copy_seconds": copy_seconds, "index_seconds": time.perf_counter() - started, "source_id": source.pk}


# Started from this (large) process, a child's ru_maxrss would start at this process's size (Linux carries
# the parent's high-water mark over fork + exec); a small launcher forks the measured command instead.
_LAUNCHER = (
    "import os, sys; pid = os.fork()\n"
    "if pid == 0: os.execvp(sys.argv[1], sys.argv[1:])\n"
    "_, status, usage = os.wait4(pid, 0); print(usage.ru_maxrss, file=sys.stderr)\n"
    "sys.exit(os.waitstatus_to_exitcode(status))"
)


def _child(args: list[str]) -> tuple[float, float, str]:
    """Run ``args`` in a subprocess: wall seconds, its peak RSS in MB, stdout."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, *args], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return wall, int(done.stderr.strip().splitlines()[-1]) / 1024, done.stdout


def _trends_list() -> None:
    """What a trends list page asks the database: the top 50 live trends by score, with their category."""
    from apps.trends.models import Trend

    list(Trend.objects.exclude(state="dead").select_related("category").order_by("-score")[:50])


def _latencies_during(run, path: str) -> tuple[dict[str, list[float]], object]:
    """While ``run()`` runs: the trends list query, and the admin's trends changelist through the Django test
    client (logged-in staff; it renders 100 rows with sparklines), each in a loop in its own thread."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    latencies: dict[str, list[float]] = {"list": [], "admin": []}
    stop = threading.Event()
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    def admin_page() -> None:
        response = client.get(path)
        assert response.status_code == 200, response.status_code

    def loop(name: str, request) -> None:
        try:
            while not stop.is_set():
                started = time.perf_counter()
                request()
                latencies[name].append(time.perf_counter() - started)
                time.sleep(0.25)  # a few readers a second, not a load test
        finally:
            connection.close()

    threads = [
        threading.Thread(target=loop, args=("list", _trends_list), daemon=True),
        threading.Thread(target=loop, args=("admin", admin_page), daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        result = run()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return latencies, result


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) >= 2 else float("nan")


def _seconds_taken(out: str) -> float:
    """The seconds in the cleanup command's last line: "Done! 1,234 rows done (...) in 5.2s." """
    return float(out.strip().splitlines()[-1].rsplit(" in ", 1)[1].rstrip("s."))


def _orm_delete() -> None:
    """Child process: Django's plain QuerySet.delete() of the rows the cleanup's item rule selects."""
    import django

    django.setup()
    from django.utils import timezone

    from apps.trends.cleanup import _items_expired

    started = time.perf_counter()
    deleted, _ = _items_expired(timezone.now() - timedelta(days=DAYS)).delete()
    print(f"{deleted} {time.perf_counter() - started:.3f}")


def _server_tune() -> str:
    """WAL settings a server holding this much data would have (the throw-away server starts with PostgreSQL's
    defaults: max_wal_size 1GB forces checkpoints within the run, each adding full-page images to the WAL).
    Both the cleanup and the ORM delete run under them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ALTER SYSTEM SET max_wal_size = '8GB'")
        cursor.execute("ALTER SYSTEM SET wal_compression = 'pglz'")
        cursor.execute("SELECT pg_reload_conf()")
        cursor.execute("SELECT current_setting('max_wal_size'), current_setting('wal_compression')")
        return "max_wal_size {}, wal_compression {}".format(*cursor.fetchone())


def main() -> None:
    from apps.trends.models import Item

    print(f"server: {_server_tune()}")

    python, manage = sys.executable, os.path.join(os.path.dirname(__file__), "..", "..", "manage.py")
    print(f"same {ORM_ITEMS:,} items, items rule only: cleanup vs Django QuerySet.delete()")
    load = dataset_load(count=ORM_ITEMS)
    print(f"  loaded in {load['copy_seconds']:.1f}s COPY + {load['index_seconds']:.1f}s indexes")
    cleanup_wall, cleanup_rss, out = _child([python, manage, "cleanup", "--days", str(DAYS), "--only", "items"])
    cleanup_work = _seconds_taken(out)
    small_deleted = ORM_ITEMS - Item.objects.count()
    dataset_load(count=ORM_ITEMS)
    orm_wall, orm_rss, out = _child([python, "-m", "tests.bench.bench_cleanup", "orm-delete"])
    orm_deleted, orm_work = int(out.split()[0]), float(out.split()[1])
    assert orm_deleted == small_deleted, (orm_deleted, small_deleted)
    print(
        f"  cleanup:  {cleanup_wall:6.1f}s wall ({cleanup_work:.1f}s deleting)  peak RSS {cleanup_rss:5.0f} MB  "
        f"({small_deleted:,} items deleted)"
    )
    print(
        f"  ORM:      {orm_wall:6.1f}s wall ({orm_work:.1f}s deleting)  peak RSS {orm_rss:5.0f} MB  "
        f"({orm_deleted:,} items deleted)"
    )
    print(
        f"  cleanup is {orm_wall / cleanup_wall:.1f}x faster than QuerySet.delete() on the same rows "
        f"({orm_work / cleanup_work:.1f}x without process start-up)"
    )

    print(f"\n{ITEMS:,} items, every rule: manage.py cleanup --days {DAYS}")
    load = dataset_load(count=ITEMS)
    print(
        f"  loaded in {load['copy_seconds']:.1f}s COPY ({ITEMS / load['copy_seconds']:,.0f} rows/s) + "
        f"{load['index_seconds']:.1f}s indexes"
    )
    path = "/admin/trends/trend/"
    idle, _ = _latencies_during(lambda: time.sleep(5), path)
    latencies, (wall, rss, out) = _latencies_during(
        lambda: _child([python, manage, "cleanup", "--days", str(DAYS)]), path
    )
    summary = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    deleted = int(summary["items_deleted"].replace(",", ""))
    print("  " + ", ".join(f"{k} {v}" for k, v in summary.items() if k.endswith(("_deleted", "_cleaned"))))
    print(
        f"  cleanup:  {wall:6.1f}s wall ({_seconds_taken(out):.1f}s in the command)  peak RSS {rss:5.0f} MB  "
        f"({deleted / wall:,.0f} items/s; target <= 60 s, < 300 MB)"
    )
    per_row_orm, per_row_cleanup = orm_wall / orm_deleted, cleanup_wall / small_deleted
    print(
        f"  ORM delete at its per-row rate would take {per_row_orm * deleted:,.0f}s "
        f"(cleanup {per_row_orm / per_row_cleanup:.1f}x faster per row on the same {ORM_ITEMS:,}; target >= 10x)"
    )
    print(f"  per row: {per_row_orm / (wall / deleted):.1f}x faster than the ORM's rate on {ORM_ITEMS:,} rows")
    for name, label in (("list", "trends list query (top 50)"), ("admin", f"admin changelist {path}")):
        during = latencies[name]
        print(
            f"  {label} during cleanup: {len(during)} requests, p50 {_p(during, 50):.0f} ms, "
            f"p95 {_p(during, 95):.0f} ms (idle: p95 {_p(idle[name], 95):.0f} ms); target p95 < 200 ms"
        )


if __name__ == "__main__" and sys.argv[1:] == ["orm-delete"]:
    _orm_delete()
