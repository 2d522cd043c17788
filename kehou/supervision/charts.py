"""The dashboards' charts: SVG drawn on the server by pygal, shown as an image (``data:`` URI), so that nothing in
it runs in the page (pygal's own script and the CDN it would load are left out)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import pygal
from pygal.style import Style

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#333333",
    foreground_strong="#1f2328",
    foreground_subtle="#8a939c",
    colors=("#0b6e4f", "#1e88e5", "#fb8c00", "#8e24aa"),
    font_family="sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=11,
)


def trend_svg(labels: Sequence[str], series: dict[str, Sequence[float | None]], *, title: str = "") -> str:
    """A line chart of rates (0–100%) by week, as an SVG ``data:`` URI."""
    chart = pygal.Line(
        width=720,
        height=260,
        style=STYLE,
        title=title or None,
        show_dots=True,
        dots_size=3,
        range=(0, 100),
        include_x_axis=False,
        legend_at_bottom=True,
        legend_box_size=10,
        x_label_rotation=0,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, len(labels) // 8),
        js=(),
        disable_xml_declaration=True,
        value_formatter=lambda v: f"{v:.0f}%",
    )
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, [None if v is None else round(v * 100, 1) for v in values])
    svg = chart.render(is_unicode=True)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
