"""Shared Streamlit helpers for the pages: URL-backed settings, error display, charts, downloads.

Pages keep their settings in `st.session_state` (per visitor) under widget keys; `Param` specs
seed those keys from `st.query_params` on first load and `sync_query` writes them back, so a URL
restores a view.
"""

from __future__ import annotations

import functools
import io
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from reparam_ui.messages import error_text, url_warning


def ensure_app_shell() -> None:
    """Make a deep link (e.g. /live_vae) on a fresh server run through app.py, not around it.

    Streamlit starts each server in its legacy "pages/ folder" mode and leaves it only when
    `st.navigation` is first called from app.py. Until then a direct URL to a page runs that page
    file alone, with an auto-discovered sidebar and no page config. Page URLs hash the same in both
    modes, so switching the mode off and rerunning lands on the same page, now inside app.py.
    Checked once per visitor session, on its first run: a rerun discards that run's widget
    events, and AppTest re-enters the legacy mode on every run.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if st.session_state.get("_app_shell_checked"):
        return
    st.session_state["_app_shell_checked"] = True
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


# No fade on stale elements: Streamlit starts and cancels an opacity transition on every element
# of a rerun, which the browser pays for even when the rerun is too fast to show it. Slow steps
# show a spinner instead (bench/run.py: rerun_latency_ratio; docs/performance.md).
APP_CSS = "<style>[data-stale=true]{transition:none!important;opacity:1!important}</style>"


def app_styles() -> None:
    """The app-wide CSS (app.py, every run; a style-only st.html goes to Streamlit's event container
    and takes no space)."""
    st.html(APP_CSS)


@dataclass(frozen=True)
class Param:
    """One URL-backed setting: its default, and the range or options a URL value must respect."""

    default: Any
    lo: float | None = None
    hi: float | None = None
    options: Sequence[Any] | None = None

    def parse(self, raw: str) -> Any:
        """Parse a query-string value; raise ValueError saying what is acceptable. The message
        never quotes `raw` (it is the visitor's text: `messages.url_warning` shows it)."""
        kind = type(self.default)
        if kind is bool:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true or false")
        if kind in (int, float):
            try:
                number = float(raw)
            except ValueError:
                raise ValueError("expected a number") from None
            if not math.isfinite(number):
                raise ValueError("expected a finite number")
            if kind is int and not number.is_integer():
                raise ValueError("expected a whole number")
            value: Any = int(number) if kind is int else number
        else:
            value = raw
        if self.options is not None and value not in self.options:
            raise ValueError(f"expected one of {', '.join(map(str, self.options))}")
        if self.lo is not None and value < self.lo:
            raise ValueError(f"must be ≥ {self.lo:g}")
        if self.hi is not None and value > self.hi:
            raise ValueError(f"must be ≤ {self.hi:g}")
        return value


def init_from_query(params: dict[str, Param]) -> None:
    """Seed `st.session_state[key]` for each param, from the URL if it holds a valid value.

    Invalid URL values fall back to the default with a visible warning naming the parameter.
    """
    for key, spec in params.items():
        if key in st.session_state:
            continue
        raw = st.query_params.get(key)
        value = spec.default
        if raw is not None:
            try:
                value = spec.parse(raw)
            except ValueError as exc:
                st.warning(url_warning(key, str(exc), raw, spec.default))
        st.session_state[key] = value


def warn_invalid_query(params: dict[str, Param]) -> None:
    """For widgets Streamlit binds to the URL itself (`bind="query-params"`), which drops an
    invalid value silently: the same visible warning as `init_from_query` gives."""
    for key, spec in params.items():
        raw = st.query_params.get(key)
        if raw is not None:
            try:
                spec.parse(raw)
            except ValueError as exc:
                st.warning(url_warning(key, str(exc), raw, spec.default))


def sync_query(params: dict[str, Param]) -> None:
    """Write the current values of `params` back to the URL so it can be shared."""
    wanted = {key: _fmt(st.session_state.get(key, spec.default)) for key, spec in params.items()}
    if {k: st.query_params.get(k) for k in wanted} != wanted:
        st.query_params.from_dict(wanted)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 10))
    return str(value)


