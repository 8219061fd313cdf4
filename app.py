"""Kaizen Studio's Streamlit entry: sets up the app, builds the navigation, runs the page."""

import streamlit as st

from views._runtime import app_engine

st.set_page_config(page_title="Kaizen Studio", page_icon=":material/insights:", layout="wide")
app_engine()  # connects and migrates once per process, before any page touches the database

pages = [
    st.Page("views/datasets.py", title="Datasets", icon=":material/table:", default=True),
    st.Page("views/profile.py", title="Profile", icon=":material/query_stats:"),
    st.Page("views/train.py", title="Train", icon=":material/model_training:"),
    st.Page("views/jobs.py", title="Jobs", icon=":material/work_history:"),
]
st.navigation(pages).run()
