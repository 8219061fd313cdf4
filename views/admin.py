"""Admin page: users and their roles, projects and their members, promotion requests to
decide, every share link to a demo (to revoke), and the audit log.
Only admins have it in their navigation; every service called here checks the role again."""

from collections.abc import Callable
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from services import projects, users
from services.models import ProjectPublic, Role, UserPublic
from views._audit_log import audit_tab
from views._promotions import promotions_tab
from views._runtime import current_actor, plain, read_or_stop, session, settings, show_error
from views._share_links import share_links_tab

ROLES = [r.value for r in Role]


def _change(work: Callable[[], str]) -> None:
    """Runs one change; its success message shows after the rerun, a refusal at once."""
    try:
        message = work()
    except Exception as error:
        show_error(error)
        return
    st.session_state["admin-flash"] = message
    st.rerun()


def _locked(user: UserPublic) -> bool:
    until = user.locked_until
    if until is None:
        return False
    return (until if until.tzinfo else until.replace(tzinfo=UTC)) > datetime.now(UTC)


def users_tab() -> None:
    found = read_or_stop(lambda: _list_users())
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "username": u.username,
                    "role": u.role.value,
                    "provider": u.provider,
                    "active": u.active,
                    "last sign-in": u.last_sign_in_at,
                    "locked": _locked(u),
                }
                for u in found
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={"last sign-in": st.column_config.DatetimeColumn(format="distance")},
    )
    left, right = st.columns(2)
    with left, st.container(border=True):
        _create_user_form()
    with right, st.container(border=True):
        st.subheader("Change a user", anchor=False)
        by_id = {u.id: u for u in found}
        chosen = st.selectbox(
            "User", list(by_id), format_func=lambda i: by_id[i].username, key="admin-user"
        )
        if chosen is not None:
            _user_actions(by_id[chosen])


def _list_users() -> list[UserPublic]:
    with session() as db:
        return users.list_users(session=db, actor=current_actor())


def _create_user_form() -> None:
    st.subheader("Create a local user", anchor=False)
    with st.form("admin-create-user", clear_on_submit=True):
        username = st.text_input("Username", key="new-username")
        role = st.selectbox("Role", ROLES, key="new-role")
        password = st.text_input("Password", type="password", key="new-password")
        repeated = st.text_input("Repeat password", type="password", key="new-repeat")
        st.caption(f"At least {settings().min_password_length} characters, without the username.")
        submitted = st.form_submit_button("Create user", icon=":material/person_add:")
    if not submitted:
        return
    if password != repeated:
        st.error("The two passwords differ; type the same password twice.")
        return

    def create() -> str:
        with session() as db:
            made = users.create_user(
                session=db,
                settings=settings(),
                actor=current_actor(),
                username=username,
                password=password,
                role=Role(role),
            )
        return f"Created {made.role.value} '{made.username}'."

    _change(create)


def _user_actions(user: UserPublic) -> None:
    key = f"admin-{user.id}"
    state = "active" if user.active else "disabled"
    lock = " · locked after wrong passwords" if _locked(user) else ""
    st.caption(f"{plain(user.username)}: {user.role.value}, {user.provider}, {state}{lock}")

    role = st.selectbox("Role", ROLES, index=ROLES.index(user.role.value), key=f"{key}-role")
    reason = st.text_input("Reason (optional, kept in the audit log)", key=f"{key}-reason")
    if st.button("Change role", key=f"{key}-set-role", icon=":material/manage_accounts:"):

        def set_role() -> str:
            with session() as db:
                changed = users.set_role(
                    session=db,
                    actor=current_actor(),
                    user_id=user.id,
                    role=Role(role),
                    reason=reason.strip() or None,
                )
            return f"'{changed.username}' is now {changed.role.value}."

        _change(set_role)

    buttons = st.columns(2)
    label = "Disable account" if user.active else "Enable account"
    if buttons[0].button(label, key=f"{key}-active", icon=":material/toggle_on:"):

        def toggle() -> str:
            with session() as db:
                changed = users.set_active(
                    session=db, actor=current_actor(), user_id=user.id, active=not user.active
                )
            return f"'{changed.username}' is {'enabled' if changed.active else 'disabled'}."

        _change(toggle)
    if _locked(user) and buttons[1].button(
        "Unlock", key=f"{key}-unlock", icon=":material/lock_open:"
    ):

        def unlock() -> str:
            with session() as db:
                changed = users.unlock(session=db, actor=current_actor(), user_id=user.id)
            return f"'{changed.username}' can sign in again."

        _change(unlock)

    if user.provider != "local":
        st.caption("This user signs in through the identity provider; no password here.")
        return
    with st.form(f"{key}-password", clear_on_submit=True):
        password = st.text_input("New password", type="password", key=f"{key}-pw")
        repeated = st.text_input("Repeat new password", type="password", key=f"{key}-pw2")
        submitted = st.form_submit_button("Set password", icon=":material/password:")
    if submitted:
        if password != repeated:
            st.error("The two passwords differ; type the same password twice.")
            return

        def set_password() -> str:
            with session() as db:
                users.set_password(
                    session=db,
                    settings=settings(),
                    actor=current_actor(),
                    user_id=user.id,
                    password=password,
                )
            return f"New password set for '{user.username}'."

        _change(set_password)


