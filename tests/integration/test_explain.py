"""Model insights end to end on one real training: the insights job kept in MLflow, `kaizen
explain`, single rows and what-if, and who may see which model."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from services import explain, jobs
from services.access import Actor
from services.automl import tracking
from services.automl.training import training_result
from services.config import Settings, get_settings
from services.db import dispose_engines, get_engine
from services.errors import NotFound
from services.insights.local import holdout_row, outcome, values_row
from services.insights.store import INSIGHTS_DIR
from services.models import JobPublic, JobState, Role, User
from tests.integration.test_cli_train import _env, _run, _stop_runners
from tests.support.actors import OPERATOR
from tests.support.jobs import wait_finished

NAME = "default-cancer-target"
MODELS = "lr,dt,lightgbm"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A home with one fast training of breast cancer (569 rows) on three models."""
    from sklearn.datasets import load_breast_cancer

    root = tmp_path_factory.mktemp("explain")
    cancer = root / "cancer.csv"
    load_breast_cancer(as_frame=True).frame.to_csv(cancer, index=False)
    home = root / "home"
    assert _run(home, "datasets", "add", str(cancer), "--json").returncode == 0
    trained = _run(home, "train", "1", "--target", "target", "--include", MODELS, "--budget", "60")
    assert trained.returncode == 0, trained.stderr
    yield home
    _stop_runners(home)


@pytest.fixture
def db(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, Session]]:
    for name, value in _env(home).items():
        if name.startswith("KAIZEN_"):
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    with Session(get_engine(get_settings()), expire_on_commit=False) as session:
        yield get_settings(), session
    get_settings.cache_clear()
    dispose_engines()


def _training(session: Session) -> JobPublic:
    return jobs.get_job(session=session, actor=OPERATOR, job_id=1)


def test_kaizen_explain_computes_once_keeps_it_with_the_run_and_reads_it_back(home: Path) -> None:
    first = _run(home, "explain", NAME, "--json", timeout=300)
    assert first.returncode == 0, first.stderr
    document = json.loads(first.stdout)
    assert document["model"] == f"{NAME} v1"
    assert document["explainer"] in {"tree", "linear", "permutation", "kernel"}
    features = document["features"]
    names = [f["name"] for f in features]
    assert "mean radius" in names and len(names) == 30  # the original columns, each once
    values = [f["mean_abs_shap"] for f in features]
    assert values == sorted(values, reverse=True) and values[0] > 0

    started = time.monotonic()
    again = _run(home, "explain", f"{NAME}:1", "--json")
    assert again.returncode == 0 and json.loads(again.stdout) == document
    assert time.monotonic() - started < 60  # read back, no second job (one job exists)
    assert _run(home, "jobs", "list", "--json").stdout.count('"explain"') == 1


def test_every_leaderboard_model_has_insights_kept_in_its_mlflow_run(
    db: tuple[Settings, Session],
) -> None:
    settings, session = db
    result = training_result(_training(session))
    assert result is not None and {r.model_id for r in result.leaderboard} == set(MODELS.split(","))
    tree = explain.model_ref(session=session, actor=OPERATOR, job_id=1, model_id="dt")
    job = explain.start_explaining(session=session, settings=settings, actor=OPERATOR, ref=tree)
    finished = wait_finished(session, job.id, 300)
    assert finished.state is JobState.succeeded, finished.error
    insights = explain.cached_insights(settings=settings, ref=tree)
    assert insights is not None and insights.shap is not None
    assert insights.shap.explainer == "tree"
    assert insights.classification is not None and insights.classification.rows == 114
    assert insights.dependence  # partial dependence of the top features
    stored = tracking.client(settings).list_artifacts(tree.run_id, INSIGHTS_DIR)
    assert [a.path for a in stored] == [f"{INSIGHTS_DIR}/insights.json"]


def test_a_row_is_explained_in_words_and_what_if_moves_the_prediction(
    db: tuple[Settings, Session],
) -> None:
    settings, session = db
    ref = explain.registered_ref(
        session=session, settings=settings, actor=OPERATOR, name=NAME, version="1"
    )
    if explain.cached_insights(settings=settings, ref=ref) is None:  # run alone
        job = explain.start_explaining(session=session, settings=settings, actor=OPERATOR, ref=ref)
        assert wait_finished(session, job.id, 300).state is JobState.succeeded
    model = explain.open_model(settings=settings, ref=ref)
    chances = model.pipeline.predict_proba(model.holdout)[:, 1]
    row = holdout_row(model, int(abs(chances - 0.5).argmin()))  # the least certain row
    said = outcome(model, row)
    assert said.prediction == str(model.pipeline.predict(row)[0])
    assert set(said.probabilities) == {"0", "1"}
    assert said.reasons.startswith("Predicted") and said.explanation is not None

    top = model.insights.importance()[0][0]
    values = row.iloc[0].to_dict()
    values[top] = model.background[top].max() * 3  # far outside what the model saw
    edited = values_row(model, values)
    moved = outcome(model, edited)
    assert moved.probabilities != said.probabilities
    assert moved.probabilities["1"] == round(model.pipeline.predict_proba(edited)[0, 1], 4)


def test_a_viewer_outside_the_project_cannot_reach_its_models(
    db: tuple[Settings, Session],
) -> None:
    settings, session = db
    outsider = User(username="outsider", role=Role.viewer)
    session.add(outsider)
    session.commit()
    stranger = Actor(username="outsider", role=Role.viewer, user_id=outsider.id)
    with pytest.raises(NotFound):
        explain.model_ref(session=session, actor=stranger, job_id=1, model_id="lr")
    with pytest.raises(NotFound, match=f"no registered model {NAME}"):
        explain.registered_ref(session=session, settings=settings, actor=stranger, name=NAME)
    with pytest.raises(NotFound, match="no model 'nosuch'"):
        explain.model_ref(session=session, actor=OPERATOR, job_id=1, model_id="nosuch")
