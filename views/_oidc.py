"""Sign-in through the organisation's identity provider (OIDC, Streamlit's st.login), used
when `.streamlit/secrets.toml` has an [auth] section.

Streamlit runs the OAuth dance and keeps the identity in a signed cookie; `st.user` holds the
ID token's claims. Each Streamlit session maps them once to a Kaizen user (created on first
sign-in, role from the groups claim, see services.auth.sign_in_oidc). Settings that cannot
work stop the app with a message saying what to fix: it never opens half-configured."""

import hashlib
import json
from collections.abc import Mapping
from typing import Any, NoReturn

import streamlit as st

from services import access, auth, oidc
from services.access import Actor
from services.errors import Forbidden, Misconfigured, SignInFailed
from views._runtime import ACTOR_KEY, forget_session, plain, session, settings, show_error

_SUBJECT_KEY = "oidc-subject"  # whose claims the session's actor was made from
_NOT_CLAIMS = {"is_logged_in", "tokens"}


def gate() -> Actor:
    """The signed-in user, with the role the database holds now. Until there is one, only
    the sign-in page renders and the run stops here."""
    providers = _checked_providers()
    if not st.user.is_logged_in:
        _sign_in_page(providers)
        st.stop()
    claims = {k: v for k, v in st.user.to_dict().items() if k not in _NOT_CLAIMS}
    if auth.oidc_expired(settings(), claims):
        # Streamlit's cookie would keep these claims for 30 days: ask the provider again.
        st.session_state.clear()
        st.logout()
        st.stop()
    subject = f"{claims.get('iss', '')} {claims.get('sub', '')}"
    held = st.session_state.get(ACTOR_KEY)
    if isinstance(held, Actor) and st.session_state.get(_SUBJECT_KEY) == subject:
        return _refreshed(held)
    try:
        with session() as db:
            actor = auth.sign_in_oidc(session=db, settings=settings(), claims=claims)
    except SignInFailed as failed:
        _refused(str(failed))
    except Exception as error:
        show_error(error)
        _sign_out_button()
        st.stop()
    st.session_state[ACTOR_KEY] = actor
    st.session_state[_SUBJECT_KEY] = subject
    return actor


def sign_out(actor: Actor) -> None:
    """Records the sign-out, then lets Streamlit drop the identity cookie and end the
    provider's session (its end_session_endpoint, when it has one)."""
    forget_session(actor)
    st.logout()
    st.stop()


def _checked_providers() -> list[oidc.Provider]:
    """The configured providers, checked once per process (a failed check runs again on the
    next page load, so fixing the provider needs no restart); stops the app if unusable."""
    try:
        section = _auth_section()
        fingerprint = hashlib.sha256(json.dumps(section, sort_keys=True, default=str).encode())
        return _validated(fingerprint.hexdigest(), section)
    except Misconfigured as problem:
        st.title("Kaizen Studio cannot start")
        st.error(plain(str(problem)), icon=":material/settings_alert:")
        st.caption(
            "Sign-in is configured in the [auth] section of .streamlit/secrets.toml "
            "(see .streamlit/secrets.toml.example). Fix it, then reload this page."
        )
        st.stop()


@st.cache_resource(show_spinner="Checking the sign-in settings…")
def _validated(_fingerprint: str, _section: Mapping[str, Any]) -> list[oidc.Provider]:
    # `_fingerprint` keys the cache (a changed [auth] is checked again); `_section` is not
    # hashed by Streamlit.
    providers = oidc.providers(_section)
    for provider in providers:
        oidc.check_provider(provider.server_metadata_url)
    return providers


def _auth_section() -> dict[str, Any]:
    section = st.secrets.get("auth")
    if not isinstance(section, Mapping):
        raise Misconfigured("[auth] in .streamlit/secrets.toml must be a table.")
    return _plain_dict(section)


def _plain_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain_dict(v) if isinstance(v, Mapping) else v for k, v in value.items()}


def _sign_in_page(providers: list[oidc.Provider]) -> None:
    st.title("Sign in to Kaizen Studio")
    st.write("Kaizen Studio uses your organisation's account. You come back here once signed in.")
    for provider in providers:
        label = f"Sign in with {provider.label}"
        if st.button(label, type="primary", icon=":material/login:", key=f"login-{provider.name}"):
            st.login(provider.name)


def _refreshed(actor: Actor) -> Actor:
    """`actor` with their current role; a disabled or removed account is refused."""
    try:
        with session() as db:
            return access.current_actor(db, actor)
    except Forbidden as refused:
        _refused(str(refused))


def _refused(message: str) -> NoReturn:
    st.session_state.pop(ACTOR_KEY, None)
    st.title("Sign in to Kaizen Studio")
    st.error(plain(message), icon=":material/lock:")
    _sign_out_button()
    st.stop()


def _sign_out_button() -> None:
    if st.button("Sign out", icon=":material/logout:", key="oidc-refused-sign-out"):
        st.session_state.clear()
        st.logout()
