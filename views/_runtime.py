"""What every page shares: the cached engine and the translation of errors into messages."""

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import auth, jobs, projects, uploads
from services.access import NEEDS, Action, Actor
from services.config import Settings, get_settings
from services.db import get_engine, migrate, session_scope
from services.errors import KaizenError
from services.logs import log_file, setup_logging

log = logging.getLogger("kaizen.ui")
T = TypeVar("T")


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: str) -> str:
    """`text` shown literally by Streamlit's markdown: names from files can't add links,
    images, emoji codes or formulas to the page."""
    return _MARKDOWN.sub(r"\\\1", text)


def settings() -> Settings:
    return get_settings()


ACTOR_KEY = "actor"
PROJECT_KEY = "project_id"


def current_actor() -> Actor:
    """Who acts: the user app.py signed in (services re-read their role on every call)."""
    actor = st.session_state.get(ACTOR_KEY)
    if not isinstance(actor, Actor):
        st.stop()  # only app.py runs pages, after the sign-in gate; never reached by users
    return actor


def allowed(actor: Actor, action: Action) -> bool:
    """Whether the page offers `action` to the actor at all (the service checks it again)."""
    return actor.role.at_least(NEEDS[action])


def current_project() -> int:
    """The project the user works in, chosen in the sidebar."""
    chosen = st.session_state.get(PROJECT_KEY)
    if not isinstance(chosen, int):
        st.info("You are not a member of any project yet; ask an admin to add you to one.")
        st.stop()
    return chosen


def read_or_stop(load: Callable[[], T]) -> T:
    """What a service returns; on a refusal its message, and the page stops there."""
    try:
        return load()
    except Exception as error:
        show_error(error)
        st.stop()


def forget_session(actor: Actor) -> None:
    """Signs out: the sign-out is recorded, and everything the session held is dropped."""
    try:
        with session() as db:
            auth.sign_out(session=db, actor=actor)
    except Exception as error:  # the session ends all the same
        show_error(error)
    st.session_state.clear()


def project_picker(actor: Actor) -> None:
    """The sidebar's project choice (kept in the session; the first project by default)."""
    with session() as db:
        found = projects.list_projects(session=db, actor=actor)
    if not found:
        st.session_state.pop(PROJECT_KEY, None)
        return
    ids = [p.id for p in found]
    names = {p.id: p.name for p in found}
    if st.session_state.get(PROJECT_KEY) not in ids:
        st.session_state[PROJECT_KEY] = ids[0]
    st.selectbox("Project", ids, format_func=lambda i: names[i], key=PROJECT_KEY)


def app_engine() -> Engine:
    """The database engine of the configured installation, migrated on first use."""
    return _engine_for(get_settings().sqlalchemy_url)


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    current = get_settings()
    setup_logging(current)
    engine = get_engine(current)
    migrate(engine)
    # Restart safety: jobs that died with the last app process are marked failed, and jobs
    # still queued get started.
    with session_scope(engine) as active:
        jobs.dispatch(session=active, settings=current)
    uploads.clean_stale_uploads(settings=current)
    return engine


@contextmanager
def session() -> Iterator[Session]:
    with session_scope(app_engine()) as active:
        yield active


@contextmanager
def shown_errors() -> Iterator[None]:
    """Shows domain errors as messages, and anything unexpected without its traceback."""
    try:
        yield
    except Exception as error:
        show_error(error)


def show_error(error: Exception) -> None:
    """A domain error's own message; for anything else a plain apology, the details logged."""
    if isinstance(error, KaizenError):
        st.error(plain(str(error)), icon=":material/error:")
        return
    log.error("page action failed", exc_info=error)
    st.error(
        "Something went wrong on our side and nothing was changed. "
        f"An admin can find the details in {log_file(get_settings())}.",
        icon=":material/error:",
    )
