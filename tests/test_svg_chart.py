"""reparam_ui.svg_chart: the Live VAE's loss chart as static SVG while training plays."""

import math
import xml.etree.ElementTree as ET

import pytest

from reparam_ui import svg_chart as S
from reparam_ui import vae_figs as F

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on malformed XML (e.g. an unescaped '<' in a name)


def points(el: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in el.get("points").split()]


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


def test_lines_map_to_the_plot_area_linearly():
    fig = {
        "data": [
            {"type": "scatter", "mode": "lines", "x": [0, 5, 10], "y": [0, 5, 10], "name": "a"}
        ],
        "layout": {"yaxis": {"range": [0, 10]}},
    }
    svg = parse(S.figure_svg(fig, width=500, height=300))
    (line,) = svg.findall(".//s:polyline", NS)
    (x0, y0), (x1, y1), (x2, y2) = points(line)
    left, right = S.MARGIN["l"], 500 - S.MARGIN["r"]
    top, bottom = S.MARGIN["t"], 300 - S.MARGIN["b"]
    assert (x0, x2) == pytest.approx((left, right), abs=0.05)
    assert (y0, y2) == pytest.approx((bottom, top), abs=0.05)
    assert (x1, y1) == pytest.approx(((left + right) / 2, (top + bottom) / 2), abs=0.05)
    assert svg.get("data-last-x") == "10.0"


def test_non_finite_values_split_a_line_and_never_reach_the_svg():
    fig = {"data": [{"x": [0, 1, 2, 3, 4], "y": [1.0, 2.0, float("nan"), 2.0, 1.0]}]}
    svg_text = S.figure_svg(fig)
    assert "nan" not in svg_text.lower() and "inf" not in svg_text.lower()
    lines = parse(svg_text).findall(".//s:polyline", NS)
    assert [len(points(p)) for p in lines] == [2, 2]


def test_the_loss_figure_draws_every_series_the_floor_and_a_legend():
    h = {"step": [10.0 * i for i in range(1, 301)]}
    h.update(neg_elbo=[3 + 1 / i for i in range(1, 301)], recon=[2.0] * 300, kl=[1.0] * 300)
    stored = {"score": {"step": [0, 1000], "neg_elbo": [3.5, 3.0], "label": "a <b> & c"}}
    fig = F.loss_figure(h, {"step": [500, 1000], "iwae": [-2.8, -2.6]}, -2.39, stored, "pathwise")
    svg = parse(S.figure_svg(fig.to_plotly_json()))
    assert len(svg.findall(".//s:polyline", NS)) == 5  # 3 training series, IWAE, stored run
    dashed = [p for p in svg.findall(".//s:polyline", NS) if p.get("stroke-dasharray")]
    assert len(dashed) == 1  # the stored run of the other estimator
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert any("E[log p_data] = 2.39" in (t or "") for t in texts)  # the ceiling's label
    assert any("a <b> & c" in (t or "") for t in texts)  # escaped in the markup, intact as text
    floor = [ln for ln in svg.findall(".//s:line", NS) if ln.get("stroke-dasharray") == "2 3"]
    assert len(floor) == 1


def test_an_empty_figure_is_still_a_valid_svg():
    svg = parse(S.figure_svg({"data": [], "layout": {"title": {"text": "Loss"}}}))
    assert any(t.text == "no data yet" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
