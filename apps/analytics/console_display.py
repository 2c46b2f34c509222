"""The console's charts drawn as inline SVG, each with its text alternative (title, description, table)."""

from __future__ import annotations

from typing import Any

from django.utils.safestring import SafeString

from apps.core.display import data_table_html, line_chart_html, stacked_bar_chart_html
from apps.trends.models import Trend
from apps.trends.score_history import STATE_COLOURS, score_history_sparkline


def _hour(when) -> str:
    return f"{when:%H:%M}"


def state_chart(*, times: list, series: dict[str, list[int]]) -> dict[str, SafeString | str]:
    if len(times) < 2:
        return {
            "empty": f"Not enough history yet ({len(times)} snapshot{'s' if len(times) != 1 else ''}): the hourly "
            "analytics task adds one an hour, `manage.py generate_analytics` one now."
        }
    labels = [f"{when:%d %b %H:%M}" for when in times]
    latest = ", ".join(f"{state} {values[-1]}" for state, values in series.items())
    return {
        "chart": line_chart_html(
            chart_id="chart-states",
            title="Trends by state over time",
            desc=f"{len(times)} hourly snapshots from {labels[0]} to {labels[-1]}; now: {latest}.",
            x_labels=labels,
            series=series,
            colours={state: STATE_COLOURS[state] for state in Trend.State.values},
        ),
        "table": data_table_html(
            caption="Trends by state, as a table",
            columns=["time", *series],
            rows=[[label, *(series[state][i] for state in series)] for i, label in enumerate(labels)],
        ),
    }


def hourly_chart(*, times: list, series: dict[str, list[int]]) -> dict[str, SafeString | str]:
    if not series:
        return {"empty": "No collection runs in the last 24 hours."}
    labels = [_hour(when) for when in times]
    totals = {name: sum(values) for name, values in series.items()}
    return {
        "chart": stacked_bar_chart_html(
            chart_id="chart-hourly",
            title="Items collected per source per hour",
            desc=f"New items per hour over the last {len(times)} hours; in total: "
            + ", ".join(f"{name} {total:,}" for name, total in totals.items())
            + ".",
            x_labels=labels,
            series=series,
        ),
        "table": data_table_html(
            caption="Items per source per hour, as a table",
            columns=["hour", *series],
            rows=[[label, *(series[name][i] for name in series)] for i, label in enumerate(labels)],
        ),
    }


def top_trend_rows(trends: list[Trend]) -> list[dict[str, Any]]:
    rows = []
    for trend in trends:
        rows.append(
            {
                "trend": trend,
                "colour": STATE_COLOURS.get(trend.state),
                "sparkline": score_history_sparkline(trend, label=f"{trend.title[:60]}: score over its life"),
            }
        )
    return rows
