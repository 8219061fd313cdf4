"""Publish page: a registered model of the project published as a REST API (a job that writes its
bundle, and builds its image when asked), with the exact lines that run it and call it; the
project's publications with Unpublish; scoring a file with a model; API keys for admins."""

import streamlit as st

from services.access import Action
from views._publish_common import flash, of_project, visible_models
from views._publish_details import list_publications, publications_section
from views._publish_form import publish_section
from views._publish_keys import keys_section
from views._publish_score import score_section
from views._runtime import allowed, current_actor, read_or_stop


def page() -> None:
    st.title("Publish")
    flash()
    actor = current_actor()
    every = read_or_stop(visible_models)
    models = of_project(every)
    publications = read_or_stop(list_publications)
    tabs = ["Publish", "Publications", "Score a file"]
    if allowed(actor, Action.manage_api_keys):
        tabs.append("API keys")
    shown = dict(zip(tabs, st.tabs(tabs), strict=True))
    with shown["Publish"]:
        if models:
            publish_section(models, publications)
        else:
            st.info(
                "No registered models in this project yet: each training registers its best "
                "model. Train one on the Train page, then publish it here."
            )
    with shown["Publications"]:
        publications_section(publications)
    with shown["Score a file"]:
        if models:
            score_section(models, publications)
        else:
            st.info("No registered models in this project yet to score with.")
    if "API keys" in shown:
        with shown["API keys"]:
            keys_section([m.name for m in every])  # a key may be scoped to any project's


page()
