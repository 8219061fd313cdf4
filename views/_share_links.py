"""Share links to published models' demos as the pages list them: a table of links with their
use and Revoke for the active ones (the Publish page's share section uses both); and the Admin
page's tab of every link, filtered by model and state."""

from collections.abc import Callable
from datetime import datetime

import pandas as pd
import streamlit as st

from services import sharing
from services.serving_models import ShareLinkPublic
from views._publish_common import change, flash
from views._runtime import current_actor, session, show_error

FLASH = "share-flash"  # a revocation's message, shown where the links are
ALL = "(all)"
STATES = ["active", "expired", "revoked"]
COLUMNS = ["model", "note", "prefix", "access", "state", "created by", "created", "expires"]
COLUMNS += ["views", "last viewed"]
# How the table says who may open a link (the Publish page's form offers the long forms).
ACCESS_WORDS = {
    "anyone": "anyone with the link",
    "password": "link and password",
    "signed_in": "Kaizen Studio account",
}


def share_links_tab() -> None:
    """Every share link (the service gives admins everyone's), filters, and Revoke."""
    flash(FLASH)
    try:
        found = _every_link()
    except Exception as error:  # the tabs after this one still render
        show_error(error)
        return
    if not found:
        st.info(
            "No share links yet: analysts make them on the Publish page, for a published model.",
            icon=":material/info:",
        )
        return
    cells = st.columns(2)
    names = sorted({link.model_name for link in found})
    model = cells[0].selectbox("Model", [ALL, *names], key="share-admin-model")
    state = cells[1].selectbox("State", [ALL, *STATES], key="share-admin-state")
    shown = [
        link for link in found if model in (ALL, link.model_name) and state in (ALL, link.state)
    ]
    st.caption(f"{len(shown):,} of {len(found):,} share link(s), newest first.")
    links_table(shown, with_model=True)
    revoke_picker(shown, key="share-admin")


def links_table(links: list[ShareLinkPublic], *, with_model: bool) -> None:
    """The links with who made them, their access, state, expiry and use."""
    columns = COLUMNS if with_model else COLUMNS[1:]
    st.dataframe(
        pd.DataFrame([_row(link) for link in links], columns=columns),
        hide_index=True,
        width="stretch",
        column_config={
            "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "last viewed": st.column_config.DatetimeColumn(format="distance"),
        },
    )


def revoke_picker(
    links: list[ShareLinkPublic],
    *,
    key: str,
    then: Callable[[ShareLinkPublic], None] = lambda link: None,
) -> None:
    """One of the active links and Revoke (`then`: what else to do once one is revoked)."""
    live = {link.id: link for link in links if link.state == "active"}
    if not live:
        return
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox(
        "Share link to revoke",
        list(live),
        format_func=lambda i: _label(live[i]),
        key=f"{key}-revoke-choice",
    )
    if right.button("Revoke", key=f"{key}-revoke", icon=":material/link_off:"):
        change(lambda: _revoked(live[chosen], then), key=FLASH)


def expiry(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "never"


def _every_link() -> list[ShareLinkPublic]:
    with session() as db:
        return sharing.list_links(session=db, actor=current_actor())


def _row(link: ShareLinkPublic) -> dict[str, object]:
    return {
        "model": link.model_name,
        "note": link.note or "",
        "prefix": f"{link.prefix}…",
        "access": ACCESS_WORDS.get(link.access, link.access),
        "state": link.state,
        "created by": link.created_by,
        "created": link.created_at,
        "expires": expiry(link.expires_at),
        "views": link.views,
        "last viewed": link.last_viewed_at,
    }


def _label(link: ShareLinkPublic) -> str:
    parts = [f"{link.prefix}…", link.model_name, ACCESS_WORDS.get(link.access, link.access)]
    if link.note:
        parts.append(link.note)
    return " · ".join(parts)


def _revoked(link: ShareLinkPublic, then: Callable[[ShareLinkPublic], None]) -> str:
    with session() as db:
        done = sharing.revoke_link(session=db, actor=current_actor(), link_id=link.id)
    then(done)
    return (
        f"Revoked share link {done.prefix}… to {done.model_name}: from now on it opens a "
        "'revoked' page instead of the demo."
    )
