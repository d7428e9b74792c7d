"""Small SVG charts drawn on the server: no script, no inline style (the CSP stays strict).

Each chart is an ``<svg role="img">`` with a title, scaled to its container by app.css; colours
come from presentation attributes and CSS classes, never from ``style``.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 600, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 14, 34  # margins around the plot area


def _frame(title: str, body: list[str]) -> Markup:
    label = escape(title)
    # Every value put in the SVG is a number we formatted or text passed through escape().
    return Markup(  # nosec B704  # nosemgrep: security.markup-from-variable
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{label}</title>{"".join(body)}</svg>'
    )


def _number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k".replace(".0k", "k")
    if value == int(value):
        return str(int(value))
    return f"{value:.3g}" if abs(value) >= 0.001 else f"{value:.2e}"


def _axes(low: float, high: float) -> list[str]:
    """The two axes and three labelled gridlines from ``low`` to ``high``."""
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/>',
    ]
    for step in range(3):
        value = low + (high - low) * step / 2
        y = bottom - (bottom - TOP) * step / 2
        if step:
            parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_number(value)}</text>"
        )
    return parts


def _empty(title: str, message: str) -> Markup:
    return _frame(
        title,
        [
            f'<text class="empty-chart" x="{WIDTH / 2}" y="{HEIGHT / 2}" '
            f'text-anchor="middle">{escape(message)}</text>'
        ],
    )


def line_chart(
    values: Sequence[float], *, title: str, x_label: str, empty: str = "No data yet"
) -> Markup:
    """A line through ``values`` at x = 1, 2, ...; the y axis spans their range."""
    if not values:
        return _empty(title, empty)
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(values) - 1, 1)
    points = [
        (LEFT + i * step, TOP + plot_h * (high - value) / (high - low))
        for i, value in enumerate(values)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    body = _axes(low, high)
    body.append(f'<polyline class="series" fill="none" points="{line}"/>')
    body += [f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="2.5"/>' for x, y in points]
    body.append(
        f'<text class="tick" x="{LEFT}" y="{HEIGHT - 16}" text-anchor="middle">1</text>'
        f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - 16}" text-anchor="middle">'
        f"{len(values)}</text>"
        f'<text class="axis-label" x="{LEFT + plot_w / 2}" y="{HEIGHT - 4}" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    return _frame(title, body)


def bar_chart(
    bars: Sequence[tuple[str, int]],
    *,
    title: str,
    every: int = 1,
    empty: str = "No data yet",
) -> Markup:
    """One bar per (label, value); every ``every``-th label is written under its bar."""
    if not bars or not any(value for _label, value in bars):
        return _empty(title, empty)
    high = max(value for _label, value in bars)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(bars)
    body = _axes(0, high)
    for i, (label, value) in enumerate(bars):
        height = plot_h * value / high
        x = LEFT + i * slot + slot * 0.15
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{TOP + plot_h - height:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{height:.1f}">'
            f"<title>{escape(label)}: {value:,}</title></rect>"
        )
        if i % every == 0:
            body.append(
                f'<text class="tick" x="{x + slot * 0.35:.1f}" y="{HEIGHT - 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return _frame(title, body)


def share_bar(share: float, *, title: str, caption: str) -> Markup:
    """A horizontal bar filled to ``share`` (0..1), with a caption."""
    share = min(max(share, 0.0), 1.0)
    inner = WIDTH - LEFT - RIGHT
    # Numbers we formatted and escaped text only (as in _frame).
    return Markup(  # nosec B704  # nosemgrep: security.markup-from-variable
        f'<svg class="chart" viewBox="0 0 {WIDTH} 60" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        f'<rect class="track" x="{LEFT}" y="8" width="{inner}" height="20" rx="4"/>'
        f'<rect class="bar" x="{LEFT}" y="8" width="{inner * share:.1f}" height="20" rx="4"/>'
        f'<text class="tick" x="{LEFT}" y="50">{escape(caption)}</text></svg>'
    )
