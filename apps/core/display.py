"""Small pictures for the admin: a coloured badge and an SVG line sparkline (no JS, no build step)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.utils.html import format_html, format_html_join
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


def text_truncated(text: str, *, length: int) -> str:
    """``text`` cut to at most ``length`` characters, an ellipsis marking the cut: the one truncation rule for
    titles stored in bounded columns and excerpts shown in tables."""
    text = text or ""
    return text if len(text) <= length else text[: max(length - 1, 0)] + "…"


def text_list_html(values: list[Any]) -> SafeString:
    """A bulleted list of ``values`` (escaped), or a dash for none."""
    if not values:
        return format_html("{}", "–")
    return format_html(
        '<ul style="margin:0;padding-left:1.2em">{}</ul>',
        format_html_join("", "<li>{}</li>", ((str(v),) for v in values)),
    )


def truncated_html(text: str, *, length: int = 80) -> SafeString:
    """The start of ``text`` with the whole of it on hover (long errors must not widen a changelist)."""
    text = text or ""
    if len(text) <= length:
        return format_html("{}", text)
    return format_html('<span title="{}">{}</span>', text, text_truncated(text, length=length))


def line_sparkline_html(
    values: Sequence[float],
    *,
    colour: str = BLUE,
    width: int = 120,
    height: int = 24,
    label: str = "",
    marks: Sequence[tuple[int, str]] = (),
) -> SafeString:
    """A polyline of ``values`` (oldest first) scaled to the box, with a dot on the latest value and a ringed
    dot in the given colour at each ``marks`` index (a state change, say)."""
    if len(values) < 2:
        return format_html('<span style="color:{}">{}</span>', GREY, "not enough history")
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 4) / (len(values) - 1)
    points = [(2 + i * step, 2 + (height - 4) * (1 - (v - low) / span)) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    last_x, last_y = points[-1]
    rings = format_html_join(
        "",
        '<circle class="mark" cx="{}" cy="{}" r="3" fill="{}" stroke="#fff" stroke-width="1"/>',
        ((f"{points[i][0]:.1f}", f"{points[i][1]:.1f}", mark) for i, mark in marks if 0 <= i < len(points)),
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" role="img" '
        'aria-label="{}"><title>{}</title><polyline points="{}" fill="none" stroke="{}" stroke-width="1.5"/>'
        '{}<circle cx="{}" cy="{}" r="2" fill="{}"/></svg>',
        width,
        height,
        width,
        height,
        label,
        label,
        path,
        colour,
        rings,
        f"{last_x:.1f}",
        f"{last_y:.1f}",
        colour,
    )


# Distinct series colours that read on white and on the admin's dark theme.
SERIES_COLOURS = (BLUE, "#0f766e", AMBER, PURPLE, "#be185d", "#4d7c0f", "#0369a1", GREY)
_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 44, 8, 10, 22


def _chart_frame(*, chart_id: str, title: str, desc: str, width: int, height: int, top: float, x_labels, body):
    """The parts every chart shares: accessible title and description, y gridlines with values, x labels."""
    plot_h = height - _PAD_TOP - _PAD_BOTTOM
    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/><text x="{}" y="{}" class="axis" '
        'text-anchor="end">{}</text>',
        (
            (
                _PAD_LEFT,
                width - _PAD_RIGHT,
                f"{_PAD_TOP + plot_h * (1 - share):.1f}",
                f"{_PAD_TOP + plot_h * (1 - share):.1f}",
                _PAD_LEFT - 4,
                f"{_PAD_TOP + plot_h * (1 - share) + 4:.1f}",
                _tick(top * share),
            )
            for share in (0, 0.5, 1)
        ),
    )
    label_at = sorted({0, (len(x_labels) - 1) // 2, len(x_labels) - 1}) if x_labels else []
    step = (width - _PAD_LEFT - _PAD_RIGHT) / max(len(x_labels), 1)
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" class="axis" text-anchor="middle">{}</text>',
        ((f"{_PAD_LEFT + step * (i + 0.5):.1f}", height - 6, x_labels[i]) for i in label_at),
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {} {}" width="100%" role="img" '
        'aria-labelledby="{}-title {}-desc"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
        "{}{}{}</svg>",
        width,
        height,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        desc,
        grid,
        labels,
        body,
    )


def _tick(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _legend_html(names: Sequence[str], colours: Sequence[str]) -> SafeString:
    return format_html(
        '<ul class="chart-legend">{}</ul>',
        format_html_join(
            "", '<li><span class="swatch" style="background:{}"></span>{}</li>', zip(colours, names, strict=True)
        ),
    )


def line_chart_html(
    *,
    chart_id: str,
    title: str,
    desc: str,
    x_labels: Sequence[str],
    series: dict[str, Sequence[float]],
    colours: dict[str, str] | None = None,
    width: int = 640,
    height: int = 200,
) -> SafeString:
    """Lines of several series over the same x positions (oldest first), with a legend; every point has a
    tooltip. ``title`` and ``desc`` are the chart's text alternative."""
    colours = colours or {}
    names = list(series)
    palette = [colours.get(name, SERIES_COLOURS[i % len(SERIES_COLOURS)]) for i, name in enumerate(names)]
    top = max((max(values, default=0) for values in series.values()), default=0) or 1
    plot_w, plot_h = width - _PAD_LEFT - _PAD_RIGHT, height - _PAD_TOP - _PAD_BOTTOM
    step = plot_w / max(len(x_labels), 1)

    def xy(i: int, value: float) -> tuple[str, str]:
        return f"{_PAD_LEFT + step * (i + 0.5):.1f}", f"{_PAD_TOP + plot_h * (1 - value / top):.1f}"

    lines = []
    for name, colour in zip(names, palette, strict=True):
        values = series[name]
        points = " ".join(",".join(xy(i, v)) for i, v in enumerate(values))
        dots = format_html_join(
            "",
            '<circle cx="{}" cy="{}" r="2.5" fill="{}"><title>{} {}: {}</title></circle>',
            ((*xy(i, v), colour, name, x_labels[i], _tick(v)) for i, v in enumerate(values)),
        )
        lines.append(
            format_html('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>{}', points, colour, dots)
        )
    body = format_html_join("", "{}", ((line,) for line in lines))
    frame = _chart_frame(
        chart_id=chart_id, title=title, desc=desc, width=width, height=height, top=top, x_labels=x_labels, body=body
    )
    return format_html("{}{}", frame, _legend_html(names, palette))


