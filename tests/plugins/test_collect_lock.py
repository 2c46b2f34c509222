"""The collection lock belongs to the holder's database session: a collect killed mid-run frees its source
at once, so Celery's redelivery of the task collects instead of answering "already collecting"."""

import json
import signal
import subprocess
import sys

import pytest
from django.db import connection

from apps.core.advisory_lock import advisory_lock_ids
from apps.plugins.models import CollectionRun
from apps.plugins.services import COLLECT_LOCK, source_collect_lock
from apps.plugins.tasks import source_collect
from tests.plugins.factories import SourceFactory

pytestmark = pytest.mark.django_db(transaction=True)

_HOLDER = """
import json, sys, time
import psycopg
connection = psycopg.connect(**json.loads(sys.argv[1]), autocommit=True)
connection.execute("SELECT pg_advisory_lock(%s, %s)", [int(sys.argv[2]), int(sys.argv[3])])
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def worker_collecting():
    """start(source_id): another process that holds the source's collection lock, as a worker mid-collect."""
    processes = []
    params = connection.get_connection_params()
    dsn = {key: params[key] for key in ("host", "port", "user", "password", "dbname") if params.get(key)}

    def start(source_id: int) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, json.dumps(dsn), *map(str, advisory_lock_ids(COLLECT_LOCK, source_id))],
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        assert process.stdout.readline().strip() == "locked"
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        process.stdout.close()


def test_redelivery_after_the_worker_is_killed_collects(serve, worker_collecting):
    source = SourceFactory(config={"urls": [serve("/feed", "rss2_bbc.xml")]})
    worker = worker_collecting(source.pk)

    assert source_collect(source.pk) == f"{source.name}: already collecting"

    worker.send_signal(signal.SIGKILL)  # kill -9 mid-collect
    worker.wait(timeout=10)
    summary = source_collect(source.pk)  # what Celery redelivers (acks_late)

    assert summary.startswith(f"{source.name}: success new=")
    assert CollectionRun.objects.filter(source=source, status="success").count() == 1


def test_the_lock_is_free_again_after_a_normal_collect(serve):
    source = SourceFactory(config={"urls": [serve("/feed", "rss2_bbc.xml")]})
    with source_collect_lock(source_id=source.pk) as first, source_collect_lock(source_id=source.pk) as second:
        assert (first, second) == (True, False)
    with source_collect_lock(source_id=source.pk) as again:
        assert again
