"""reparam_ui.figures.line_chart: the Live VAE's loss chart as canvas data while training plays."""

import json
import math

import pytest

from reparam_ui.figures import line_chart as S
from reparam_ui.figures import vae as F


@pytest.mark.parametrize(
    ("lo", "hi", "n", "expected"),
    [
        (0, 10, 5, [0, 2, 4, 6, 8, 10]),
        (-2.9, 3.1, 5, [-2, 0, 2]),
        (0.11, 0.52, 5, [0.2, 0.3, 0.4, 0.5]),
        (2.0, 2.0, 5, [2.0]),
        (0, 7500, 4, [0, 2000, 4000, 6000]),
    ],
)
def test_nice_ticks(lo, hi, n, expected):
    assert S.nice_ticks(lo, hi, n) == pytest.approx(expected)


def test_nice_ticks_are_round_and_inside():
    for lo, hi in [(0.013, 0.97), (-3.2, 17.5), (1e-5, 3e-5), (100, 12345)]:
        t = S.nice_ticks(lo, hi)
        assert 2 <= len(t) <= 11 and all(lo - 1e-12 <= v <= hi + 1e-12 for v in t)
        steps = {round(b - a, 12) for a, b in zip(t, t[1:], strict=False)}
        assert len(steps) == 1  # evenly spaced
        step = steps.pop()
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5))


def test_ranges_ticks_and_lines_of_a_simple_figure():
    fig = {
        "data": [
            {"type": "scatter", "mode": "lines", "x": [0, 5, 10], "y": [0, 5, 10], "name": "a"}
        ],
        "layout": {"yaxis": {"range": [0, 10]}, "title": {"text": "T"}},
    }
    spec = S.line_chart_spec(fig)
    assert spec["x"] == [0, 10] and spec["y"] == [0, 10] and spec["title"] == "T"
    assert [v for v, _ in spec["yticks"]] == [0, 2, 4, 6, 8, 10]
    assert [label for _, label in spec["xticks"]] == ["0", "2", "4", "6", "8", "10"]
    (line,) = spec["lines"]
    assert line["x"] == [0, 5, 10] and line["y"] == [0, 5, 10] and line["legend"]
    assert line["dash"] == [] and not spec["empty"]


def test_y_range_without_a_layout_range_pads_data_and_floor_lines():
    fig = {
        "data": [{"x": [0, 1], "y": [1.0, 2.0]}],
        "layout": {"shapes": [{"type": "line", "xref": "paper", "y0": 3.0, "y1": 3.0}]},
    }
    spec = S.line_chart_spec(fig)
    assert spec["y"] == pytest.approx([1.0 - 0.1, 3.0 + 0.1])  # 5 % of 1..3 each side
    assert spec["hlines"][0]["y"] == 3.0


def test_non_finite_values_become_gaps_and_never_reach_the_canvas():
    fig = {"data": [{"x": [0, 1, 2, 3, 4], "y": [1.0, 2.0, float("nan"), float("inf"), 1.0]}]}
    spec = S.line_chart_spec(fig)
    assert spec["lines"][0]["y"] == [1.0, 2.0, None, None, 1.0]
    json.dumps(spec, allow_nan=False)  # plain JSON: a NaN would raise here
    assert spec["y"][0] < 1.0 < 2.0 < spec["y"][1]


def test_the_loss_figure_keeps_every_series_the_floor_and_a_legend():
    h = {"step": [10.0 * i for i in range(1, 301)]}
    h.update(neg_elbo=[3 + 1 / i for i in range(1, 301)], recon=[2.0] * 300, kl=[1.0] * 300)
    stored = {"score": {"step": [0, 1000], "neg_elbo": [3.5, 3.0], "label": "a <b> & c"}}
    fig = F.loss_figure(h, {"step": [500, 1000], "iwae": [-2.8, -2.6]}, -2.39, stored, "pathwise")
    spec = S.line_chart_spec(fig.to_plotly_json())
    assert len(spec["lines"]) == 5  # 3 training series, IWAE, stored run
    dashed = [ln for ln in spec["lines"] if ln["dash"]]
    assert len(dashed) == 1 and "a <b> & c" in dashed[0]["name"]  # text, drawn as text
    assert [ln["color"] for ln in spec["lines"][:3]] == [
        F.SERIES_COLORS[k] for k in ("neg_elbo", "recon", "kl")
    ]
    (floor,) = spec["hlines"]
    assert floor["y"] == pytest.approx(2.39) and floor["dash"] == S.DASHES["dot"]
    (label,) = spec["labels"]
    assert "E[log p_data] = 2.39" in label["text"] and label["anchor"] == "end"
    assert spec["x"] == [0.0, 3000.0]  # the stored run starts at step 0
    lo, hi = spec["y"]  # the layout's range: the transient cut, floor and latest values in view
    assert lo < 1.0 and 2.39 < hi and hi >= 3 + 1 / 300


def test_an_empty_figure_is_an_empty_chart():
    spec = S.line_chart_spec({"data": [], "layout": {"title": {"text": "Loss"}}})
    assert spec["empty"] and spec["lines"] == [] and spec["xticks"] == []
    assert spec["title"] == "Loss"


def test_none_and_non_numbers_are_gaps_too():
    fig = {"data": [{"x": [0, 1, 2, 3], "y": [1.0, None, "n/a", 2.0]}, {"x": [0, 1], "y": None}]}
    spec = S.line_chart_spec(fig)
    assert spec["lines"][0]["y"] == [1.0, None, None, 2.0]
    assert spec["lines"][1]["x"] == [] and spec["x"] == [0.0, 3.0]
