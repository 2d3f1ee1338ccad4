"""Live VAE (placeholder until its view lands)."""

import streamlit as st

st.title("Live VAE")
st.info(
    "Coming soon: a tiny VAE trained live on 2D data, with a switch between the reparameterized and the score-function gradient."
)
