from io import StringIO

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from apps.analytics.selectors import analytics_latest
from apps.trends.models import Item, Topic


@pytest.mark.django_db
def test_bootstrap_local_leaves_processed_demo_items_and_a_pipeline_schedule(settings):
    settings.PIPELINE_SCHEDULE_SECONDS = 60
    out = StringIO()
    call_command("bootstrap_local", stdout=out)
    assert Item.objects.exists()
    assert not Item.objects.filter(processed_at__isnull=True).exists()
    assert Topic.objects.filter(item_count__gte=2).exists()
    pipeline = PeriodicTask.objects.get(name="pipeline: full")
    assert pipeline.interval.every == 60
    assert "Demo login" in out.getvalue()
    # The console has figures on the first page load.
    latest = analytics_latest(period="24h")
    assert latest is not None and latest["data"]["totals"]["items"] == Item.objects.count()
    from apps.alerts.models import AlertRule

    rule = AlertRule.objects.get()
    assert [c.kind for c in rule.channels.all()] == ["console"] and "trend.state_changed" in rule.event_kinds