def stacked_bar_chart_html(
    *,
    chart_id: str,
    title: str,
    desc: str,
    x_labels: Sequence[str],
    series: dict[str, Sequence[float]],
    width: int = 640,
    height: int = 200,
) -> SafeString:
    """One bar per x position, stacked by series, with a legend; each segment's tooltip gives its value."""
    names = list(series)
    palette = [SERIES_COLOURS[i % len(SERIES_COLOURS)] for i in range(len(names))]
    totals = [sum(series[name][i] for name in names) for i in range(len(x_labels))]
    top = max(totals, default=0) or 1
    plot_w, plot_h = width - _PAD_LEFT - _PAD_RIGHT, height - _PAD_TOP - _PAD_BOTTOM
    step = plot_w / max(len(x_labels), 1)
    rects = []
    for i, label in enumerate(x_labels):
        base = 0.0
        for name, colour in zip(names, palette, strict=True):
            value = series[name][i]
            if not value:
                continue
            y = _PAD_TOP + plot_h * (1 - (base + value) / top)
            rects.append(
                (
                    f"{_PAD_LEFT + step * i + 1:.1f}",
                    f"{y:.1f}",
                    f"{max(step - 2, 1):.1f}",
                    f"{plot_h * value / top:.1f}",
                    colour,
                    f"{name} {label}: {_tick(value)}",
                )
            )
            base += value
    body = format_html_join("", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>', rects)
    frame = _chart_frame(
        chart_id=chart_id, title=title, desc=desc, width=width, height=height, top=top, x_labels=x_labels, body=body
    )
    return format_html("{}{}", frame, _legend_html(names, palette))


def data_table_html(*, caption: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> SafeString:
    """A chart's figures as a table in a collapsed <details>: the text alternative screen readers and
    copy-paste use."""
    head = format_html_join("", '<th scope="col">{}</th>', ((column,) for column in columns))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((_cell(value),) for value in row)),) for row in rows),
    )
    return format_html(
        '<details class="chart-data"><summary>{}</summary><table><thead><tr>{}</tr></thead><tbody>{}</tbody>'
        "</table></details>",
        caption,
        head,
        body,
    )


def _cell(value: Any) -> str:
    return number_display(value) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
