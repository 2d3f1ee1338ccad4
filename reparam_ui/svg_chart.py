"""A line chart as one small SVG string: the Live VAE's loss chart while training plays.

Why: the page redraws its loss chart 5 times a second. A plotly chart in Streamlit is rebuilt
from scratch on every change (its element id follows its data), which kept Chromium's main thread
~70 % busy on this 2-core machine and took CPU from the training itself. The same figure drawn as
static SVG costs the browser almost nothing. When training pauses, the page shows the interactive
plotly figure again (zoom, hover).

`figure_svg` draws what a `plotly` line figure from `reparam_ui.vae_figs.loss_figure` holds —
line traces (colour, width, dash), the title and axis titles, a fixed y range, horizontal
`xref="paper"` line shapes and their annotations — and ignores anything else.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from reparam_ui.common import CHART_GRID, CHART_LINE, CHART_TEXT

FONT = '"Source Sans", "Source Sans Pro", sans-serif'
MARGIN = {"l": 58, "r": 14, "t": 54, "b": 42}
DASHES = {"dash": "7 4", "dot": "2 3", "dashdot": "7 3 2 3"}


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About `n` round tick values (1, 2, 2.5 or 5 × 10^k apart) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + i * step, 12) for i in range(int((hi - first) / step + 1e-9) + 1)]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def _get(d: Any, *path: str, default: Any = None) -> Any:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return default
        d = d[p]
    return d


def _text(x: float, y: float, s: str, anchor: str = "middle", size: int = 12, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"'
        f"{extra}>{escape(s)}</text>"
    )


def _stroke(line: dict | None, color: str, width: float) -> str:
    """stroke, stroke-width and (for a dashed plotly line) stroke-dasharray attributes."""
    line = line or {}
    dash = DASHES.get(line.get("dash", ""), "")
    return f'stroke="{line.get("color", color)}" stroke-width="{line.get("width", width)}"' + (
        f' stroke-dasharray="{dash}"' if dash else ""
    )


def figure_svg(fig: dict, width: int = 860, height: int = 320) -> str:
    """An SVG (scales to its container's width) of the line traces in a plotly figure dict."""
    layout = fig.get("layout", {}) or {}
    lines = [
        t
        for t in fig.get("data", []) or []
        if t.get("type", "scatter") == "scatter" and "lines" in t.get("mode", "lines")
    ]
    left, right, b = MARGIN["l"], width - MARGIN["r"], height - MARGIN["b"]
    # legend items, wrapped into rows under the title; the plot starts below them
    legend: list[tuple[int, float, dict]] = []  # (row, x, trace)
    row, x = 0, float(left)
    for tr in lines:
        name = str(tr.get("name", ""))
        if not name or tr.get("showlegend") is False:
            continue
        w = 30 + 5.6 * len(name)
        if x + w > right and x > left:
            row, x = row + 1, float(left)
        legend.append((row, x, tr))
        x += w
    t = MARGIN["t"] + 15 * row
    xs = [float(x) for tr in lines for x in tr.get("x", []) if math.isfinite(float(x))]
    ys = [
        float(y)
        for tr in lines
        for y in tr.get("y", [])
        if y is not None and math.isfinite(float(y))
    ]
    hlines = [
        s
        for s in layout.get("shapes", []) or []
        if s.get("type") == "line" and s.get("xref") == "paper" and s.get("y0") == s.get("y1")
    ]
    y_range = _get(layout, "yaxis", "range")
    if y_range and all(math.isfinite(v) for v in y_range) and y_range[1] > y_range[0]:
        y0, y1 = float(y_range[0]), float(y_range[1])
    else:
        vals = ys + [float(s["y0"]) for s in hlines]
        y0, y1 = (min(vals), max(vals)) if vals else (0.0, 1.0)
        pad = 0.05 * (y1 - y0) or 0.5
        y0, y1 = y0 - pad, y1 + pad
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x1 <= x0:
        x1 = x0 + 1.0

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (right - left)

    def py(y: float) -> float:
        return b - (y - y0) / (y1 - y0) * (b - t)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" font-family=\'{FONT}\' fill="{CHART_TEXT}" data-last-x="{x1!r}" '
        f'data-traces="{len(lines)}" style="display:block">'
    ]
    title = _get(layout, "title", "text")
    if title:
        out.append(f"<title>{escape(str(title))}</title>")
        out.append(_text(width / 2, 18, str(title), size=14))
    # grid and tick labels
    for v in nice_ticks(y0, y1):
        y = py(v)
        out.append(
            f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{CHART_GRID}"/>'
        )
        out.append(_text(left - 6, y + 4, _fmt(v), anchor="end", size=11))
    for v in nice_ticks(x0, x1, 6) if xs else []:
        x = px(v)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{t}" y2="{b}" stroke="{CHART_GRID}"/>')
        out.append(_text(x, b + 15, _fmt(v), size=11))
    out.append(
        f'<rect x="{left}" y="{t}" width="{right - left}" height="{b - t}" fill="none" stroke="{CHART_LINE}"/>'
    )
    for text, x, y, rot in (
        (_get(layout, "xaxis", "title", "text"), (left + right) / 2, height - 6, False),
        (_get(layout, "yaxis", "title", "text"), 14, (t + b) / 2, True),
    ):
        if text:
            attrs = {"transform": f"rotate(-90 {x:.1f} {y:.1f})"} if rot else {}
            out.append(_text(x, y, str(text), size=12, **attrs))
    # clip the curves to the plot area (the y range cuts off the early transient)
    out.append(
        f'<clipPath id="plot-area"><rect x="{left}" y="{t}" width="{right - left}" height="{b - t}"/></clipPath>'
    )
    out.append('<g clip-path="url(#plot-area)" fill="none">')
    for s in hlines:
        y = py(float(s["y0"]))
        out.append(
            f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" '
            f"{_stroke(s.get('line'), CHART_LINE, 1)}/>"
        )
    for tr in lines:
        attrs = _stroke(tr.get("line"), CHART_TEXT, 1.5) + ' stroke-linejoin="round"'
        segment: list[str] = []
        for x, y in zip(tr.get("x", []), tr.get("y", []), strict=False):
            if y is None or not (math.isfinite(float(x)) and math.isfinite(float(y))):
                if len(segment) > 1:
                    out.append(f'<polyline points="{" ".join(segment)}" {attrs}/>')
                segment = []
                continue
            segment.append(f"{px(float(x)):.1f},{py(float(y)):.1f}")
        if len(segment) > 1:
            out.append(f'<polyline points="{" ".join(segment)}" {attrs}/>')
    out.append("</g>")
    for a in layout.get("annotations", []) or []:
        if a.get("xref") == "paper" and a.get("y") is not None and a.get("text"):
            x = left + float(a.get("x", 1)) * (right - left)
            anchor = {"right": "end", "left": "start"}.get(a.get("xanchor"), "middle")
            shift = 12 if a.get("yanchor") == "top" else -4
            out.append(
                _text(
                    x - 4 if anchor == "end" else x,
                    py(float(a["y"])) + shift,
                    a["text"],
                    anchor,
                    11,
                )
            )
    for row, x, tr in legend:
        y = 38 + 15 * row
        line = {**(tr.get("line") or {}), "width": 2}  # legend swatches all 2 px wide
        out.append(
            f'<line x1="{x:.1f}" x2="{x + 18:.1f}" y1="{y - 4}" y2="{y - 4}" '
            f"{_stroke(line, CHART_TEXT, 2)}/>"
        )
        out.append(_text(x + 22, y, str(tr["name"]), anchor="start", size=11))
    if not xs:
        out.append(_text((left + right) / 2, (t + b) / 2, "no data yet", size=13))
    out.append("</svg>")
    return "".join(out)
