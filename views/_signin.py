"""Local accounts: the first-run setup of the first admin, the sign-in form, and sign-out.

A local session lives in the browser tab's Streamlit session: a refresh or a new tab asks
to sign in again, and signing out forgets everything the session held."""

import streamlit as st

from services import access, auth
from services.access import Actor
from services.errors import Forbidden, SignInFailed
from services.models import Role
from views._runtime import ACTOR_KEY, forget_session, plain, session, settings, show_error

SESSION_NOTE = (
    "You stay signed in while this browser tab is open; refreshing the page or opening "
    "a new tab asks you to sign in again."
)
_NOTICE_KEY = "signin-notice"  # a message for the sign-in form after a session ended


def gate() -> Actor:
    """The signed-in user, with the role the database holds now. Until there is one, only
    the first-run setup or the sign-in form is rendered and the run stops here."""
    with session() as db:
        needed = auth.setup_needed(session=db)
    if needed:
        _hide_navigation()
        _setup_form()
        st.stop()
    held = st.session_state.get(ACTOR_KEY)
    if isinstance(held, Actor):
        fresh = _refreshed(held)
        if fresh is not None:
            return fresh
    _hide_navigation()
    _sign_in_form()
    st.stop()


def sign_out(actor: Actor) -> None:
    """Records the sign-out, forgets the session and shows the sign-in form again."""
    forget_session(actor)
    st.session_state[_NOTICE_KEY] = "You are signed out."
    st.rerun()


def _refreshed(actor: Actor) -> Actor | None:
    """`actor` with their current role; None (and the session forgotten) if the account
    was disabled or removed meanwhile."""
    try:
        with session() as db:
            return access.current_actor(db, actor)
    except Forbidden as refused:
        st.session_state.clear()
        st.session_state[_NOTICE_KEY] = str(refused)
        return None


def _hide_navigation() -> None:
    """No page links until signed in. The browser keeps the last navigation it was sent (after
    sign-out it would still list the pages), so a hidden one replaces it; it knows every page,
    so a link to one (a bookmark, the page just signed out of) opens it after sign-in instead
    of "page not found". No page runs here: the form renders in its place."""
    from views._auth import pages_for  # late: views._auth imports this module

    st.navigation(pages_for(Role.admin), position="hidden")


def _setup_form() -> None:
    st.title("Welcome to Kaizen Studio")
    st.write(
        "This installation has no admin yet. Create the first admin account: it can then "
        "add other users and projects on the Admin page."
    )
    with st.form("first-admin"):
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="new-password")
        repeated = st.text_input("Repeat password", type="password", autocomplete="new-password")
        st.caption(
            f"At least {settings().min_password_length} characters, without the username. "
            "There is no default password; this form is offered only until an admin exists."
        )
        submitted = st.form_submit_button(
            "Create admin account", type="primary", icon=":material/person_add:"
        )
    if not submitted:
        return
    if password != repeated:
        st.error("The two passwords differ; type the same password twice.")
        return
    try:
        with session() as db:
            auth.create_first_admin(
                session=db, settings=settings(), username=username, password=password
            )
            actor = auth.sign_in(
                session=db, settings=settings(), username=username, password=password
            )
    except Exception as error:
        show_error(error)
        return
    _enter(actor)


def _sign_in_form() -> None:
    st.title("Sign in to Kaizen Studio")
    if notice := st.session_state.pop(_NOTICE_KEY, None):
        st.info(plain(notice), icon=":material/info:")
    with st.form("sign-in"):
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary", icon=":material/login:")
    st.caption(SESSION_NOTE)
    if not submitted:
        return
    try:
        with session() as db:
            actor = auth.sign_in(
                session=db, settings=settings(), username=username, password=password
            )
    except SignInFailed as failed:
        st.error(plain(str(failed)), icon=":material/lock:")
        return
    except Exception as error:
        show_error(error)
        return
    _enter(actor)


def _enter(actor: Actor) -> None:
    st.session_state.clear()  # nothing of an earlier session carries over
    st.session_state[ACTOR_KEY] = actor
    st.rerun()
