"""The periodic task form lists the tasks the workers run: the web process knows them too."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db
TASK_MODULES = sorted(Path(settings.BASE_DIR).glob("apps/*/tasks.py"))
SHOW_CHOICES = """
import django
django.setup()
from django_celery_beat.admin import TaskSelectWidget
print("\\n".join(name for name, _ in TaskSelectWidget().choices if name))
"""


def test_periodic_task_form_lists_the_registered_tasks(admin_client):
    page = admin_client.get(reverse("admin:django_celery_beat_periodictask_add")).content.decode()
    for name in ("apps.plugins.tasks.source_collect", "trendsite.ping"):
        assert f'<option value="{name}">' in page, name


def test_a_fresh_web_process_knows_every_task_module():
    """In a process that imported nothing but Django (as gunicorn starts), each app's tasks are listed."""
    done = subprocess.run(
        [sys.executable, "-c", SHOW_CHOICES],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=settings.BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "trendsite.settings.base", "PATH": "/usr/bin:/bin", "PYTHONPATH": "."},
    )
    listed = set(done.stdout.split())
    for module in TASK_MODULES:
        dotted = f"apps.{module.parent.name}.tasks"
        assert any(name.startswith(dotted) for name in listed), (dotted, done.stderr[-2000:])
