"""Change of variables (placeholder until its view lands)."""

import streamlit as st

st.title("Change of variables")
st.info(
    "Coming soon: an animation of x ~ N(μ,σ²) → y = (x−μ)/σ ~ N(0,1) and back, with the density formula checked on samples."
)
