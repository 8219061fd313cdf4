"""The Train page with AppTest: the plan in words, bad choices refused with a clear message and
no Start button, and one real training (job process, PyCaret, MLflow) followed to its end."""

import re
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from services.access import Actor
from services.automl.options import PRESETS, Preset, Task, catalog
from services.automl.training import training_jobs
from services.config import Settings
from services.datasets import set_column_roles
from services.models import JobState, Role
from tests.support.actors import OPERATOR, add_file
from tests.support.jobs import describe, wait_finished
from tests.support.signin import app_as, first_admin, local_user

APP = str(Path(__file__).parents[2] / "app.py")
TRAIN_WAIT = 120.0  # two quick models take ~15 s; a loaded machine gets room
# The job's budget counts its process start, PyCaret's setup and, on a fresh home, MLflow
# creating its store: at the 30 s minimum a loaded 2-core machine sometimes finished no model.
# Two quick models end the search long before a minute, so the larger budget costs no time.
BUDGET_MINUTES = 1.0


pytestmark = pytest.mark.real_jobs


def literal(element) -> str:  # type: ignore[no-untyped-def]
    """What the user reads: the page escapes markdown in names that come from files."""
    return re.sub(r"\\(.)", r"\1", element.value)


@pytest.fixture
def cancer(session: Session, settings: Settings, tmp_path: Path) -> int:
    """sklearn's breast cancer table (569 rows), the diagnosis marked as the target, plus a
    constant column and one whose rarest class has only two rows."""
    frame = load_breast_cancer(as_frame=True).frame.iloc[:, :8]
    frame["diagnosis"] = load_breast_cancer().target
    frame["diagnosis"] = frame["diagnosis"].map({0: "malignant", 1: "benign"})
    frame["clinic"] = "north"
    frame["stage"] = ["early"] * 300 + ["late"] * 267 + ["unknown"] * 2
    source = tmp_path / "cancer.csv"
    frame.to_csv(source, index=False)
    added = add_file(session, settings, source)
    set_column_roles(
        actor=OPERATOR,
        session=session,
        dataset_id=added.dataset.id,
        roles={"diagnosis": "target"},
    )
    return added.dataset.id


@pytest.fixture
def analyst(session: Session, settings: Settings) -> Actor:
    """An analyst signed in (a member of the default project, like every new user)."""
    return local_user(session, settings, first_admin(session, settings), "ana", Role.analyst)


def train_page(actor: Actor, query: dict[str, str] | None = None) -> AppTest:
    at = app_as(actor, "views/train.py", timeout=120, query=query)
    assert not at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def text(at: AppTest) -> str:
    return "\n".join(literal(m) for m in at.markdown).replace("**", "")


def has_start(at: AppTest) -> bool:
    return any(b.label == "Start training" for b in at.button)


def test_plan_says_what_training_will_do(cancer: int, analyst: Actor) -> None:
    at = train_page(analyst)
    assert at.selectbox(key=f"train-target-{cancer}").value == "diagnosis"
    shown = metrics(at)
    assert shown["Task (inferred)"] == "binary"
    assert (shown["Rows"], shown["Training rows"], shown["Holdout rows"]) == ("569", "455", "114")
    plan = text(at)
    assert "Columns left out (1): clinic (the same value in every row)" in plan
    assert "Classes (2): benign (357 rows), malignant (212 rows)" in plan
    fast = PRESETS[Preset.fast].classification_models
    names = ", ".join(catalog(Task.binary)[m] for m in fast)
    assert f"Models compared ({len(fast)}): {names}" in plan
    assert "Optimization metric: AUC (higher is better), 3-fold cross-validation" in plan
    assert "Time budget: 2 min" in plan
    assert "Hold back 114 rows (20%) to check the chosen model on rows it never saw" in plan
    assert "Refit the chosen model on all rows" in plan
    assert has_start(at)

    at.selectbox(key=f"train-task-{cancer}").set_value("automatic").run()
    at.radio(key="train-preset").set_value("balanced").run()
    shown, plan = metrics(at), text(at)
    assert "Time budget: 10 min" in plan and "5-fold cross-validation" in plan
    assert "Tune the settings of the best 1 model(s) by random search." in plan
    assert at.number_input(key="train-budget-balanced").value == 10.0

    # Advanced options for the planned task: metric and class balancing.
    at.selectbox(key="train-metric-binary").set_value("F1")
    at.checkbox(key="train-imbalance").check().run()
    plan = text(at)
    assert "Optimization metric: F1 (higher is better)" in plan
    assert "Balance the classes by adding synthetic rows of the rarer ones (SMOTE)." in plan
    assert has_start(at) and not at.exception


