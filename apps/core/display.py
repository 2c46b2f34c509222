"""Small pictures for the admin: a coloured badge and an SVG line sparkline (no JS, no build step)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString

GREEN, AMBER, RED, GREY, BLUE, PURPLE = "#15803d", "#b45309", "#b91c1c", "#6b7280", "#1d4ed8", "#7e22ce"


def badge_html(*, colour: str, label: str) -> SafeString:
    return format_html(
        '<span style="display:inline-block;padding:1px 8px;border-radius:9px;background:{};color:#fff;'
        'font-weight:600;white-space:nowrap">{}</span>',
        colour,
        label,
    )


def number_display(value: float | int | None, *, digits: int = 2) -> str:
    """A number as people read it: thousands separated, floats rounded (no 145.00000000000003)."""
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def json_pretty_html(value: Any) -> SafeString:
    """JSON indented in a scrollable <pre>; escaped, so a stored "<script>" is text."""
    return format_html(
        '<pre style="white-space:pre-wrap;max-height:32em;overflow:auto;margin:0">{}</pre>',
        json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str),
    )


def truncated_html(text: str, *, length: int = 80) -> SafeString:
    """The start of ``text`` with the whole of it on hover (long errors must not widen a changelist)."""
    text = text or ""
    if len(text) <= length:
        return format_html("{}", text)
    return format_html('<span title="{}">{}…</span>', text, text[:length])


def line_sparkline_html(
    values: Sequence[float], *, colour: str = BLUE, width: int = 120, height: int = 24, label: str = ""
) -> SafeString:
    """A polyline of ``values`` (oldest first) scaled to the box, with a dot on the latest value."""
    if len(values) < 2:
        return format_html('<span style="color:{}">{}</span>', GREY, "not enough history")
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 4) / (len(values) - 1)
    points = [(2 + i * step, 2 + (height - 4) * (1 - (v - low) / span)) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    last_x, last_y = points[-1]
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" role="img" '
        'aria-label="{}"><title>{}</title><polyline points="{}" fill="none" stroke="{}" stroke-width="1.5"/>'
        '<circle cx="{}" cy="{}" r="2" fill="{}"/></svg>',
        width,
        height,
        width,
        height,
        label,
        label,
        path,
        colour,
        f"{last_x:.1f}",
        f"{last_y:.1f}",
        colour,
    )
