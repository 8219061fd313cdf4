"""Choosing a dataset and one of its versions; the choice follows the user across pages."""

import streamlit as st

from services import datasets
from services.models import DatasetPublic
from views._runtime import current_actor, current_project, session


def version_picker(names: list[str]) -> DatasetPublic:
    """A dataset of the current project by name (the last one chosen on any page), then a
    version, newest first."""
    chosen = st.session_state.get("selected_name")
    index = names.index(chosen) if chosen in names else 0
    left, right = st.columns([3, 1])
    name = left.selectbox("Dataset", names, index=index)
    st.session_state["selected_name"] = name
    with session() as db:
        versions = datasets.list_versions(
            session=db, actor=current_actor(), project_id=current_project(), name=name
        )
    by_number = {v.version: v for v in versions}
    if not by_number:  # deleted since the list was read
        st.info("This dataset no longer exists.")
        st.stop()
    # Keyed by dataset so switching datasets never keeps another dataset's version.
    number = right.selectbox(
        "Version",
        list(by_number),
        format_func=lambda n: f"v{n}",
        key=f"version-{name}",  # as set by the upload box and the Train page
    )
    return by_number[number]
