"""reparam_ui.components.plot_element: the chart element that updates in place.

Core of the element: it keeps its identity while its figure changes (so the browser calls
Plotly.react on the mounted chart instead of building a new one); it draws with the cartesian
plotly.js build in static/, which holds every trace type the pages use (else Streamlit's chunk);
and without that chunk it falls back to st.plotly_chart.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import numpy as np
import plotly
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from streamlit.testing.v1 import AppTest

from tests.support import ROOT
from tests.support.apps import app_test
from tests.support.charts import chart_elements, decode, figure_of, figures, plotly_version

from reparam_ui.components import plot_element

BUILD = plot_element.BUNDLE_PATH
FULL_BUILD = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"  # plotly.py's own
TRACE = re.compile(r'moduleType:"trace",name:"(\w+)"')


def traces_in(build: Path) -> set[str]:
    return set(TRACE.findall(build.read_text(encoding="utf-8")))


SCRIPT = """
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
from reparam_ui.components.plot_element import plot

a = st.number_input("a", value=1.0)
plot(go.Figure(go.Scatter(x=[0, 1, 2], y=[0, a, 2 * a])), key="chart")
"""


def test_streamlit_ships_the_plotly_chunk_and_it_sets_window_plotly():
    """The fallback's one assumption about Streamlit's build (used without static serving): its
    chart chunk exists and importing it defines window.Plotly."""
    assert plot_element.CHUNK is not None
    text = (plot_element._STATIC_JS / plot_element.CHUNK).read_text(encoding="utf-8")
    assert "window.Plotly=" in text


def test_the_charts_build_is_the_plotly_js_plotly_py_writes_figures_for():
    """The cartesian build in static/ is the same plotly.js release as plotly.py's bundle, so the
    figures plotly.py writes (attributes, typed arrays) mean the same to it."""
    assert plotly_version(BUILD) == plotly_version(FULL_BUILD)
    assert {"scatter", "bar", "heatmap"} <= traces_in(BUILD) < traces_in(FULL_BUILD)


def test_streamlit_serves_the_build_as_a_static_file():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableStaticServing"] is True
    assert BUILD.stat().st_size < 2_000_000  # the full build is 4.8 MB


# A trace type the build lacks is not an error in plotly.js: the trace is silently not drawn.
def test_every_trace_type_in_the_source_is_in_the_build():
    known, have = traces_in(FULL_BUILD), traces_in(BUILD)
    used = set()
    for path in [*(ROOT / "reparam_ui").rglob("*.py"), *(ROOT / "pages").glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        used |= {t.lower() for t in re.findall(r"\bgo\.([A-Z]\w+)\(", text)}
        used |= set(re.findall(r"""["']?type["']?\s*[:=]\s*["'](\w+)["']""", text))
    assert used & known, "found no trace type in the source: the scan is broken"
    assert used & known <= have


@pytest.mark.parametrize(
    "page, view",
    [
        ("pages/change_of_variables.py", None),
        ("pages/change_of_variables.py", "Check and other maps"),
        ("pages/gradient_estimators.py", None),
    ],
)
def test_every_trace_a_page_sends_is_in_the_build(page, view):
    at = app_test(page)
    if view is not None:
        at.segmented_control(key="cov_view").set_value(view).run()
    types = {t.get("type", "scatter") for fig in figures(at) for t in fig["data"]}
    assert types and types <= traces_in(BUILD), types


def test_figure_bytes_carry_the_figure_as_plotly_json():
    x = np.linspace(-1.0, 1.0, 7)
    fig = go.Figure(go.Scatter(x=x, y=x**2, name="parabola"), layout={"height": 321})
    spec = json.loads(plot_element.figure_bytes(fig))
    (trace,) = spec["data"]
    np.testing.assert_array_equal(decode(trace["x"]), x)
    np.testing.assert_array_equal(decode(trace["y"]), x**2)
    assert trace["name"] == "parabola" and spec["layout"]["height"] == 321


def test_a_changed_figure_keeps_the_element_identity():
    at = AppTest.from_string(SCRIPT).run()
    assert not at.exception
    (before,) = chart_elements(at)
    at.number_input[0].set_value(3.0).run()
    (after,) = chart_elements(at)
    assert decode(figure_of(after)["data"][0]["y"]).tolist() == [0.0, 3.0, 6.0]
    assert figure_of(before) != figure_of(after)
    assert after.proto.id == before.proto.id  # same element: the browser updates it in place


def test_without_the_chunk_it_falls_back_to_st_plotly_chart(monkeypatch):
    monkeypatch.setattr(plot_element, "CHUNK", None)
    at = AppTest.from_string(SCRIPT).run()
    assert not at.exception
    assert not chart_elements(at)
    (chart,) = at.get("plotly_chart")
    assert json.loads(chart.proto.spec)["data"][0]["y"] == [0, 1.0, 2.0]


def test_a_dict_is_encoded_directly_and_reads_like_plotlys_encoding():
    """The fast path for dicts (the pages' figures) sends what plotly's encoder would: the same
    numbers (typed arrays of the same dtype) in the same places; NaN outside arrays → null."""
    spec = {
        "data": [
            {"type": "scatter", "x": np.arange(5), "y": np.linspace(0.0, 1.0, 5) ** 2},
            {"type": "bar", "x": np.array([0.5, 1.5], dtype=np.float32), "y": [3, 4]},
        ],
        "layout": {"height": 300, "title": {"text": "σ ≥ 0"}},
        "frames": [{"name": "0", "data": [{"y": np.array([np.nan, 1.0])}]}],
    }
    ours = json.loads(plot_element.figure_bytes(spec))
    theirs = json.loads(pio.to_json(spec, validate=False))
    assert ours["layout"] == theirs["layout"]
    for a, b in zip(ours["data"], theirs["data"], strict=True):
        assert a.keys() == b.keys()
        for k in a:
            if k in ("x", "y"):
                np.testing.assert_array_equal(decode(a[k]), decode(b[k]))
            else:
                assert a[k] == b[k]
    # numpy arrays go as typed arrays (4 or 8 bytes a number), lists stay lists
    assert [ours["data"][0]["x"]["dtype"], ours["data"][0]["y"]["dtype"]] == ["i4", "f8"]
    assert ours["data"][1]["x"]["dtype"] == "f4" and ours["data"][1]["y"] == [3, 4]
    assert np.isnan(decode(ours["frames"][0]["data"][0]["y"])[0])
    # a float NaN outside an array is not JSON: this falls back to plotly's encoder (null)
    assert json.loads(plot_element.figure_bytes({"data": [{"y": [1.0, float("nan")]}]})) == {
        "data": [{"y": [1.0, None]}]
    }
