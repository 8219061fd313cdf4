"""The Publish page's "Share a demo" for a published model: a new share link (its URL shown to
its maker only, since just its hash is kept), the links the user may see, and Revoke."""

from typing import Any

import streamlit as st

from services import sharing
from services.access import Action
from services.serving_models import ShareLinkPublic
from views._publish_common import flash
from views._runtime import allowed, current_actor, plain, session, settings, show_error
from views._share_links import FLASH, expiry, links_table, revoke_picker

# The form's choices, in words, and the access each one asks for.
ACCESS = {
    "Anyone with the link": "anyone",
    "Anyone with the link and a password": "password",
    "Only people with a Kaizen Studio account": "signed_in",
}
NEW_LINK = "share-new-link"  # the link just made: {"model", "id", "url", "prefix", "until"}
COPY_NOTICE = "Copy it now: it is shown only this once."


def share_section(name: str) -> None:
    """Share a demo of the published model `name`: a new link, the links, Revoke."""
    if not allowed(current_actor(), Action.share):
        return
    st.subheader("Share a demo", anchor=False)
    st.caption(
        f"A share link opens this model's demo on `kaizen serve` at {plain(settings().serve_url)}, "
        "which must be running (`kaizen serve`). People who open it need no account unless the "
        "link asks for one. A revoked or expired link shows a 'revoked' or 'expired' page at once."
    )
    with st.container(border=True):
        _create_form(name)
    _just_made(name)
    flash(FLASH)
    try:
        found = _links(name)
    except Exception as error:  # the page's other tabs still render
        show_error(error)
        return
    if not found:
        st.caption("No share links to this model yet.")
        return
    links_table(found, with_model=False)
    revoke_picker(found, key="share", then=_forget_if_revoked)


def _create_form(name: str) -> None:
    days = int(min(max(round(settings().share_link_days), 1), sharing.MAX_DAYS))
    with st.form("share-create", clear_on_submit=True):
        left, right = st.columns([2, 1], vertical_alignment="bottom")
        lasts = left.number_input(
            "Lasts (days)", min_value=1, max_value=sharing.MAX_DAYS, value=days, key="share-days"
        )
        forever = right.checkbox("No expiry", key="share-forever", help="Until it is revoked.")
        access = st.radio("Who may open it", list(ACCESS), key="share-access")
        password = st.text_input(
            "Password (only for the password choice)",
            type="password",
            autocomplete="new-password",
            key="share-password",
            help=f"At least {sharing.MIN_PASSWORD_LENGTH} characters; give it to the viewers "
            "another way than the link.",
        )
        note = st.text_input(
            "Note (optional)",
            max_chars=200,
            placeholder="what it is for, or for whom",
            key="share-note",
        )
        submitted = st.form_submit_button(
            "Create share link", type="primary", icon=":material/add_link:"
        )
    if submitted:
        wanted = ACCESS[access]
        _create(
            name=name,
            expires_days=None if forever else float(lasts),
            access=wanted,
            password=password if wanted == "password" else None,
            note=note,
        )


def _create(**options: Any) -> None:
    """Makes the link; its URL is kept in this session only, for the model it was made for."""
    _forget_new_link()  # an earlier link's URL is not shown under a new attempt's error
    try:
        with session() as db:
            made = sharing.create_link(
                session=db, settings=settings(), actor=current_actor(), **options
            )
    except Exception as error:
        show_error(error)
        return
    st.session_state[NEW_LINK] = {
        "model": options["name"],
        "id": made.link.id,
        "url": made.url,
        "prefix": made.link.prefix,
        "until": _until(made.link),
    }


def _just_made(name: str) -> None:
    """The link just made, with its URL to copy; forgotten when another model is chosen."""
    made = st.session_state.get(NEW_LINK)
    if not made:
        return
    if made["model"] != name:
        _forget_new_link()
        return
    st.success(
        plain(f"Share link {made['prefix']}… to {name} created; it {made['until']}. {COPY_NOTICE}"),
        icon=":material/link:",
    )
    st.code(made["url"], language=None, wrap_lines=True)


def _forget_new_link() -> None:
    st.session_state.pop(NEW_LINK, None)


def _forget_if_revoked(link: ShareLinkPublic) -> None:
    """The URL just shown is of no use once its link is revoked."""
    made = st.session_state.get(NEW_LINK)
    if made and made["id"] == link.id:
        _forget_new_link()


def _links(name: str) -> list[ShareLinkPublic]:
    with session() as db:
        return sharing.list_links(session=db, actor=current_actor(), name=name)


def _until(link: ShareLinkPublic) -> str:
    if link.expires_at is None:
        return "never expires (revoke it when it is no longer needed)"
    return f"expires {expiry(link.expires_at)}"
