"""API keys of the REST API, for admins: a new key (its secret shown this once, never kept by
the page), every key with its scope and use, and revocation."""

import pandas as pd
import streamlit as st

from services.serving import keys
from services.serving.keys import ApiKeyPublic
from views._publish_common import change
from views._runtime import current_actor, plain, read_or_stop, session, show_error

EVERY_MODEL, CHOSEN_MODELS = "Every model", "Only the models chosen"


def keys_section(model_names: list[str]) -> None:
    """Create, list and revoke keys (the services check that the user is an admin)."""
    with st.container(border=True):
        st.subheader("Create an API key", anchor=False)
        _create_form(model_names)
    found = read_or_stop(_list_keys)
    st.subheader("Keys", anchor=False)
    if not found:
        st.info("No API keys yet.", icon=":material/info:")
        return
    st.dataframe(
        pd.DataFrame([_row(k) for k in found]),
        hide_index=True,
        width="stretch",
        column_config={
            "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "last used": st.column_config.DatetimeColumn(format="distance"),
        },
    )
    _revoke(found)


def _create_form(model_names: list[str]) -> None:
    with st.form("api-key-create", clear_on_submit=True):
        name = st.text_input(
            "Name", key="api-key-name", help="Who or what will use it, e.g. the billing service."
        )
        scope = st.radio(
            "May call", [EVERY_MODEL, CHOSEN_MODELS], horizontal=True, key="api-key-scope"
        )
        chosen = st.multiselect(
            "Models", model_names, key="api-key-models", help="Only with the second choice."
        )
        admin = st.checkbox(
            "Admin key: may also reload the server (POST /v1/admin/reload)", key="api-key-admin"
        )
        submitted = st.form_submit_button("Create key", type="primary", icon=":material/key:")
    if not submitted:
        return
    try:
        with session() as db:
            made, secret = keys.create_key(
                session=db,
                actor=current_actor(),
                name=name,
                models=chosen if scope == CHOSEN_MODELS else None,
                admin=admin,
            )
    except Exception as error:
        show_error(error)
        return
    # The secret lives only in this run: the next rerun has no copy of it anywhere.
    st.success(
        plain(f"API key {made.id} ({made.name}) created for {_scope(made)}."),
        icon=":material/check_circle:",
    )
    st.warning(
        "Copy it now: it is not shown again. Kaizen keeps only its hash, so a lost key cannot "
        "be recovered, only revoked and replaced.",
        icon=":material/key:",
    )
    st.code(secret, language=None)


def _list_keys() -> list[ApiKeyPublic]:
    with session() as db:
        return keys.list_keys(session=db, actor=current_actor())


def _row(key: ApiKeyPublic) -> dict[str, object]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": f"{key.prefix}…",
        "may call": _scope(key),
        "admin": key.admin,
        "created": key.created_at,
        "by": key.created_by,
        "last used": key.last_used_at,
        "state": "revoked" if key.revoked_at else "active",
    }


def _revoke(found: list[ApiKeyPublic]) -> None:
    live = {k.id: k for k in found if k.revoked_at is None}
    if not live:
        return
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox(
        "Key to revoke",
        list(live),
        format_func=lambda i: f"{i} · {live[i].name} · {live[i].prefix}…",
        key="api-key-revoke-choice",
    )
    if right.button("Revoke", key="api-key-revoke", icon=":material/key_off:"):
        change(lambda: _revoked(chosen))


def _revoked(key_id: int) -> str:
    with session() as db:
        key = keys.revoke_key(session=db, actor=current_actor(), key_id=key_id)
    return (
        f"API key {key.id} ({key.name}) is revoked: kaizen serve refuses it within seconds; a "
        "container learns of it when its model is published again."
    )


def _scope(key: ApiKeyPublic) -> str:
    return "every model" if key.models is None else ", ".join(key.models)
