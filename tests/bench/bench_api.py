"""API under load: 100,000 items and 5,000 trends (binary COPY, tests/bench/api_data.py), gunicorn on a loopback
port, locust headless with 8 users against trends list, trend detail, keyword, semantic and hybrid search.

Two load runs: users with no pause (the server saturated: latency is queueing behind the other 7 users) and
users pausing 1 s on average (an analyst's pace). Prints requests/s and p50/p95/p99 per endpoint (targets:
list p95 < 50 ms, semantic p95 < 120 ms with the query embedding), the HNSW recall@10 against exact search
for the same queries and filters at several ef_search values (target ≥ 0.95), and what a cold first semantic
query costs in a fresh worker.
Sizes and duration: BENCH_API_ITEMS, BENCH_API_TRENDS, BENCH_API_SECONDS (45), BENCH_API_WORKERS (2).
"""

from __future__ import annotations

import csv
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
USERS = 8
EF_SEARCH_VALUES = (40, 100, 200, 400)
RECALL_QUERIES = 20
SERVICE_QUERIES = 20
THINK_SECONDS = (0.0, 1.0)  # users' mean pause between requests: saturation, then an analyst's pace


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 60.0) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - started


class Gunicorn:
    """gunicorn serving trendsite on a loopback port with the Procfile's config file."""

    def __init__(self, *, workers: int, warm: bool, log: Path) -> None:
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.bench.settings_api",
            "SEARCH_EMBEDDING_WARM": "1" if warm else "0",
        }
        self.log = log
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "trendsite.wsgi", "-c", "python:trendsite.gunicorn_conf",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--timeout", "120",
             "--log-level", "info"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"),
        )  # fmt: skip

    def wait(self, *, warm_workers: int = 0, timeout: float = 180.0) -> float:
        """Seconds until /healthz answers (and ``warm_workers`` workers loaded the encoder)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                ready = _get(f"{self.url}/healthz", timeout=5)[0] == 200
            except OSError:
                ready = False
            if ready and self.log.read_text().count("query encoder loaded") >= warm_workers:
                return time.perf_counter() - self.started
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not become ready")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def recall_measure(data: dict) -> None:
    from django.db import transaction
    from django.test import override_settings

    from apps.trends.embeddings import texts_embed
    from apps.trends.search import (
        SearchFilters,
        hnsw_session_configure,
        search_filters_build,
        semantic_params,
        semantic_sql,
    )
    from apps.trends.vectors import vector_cursor

    rng = np.random.default_rng(1)
    themes = list(data["themes"].values())
    texts = [
        " ".join(rng.choice(themes[rng.integers(len(themes))], size=3, replace=False)) for _ in range(RECALL_QUERIES)
    ]
    vectors = texts_embed(texts)
    filter_sets = {
        "none": SearchFilters(),
        "language=de (10%)": search_filters_build(language="de"),
        "source (20%)": search_filters_build(source=data["sources"][2]),
        "since last 6 days (20%)": search_filters_build(since=_since()),
    }

    def run(sql: str, params: list, vector, *, exact: bool) -> tuple[list[int], float]:
        with transaction.atomic(), vector_cursor() as cursor:
            if exact:
                cursor.execute("SET LOCAL enable_indexscan = off")
            else:
                hnsw_session_configure(cursor)
            started = time.perf_counter()
            cursor.execute(sql, semantic_params(vector=vector, filter_params=params, limit=10, max_distance=2.0))
            ids = [pk for pk, _ in cursor.fetchall()]
            return ids, time.perf_counter() - started

    from django.conf import settings

    print(
        f"\nHNSW recall@10 vs exact search ({len(texts)} queries per filter; iterative scan relaxed_order; "
        f"the setting in use: SEARCH_HNSW_EF_SEARCH={settings.SEARCH_HNSW_EF_SEARCH}):"
    )
    print(
        f"  {'filter':<26}{'plan':>7}{'exact ms':>9}"
        + "".join(f"{f'ef={ef} recall':>15}{'ms':>6}" for ef in EF_SEARCH_VALUES)
    )
    overall = {ef: [] for ef in EF_SEARCH_VALUES}
    for label, filters in filter_sets.items():
        sql, params = semantic_sql(filters)
        exact = [run(sql, params, v, exact=True) for v in vectors]
        with transaction.atomic(), vector_cursor() as cursor:
            hnsw_session_configure(cursor)
            cursor.execute(
                "EXPLAIN " + sql, semantic_params(vector=vectors[0], filter_params=params, limit=10, max_distance=2.0)
            )
            plan = "hnsw" if "item_embedding_hnsw" in " ".join(r[0] for r in cursor.fetchall()) else "other"
        line = f"  {label:<26}{plan:>7}{statistics.median(t for _, t in exact) * 1000:>9.1f}"
        for ef in EF_SEARCH_VALUES:
            with override_settings(SEARCH_HNSW_EF_SEARCH=ef):
                approx = [run(sql, params, v, exact=False) for v in vectors]
            recalls = [len(set(a) & set(e)) / max(len(e), 1) for (a, _), (e, _) in zip(approx, exact, strict=True)]
            overall[ef] += recalls
            line += f"{statistics.mean(recalls):>15.3f}{statistics.median(t for _, t in approx) * 1000:>6.1f}"
        print(line)
    print("  overall" + " " * 35 + "".join(f"{statistics.mean(overall[ef]):>15.3f}{'':>6}" for ef in EF_SEARCH_VALUES))


def service_time_measure(data: dict) -> None:
    """One client, in process, no HTTP: what each search itself costs (cache-cold query embeddings)."""
    import torch
    from django.core.cache import cache

    from apps.trends.embeddings import texts_embed
    from apps.trends.search import SearchFilters, items_hybrid_search, items_keyword_search, items_semantic_search

    torch.set_num_threads(1)  # as in the web workers (trendsite/gunicorn_conf.py)
    rng = np.random.default_rng(2)
    themes = list(data["themes"].values())

    def words(count: int) -> str:
        return " ".join(rng.choice(themes[rng.integers(len(themes))], size=count, replace=False))

    started = time.perf_counter()
    for _ in range(SERVICE_QUERIES):
        texts_embed([words(3)])
    embed_ms = (time.perf_counter() - started) / SERVICE_QUERIES * 1000
    print(
        f"\nService time, one client in process (median of {SERVICE_QUERIES}; query embedding alone {embed_ms:.1f} ms):"
    )
    for name, search, count in (
        ("keyword", items_keyword_search, 2),
        ("semantic", items_semantic_search, 3),
        ("hybrid", items_hybrid_search, 3),
    ):
        times, found = [], []
        for _ in range(SERVICE_QUERIES):
            cache.delete_pattern("search:*")
            started = time.perf_counter()
            hits = search(query=words(count), filters=SearchFilters(), limit=20)
            times.append(time.perf_counter() - started)
            found.append(len(hits))
        print(f"  {name:<10}{statistics.median(times) * 1000:>8.1f} ms   ({statistics.mean(found):.1f} results)")


def _since():
    from tests.bench.api_data import SPAN, START

    return START + SPAN - (SPAN / 5)


def cold_start_measure(log_dir: Path) -> None:
    server = Gunicorn(workers=1, warm=False, log=log_dir / "cold.log")
    try:
        boot = server.wait()
        first = _get(f"{server.url}/api/v1/search/semantic?q=rocket+launch+delayed")[1]
        second = _get(f"{server.url}/api/v1/search/semantic?q=vaccine+trial+results")[1]
    finally:
        server.stop()
    warm_server = Gunicorn(workers=1, warm=True, log=log_dir / "warm.log")
    try:
        warm_boot = warm_server.wait(warm_workers=1)
        warm_first = _get(f"{warm_server.url}/api/v1/search/semantic?q=election+debate+tonight")[1]
    finally:
        warm_server.stop()
    print("\nCold start (one worker):")
    print(f"  lazy model:   worker ready in {boot:.1f} s, first semantic query {first * 1000:.0f} ms, "
          f"next (another text) {second * 1000:.0f} ms")  # fmt: skip
    print(f"  warm at boot: worker ready in {warm_boot:.1f} s, first semantic query {warm_first * 1000:.0f} ms")


def load_run(server: Gunicorn, vocabulary: Path, seconds: int, out: Path, *, think: float) -> None:
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile_api.py")), "--headless",
         "-u", str(USERS), "-r", str(USERS), "--run-time", f"{seconds}s", "--host", server.url,
         "--csv", str(out), "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"],
        cwd=ROOT, env={**os.environ, "BENCH_API_VOCABULARY": str(vocabulary), "BENCH_API_THINK": str(think)},
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    with Path(f"{out}_stats.csv").open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    pace = "no pause between requests (saturation)" if not think else f"{think:g} s mean pause between requests"
    print(f"\nLoad: {USERS} users, {seconds} s, {pace}; semantic/hybrid queries made up, so cache-cold:")
    print(f"  {'endpoint':<14}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'requests':>10}{'failed':>8}")
    for row in rows:
        if row["Type"] == "GET":
            print(
                f"  {row['Name']:<14}{float(row['Requests/s']):>8.1f}{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}"
                f"{row['Request Count']:>10}{row['Failure Count']:>8}"
            )
    total = next((r for r in rows if r["Name"] == "Aggregated"), None)
    if total:
        print(f"  {'all':<14}{float(total['Requests/s']):>8.1f}")


def main() -> None:
    from tests.bench.api_data import data_load, vocabulary_dump

    items = int(os.environ.get("BENCH_API_ITEMS", 100_000))
    trends = int(os.environ.get("BENCH_API_TRENDS", 5_000))
    seconds = int(os.environ.get("BENCH_API_SECONDS", 45))
    workers = int(os.environ.get("BENCH_API_WORKERS", 2))
    data = data_load(items=items, trends=trends)
    print(
        f"Loaded {items:,} items and {trends:,} trends: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in data["timings"].items())
    )
    recall_measure(data)
    service_time_measure(data)
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        work = Path(tmp)
        vocabulary = work / "vocabulary.json"
        vocabulary_dump(data, vocabulary)
        cold_start_measure(work)
        server = Gunicorn(workers=workers, warm=True, log=work / "gunicorn.log")
        try:
            server.wait(warm_workers=workers)
            for think in THINK_SECONDS:
                load_run(server, vocabulary, seconds, work / f"locust-{think:g}", think=think)
        finally:
            server.stop()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"(gunicorn: {workers} sync workers, Procfile config; machine load average {load} on {os.cpu_count()} CPUs)")
