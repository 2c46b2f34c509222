"""The domain's counters and histograms (``trendsite_*``), shared by every gunicorn and Celery process.

Defined once here, in ``core``, so ``plugins``, ``alerts`` and ``trends`` count into them without importing each
other. prometheus-client runs in multiprocess mode (trendsite/prometheus_dir.py): each process writes its own
file and the scrape adds them up. Figures that are a state of the database (lag, trends by state, queues) are
not counted here but read at scrape time by apps/analytics/metrics_state.py.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ITEMS_COLLECTED = Counter("trendsite_items_collected_total", "New items stored by collection runs", ["source", "kind"])
COLLECT_FAILURES = Counter(
    "trendsite_collect_failures_total",
    "Failed collection runs by source kind and kind of failure (temporary, permanent, rate_limited, crash, lost)",
    ["kind", "failure"],
)
COLLECT_RUNS = Counter("trendsite_collect_runs_total", "Finished collection runs", ["kind", "status"])
ALERTS_SENT = Counter("trendsite_alerts_sent_total", "Notifications delivered", ["kind"])
ALERTS_FAILED = Counter(
    "trendsite_alerts_failed_total", "Notifications given up on (permanent or out of attempts)", ["kind"]
)
ALERTS_SUPPRESSED = Counter(
    "trendsite_alerts_suppressed_total",
    "Notifications not sent (cooldown, storm, switch off, channel disabled)",
    ["kind", "reason"],
)
TASKS = Counter("trendsite_tasks_total", "Celery task outcomes", ["task", "outcome"])
PIPELINE_RUN_DURATION = Histogram(
    "trendsite_pipeline_run_duration_seconds",
    "Wall time of finished pipeline runs",
    ["workflow", "status"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, float("inf")),
)
PIPELINE_ITEMS = Counter(
    "trendsite_pipeline_items_processed_total", "Items processed by finished pipeline runs", ["workflow"]
)
