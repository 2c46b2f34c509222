import pytest

from apps.trends.models import Category, Topic, Trend
from apps.trends.selectors import trends_top


@pytest.mark.django_db
def test_top_list_balances_categories():
    business, sports = Category.objects.get(name="Business"), Category.objects.get(name="Sports")
    for score, category in [(10, business), (9, business), (8, business), (7, sports), (100, None)]:
        Trend.objects.create(topic=Topic.objects.create(), title=f"{score}", score=score, category=category)
    Trend.objects.create(topic=Topic.objects.create(), title="dead", score=1000, state=Trend.State.DEAD)
    assert [t.title for t in trends_top(limit=4, balanced=False)] == ["100", "10", "9", "8"]
    assert [t.title for t in trends_top(limit=4)] == ["100", "10", "7", "9"]
