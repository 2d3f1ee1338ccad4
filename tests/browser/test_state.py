"""In a real browser, one session: every page keeps its own state (walks between pages), and a
crafted URL reaches the page as text (a sweep of hostile values over every URL parameter)."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.support.browser import exception_count, open_page, wait_for_app
from tests.support.hostile import HOSTILE_URL_VALUES

# the values that could make an element; AppTest (test_page_state) sweeps NaN, inf and empty too
MARKUP = [v for v in HOSTILE_URL_VALUES if v not in ("nan", "inf", "")]

pytestmark = pytest.mark.browser

NAV = {
    "home": "Home",
    "change_of_variables": "Change of variables",
    "gradient_estimators": "Gradient estimators",
    "live_vae": "Live VAE",
    "diffusion": "Diffusion",
}
H1 = {**NAV, "home": "Reparam Lab"}
PREFIX = {
    "change_of_variables": "cov_",
    "gradient_estimators": "ge_",
    "live_vae": "vae_",
    "diffusion": "dif_",
}
# what each page shows at its defaults: slider values by label, and a number it computes from them
SLIDERS = {
    "change_of_variables": {"μ (mean)": 2.0, "σ (std. dev., > 0)": 0.6, "Samples shown": 200.0},
    "gradient_estimators": {"μ (mean)": 1.0, "σ (std. dev., > 0)": 1.0, "k": 2.0},
}
SHOWS = {
    "home": "Change of variables",
    "change_of_variables": "200 samples, drawn once (seed 0)",
    "gradient_estimators": "True gradient -2.",  # d/dμ E(x − 2)² = 2(μ − 2) at μ = 1
    "live_vae": "lr = 0.005",
    "diffusion": "1,000 points of moons (seed 0)",
}


def go_by_sidebar(page, name: str) -> None:
    page.locator("[data-testid=stSidebarNav]").get_by_text(NAV[name], exact=True).click()
    page.wait_for_function(
        "(t) => document.querySelector('h1')?.innerText.trim() === t", arg=H1[name]
    )
    wait_for_app(page)


def slider_value(page, label: str) -> float:
    slider = page.locator("[data-testid=stSlider]").filter(has_text=label).first
    return float(slider.locator("input[type=range]").input_value())


def check_own_defaults(page, name: str) -> None:
    assert exception_count(page) == 0, name
    assert page.locator("h1").first.inner_text().strip() == H1[name]
    for label, value in SLIDERS.get(name, {}).items():
        assert slider_value(page, label) == pytest.approx(value), (name, label)
    main = page.locator("[data-testid=stMain]")
    main.get_by_text(SHOWS[name]).first.wait_for()
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    foreign = [k for k in query if name not in PREFIX or not k.startswith(PREFIX[name])]
    assert not foreign, (name, page.url)


@pytest.mark.parametrize(
    "walk",
    [
        [
            "home",
            "change_of_variables",
            "gradient_estimators",
            "live_vae",
            "diffusion",
            "change_of_variables",
        ],
        [
            "home",
            "diffusion",
            "live_vae",
            "gradient_estimators",
            "change_of_variables",
            "gradient_estimators",
        ],
    ],
    ids=["forward", "backward"],
)
def test_each_page_shows_its_own_defaults_on_a_walk(app_url, page, walk):
    open_page(page, app_url, walk[0])
    check_own_defaults(page, walk[0])
    for name in [*walk[1:], "home"]:
        go_by_sidebar(page, name)
        check_own_defaults(page, name)


def test_a_pages_url_values_stay_on_that_page(app_url, page):
    open_page(page, app_url, "change_of_variables", "cov_mu=-1.5&cov_n=100")
    assert slider_value(page, "μ (mean)") == -1.5 and slider_value(page, "Samples shown") == 100
    page.get_by_text("100 samples, drawn once (seed 0)").first.wait_for()
    go_by_sidebar(page, "gradient_estimators")
    check_own_defaults(page, "gradient_estimators")


# ------------------------------------------------------------------------- hostile URLs

# anything an alert could have made from a visitor's value
MADE = "a, img, b, strong, em, svg, iframe, script, .katex, [data-testid=stIconMaterial]"
ALERTS = f"""() => [...document.querySelectorAll('[data-testid=stAlert]')].map(a => ({{
    text: a.innerText, made: [...a.querySelectorAll('{MADE}')].map(e => e.outerHTML)}}))"""
LINKS = """() => [...document.querySelectorAll('a')].map(a => a.getAttribute('href') || '')
    .filter(h => h.includes('evil') || h.toLowerCase().startsWith('javascript'))"""
VISITOR_ALERT = "URL parameter"  # and "Invalid input —": the alerts that quote a visitor
FREE_TEXT = {"ge_expr"}  # any text is a valid value (the parser then says what is wrong)
# each page's URL keys, from the URL it writes at its defaults (so new parameters are swept too)
SWEPT = [
    ("change_of_variables", ""),
    ("gradient_estimators", ""),
    ("live_vae", ""),
    ("diffusion", ""),
]
SWEPT.append(("gradient_estimators", "ge_tab=Beyond+the+Gaussian"))


def url_keys(page, app_url, name: str, query: str) -> list[str]:
    open_page(page, app_url, name, query)
    keys = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query, keep_blank_values=True)
    return [k for k in keys if k != "ge_tab"]


@pytest.mark.parametrize(("name", "base"), SWEPT)
def test_hostile_url_values_reach_the_page_as_text(app_url, page, name, base):
    """URL i gives key j the value MARKUP[(i + j) % n]: every key meets every value, one
    5000-character value per URL."""
    keys = url_keys(page, app_url, name, base)
    assert len(keys) >= 5, keys
    n = len(MARKUP)
    for i in range(n):
        values = {k: MARKUP[(i + j) % n] for j, k in enumerate(keys)}
        query = "&".join(filter(None, [base, urllib.parse.urlencode(values)]))
        open_page(page, app_url, name, query)  # waits until the app is idle
        assert exception_count(page) == 0, values
        assert page.evaluate(LINKS) == [], values
        alerts = [
            a for a in page.evaluate(ALERTS) if VISITOR_ALERT in a["text"] or "Invalid" in a["text"]
        ]
        assert all(not a["made"] for a in alerts), [a for a in alerts if a["made"]]
        text = " ".join(a["text"] for a in alerts)
        for key in set(keys) - FREE_TEXT:
            assert f"URL parameter {key} ignored" in text, (key, values[key], text[:500])
        assert len(text) < 20_000  # long values are cut, not echoed in full


@pytest.mark.parametrize("value", MARKUP[:2])
def test_a_hostile_tab_name_opens_the_first_tab(app_url, page, value):
    open_page(page, app_url, "gradient_estimators", urllib.parse.urlencode({"ge_tab": value}))
    assert exception_count(page) == 0
    assert page.evaluate(LINKS) == []
    assert page.get_by_role("tab", name="Monte Carlo run").get_attribute("aria-selected") == "true"
    warning = page.locator("[data-testid=stAlert]").filter(has_text="URL parameter ge_tab ignored")
    assert warning.count() == 1 and warning.locator(MADE).count() == 0
