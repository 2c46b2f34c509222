"""Alerts throughput: 10,000 events through rule matching and notification creation, sends to a local sink.

Three rules over 200 trends (viral trends to a signed webhook, every state change to email, a keyword rule that
rarely matches); no storm limit or cooldown, so every match becomes a pending notification and one send task.
Prints events/s matched (claim + match + write + enqueue after commit), the peak number of send tasks waiting
in the broker's ``alerts`` queue (no worker runs), then sends/s of a sample through the real webhook transport
to a local HTTP sink. Target: >= 1,000 events/s matched. Last, with these rules switched off, the watchlist
benchmark's matching at 10,000 watchlists (``bench_watchlists.watchlists_measure``), printed next to the rules
figure as issue 19 asks.
"""

from __future__ import annotations

import http.server
import os
import statistics
import threading
import time

EVENTS = 10_000
TRENDS = 200
SAMPLE_SENDS = 300
STATES = ["viral", "sustained", "declining", "viral", "emerging"]


class _Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> None:
    from django.conf import settings
    from django.db import transaction

    from apps.alerts.models import AlertRule, Channel, Notification
    from apps.alerts.services import alerts_dispatch, notification_send
    from apps.core.models import Event
    from apps.trends.models import Topic, Trend
    from tests.bench.bench_watchlists import watchlists_measure
    from trendsite.celery import app

    settings.ALERTS_STORM_LIMIT = 10**9
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    hook = Channel.objects.create(
        name="sink",
        kind="webhook",
        config={"url": f"http://127.0.0.1:{sink.server_port}/hook", "secret": "bench-secret-0123456789"},
    )
    mail = Channel.objects.create(name="mail", kind="email", config={"to": ["ops@example.com"]})
    viral = AlertRule.objects.create(
        name="viral", event_kinds=["trend.state_changed"], states=["viral"], cooldown_minutes=0
    )
    viral.channels.add(hook)
    changes = AlertRule.objects.create(name="changes", event_kinds=["trend.state_changed"], cooldown_minutes=0)
    changes.channels.add(mail)
    rare = AlertRule.objects.create(name="rare", keywords=["zeppelin"], cooldown_minutes=0)
    rare.channels.add(mail)

    topics = Topic.objects.bulk_create([Topic(keywords=["bench", f"t{n}"]) for n in range(TRENDS)])
    trends = Trend.objects.bulk_create(
        [Trend(topic=topic, title=f"Bench trend {n}", score=float(n % 10)) for n, topic in enumerate(topics)]
    )
    Event.objects.bulk_create(
        [
            Event(
                kind="trend.state_changed",
                subject_type="trends.trend",
                subject_id=trends[n % TRENDS].pk,
                payload={"from": "emerging", "to": STATES[n % len(STATES)], "score": 5.0},
            )
            for n in range(EVENTS)
        ],
        batch_size=2000,
    )

    def queued() -> int:
        with app.connection_for_write() as conn:
            return conn.default_channel.client.llen("alerts")

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("alerts")
    peak, passes, written, matching, publishing = 0, [], 0, 0.0, 0.0
    load = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    while True:
        pass_started = time.perf_counter()
        with transaction.atomic():  # like the task: the send tasks go out when this commits
            result = alerts_dispatch(limit=settings.ALERTS_DISPATCH_BATCH, enqueue=True)
            matched = time.perf_counter()
        if not result.events:
            break
        done = time.perf_counter()
        matching += matched - pass_started
        publishing += done - matched
        passes.append(result.events / (done - pass_started))
        written += result.notifications
        peak = max(peak, queued())
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    rate = EVENTS / elapsed
    print(
        f"load average:          {load:.1f} on {os.cpu_count()} CPUs (shared machine: wall-clock rates scale with it)"
    )
    print(f"events end to end:     {EVENTS:,} in {elapsed:.2f}s = {rate:,.0f} events/s (target >= 1,000)")
    print(f"  per CPU second:      {EVENTS / cpu:,.0f} events/s of this process's own CPU time")
    print(f"  claim+match+write:   {matching:.2f}s = {EVENTS / matching:,.0f} events/s")
    print(f"  commit+enqueue:      {publishing:.2f}s = {written / publishing:,.0f} tasks/s")
    print(f"median pass:           {statistics.median(passes):,.0f} events/s over {len(passes)} passes of 500")
    print(f"notifications written: {written:,} ({Notification.objects.filter(status='pending').count():,} pending)")
    print(f"peak queued tasks:     {peak:,} in the alerts queue (no worker running)")

    sample = list(
        Notification.objects.filter(channel=hook, status="pending").order_by("pk").values_list("pk", flat=True)
    )[:SAMPLE_SENDS]
    started = time.perf_counter()
    outcomes = [notification_send(notification_id=pk).status for pk in sample]
    elapsed = time.perf_counter() - started
    sent = outcomes.count("sent")
    print(
        f"webhook sends:         {len(sample)} in {elapsed:.2f}s = {len(sample) / elapsed:,.0f} sends/s ({sent} sent)"
    )
    print(f"ratio to target:       {rate / 1000:.2f}x")
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("alerts")
    sink.shutdown()

    # Watchlists alone, as ``tests.bench watchlists`` measures them: the rules above would add their own writes.
    AlertRule.objects.filter(pk__in=[viral.pk, changes.pk, rare.pk]).update(enabled=False)
    watched = watchlists_measure(watchlists=10_000)
    print(f"rules:      {rate:,.0f} events/s with {AlertRule.objects.count()} rules (target >= 1,000)")
    print(f"watchlists: {watched.rate:,.0f} events/s at 10,000 watchlists (target >= 1,000)")