def projects_tab() -> None:
    def load() -> tuple[list[ProjectPublic], list[UserPublic]]:
        with session() as db:
            return (
                projects.list_projects(session=db, actor=current_actor()),
                users.list_users(session=db, actor=current_actor()),
            )

    found, people = read_or_stop(load)
    st.dataframe(
        pd.DataFrame(
            [
                {"name": p.name, "description": p.description, "created": p.created_at}
                for p in found
            ],
            columns=["name", "description", "created"],
        ),
        hide_index=True,
        width="stretch",
    )
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.subheader("Create a project", anchor=False)
        with st.form("admin-create-project", clear_on_submit=True):
            name = st.text_input("Project name", key="new-project")
            description = st.text_input("Description (optional)", key="new-project-description")
            submitted = st.form_submit_button("Create project", icon=":material/create_new_folder:")
        if submitted:

            def create() -> str:
                with session() as db:
                    made = projects.create_project(
                        session=db, actor=current_actor(), name=name, description=description
                    )
                return f"Created project '{made.name}'."

            _change(create)
    with right, st.container(border=True):
        st.subheader("Members", anchor=False)
        if not found:
            st.caption("No projects yet.")
            return
        by_id = {p.id: p for p in found}
        chosen = st.selectbox(
            "Project", list(by_id), format_func=lambda i: by_id[i].name, key="admin-project"
        )
        if chosen is not None:
            _members(by_id[chosen], people)


def _members(project: ProjectPublic, people: list[UserPublic]) -> None:
    def load() -> list[int]:
        with session() as db:
            return projects.member_ids(session=db, actor=current_actor(), project_id=project.id)

    current = read_or_stop(load)
    names = {u.id: u.username for u in people}
    picked = st.multiselect(
        "Members",
        list(names),
        default=[i for i in current if i in names],
        format_func=lambda i: names[i],
        key=f"members-{project.id}",
        help="Members see the project's datasets, jobs and models; admins see every project.",
    )
    if st.button("Save members", key=f"save-members-{project.id}", icon=":material/group:"):
        added = [i for i in picked if i not in current]
        removed = [i for i in current if i not in picked and i in names]

        def save() -> str:
            with session() as db:
                for user_id, member in [(i, True) for i in added] + [(i, False) for i in removed]:
                    projects.set_member(
                        session=db,
                        actor=current_actor(),
                        project_id=project.id,
                        user_id=user_id,
                        member=member,
                    )
            if not added and not removed:
                return f"The members of '{project.name}' are unchanged."
            parts = []
            if added:
                parts.append("added " + ", ".join(names[i] for i in added))
            if removed:
                parts.append("removed " + ", ".join(names[i] for i in removed))
            return f"Members of '{project.name}' saved: {'; '.join(parts)}."

        _change(save)


st.title("Admin")
if flash := st.session_state.pop("admin-flash", None):
    st.success(plain(flash), icon=":material/check_circle:")
people_tab, teams_tab, promotion_tab, links_tab, log_tab = st.tabs(
    ["Users", "Projects", "Promotions", "Share links", "Audit log"]
)
with people_tab:
    users_tab()
with teams_tab:
    projects_tab()
with promotion_tab:
    promotions_tab()
with links_tab:
    share_links_tab()
with log_tab:
    audit_tab()
