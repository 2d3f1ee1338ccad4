"""reparam_ui.charts: the chart template reads on both app themes and every page uses it."""

import pytest

from tests.support import charts
from tests.support.apps import app_test

from reparam_ui import charts as ui_charts
from reparam_ui import downloads, messages

LIGHT_BG, DARK_BG = "#ffffff", "#0e1117"  # Streamlit's light and dark backgrounds


def luminance(hex_color: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    rgb = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_helper_matches_known_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_chart_text_reads_on_the_light_and_the_dark_theme():
    assert contrast(ui_charts.CHART_TEXT, LIGHT_BG) >= 4.5
    assert contrast(ui_charts.CHART_TEXT, DARK_BG) >= 4.0


def test_template_is_transparent_and_built_once():
    t = ui_charts.chart_template()
    assert t is ui_charts.chart_template()
    assert t.layout.paper_bgcolor == "rgba(0,0,0,0)" and t.layout.plot_bgcolor == "rgba(0,0,0,0)"
    assert t.layout.font.color == ui_charts.CHART_TEXT
    # tick labels are not measured on every draw to hide the ones past the chart's edge
    assert t.layout.xaxis.ticklabeloverflow == "allow" == t.layout.yaxis.ticklabeloverflow
    # the colourway avoids colours that vanish on either background
    for c in ui_charts.CHART_COLORWAY:
        assert contrast(c, LIGHT_BG) >= 2.0 and contrast(c, DARK_BG) >= 2.0, c


@pytest.mark.parametrize(
    "page", ["pages/change_of_variables.py", "pages/gradient_estimators.py", "pages/live_vae.py"]
)
def test_every_chart_uses_the_template_not_the_streamlit_theme(page):
    """theme="streamlit" is restyled in the browser on every draw (≈ 250 ms per redraw of a
    5-panel figure); the pages send theme None with the app's template instead."""
    at = app_test(page)
    if page == "pages/live_vae.py":  # before any training it draws on a canvas, not plotly
        at.button(key="vae_step").click().run()
    specs = charts.figures(at)
    assert specs, "no chart on the page"
    for spec in specs:
        layout = spec["layout"]
        assert layout["template"]["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)"
        assert layout["template"]["layout"]["font"]["color"] == ui_charts.CHART_TEXT
        assert layout["template"]["layout"]["modebar"]["color"] == ui_charts.CHART_TEXT


def test_figure_html_takes_the_pages_dict():
    """The animation's HTML download gets the page's dict (cov_figs.animation_spec): a standalone
    page with plotly.js, the frames and the app's template."""
    import numpy as np

    from reparam_core import transforms as T
    from reparam_ui.figures import cov as cov_figs

    path = T.standardize_path(1.0, 2.0, 3)
    spec = cov_figs.animation_spec(np.linspace(-1.0, 1.0, 30), path)
    html = downloads.figure_html(spec).decode()
    assert html.lower().startswith("<!doctype html>") and "Plotly.newPlot" in html
    assert "addFrames" in html and html.count('"traces":[0,1,2,3]') == len(path)  # every frame
    assert ui_charts.CHART_TEXT in html  # the app's template
    # plotly.js inlined once: the charts' cartesian build, not plotly.py's full 4.9 MB one
    assert html.count("* plotly.js (cartesian - minified) v") == 1 and "<script src" not in html
    assert len(html) < 2_000_000


def test_attempt_returns_the_message_of_a_value_error_and_nothing_else():
    def check(x):
        if x < 0:
            raise ValueError(f"x must be ≥ 0, got {x}")
        if x == 0:
            raise ZeroDivisionError("a bug, not bad input")
        return 1 / x

    assert messages.attempt(check, 4) == (0.25, None)
    assert messages.attempt(check, -1) == (None, "Invalid input — ` x must be ≥ 0, got -1 `")
    with pytest.raises(ZeroDivisionError):  # only bad input becomes a message
        messages.attempt(check, 0)
