"""A line chart as plain data for a <canvas>: the Live VAE's loss chart while training plays.

Why: the page redraws its loss chart 5 times a second. A plotly chart in Streamlit is rebuilt from
scratch on every change (its element id follows its data), which kept the browser busy and took
CPU from the training itself (bench/vae_bench.py browser; docs/performance.md). `line_chart_spec`
reduces a `plotly` line figure from `reparam_ui.figures.vae.loss_spec` to what `live_canvas.js`
draws — line traces (colour, width, dash), the title and axis titles, the axis ranges with round
ticks, horizontal `xref="paper"` line shapes and their annotations — and ignores anything else.
When training pauses, the page shows the interactive plotly figure again (zoom, hover).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

DASHES = {"dash": [7, 4], "dot": [2, 3], "dashdot": [7, 3, 2, 3]}


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


def _column(values: Any) -> np.ndarray:
    """A trace's x or y as floats (None and non-numbers → NaN)."""
    try:
        return np.asarray(values if values is not None else [], dtype=float).reshape(-1)
    except (TypeError, ValueError):
        pass
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            pass
    return out


def _finite(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _get(d: Any, *path: str, default: Any = None) -> Any:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return default
        d = d[p]
    return d


def _stroke(line: dict | None, color: str, width: float) -> dict:
    line = line or {}
    return {
        "color": line.get("color") or color,
        "width": float(line.get("width", width)),
        "dash": DASHES.get(line.get("dash", ""), []),
    }


def line_chart_spec(fig: dict, text_color: str = "#72767f") -> dict:
    """The line traces, floor lines and labels of a plotly figure dict, ranges and ticks resolved:
    x spans the data, y the layout's fixed range (else the data and floor lines, padded 5 %).
    Non-finite values become None (the canvas breaks the line there); nothing else is dropped."""
    layout = fig.get("layout", {}) or {}
    traces = [
        t
        for t in fig.get("data", []) or []
        if t.get("type", "scatter") == "scatter" and "lines" in t.get("mode", "lines")
    ]
    lines = []
    for tr in traces:
        x, y = _column(tr.get("x")), _column(tr.get("y"))
        n = min(len(x), len(y))
        x, y = x[:n], np.round(y[:n], 5)
        gap = ~(np.isfinite(x) & np.isfinite(y))  # drawn as a break in the line
        xs, ys = x.tolist(), y.tolist()
        for i in np.flatnonzero(gap).tolist():
            xs[i] = ys[i] = None
        lines.append(
            {
                "name": str(tr.get("name", "")),
                "legend": bool(tr.get("name")) and tr.get("showlegend") is not False,
                **_stroke(tr.get("line"), text_color, 1.5),
                "x": xs,
                "y": ys,
            }
        )
    hlines = [
        {"y": float(s["y0"]), **_stroke(s.get("line"), text_color, 1)}
        for s in layout.get("shapes", []) or []
        if s.get("type") == "line"
        and s.get("xref") == "paper"
        and s.get("y0") == s.get("y1")
        and _finite(s.get("y0")) is not None
    ]
    xs = [
        x
        for ln in lines
        for x, y in zip(ln["x"], ln["y"], strict=True)
        if y is not None and x is not None
    ]
    ys = [y for ln in lines for y in ln["y"] if y is not None]
    y_range = _get(layout, "yaxis", "range")
    if y_range and all(_finite(v) is not None for v in y_range) and y_range[1] > y_range[0]:
        y0, y1 = float(y_range[0]), float(y_range[1])
    else:
        vals = ys + [h["y"] for h in hlines]
        y0, y1 = (min(vals), max(vals)) if vals else (0.0, 1.0)
        pad = 0.05 * (y1 - y0) or 0.5
        y0, y1 = y0 - pad, y1 + pad
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x1 <= x0:
        x1 = x0 + 1.0
    labels = [
        {
            "x": float(a.get("x", 1)),
            "y": float(a["y"]),
            "text": str(a["text"]),
            "anchor": {"right": "end", "left": "start"}.get(a.get("xanchor"), "middle"),
            "below": a.get("yanchor") == "top",
        }
        for a in layout.get("annotations", []) or []
        if a.get("xref") == "paper" and _finite(a.get("y")) is not None and a.get("text")
    ]
    return {
        "title": str(_get(layout, "title", "text", default="") or ""),
        "xtitle": str(_get(layout, "xaxis", "title", "text", default="") or ""),
        "ytitle": str(_get(layout, "yaxis", "title", "text", default="") or ""),
        "x": [x0, x1],
        "y": [y0, y1],
        "xticks": [[v, _fmt(v)] for v in nice_ticks(x0, x1, 6)] if xs else [],
        "yticks": [[v, _fmt(v)] for v in nice_ticks(y0, y1)],
        "lines": lines,
        "hlines": hlines,
        "labels": labels,
        "empty": not xs,
    }
