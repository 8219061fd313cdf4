"""Kaizen Studio's Streamlit entry: sets up the app, gates sign-in, builds the navigation for
the user's role, runs the page."""

import streamlit as st

from views import _auth
from views._runtime import app_engine

st.set_page_config(page_title="Kaizen Studio", page_icon=":material/insights:", layout="wide")
app_engine()  # connects and migrates once per process, before any page touches the database

actor = _auth.signed_in()  # shows the sign-in (or first-run setup) and stops until signed in
_auth.sidebar(actor)
st.navigation(_auth.pages_for(actor.role)).run()
