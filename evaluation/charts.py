"""Small inline SVG charts for the self-contained HTML report (no scripts, no CDN)."""

from __future__ import annotations

from html import escape

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
W, H, LEFT, RIGHT, TOP, BOTTOM = 520, 320, 52, 110, 16, 44


def _frame(x_label: str, y_label: str, x_ticks: list[tuple[float, str]], y_ticks: list[tuple[float, str]]) -> list[str]:
    parts = [f'<rect x="{LEFT}" y="{TOP}" width="{W - LEFT - RIGHT}" height="{H - TOP - BOTTOM}" fill="none" stroke="#999"/>']
    for x, text in x_ticks:
        parts.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle" font-size="11">{escape(text)}</text>')
    for y, text in y_ticks:
        parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{escape(text)}</text>')
    parts.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 8}" text-anchor="middle" font-size="12">{escape(x_label)}</text>')
    parts.append(f'<text x="14" y="{(TOP + H - BOTTOM) / 2}" text-anchor="middle" font-size="12" '
                 f'transform="rotate(-90 14 {(TOP + H - BOTTOM) / 2})">{escape(y_label)}</text>')
    return parts


def _svg(parts: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img">'
            f'<title>{escape(title)}</title>' + "".join(parts) + "</svg>")


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _ticks(lo: float, hi: float, scale, fmt: str) -> list[tuple[float, str]]:
    return [(scale(lo + (hi - lo) * i / 5), format(lo + (hi - lo) * i / 5, fmt)) for i in range(6)]


def line_chart(series: dict[str, list[tuple[float, float]]], title: str, x_label: str, y_label: str,
               x_range: tuple[float, float] = (0.0, 1.0), y_range: tuple[float, float] = (0.0, 1.0),
               marks: dict[str, tuple[float, float]] | None = None, x_fmt: str = ".1f") -> str:
    """One polyline per series; ``marks`` are labelled points (e.g. the recommended threshold)."""
    sx = _scale(*x_range, LEFT, W - RIGHT)
    sy = _scale(*y_range, H - BOTTOM, TOP)
    parts = _frame(x_label, y_label, _ticks(*x_range, sx, x_fmt), _ticks(*y_range, sy, ".1f"))
    for i, (name, points) in enumerate(series.items()):
        color = COLORS[i % len(COLORS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points if x is not None and y is not None)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts.append(f'<text x="{W - RIGHT + 8}" y="{TOP + 14 + 16 * i}" font-size="12" fill="{color}">{escape(name)}</text>')
    for label, (x, y) in (marks or {}).items():
        parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4" fill="#000"/>'
                     f'<text x="{sx(x) + 6:.1f}" y="{sy(y) - 6:.1f}" font-size="11">{escape(label)}</text>')
    return _svg(parts, title)


def histogram(values: list[int], title: str, x_label: str, bins: int = 12) -> str:
    """Counts of ``values`` in equal-width integer bins."""
    if not values:
        return _svg(_frame(x_label, "tickets", [], []), title)
    lo, hi = min(values), max(values) + 1
    width = max(1, -(-(hi - lo) // bins))
    counts = [0] * (-(-(hi - lo) // width))
    for v in values:
        counts[(v - lo) // width] += 1
    top = max(counts)
    sx = _scale(lo, lo + width * len(counts), LEFT, W - RIGHT)
    sy = _scale(0, top, H - BOTTOM, TOP)
    x_ticks = [(sx(lo + width * i), str(lo + width * i)) for i in range(0, len(counts) + 1, max(1, len(counts) // 6))]
    parts = _frame(x_label, "tickets", x_ticks, [(sy(top * i / 4), f"{top * i / 4:.0f}") for i in range(5)])
    for i, count in enumerate(counts):
        x0, x1 = sx(lo + width * i), sx(lo + width * (i + 1))
        parts.append(f'<rect x="{x0 + 1:.1f}" y="{sy(count):.1f}" width="{x1 - x0 - 2:.1f}" '
                     f'height="{sy(0) - sy(count):.1f}" fill="{COLORS[0]}"><title>{count}</title></rect>')
    return _svg(parts, title)
