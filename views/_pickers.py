"""Choosing a dataset and one of its versions; the choice follows the user across pages."""

import streamlit as st

from services import datasets
from services.models import DatasetPublic
from views._runtime import session


def version_picker(names: list[str]) -> DatasetPublic:
    """A dataset by name (the last one chosen on any page), then a version, newest first."""
    chosen = st.session_state.get("selected_name")
    index = names.index(chosen) if chosen in names else 0
    left, right = st.columns([3, 1])
    name = left.selectbox("Dataset", names, index=index)
    st.session_state["selected_name"] = name
    with session() as db:
        versions = datasets.list_versions(session=db, name=name)
    by_number = {v.version: v for v in versions}
    # Keyed by dataset so switching datasets never keeps another dataset's version.
    number = right.selectbox(
        "Version",
        list(by_number),
        format_func=lambda n: f"v{n}",
        key=f"version-{name}",  # as set by the upload box
    )
    return by_number[number]
