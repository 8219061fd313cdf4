"""A Kaizen home with really trained, registered models for the registry tests: built once per
test session, then copied for each test, so every test starts from the same registry and no
test sees another's aliases (the copies share the first home's MLflow artifacts, read only)."""

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import datasets, projects
from services.access import Actor
from services.automl import tracking
from services.automl.options import TrainingOptions
from services.automl.training import start_training, training_result
from services.config import Settings, get_settings
from services.db import dispose_engines, get_engine, migrate
from services.models import DEFAULT_PROJECT_ID, JobState, Membership, Role, User
from tests.support.actors import OPERATOR
from tests.support.jobs import FAST_JOBS, stop_runners, wait_finished
from tests.support.mlflow_env import mlflow_environment_kept

TRAIN_WAIT = 240.0  # three small trainings, two at a time, on a machine others use too
# One model each finishes far sooner; the rest lets the refit on all rows fit even on a
# loaded machine (tests read `finalized`).
BUDGET = 90.0


@dataclass(frozen=True)
class TrainedHome:
    home: Path
    name: str  # "default-cancer-target", in the first project: a decision tree and a logistic
    versions: dict[str, int]  # regression, trained alike (same rows, seed): model_id -> version
    other: str  # "elsewhere-theirs-target", in the project "elsewhere"
    other_project: int


def build(root: Path) -> TrainedHome:
    """Trains the models into `root/home`, as the operator, with real job processes."""
    with pytest.MonkeyPatch.context() as patch, mlflow_environment_kept():
        patch.setenv("KAIZEN_HOME", str(root / "home"))
        patch.delenv("KAIZEN_DATABASE_URL", raising=False)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        for name, value in FAST_JOBS.items():
            patch.setenv(f"KAIZEN_{name.upper()}", str(value))
        get_settings.cache_clear()
        settings = get_settings()
        engine = get_engine(settings)
        migrate(engine)
        try:
            return _train(engine, settings, root)
        finally:
            stop_runners(engine)
            dispose_engines()
            get_settings.cache_clear()


def _train(engine: Engine, settings: Settings, root: Path) -> TrainedHome:
    tracking.prepare_store(settings)
    frame = load_breast_cancer(as_frame=True).frame
    (root / "cancer.csv").write_text(frame.to_csv(index=False))
    (root / "theirs.csv").write_text(frame.head(300).to_csv(index=False))
    with Session(engine, expire_on_commit=False) as session:
        other = projects.create_project(session=session, actor=OPERATOR, name="elsewhere")
        cancer = _add(session, settings, root / "cancer.csv", DEFAULT_PROJECT_ID)
        theirs = _add(session, settings, root / "theirs.csv", other.id)
        started = [
            _start(session, settings, dataset, model)
            for dataset, model in ((cancer, "dt"), (cancer, "lr"), (theirs, "lr"))
        ]
        versions: dict[str, int] = {}
        for job_id, model in zip(started, ("dt", "lr", None), strict=True):
            job = wait_finished(session, job_id, TRAIN_WAIT)
            result = training_result(job)
            assert job.state is JobState.succeeded and result and result.model, job.error
            if model is not None:
                versions[model] = result.model.version
    return TrainedHome(
        home=root / "home",
        name="default-cancer-target",
        versions=versions,
        other="elsewhere-theirs-target",
        other_project=other.id,
    )


def _add(session: Session, settings: Settings, path: Path, project_id: int) -> int:
    return datasets.add_dataset(
        session=session,
        settings=settings,
        actor=OPERATOR,
        project_id=project_id,
        source=path,
        filename=path.name,
    ).dataset.id


def _start(session: Session, settings: Settings, dataset_id: int, model: str) -> int:
    options = TrainingOptions(
        dataset_id=dataset_id, target="target", include_models=[model], budget_seconds=BUDGET
    )
    return start_training(session=session, settings=settings, actor=OPERATOR, options=options).id


def copy_home(trained: TrainedHome, settings: Settings) -> Engine:
    """The trained home copied to the test's own home, migrated like any other."""
    shutil.copytree(trained.home, settings.home)
    engine = get_engine(settings)
    migrate(engine)
    return engine


def person(session: Session, username: str, role: Role, *project_ids: int) -> Actor:
    """A signed-in user of `role`, member of `project_ids` (made directly: signing in is
    tested elsewhere)."""
    user = User(username=username, role=role)
    session.add(user)
    session.flush()
    assert user.id is not None
    for project_id in project_ids:
        session.add(Membership(user_id=user.id, project_id=project_id))
    session.commit()
    return Actor(username=username, role=role, user_id=user.id)
