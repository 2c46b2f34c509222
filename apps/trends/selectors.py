"""Reads over trends for lists, the API and exports."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.trends.models import Trend

# The k-th trend of a category in a "top" list counts score × CATEGORY_BALANCE_DECAY^k, so one busy category
# (markets on a volatile day) cannot fill the whole list while others have strong stories.
CATEGORY_BALANCE_DECAY = 0.7


def trends_live() -> QuerySet[Trend]:
    """Trends that are not dead, highest score first."""
    return Trend.objects.exclude(state=Trend.State.DEAD).select_related("category", "topic").order_by("-score", "id")


def trends_top(*, limit: int = 20, balanced: bool = True, candidates: int = 200) -> list[Trend]:
    """The top live trends; with ``balanced`` the score of each further trend of one category is damped."""
    pool = list(trends_live()[:candidates])
    if not balanced:
        return pool[:limit]
    seen: dict[int | None, int] = {}
    weighted = []
    for trend in pool:  # already by score, so the k-th of a category is the k-th seen
        rank_in_category = seen.get(trend.category_id, 0)
        seen[trend.category_id] = rank_in_category + 1
        weighted.append((trend.score * CATEGORY_BALANCE_DECAY**rank_in_category, trend))
    weighted.sort(key=lambda pair: (-pair[0], pair[1].pk))
    return [trend for _, trend in weighted[:limit]]
