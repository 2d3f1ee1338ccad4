"""The app shell: what app.py and every page run before their own content."""

from __future__ import annotations

import streamlit as st


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
APP_CSS = (
    "<style>[data-stale=true]{transition:none!important;opacity:1!important}"
    # captions in the text colour at 80 %: Streamlit's own grey is 3.9:1 on white, under WCAG AA's
    # 4.5:1 (axe color-contrast; tests/browser/test_a11y.py)
    "[data-testid=stCaptionContainer]{color:inherit!important;opacity:.8}</style>"
)
# A display equation wider than its box scrolls sideways (KaTeX's overflow-x: auto), and a
# scrollable region must be reachable by keyboard (WCAG 2.1.1; axe scrollable-region-focusable):
# every such box gets tabindex=0 and a label, whenever the page adds one.
FOCUSABLE_SCROLL_JS = """<script>
if (!window.__rlScrollFocus) {
  window.__rlScrollFocus = true;
  const mark = () => document.querySelectorAll(".katex-display, .rl-table-scroll").forEach((e) => {
    if (e.scrollWidth > e.clientWidth && !e.hasAttribute("tabindex")) {
      e.setAttribute("tabindex", "0");
      e.setAttribute("role", "region");
      e.setAttribute("aria-label", e.classList.contains("katex-display")
        ? "equation (scrolls sideways)" : "table (scrolls sideways)");
    }
  });
  new MutationObserver(mark).observe(document.body, {childList: true, subtree: true});
  window.addEventListener("resize", mark);
  mark();
}
</script>"""


def app_styles() -> None:
    """The app-wide CSS (app.py, every run; a style-only st.html goes to Streamlit's event container
    and takes no space)."""
    st.html(APP_CSS)
    with st.sidebar:
        st.html(FOCUSABLE_SCROLL_JS, unsafe_allow_javascript=True)
