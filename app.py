"""Kaizen Studio's Streamlit entry: sets up the app, gates sign-in, builds the navigation for
the user's role, runs the page (or, for a share link that asks for a sign-in, opens its demo)."""

import streamlit as st

from views import _auth, _open_share
from views._runtime import app_engine

st.set_page_config(page_title="Kaizen Studio", page_icon=":material/insights:", layout="wide")
app_engine()  # connects and migrates once per process, before any page touches the database

_open_share.before_sign_in()  # why a shared demo asks for a sign-in, if that is why we're here
actor = _auth.signed_in()  # shows the sign-in (or first-run setup) and stops until signed in
if _open_share.requested():
    _open_share.screen(actor)
else:
    _auth.sidebar(actor)
    st.navigation(_auth.pages_for(actor.role)).run()
