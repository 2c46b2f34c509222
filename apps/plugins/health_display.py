"""A source's health as the admin draws it: a coloured badge and an SVG strip of its recent run outcomes."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.core.display import AMBER, BLUE, GREEN, GREY, RED, badge_html
from apps.core.url_mask import text_urls_masked, url_masked
from apps.plugins.models import CollectionRun, PluginHealth, Source

RECENT_RUNS = 20
STATUS_COLOURS = {
    CollectionRun.Status.SUCCESS: GREEN,
    CollectionRun.Status.NOT_MODIFIED: "#86efac",
    CollectionRun.Status.FAILED: RED,
    CollectionRun.Status.SKIPPED: "#d1d5db",
    CollectionRun.Status.RUNNING: BLUE,
}
# A feed URL's last outcome (apps.plugins.collectors.rss.FeedResult.status).
FEED_STATUS_COLOURS = {"ok": GREEN, "not_modified": "#86efac", "failed": RED}
_BAR_WIDTH, _BAR_GAP, _HEIGHT = 6, 2, 16


def health_state(*, source: Source, health: PluginHealth | None) -> tuple[str, str]:
    """(colour, label): grey disabled or never run, red unhealthy, amber failing below the threshold,
    green healthy. Disabled wins: a switched-off source's old failures are not an alarm."""
    if not source.enabled:
        return GREY, "disabled"
    if health is None or health.total_runs == 0:
        return GREY, "never run"
    if not health.is_healthy:
        return RED, "unhealthy"
    if health.consecutive_failures:
        return AMBER, f"failing ({health.consecutive_failures})"
    return GREEN, "healthy"


def health_badge_html(*, source: Source, health: PluginHealth | None) -> SafeString:
    colour, label = health_state(source=source, health=health)
    return badge_html(colour=colour, label=label)


def runs_sparkline_html(runs: Sequence[CollectionRun]) -> SafeString:
    """One bar per run, oldest left; failed bars are full height so a red streak stands out. Each bar's
    tooltip gives its time, status and counts or error."""
    if not runs:
        return format_html('<span style="color:{}">no runs</span>', GREY)
    ordered = sorted(runs, key=lambda run: run.started_at)[-RECENT_RUNS:]
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
        (
            (
                index * (_BAR_WIDTH + _BAR_GAP),
                0 if run.status == CollectionRun.Status.FAILED else _HEIGHT // 3,
                _BAR_WIDTH,
                _HEIGHT if run.status == CollectionRun.Status.FAILED else _HEIGHT - _HEIGHT // 3,
                STATUS_COLOURS.get(run.status, GREY),
                _run_title(run),
            )
            for index, run in enumerate(ordered)
        ),
    )
    width = len(ordered) * (_BAR_WIDTH + _BAR_GAP) - _BAR_GAP
    failed = sum(run.status == CollectionRun.Status.FAILED for run in ordered)
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="runs-sparkline" width="{}" height="{}" viewBox="0 0 {} {}" '
        'role="img" aria-label="last {} runs, {} failed">{}</svg>',
        width,
        _HEIGHT,
        width,
        _HEIGHT,
        len(ordered),
        failed,
        bars,
    )


def _run_title(run: CollectionRun) -> str:
    detail = run.error[:120] if run.error else f"new {run.new_count}, updated {run.duplicate_count}"
    return f"{run.started_at:%Y-%m-%d %H:%M} {run.status}: {detail}"


def run_details_html(details: dict) -> str:
    """A run's per-feed (or per-file) details as a table: failures first, then by URL."""
    rows = (details or {}).get("feeds") or (details or {}).get("files") or {}
    if not isinstance(rows, dict) or not rows:
        return "–"
    ordered = sorted(rows.items(), key=lambda pair: (pair[1].get("status") != "failed", pair[0]))
    body = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                url_masked(url),
                row.get("status", ""),
                row.get("fetched", ""),
                text_urls_masked(str(row.get("error", ""))),
            )
            for url, row in ordered
        ),
    )
    failed = sum(1 for row in rows.values() if row.get("status") == "failed")
    return format_html(
        "<p>{} entries, {} failed</p><table><thead><tr><th>URL / file</th><th>status</th><th>fetched</th>"
        "<th>error</th></tr></thead><tbody>{}</tbody></table>",
        len(rows),
        failed,
        body,
    )
