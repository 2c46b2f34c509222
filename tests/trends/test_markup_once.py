"""Markup is stripped once, at ingest: text decoded from entities stays text through the pipeline and is
escaped wherever it is shown."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from apps.trends.ingest import ItemDraft, items_ingest
from apps.trends.models import Item, Trend
from apps.trends.pipeline.runner import pipeline_run

from .conftest import T0

pytestmark = pytest.mark.django_db

ESCAPED_TITLES = [
    "&lt;script&gt; tags found in popular npm package",
    "Popular npm package ships &lt;script&gt; tags, researchers find",
    "&lt;script&gt; tags in npm package alarm researchers",
    "Researchers find &lt;script&gt; tags in a popular npm package",
]


def test_decoded_markup_stays_text_through_the_pipeline(source, client):
    drafts = [
        ItemDraft(f"npm-{k}", title, text="<p>The package&nbsp;injects &lt;script&gt;.</p>", published_at=T0)
        for k, title in enumerate(ESCAPED_TITLES)
    ]
    items_ingest(source_id=source.pk, drafts=drafts)

    pipeline_run(workflow="full", as_of=T0 + timedelta(hours=1))

    titles = sorted(Item.objects.values_list("title", flat=True))
    assert titles == sorted(title.replace("&lt;", "<").replace("&gt;", ">") for title in ESCAPED_TITLES)
    assert set(Item.objects.values_list("text", flat=True)) == {"The package injects <script>."}
    trend = Trend.objects.get()
    assert "<script>" in trend.title and trend.title != "(untitled)"

    User.objects.create_superuser("ops", "ops@example.com", "pw")
    client.login(username="ops", password="pw")
    page = client.get("/admin/trends/item/").content.decode()
    assert "&lt;script&gt; tags" in page and "<script> tags" not in page