def test_bad_choices_show_the_reason_and_no_start_button(cancer: int, analyst: Actor) -> None:
    at = train_page(analyst)
    at.selectbox(key=f"train-target-{cancer}").set_value("clinic").run()
    assert not at.exception
    assert [literal(e) for e in at.error] == [
        "The target 'clinic' has only one value ('north'), so there is nothing to tell "
        "apart. Choose a target with at least two values."
    ]
    assert not has_start(at) and not at.metric

    at.selectbox(key=f"train-target-{cancer}").set_value("stage").run()
    assert literal(at.error[0]).startswith(
        "Some classes of 'stage' have too few rows: 'unknown' (2). With 3-fold "
        "cross-validation every class needs at least 4 rows."
    )
    assert not has_start(at)

    at.selectbox(key=f"train-target-{cancer}").set_value("diagnosis").run()
    at.selectbox(key=f"train-task-{cancer}").set_value("regression").run()
    assert literal(at.error[0]).startswith("The target 'diagnosis' is text (e.g. 'malignant')")
    assert not has_start(at)

    at.selectbox(key=f"train-task-{cancer}").set_value("binary").run()
    every = PRESETS[Preset.fast].classification_models
    at.multiselect(key="train-exclude-binary").set_value(every).run()
    assert [literal(e) for e in at.error] == [
        "Every model is excluded; leave at least one to train."
    ]
    assert not has_start(at) and not at.exception


def test_training_runs_as_a_job_and_shows_the_leaderboard(
    cancer: int, session: Session, settings: Settings, tmp_path: Path, analyst: Actor
) -> None:
    at = train_page(analyst)
    at.radio(key="train-preset").set_value("fast")
    at.number_input(key="train-budget-fast").set_value(BUDGET_MINUTES)
    at.multiselect(key="train-include-binary").set_value(["lr", "nb"]).run()
    assert "Models compared (2): Logistic Regression, Naive Bayes" in text(at)
    assert "Time budget: 1 min" in text(at)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception
    [job] = training_jobs(session=session, actor=OPERATOR, dataset_id=cancer)
    assert at.query_params["job"] == str(job.id)
    assert at.get("progress") or job.state.finished  # live progress while it runs

    finished = wait_finished(session, job.id, timeout=TRAIN_WAIT)
    assert finished.state == JobState.succeeded, describe(session, job.id)
    at.run()
    assert not at.exception
    assert literal(at.success[0]).startswith(f"Train #{job.id} finished in")
    board = next(f.value for f in at.dataframe if "model" in f.value.columns)
    assert set(board["model"]) <= {"Logistic Regression", "Naive Bayes"} and len(board) >= 1
    assert {"rank", "CV AUC", "holdout AUC", "CV Accuracy", "seconds"} <= set(board.columns)
    assert board["registered"].sum() == 1
    registered = literal(at.success[1])
    assert re.match(
        r"Registered as default-cancer-diagnosis version 1, holdout AUC = 0\.\d+; "
        r"(refit on all rows|not refit on all rows)",
        registered,
    ), registered
    assert any(
        re.match(r"MLflow run [0-9a-f]{32} · experiment \d+", literal(c)) for c in at.caption
    )
    assert metrics(at)["Budget"] == "1:00"
    assert len(at.get("plotly_chart")) == 1

    # A refresh (a new session at the same link) shows the same job, even when another
    # dataset would be the page's default.
    other = tmp_path / "another.csv"
    pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}).to_csv(other, index=False)
    add_file(session, settings, other, filename="aaa.csv")
    again = train_page(analyst, {"job": str(job.id)})
    assert again.selectbox(key="version-cancer").value == 1
    assert again.selectbox(key=f"train-target-{cancer}").value == "diagnosis"
    assert again.selectbox(key=f"train-task-{cancer}").value == "automatic"
    assert literal(again.success[1]) == registered
