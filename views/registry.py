"""Registry page: the current project's registered models, which version holds each alias,
every version with its lineage and a link to its insights; promotion (a request, or at once
for admins) after the comparison, one's pending requests, and the alias history."""

import pandas as pd
import streamlit as st

from services import registry
from services.access import Action
from services.registry import RegisteredModelPublic
from views._alias_history import history_section
from views._promotion_forms import own_requests, promotion_section
from views._registry_common import flash
from views._registry_versions import alias_holders, insights_links, versions_table
from views._runtime import (
    allowed,
    current_actor,
    current_project,
    read_or_stop,
    session,
    settings,
)


def project_models() -> list[RegisteredModelPublic]:
    """The registered models of the project chosen in the sidebar, by name."""
    with session() as db:
        found = registry.list_models(session=db, settings=settings(), actor=current_actor())
    project = current_project()
    return [m for m in found if m.project_id == project]


def overview(models: list[RegisteredModelPublic]) -> None:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "model": m.name,
                    "versions": len(m.versions),
                    "newest": f"v{m.versions[0].version}",
                    "aliases": ", ".join(f"{a}: v{v}" for a, v in sorted(m.aliases.items())),
                    "updated": m.versions[0].created_at,
                }
                for m in models
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={"updated": st.column_config.DatetimeColumn(format="distance")},
    )


def model_picker(models: list[RegisteredModelPublic]) -> RegisteredModelPublic:
    by_name = {m.name: m for m in models}
    wanted = st.query_params.get("model")
    index = list(by_name).index(wanted) if wanted in by_name else 0
    name = st.selectbox("Model", list(by_name), index=index, key="registry-model")
    st.query_params["model"] = name  # a refresh or a shared link opens this model again
    return by_name[name]


def model_details(model: RegisteredModelPublic) -> None:
    actor = current_actor()
    alias_holders(model, registry.aliases(settings()))
    tabs = ["Versions", "History"]
    if allowed(actor, Action.request_promotion):
        tabs.insert(1, "Promote")
    shown = dict(zip(tabs, st.tabs(tabs), strict=True))
    with shown["Versions"]:
        versions_table(model)
        insights_links(model)
    if "Promote" in shown:
        with shown["Promote"]:
            promotion_section(model, actor)
            st.subheader("Your pending requests", anchor=False)
            own_requests(model)
    with shown["History"]:
        history_section(model, actor)


def page() -> None:
    st.title("Registry")
    flash()
    models = read_or_stop(project_models)
    if not models:
        trains = allowed(current_actor(), Action.train)
        who = "Train one on the Train page" if trains else "An analyst can train one"
        st.info(
            "No registered models in this project yet: each training registers its best "
            f"model. {who}."
        )
        return
    overview(models)
    model_details(model_picker(models))


page()
