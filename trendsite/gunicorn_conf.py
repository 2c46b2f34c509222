"""gunicorn settings the Procfile and the Docker image share (``gunicorn --config python:trendsite.gunicorn_conf``).

WEB_BIND, WEB_CONCURRENCY (processes) and WEB_THREADS (threads per process) come from the environment; the
access log is JSON lines with the request id.
Each worker loads the sentence encoder once, right after it boots and before it accepts a request, so no
search pays the cold start (README "Search"). Not ``--preload``: a model loaded in the master and then forked
shares its weights, but PyTorch's OpenMP thread pool is not fork-safe and a child's first encode can hang.
"""

from __future__ import annotations

import os
import time
from typing import Any

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threaded workers: a request waiting on a slow peer (a /readyz probe on a hung Redis, a slow search) holds
# one thread, not a whole process, so /healthz and the site keep answering on the others.
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = 60
accesslog = "-"
logger_class = "trendsite.gunicorn_logging.JsonAccessLogger"
# Behind a proxy the client address is in X-Forwarded-For; gunicorn trusts it only from these.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Workers are the parallelism: one PyTorch/OpenMP thread each. With the default (one per core) two workers
# on two cores oversubscribe them, and a query embedding measured 960 ms instead of 60 ms under load.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def on_starting(server: Any) -> None:
    # The master starts clean: counter files of an earlier run's workers would add to the new ones.
    from trendsite.prometheus_dir import multiproc_dir_clean, multiproc_dir_configure

    multiproc_dir_configure()  # the master loads no settings; its workers inherit the variable
    multiproc_dir_clean()


def child_exit(server: Any, worker: Any) -> None:
    from trendsite.prometheus_dir import process_dead_mark

    process_dead_mark(worker.pid)


def post_worker_init(worker: Any) -> None:
    from django.conf import settings

    if not settings.SEARCH_EMBEDDING_WARM:
        return
    from apps.trends.embeddings import texts_embed

    started = time.perf_counter()
    texts_embed(["warm up the query encoder"])
    worker.log.info("search: query encoder loaded in %.1f s (worker %s)", time.perf_counter() - started, worker.pid)
