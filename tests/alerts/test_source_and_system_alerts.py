"""Source alerts (unhealthy, again at 10 failures, recovered) and system health transitions, end to end."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.alerts.models import Notification
from apps.alerts.system_check import system_check_run
from apps.core.liveness import worker_heartbeat_record
from apps.core.models import Event
from apps.plugins.services import source_collect
from apps.trends.models import PipelineRun
from tests.alerts.factories import ChannelFactory, RuleFactory
from tests.plugins.factories import SourceFactory

pytestmark = pytest.mark.django_db


def _collect_now(source):
    source.refresh_from_db()
    source.next_fetch_after = None
    return source_collect(source=source)


def test_failing_source_alerts_when_unhealthy_again_at_10_failures_and_on_recovery(httpserver, capsys):
    RuleFactory(event_kinds=["plugin.failed", "plugin.recovered"], channels=[ChannelFactory(name="ops")])
    httpserver.expect_request("/feed").respond_with_data("boom", status=500)
    source = SourceFactory(name="wire", kind="rss", config={"urls": [httpserver.url_for("/feed")]})
    for _ in range(11):
        _collect_now(source)
    httpserver.clear()
    httpserver.expect_request("/feed").respond_with_data(
        "<rss><channel><title>t</title></channel></rss>", content_type="application/rss+xml"
    )
    _collect_now(source)

    events = list(Event.objects.filter(subject_id=source.pk).values_list("kind", "payload__failures"))
    assert events == [("plugin.failed", 3), ("plugin.failed", 10), ("plugin.recovered", None)]
    call_command("deliver_alerts", stdout=StringIO())
    printed = capsys.readouterr().out
    assert "Source wire is failing (3 failures in a row)" in printed
    assert "Source wire is failing (10 failures in a row)" in printed
    assert "Last error: HTTP 500" in printed
    assert f"/admin/plugins/source/{source.pk}/change/" in printed
    assert "Source wire recovered" in printed


def _everything_alive():
    worker_heartbeat_record()
    every = IntervalSchedule.objects.create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(
        name="core: heartbeat", defaults={"task": "x", "interval": every, "last_run_at": timezone.now()}
    )


def test_system_check_writes_events_on_transitions_only():
    first = system_check_run()  # no heartbeat, beat never ran
    again = system_check_run()
    _everything_alive()
    recovered = system_check_run()
    quiet = system_check_run()
    PipelineRun.objects.create(
        workflow="full", status="failed", started_at=timezone.now() - timezone.timedelta(hours=3)
    )
    pipeline = system_check_run()

    assert first.event == "system.unhealthy" and set(Event.objects.first().payload["failed"]) == {"worker", "beat"}
    assert (again.event, recovered.event, quiet.event) == ("", "system.recovered", "")
    assert pipeline.event == "system.unhealthy"
    assert pipeline.checks["pipeline"] == {"ok": False, "error": "no successful pipeline run ever"}
    assert pipeline.checks["database"]["ok"] and pipeline.checks["cache"]["ok"] and pipeline.checks["broker"]["ok"]
    assert list(Event.objects.values_list("kind", flat=True)) == [
        "system.unhealthy",
        "system.recovered",
        "system.unhealthy",
    ]


def test_system_alert_reaches_a_rule_for_system_events(capsys):
    RuleFactory(event_kinds=["system.unhealthy"], severity="critical", channels=[ChannelFactory()])
    system_check_run()
    call_command("deliver_alerts", stdout=StringIO())
    notification = Notification.objects.get()
    assert notification.status == "sent" and notification.severity == "critical"
    assert "[CRITICAL] System unhealthy: beat, worker" in capsys.readouterr().out
