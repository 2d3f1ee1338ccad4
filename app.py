"""Reparam Lab: entry point. Run with `streamlit run app.py`.

Declares the pages (st.navigation ignores the folder's auto-discovery), the page config and the
shared sidebar. Each page is a thin view over `reparam_core`.
"""

import streamlit as st

from reparam_ui.shell import app_styles

st.set_page_config(
    page_title="Reparam Lab",
    page_icon="🎲",
    layout="wide",
    menu_items={"About": "Reparam Lab — see and measure the reparameterization trick."},
)

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page(
        "pages/change_of_variables.py", title="Change of variables", icon=":material/swap_horiz:"
    ),
    st.Page(
        "pages/gradient_estimators.py", title="Gradient estimators", icon=":material/query_stats:"
    ),
    st.Page("pages/live_vae.py", title="Live VAE", icon=":material/neurology:"),
    st.Page("pages/diffusion.py", title="Diffusion", icon=":material/blur_on:"),
]

page = st.navigation(PAGES)
app_styles()

with st.sidebar:
    st.caption(
        "**Reparam Lab** — the reparameterization trick, seen and measured. "
        "Numbers follow Mohamed et al. 2020, *Monte Carlo Gradient Estimation in Machine "
        "Learning* (JMLR)."
    )

page.run()
