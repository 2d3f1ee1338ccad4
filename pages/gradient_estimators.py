"""Gradient estimators (placeholder until its view lands)."""

import streamlit as st

st.title("Gradient estimators")
st.info(
    "Coming soon: pathwise, score-function, baseline and measure-valued estimators of ∇θ E[f(x)], exact and Monte Carlo."
)
