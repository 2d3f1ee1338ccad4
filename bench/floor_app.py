"""The floor page for bench/run.py: one trivial plotly chart and a slider that changes it.

Served by the same Streamlit (same version and flags) as the app, so page-load and rerun ratios
measure what our pages add on top of Streamlit + plotly themselves.
"""

import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="floor", layout="wide")
st.title("Floor")
a = st.slider("a", 0.0, 5.0, 1.0, key="a")
st.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[0, a, 2 * a])), key="chart")