def guarded(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any | None:
    """Call into reparam_core; a ValueError becomes an `st.error` and None, never a traceback."""
    result, error = attempt(fn, *args, **kwargs)
    if error is not None:
        st.error(error)
    return result


def attempt(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any | None, str | None]:
    """Like `guarded`, but the message is returned (to be shown later), not shown now."""
    try:
        return fn(*args, **kwargs), None
    except ValueError as exc:
        return None, error_text(exc)


# Chart styling for both app themes: this template and `theme=None`, because Streamlit's own
# plotly theme restyles every draw in the browser (bench/run.py: rerun_latency_ratio;
# docs/performance.md). Transparent backgrounds, so the page's background shows through, and text,
# grid and axis colours that read on the light page (#ffffff) and the dark one (#0e1117) alike.
CHART_TEXT = "#72767f"  # contrast 4.55:1 on white, 4.15:1 on #0e1117 (tests/test_common.py)
CHART_GRID = "rgba(128, 128, 128, 0.22)"
CHART_LINE = "rgba(128, 128, 128, 0.5)"
CHART_COLORWAY = (
    "#6236ff",
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#17becf",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
)


@functools.cache  # built once per process: a constant, shared by every session
def chart_template():
    """The app's plotly template (a `go.layout.Template`; assigning it to a figure is free)."""
    import plotly.graph_objects as go

    # ticklabeloverflow "allow": plotly's default ("hide past div") forces a layout per tick label
    # on each draw; automargin keeps ours inside (bench/run.py: rerun_latency_ratio;
    # docs/performance.md)
    axis = {
        "gridcolor": CHART_GRID,
        "zerolinecolor": CHART_LINE,
        "linecolor": CHART_LINE,
        "ticklabeloverflow": "allow",
    }
    return go.layout.Template(
        layout={
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": '"Source Sans", "Source Sans Pro", sans-serif', "color": CHART_TEXT},
            "colorway": list(CHART_COLORWAY),
            "xaxis": axis,
            "yaxis": axis,
            "legend": {"bgcolor": "rgba(0,0,0,0)"},
            # plotly's default mode bar icons are dark grey: invisible on the dark theme
            "modebar": {
                "bgcolor": "rgba(0,0,0,0)",
                "color": CHART_TEXT,
                "activecolor": CHART_COLORWAY[0],
            },
            "hoverlabel": {"font": {"family": '"Source Sans", sans-serif'}},
            "colorscale": {"sequential": "Viridis"},
        }
    )


def show_figure(fig: Any, key: str) -> None:
    """Render a plotly figure full-width in the app's template (reads in light and dark); a later
    run with the same key updates it in place (`plot_element`)."""
    from reparam_ui.plot_element import plot

    fig.layout.template = chart_template()
    plot(fig, key)


def csv_bytes(columns: dict[str, Sequence[Any]]) -> bytes:
    """Columns of equal length → CSV bytes (header row first)."""
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    if any(len(columns[c]) != n for c in names):
        raise ValueError("columns must all have the same length")
    buf = io.StringIO()
    buf.write(",".join(names) + "\n")
    for i in range(n):
        buf.write(",".join(_cell(columns[c][i]) for c in names) + "\n")
    return buf.getvalue().encode()


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return repr(v)
    s = str(v)
    return '"' + s.replace('"', '""') + '"' if ("," in s or '"' in s) else s


def markdown_table(columns: dict[str, Sequence[Any]], number: str = "{:.4g}") -> str:
    """Columns of equal length → a Markdown table: numbers formatted with `number` and
    right-aligned, NaN as "—", "|" in a cell escaped. A static table in `st.markdown` spares the
    page the Arrow code `st.table`/`st.dataframe` load in the browser (bench/run.py:
    page_load_ratio_max; docs/performance.md)."""
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    if any(len(columns[c]) != n for c in names):
        raise ValueError("columns must all have the same length")

    def is_number(v: Any) -> bool:
        return isinstance(v, numbers.Real) and not isinstance(v, bool)

    def cell(v: Any) -> str:
        if is_number(v):
            return "—" if math.isnan(v) else number.format(v)
        return str(v).replace("|", "\\|").replace("\n", " ")

    numeric = {c for c in names if n and all(is_number(v) for v in columns[c])}
    lines = [
        "| " + " | ".join(cell(c) for c in names) + " |",
        "|" + "|".join("---:" if c in numeric else ":---" for c in names) + "|",
    ]
    lines += ["| " + " | ".join(cell(columns[c][i]) for c in names) + " |" for i in range(n)]
    return "\n".join(lines)


# a Material icon, not an emoji: Debian's Chromium has no emoji font and drew 📥 as an empty box
DOWNLOAD_ICON = ":material/download:"


def download_csv(label: str, columns: dict[str, Sequence[Any]], file_name: str, key: str) -> None:
    st.download_button(
        label, csv_bytes(columns), file_name=file_name, mime="text/csv", key=key, icon=DOWNLOAD_ICON
    )


def figure_html(fig: Any) -> bytes:
    """The figure (a Figure or its dict) as a standalone HTML page (plotly.js inlined, animations
    included), in the app's template (Streamlit's default "streamlit" template carries placeholder
    colours). The inlined plotly.js is the charts' cartesian build, a third of plotly.py's full
    one (sizes: docs/performance.md)."""
    import plotly.graph_objects as go

    from reparam_ui.plot_element import BUNDLE_PATH

    if isinstance(fig, dict):
        fig = go.Figure(fig, _validate=False)
    fig.layout.template = chart_template()
    html = fig.to_html(include_plotlyjs=False, full_html=True, auto_play=False)
    script = "<script>" + BUNDLE_PATH.read_text(encoding="utf-8") + "</script>\n"
    return html.replace("</head>", script + "</head>", 1).encode()


def download_figure_html(label: str, fig: Any, file_name: str, key: str) -> None:
    """The figure as a standalone HTML file (plotly.js inlined, animations included)."""
    st.download_button(
        label, figure_html(fig), file_name=file_name, mime="text/html", key=key, icon=DOWNLOAD_ICON
    )


def sync_query_keys(params: dict[str, Param]) -> None:
    """Like `sync_query`, but only sets these keys and leaves every other URL parameter alone
    (`sync_query` rewrites the whole query string), so two views can share one page's URL."""
    for key, spec in params.items():
        value = _fmt(st.session_state.get(key, spec.default))
        if st.query_params.get(key) != value:
            st.query_params[key] = value


def download_figure_html_deferred(label: str, fig: Any, file_name: str, key: str) -> None:
    """Like `download_figure_html`, but the HTML (over a megabyte) is built only when the button is clicked.

    Clicking does not rerun the page (so a playing animation keeps playing).
    """
    st.download_button(
        label,
        lambda: figure_html(fig),
        file_name=file_name,
        mime="text/html",
        key=key,
        icon=DOWNLOAD_ICON,
        on_click="ignore",
    )


def show_figure_spec(spec: dict, key: str) -> None:
    """`show_figure` for a figure kept as a plain dict (e.g. returned by `st.cache_data`): sent as
    it is with the app's template, never re-wrapped in a `go.Figure` (a deep copy on every rerun;
    bench/run.py: rerun_latency_ratio; docs/performance.md)."""
    from reparam_ui.plot_element import plot

    plot({**spec, "layout": {**spec.get("layout", {}), "template": _template_json()}}, key)


@functools.cache
def _template_json() -> dict:
    return chart_template().to_plotly_json()
