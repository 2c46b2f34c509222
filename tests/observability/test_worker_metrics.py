"""A worker host without a web process: CELERY_METRICS_PORT serves its pool's counters over plain HTTP."""

import socket
import urllib.request

from apps.core.task_metrics import worker_metrics_serve
from tests.observability.scrape import value
from trendsite.celery import ping


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_worker_endpoint_serves_task_outcomes():
    port = _free_port()
    server, thread = worker_metrics_serve(port=port, address="127.0.0.1")
    try:
        ping.apply()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
        assert value(text, "trendsite_tasks_total", task="trendsite.ping", outcome="success") >= 1
    finally:
        server.shutdown()
        thread.join(timeout=5)
