"""The role x action table, enforced by the services themselves: every entry point called
directly by a viewer, an analyst and an admin, and by a member of another project."""

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from services import audit, datasets, jobs, projects, uploads, users
from services.access import Actor
from services.automl.options import TrainingOptions
from services.automl.plan import plan_training
from services.automl.training import start_training, training_jobs
from services.config import Settings
from services.errors import Forbidden, NotFound
from services.models import ColumnRole, Membership, Role, User
from services.profiling.report import latest_report, start_report
from services.profiling.summary import column_distribution, summarize
from tests.support.actors import OPERATOR, PROJECT

PASSWORD = "a long enough password"


@dataclass
class World:
    session: Session
    settings: Settings
    dataset_id: int
    other_dataset_id: int  # in a project the test users are not members of
    job_id: int
    user_id: int
    tmp: Path


Call = Callable[[World, Actor], Any]


def _csv(tmp: Path, name: str) -> Path:
    path = tmp / f"{name}.csv"
    rows = "\n".join(f"{i},{i % 7},{'yes' if i % 3 else 'no'}" for i in range(60))
    path.write_text("id,x,y\n" + rows + "\n")
    return path


@pytest.fixture
def world(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> World:
    # Jobs are queued, never started: this table is about who may queue them.
    monkeypatch.setattr(jobs, "dispatch", lambda **_: [])
    other = projects.create_project(session=session, actor=OPERATOR, name="elsewhere")
    added = [
        datasets.add_dataset(
            session=session,
            settings=settings,
            actor=OPERATOR,
            project_id=project,
            source=_csv(tmp_path, name),
            filename=f"{name}.csv",
        ).dataset
        for project, name in ((PROJECT, "mine"), (other.id, "theirs"))
    ]
    job = start_report(session=session, settings=settings, actor=OPERATOR, dataset_id=added[0].id)
    user = User(username="target-user", role=Role.viewer)
    session.add(user)
    session.commit()
    return World(session, settings, added[0].id, added[1].id, job.id, user.id, tmp_path)


def _actor(world: World, role: Role) -> Actor:
    """A signed-in user of `role`, member of the first project (made directly: the password
    hashing of a real sign-in is tested in test_auth.py and would only slow this table)."""
    user = User(username=f"a-{role.value}", role=role)
    world.session.add(user)
    world.session.flush()
    assert user.id is not None
    world.session.add(Membership(user_id=user.id, project_id=PROJECT))
    world.session.commit()
    return Actor(username=user.username, role=role, user_id=user.id)


def _options(world: World) -> TrainingOptions:
    return TrainingOptions(dataset_id=world.dataset_id, target="y")


TABLE: dict[str, tuple[Role, Call]] = {
    "list datasets": (Role.viewer, lambda w, a: datasets.list_datasets(session=w.session, actor=a)),
    "get dataset": (
        Role.viewer,
        lambda w, a: datasets.get_dataset(session=w.session, actor=a, dataset_id=w.dataset_id),
    ),
    "preview": (
        Role.viewer,
        lambda w, a: datasets.preview(
            session=w.session, settings=w.settings, actor=a, dataset_id=w.dataset_id
        ),
    ),
    "versions": (
        Role.viewer,
        lambda w, a: datasets.list_versions(
            session=w.session, actor=a, project_id=PROJECT, name="mine"
        ),
    ),
    "summary": (
        Role.viewer,
        lambda w, a: summarize(
            session=w.session, settings=w.settings, actor=a, dataset_id=w.dataset_id
        ),
    ),
    "distribution": (
        Role.viewer,
        lambda w, a: column_distribution(
            session=w.session, settings=w.settings, actor=a, dataset_id=w.dataset_id, column="x"
        ),
    ),
    "latest report": (
        Role.viewer,
        lambda w, a: latest_report(
            session=w.session, settings=w.settings, actor=a, dataset_id=w.dataset_id
        ),
    ),
    "list jobs": (Role.viewer, lambda w, a: jobs.list_jobs(session=w.session, actor=a)),
    "get job": (
        Role.viewer,
        lambda w, a: jobs.get_job(session=w.session, actor=a, job_id=w.job_id),
    ),
    "plan training": (
        Role.viewer,
        lambda w, a: plan_training(
            session=w.session, settings=w.settings, actor=a, options=_options(w)
        ),
    ),
    "training jobs": (Role.viewer, lambda w, a: training_jobs(session=w.session, actor=a)),
    "list projects": (Role.viewer, lambda w, a: projects.list_projects(session=w.session, actor=a)),
    "add dataset": (
        Role.analyst,
        lambda w, a: datasets.add_dataset(
            session=w.session,
            settings=w.settings,
            actor=a,
            project_id=PROJECT,
            source=_csv(w.tmp, "more"),
            filename="more.csv",
        ),
    ),
    "stage upload": (
        Role.analyst,
        lambda w, a: uploads.stage_upload(
            session=w.session,
            settings=w.settings,
            actor=a,
            source=io.BytesIO(b"a,b\n1,2\n"),
            filename="up.csv",
        ),
    ),
    "start ingest": (
        Role.analyst,
        lambda w, a: uploads.start_ingest(
            session=w.session,
            settings=w.settings,
            actor=a,
            project_id=PROJECT,
            staged=w.tmp / "none.csv",
            filename="none.csv",
            name="none",
        ),
    ),
    "column roles": (
        Role.analyst,
        lambda w, a: datasets.set_column_roles(
            session=w.session, actor=a, dataset_id=w.dataset_id, roles={"id": ColumnRole.id}
        ),
    ),
    "start report": (
        Role.analyst,
        lambda w, a: start_report(
            session=w.session, settings=w.settings, actor=a, dataset_id=w.dataset_id, minimal=True
        ),
    ),
    "start training": (
        Role.analyst,
        lambda w, a: start_training(
            session=w.session, settings=w.settings, actor=a, options=_options(w)
        ),
    ),
    "cancel job": (
        Role.analyst,
        lambda w, a: jobs.cancel(session=w.session, settings=w.settings, actor=a, job_id=w.job_id),
    ),
    "delete dataset": (
        Role.analyst,
        lambda w, a: datasets.delete_dataset(
            session=w.session, settings=w.settings, actor=a, dataset_id=w.dataset_id
        ),
    ),
    "read any job log": (
        Role.admin,
        lambda w, a: jobs.log_tail(session=w.session, actor=a, job_id=w.job_id),
    ),
    "list users": (Role.admin, lambda w, a: users.list_users(session=w.session, actor=a)),
    "create user": (
        Role.admin,
        lambda w, a: users.create_user(
            session=w.session,
            settings=w.settings,
            actor=a,
            username="new-one",
            password=PASSWORD,
            role=Role.viewer,
        ),
    ),
    "change role": (
        Role.admin,
        lambda w, a: users.set_role(
            session=w.session, actor=a, user_id=w.user_id, role=Role.analyst
        ),
    ),
    "disable user": (
        Role.admin,
        lambda w, a: users.set_active(session=w.session, actor=a, user_id=w.user_id, active=False),
    ),
    "unlock user": (
        Role.admin,
        lambda w, a: users.unlock(session=w.session, actor=a, user_id=w.user_id),
    ),
    "set password": (
        Role.admin,
        lambda w, a: users.set_password(
            session=w.session,
            settings=w.settings,
            actor=a,
            user_id=w.user_id,
            password=PASSWORD + "!",
        ),
    ),
    "create project": (
        Role.admin,
        lambda w, a: projects.create_project(session=w.session, actor=a, name="new project"),
    ),
    "add member": (
        Role.admin,
        lambda w, a: projects.set_member(
            session=w.session, actor=a, project_id=PROJECT, user_id=w.user_id, member=False
        ),
    ),
    "read audit log": (Role.admin, lambda w, a: audit.list_events(session=w.session, actor=a)),
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_do_exactly_what_the_table_says(world: World, role: Role) -> None:
    actor = _actor(world, role)
    wrong = []
    for action, (needed, call) in TABLE.items():  # in order: deleting comes last
        try:
            call(world, actor)
            allowed = True
        except Forbidden as refused:
            allowed = False
            if f"Your role ({role.value}) cannot" not in str(refused):
                wrong.append(f"{action}: unclear refusal {refused}")
        if allowed != role.at_least(needed):
            wrong.append(f"{action}: {'allowed' if allowed else 'refused'} for {role.value}")
    assert wrong == []


OTHER_PROJECT: dict[str, Call] = {
    "get dataset": lambda w, a: datasets.get_dataset(
        session=w.session, actor=a, dataset_id=w.other_dataset_id
    ),
    "preview": lambda w, a: datasets.preview(
        session=w.session, settings=w.settings, actor=a, dataset_id=w.other_dataset_id
    ),
    "summary": lambda w, a: summarize(
        session=w.session, settings=w.settings, actor=a, dataset_id=w.other_dataset_id
    ),
    "plan training": lambda w, a: plan_training(
        session=w.session,
        settings=w.settings,
        actor=a,
        options=TrainingOptions(dataset_id=w.other_dataset_id, target="y"),
    ),
    "delete dataset": lambda w, a: datasets.delete_dataset(
        session=w.session, settings=w.settings, actor=a, dataset_id=w.other_dataset_id
    ),
    "add to project": lambda w, a: datasets.add_dataset(
        session=w.session,
        settings=w.settings,
        actor=a,
        project_id=PROJECT + 1,
        source=_csv(w.tmp, "sneak"),
        filename="sneak.csv",
    ),
}


@pytest.mark.parametrize("action", list(OTHER_PROJECT))
def test_another_projects_things_are_not_found_by_guessing_ids(world: World, action: str) -> None:
    analyst = _actor(world, Role.analyst)
    with pytest.raises(NotFound):
        OTHER_PROJECT[action](world, analyst)
    listed = datasets.list_datasets(session=world.session, actor=analyst)
    assert [d.name for d in listed] == ["mine"]
    assert {d.name for d in datasets.list_datasets(session=world.session, actor=OPERATOR)} == {
        "mine",
        "theirs",
    }
