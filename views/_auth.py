"""The sign-in gate: through the identity provider when `.streamlit/secrets.toml` has an
[auth] section, else with local accounts; then the pages the user's role may use."""

import streamlit as st

from services.access import Actor
from services.models import Role
from views import _oidc, _signin
from views._runtime import ACTOR_KEY, plain, project_picker

# Each page and the least role that sees it (services check every action again).
PAGES: list[tuple[str, str, str, Role]] = [
    ("views/datasets.py", "Datasets", ":material/table:", Role.viewer),
    ("views/profile.py", "Profile", ":material/query_stats:", Role.viewer),
    ("views/train.py", "Train", ":material/model_training:", Role.analyst),
    ("views/models.py", "Models", ":material/insights:", Role.viewer),
    ("views/registry.py", "Registry", ":material/inventory_2:", Role.viewer),
    ("views/publish.py", "Publish", ":material/rocket_launch:", Role.analyst),
    ("views/jobs.py", "Jobs", ":material/work_history:", Role.viewer),
    ("views/admin.py", "Admin", ":material/admin_panel_settings:", Role.admin),
]


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all: local accounts
        return False


def signed_in() -> Actor:
    """The signed-in user; shows the sign-in page and stops the run until there is one."""
    actor = _oidc.gate() if oidc_configured() else _signin.gate()
    st.session_state[ACTOR_KEY] = actor
    return actor


def pages_for(role: Role) -> list[st.Page]:
    allowed = [p for p in PAGES if role.at_least(p[3])]
    return [
        st.Page(path, title=title, icon=icon, default=i == 0)
        for i, (path, title, icon, _) in enumerate(allowed)
    ]


def sidebar(actor: Actor) -> None:
    """Who is signed in, the project to work in, and sign-out."""
    with st.sidebar:
        st.caption(f"Signed in as **{plain(actor.username)}** ({actor.role.value})")
        project_picker(actor)
        if st.button("Sign out", icon=":material/logout:"):
            _oidc.sign_out(actor) if oidc_configured() else _signin.sign_out(actor)
