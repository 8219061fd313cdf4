"""The step between a share link that asks for a Kaizen Studio account and its demo: `kaizen
serve` sends people it does not know yet to `<app>/?share=<token>`; once they are signed in
here, this screen gives them the link with a short-lived pass that lets their browser in."""

import streamlit as st

from services import sharing
from services.access import Actor
from services.serving.share_passes import SIGN_IN_PASS_SECONDS
from views._auth import oidc_configured, pages_for
from views._runtime import ACTOR_KEY, plain, session, settings, show_error

PARAM = "share"


def requested() -> bool:
    """Whether this visit came from a share link that asks for a sign-in."""
    return bool(st.query_params.get(PARAM))


def before_sign_in() -> None:
    """Above the sign-in page: why it is asked for. The local sign-in form keeps the URL's
    query, so the link comes next; the identity provider brings people back to the start page
    without it (Streamlit's login redirect drops the query, and the session with it)."""
    if not requested():
        return
    if not oidc_configured():
        if not isinstance(st.session_state.get(ACTOR_KEY), Actor):
            st.info(
                "Someone shared a model demo with you that asks for a Kaizen Studio account: "
                "sign in, and the link to the demo comes next.",
                icon=":material/share:",
            )
    elif not st.user.is_logged_in:
        st.info(
            "Someone shared a model demo with you that asks for a Kaizen Studio account: sign "
            "in, then open the share link again (signing in brings you to Kaizen Studio's start "
            "page, without the link).",
            icon=":material/share:",
        )


def screen(actor: Actor) -> None:
    """Instead of a page: the demo's link with a pass for the signed-in `actor`, or why not."""
    st.navigation(pages_for(actor.role), position="hidden")  # no page runs; none is listed
    st.title("Open the shared demo")
    try:
        with session() as db:
            url = sharing.sign_in_pass(
                session=db, settings=settings(), actor=actor, token=st.query_params[PARAM]
            )
    except Exception as error:
        show_error(error)
        _leave()
        return
    minutes = SIGN_IN_PASS_SECONDS // 60
    st.write(
        f"You are signed in as **{plain(actor.username)}**. The demo opens in a new tab; the "
        f"button lets this browser in during the next {minutes} minutes (reload this page after "
        "that)."
    )
    st.link_button("Open the demo", url, type="primary", icon=":material/open_in_new:")
    _leave()


def _leave() -> None:
    if st.button("Go to Kaizen Studio", key="share-leave", icon=":material/home:"):
        del st.query_params[PARAM]
        st.rerun()
