"""State per page, and visitor text as text (AppTest): each page keeps its session and URL keys
under its own prefix, a crafted URL value is only ever shown inside a code span, and downloads
carry an icon every browser can draw."""

from __future__ import annotations

import re

import pytest

from tests.support.apps import APP, app_test
from tests.support.hostile import HOSTILE_URL_VALUES

from reparam_ui import messages

PAGE_FILES = {
    "pages/home.py": (),
    "pages/change_of_variables.py": ("cov_",),
    "pages/gradient_estimators.py": ("ge_", "bg_"),  # bg_: its "Beyond the Gaussian" tab
    "pages/live_vae.py": ("vae_",),
    "pages/diffusion.py": ("dif_",),
}
APP_KEYS = {"_app_shell_checked"}  # app.py's own, once per session
TABS = [
    "Monte Carlo run",
    "Variance curves (Fig. 2)",
    "Where each fails",
    "Beyond the Gaussian",
    "Dimension",
]
PAGE_TABS = {  # pages with lazy tabs: their key and labels (each tab makes its own keys)
    "pages/gradient_estimators.py": ("ge_tab", TABS),
    "pages/diffusion.py": ("dif_tab", ["Forward process", "Live training", "Reverse (sampling)"]),
}
FREE_TEXT = {"ge_expr"}  # any text is a valid value for it (the parser says what is wrong)


def session_keys(at) -> set[str]:
    return set(at.session_state._state.filtered_state) - APP_KEYS


def visited(path: str):
    """An AppTest on `path`; on a page with tabs every tab is opened once, so each tab's keys
    are made."""
    at = app_test(path)
    if path in PAGE_TABS:
        key, tabs = PAGE_TABS[path]
        for tab in tabs[1:]:
            at.session_state[key] = tab
            at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("path", PAGE_FILES)
def test_every_session_and_url_key_carries_the_pages_prefix(path):
    at = visited(path)
    prefixes = PAGE_FILES[path]
    keys = session_keys(at) | set(at.query_params)
    assert all(k.startswith(prefixes) for k in keys), sorted(
        k for k in keys if not k.startswith(prefixes)
    )
    if prefixes:
        assert len(keys) >= 8, sorted(keys)


def test_a_page_walk_shows_each_pages_own_defaults():
    """Change of variables → Gradient estimators → Live VAE → back, in one session: each page's
    widgets start at its own defaults, and the gradient page's number is the defaults' one."""
    at = app_test("pages/change_of_variables.py")
    mu = next(s for s in at.slider if s.label == "μ (mean)")
    assert mu.value == 2.0
    at.switch_page("pages/gradient_estimators.py").run()
    sliders = {s.label: s.value for s in at.slider}
    assert sliders["μ (mean)"] == 1.0 and sliders["σ (std. dev., > 0)"] == 1.0
    assert any("True gradient -2." in c.value for c in at.caption)  # 2(μ − k), k = 2
    at.switch_page("pages/live_vae.py").run()
    assert next(n for n in at.number_input if n.label == "Seed").value == 0
    at.switch_page("pages/change_of_variables.py").run()
    assert next(s for s in at.slider if s.label == "μ (mean)").value == 2.0
    assert not at.exception


# ------------------------------------------------------------------------- hostile URL values


def outside_code(markdown: str) -> str:
    """`markdown` with its code spans removed, as CommonMark delimits them: a run of n backticks
    up to the next run of exactly n."""
    out, i = [], 0
    while i < len(markdown):
        run = re.match("`+", markdown[i:])
        if run is None:
            out.append(markdown[i])
            i += 1
            continue
        fence, start = run.group(), i + len(run.group())
        close = next(
            (m for m in re.finditer("`+", markdown[start:]) if len(m.group()) == len(fence)), None
        )
        if close is None:
            out.append(fence)
            i = start
        else:
            i = start + close.end()
    return "".join(out)


def test_outside_code_drops_code_spans_only():
    assert outside_code("a `k` b `` x ` y `` c ` d") == "a  b  c ` d"


def test_literal_is_one_code_span_that_shows_the_value():
    for value in HOSTILE_URL_VALUES + ["`", "a``b", "```", "line\nbreak\x00"]:
        shown = messages.literal(value)
        fence = re.match("`+", shown).group()
        body, _, rest = shown[len(fence) + 1 :].rpartition(" " + fence)
        assert fence not in body, shown  # the span cannot be closed early
        assert rest in ("", f" ({len(value):,} characters)")
        assert "\n" not in shown and "\x00" not in shown
        assert body == repr(value[: messages.LITERAL_MAX] + ("…" if rest else ""))


def url_app(path: str, query: dict[str, str]):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    at.run()
    at.switch_page(path).run()
    return at


def shown_markdown(at) -> list[str]:
    return [
        e.value
        for kind in ("warning", "error", "info", "markdown", "caption")
        for e in getattr(at, kind)
    ]


@pytest.mark.parametrize("path", [p for p, prefixes in PAGE_FILES.items() if prefixes])
def test_hostile_url_values_are_warned_and_shown_only_as_code(path):
    """URL i gives key j the value HOSTILE_URL_VALUES[(i + j) % n]: every key meets every value."""
    keys = [k for k in app_test(path).query_params if k != "ge_tab"]
    if path.endswith("gradient_estimators.py"):  # and the Beyond tab's keys, with it open
        keys += [k for k in url_app(path, {"ge_tab": TABS[3]}).query_params if k.startswith("bg_")]
    n = len(HOSTILE_URL_VALUES)
    for i in range(n):
        query = {k: HOSTILE_URL_VALUES[(i + j) % n] for j, k in enumerate(keys)}
        if path.endswith("gradient_estimators.py"):
            query["ge_tab"] = TABS[3] if i % 2 else TABS[0]
        at = url_app(path, query)
        assert not at.exception, [e.value for e in at.exception]
        warnings = " ".join(w.value for w in at.warning)
        opened = [k for k in keys if not k.startswith("bg_") or query.get("ge_tab") == TABS[3]]
        for key in set(opened) - FREE_TEXT:
            assert f"URL parameter `{key}` ignored" in warnings, (key, query[key])
        for text in shown_markdown(at):
            bare = outside_code(text)
            assert "evil.example" not in bare and "javascript:" not in bare, text[:300]
            assert "<b>" not in bare and "\\href" not in bare and ":material/warning:" not in bare
            assert "x" * 100 not in text  # long values are cut


@pytest.mark.parametrize("path", [p for p, prefixes in PAGE_FILES.items() if prefixes])
def test_downloads_use_a_material_icon_not_an_emoji(path):
    """Debian's Chromium has no emoji font: 📥 was drawn as an empty box."""
    at = visited(path)
    icons = [b.proto.icon for b in at.get("download_button")]
    assert icons and all(i.startswith(":material/") for i in icons), icons
