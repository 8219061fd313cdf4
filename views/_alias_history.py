"""Every move of a model's aliases, newest first; for admins, Roll back for each alias that
an earlier version held (one click, with the reason the audit log keeps)."""

from functools import partial

import pandas as pd
import streamlit as st

from services import registry
from services.access import Action, Actor
from services.registry import AliasEvent, RegisteredModelPublic
from views._registry_common import change
from views._runtime import allowed, current_actor, plain, read_or_stop, session, settings

KINDS = {"promoted": "promoted", "approved": "approved request", "rolled_back": "rolled back"}
HISTORY_COLUMNS = ["at", "alias", "from", "to", "how", "by", "reason", "request"]


def history_section(model: RegisteredModelPublic, actor: Actor) -> None:
    events = read_or_stop(lambda: _history(model.name))
    if not events:
        st.caption("No alias of this model has moved yet.")
        return
    st.dataframe(
        pd.DataFrame([_row(e) for e in events], columns=HISTORY_COLUMNS),
        hide_index=True,
        width="stretch",
        column_config={"at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
    )
    if allowed(actor, Action.promote):
        rollbacks(model)


def rollbacks(model: RegisteredModelPublic) -> None:
    """Roll back, per alias that has an earlier holder to go back to."""
    targets = read_or_stop(lambda: _targets(model.name))
    if not targets:
        st.caption("No alias has an earlier version to roll back to.")
        return
    for alias, previous in targets.items():
        key = f"rollback-{model.name}-{alias}"
        with st.container(border=True):
            st.markdown(
                f"**{plain(alias)}**: version {model.aliases[alias]} now; rolling back moves it "
                f"to version {previous}."
            )
            left, right = st.columns([4, 1], vertical_alignment="bottom")
            reason = left.text_input("Reason (required)", key=f"{key}-reason")
            if right.button("Roll back", key=key, icon=":material/history:"):
                change(partial(_rollback, model.name, alias, reason), forget=f"{key}-reason")


def _history(name: str) -> list[AliasEvent]:
    with session() as db:
        return registry.history(session=db, settings=settings(), actor=current_actor(), name=name)


def _targets(name: str) -> dict[str, int]:
    with session() as db:
        return registry.rollback_targets(
            session=db, settings=settings(), actor=current_actor(), name=name
        )


def _rollback(name: str, alias: str, reason: str) -> str:
    with session() as db:
        moved = registry.rollback(
            session=db,
            settings=settings(),
            actor=current_actor(),
            name=name,
            alias=alias,
            reason=reason,
        )
    return (
        f"Rolled '{moved.alias}' of {moved.model_name} back from version {moved.from_version} "
        f"to version {moved.to_version}."
    )


def _row(event: AliasEvent) -> dict[str, object]:
    return {
        "at": event.at,
        "alias": event.alias,
        "from": f"v{event.from_version}" if event.from_version is not None else "none",
        "to": f"v{event.to_version}",
        "how": KINDS.get(event.kind.value, event.kind.value),
        "by": event.by,
        "reason": event.reason,
        "request": f"#{event.request_id}" if event.request_id is not None else "",
    }
