"""Training by real job processes on real data, tracked in a real MLflow store: the leaderboard,
the runs, the registered version, the budget, cancel, and a dataset deleted while queued."""

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sqlmodel import Session

from services import datasets, jobs
from services.automl import tracking
from services.automl.options import Preset, Task, TrainingOptions
from services.automl.results import TrainingResult
from services.automl.training import start_training, training_result
from services.config import Settings
from services.errors import InvalidInput
from services.models import DatasetPublic, JobPublic, JobState
from tests.support import job_functions
from tests.support.actors import OPERATOR, add_file
from tests.support.jobs import FAST_JOBS, configure, submit, wait_finished, wait_for

TRAIN_WAIT = 120.0  # a fast training of 569 rows takes ~20 s; a loaded machine gets room
BUDGET_SLACK_SECONDS = 5.0  # the hard limit, plus the runner's own start and end


pytestmark = pytest.mark.real_jobs


@pytest.fixture
def cancer(session: Session, settings: Settings, tmp_path: Path) -> DatasetPublic:
    """sklearn's breast cancer table (569 rows, 30 measurements), target 0/1."""
    path = tmp_path / "cancer.csv"
    load_breast_cancer(as_frame=True).frame.to_csv(path, index=False)
    return add_file(session, settings, path, name="cancer").dataset


def _train(
    session: Session, settings: Settings, dataset: DatasetPublic, **options: object
) -> JobPublic:
    request = TrainingOptions(dataset_id=dataset.id, target="target", **options)
    return start_training(actor=OPERATOR, session=session, settings=settings, options=request)


def _result(job: JobPublic) -> TrainingResult:
    result = training_result(job)
    assert result is not None, job
    return result


def test_a_fast_training_fills_the_leaderboard_tracks_every_model_and_registers_the_best(
    session: Session, settings: Settings, cancer: DatasetPublic
) -> None:
    job = wait_finished(
        session, _train(session, settings, cancer, budget_seconds=120).id, TRAIN_WAIT
    )
    assert job.state is JobState.succeeded, job.error
    result = _result(job)
    ranked = result.ranked()
    assert len(ranked) >= 5 and not result.stopped_by_budget
    scores = [row.cv["AUC"] for row in ranked]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0.95
    chosen = result.model
    assert chosen is not None and chosen.finalized
    assert chosen.name == "default-cancer-target" and chosen.version == 1
    assert chosen.model_id == ranked[0].model_id and chosen.score == ranked[0].holdout["AUC"]

    client = tracking.client(settings)
    parent = client.get_run(result.parent_run_id)
    assert parent.info.status == "FINISHED"
    assert (
        parent.info.experiment_id == client.get_experiment_by_name("kaizen/default").experiment_id
    )
    assert parent.data.tags["kaizen.dataset_sha256"] == cancer.sha256
    assert parent.data.tags["kaizen.dataset_version"] == "1"
    assert parent.data.tags["kaizen.registered_version"] == "1"
    assert [i.dataset.name for i in parent.inputs.dataset_inputs] == ["cancer v1"]
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id, "environment")}
    assert artifacts == {"environment/requirements.txt"}
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )
    assert {c.info.run_id for c in children} == {row.run_id for row in ranked}
    assert all("cv AUC" in c.data.metrics and "holdout AUC" in c.data.metrics for c in children)

    version = client.get_model_version(chosen.name, "1")
    assert version.run_id == chosen.run_id and version.tags["kaizen.model_sha256"] == chosen.sha256
    assert client.get_registered_model(chosen.name).aliases == {}  # promotion is an admin's act

    rows = load_breast_cancer(as_frame=True).frame.drop(columns="target").head(20)
    pipeline = tracking.load_pipeline(settings, chosen.model_uri, chosen.sha256)
    assert set(pipeline.predict(rows)) <= {0, 1}
    with pytest.raises(InvalidInput, match="does not match the one training wrote"):
        tracking.load_pipeline(settings, chosen.model_uri, "0" * 64)


@pytest.mark.parametrize(
    ("load", "task", "metric"),
    [(load_diabetes, Task.regression, "RMSE"), (load_wine, Task.multiclass, "AUC")],
)
def test_regression_and_multiclass_rank_by_their_metric_and_register_the_best(
    session: Session, settings: Settings, tmp_path: Path, load: Any, task: Task, metric: str
) -> None:
    path = tmp_path / "table.csv"
    load(as_frame=True).frame.to_csv(path, index=False)
    dataset = add_file(session, settings, path, name=task.value).dataset
    job = _train(session, settings, dataset, include_models=["lr", "lightgbm", "dt"])
    job = wait_finished(session, job.id, TRAIN_WAIT)
    assert job.state is JobState.succeeded, job.error
    result = _result(job)
    assert (result.task, result.metric) == (task, metric)
    scores = [row.cv[metric] for row in result.ranked()]
    assert len(scores) == 3 and None not in scores
    assert scores == sorted(scores, reverse=result.greater_is_better)
    if task is Task.multiclass:  # probabilities scored, not PyCaret's 0.0 for decision scores
        assert min(s for s in scores if s is not None) > 0.8
    assert result.model is not None and result.model.model_id == result.ranked()[0].model_id


def test_the_budget_ends_the_search_and_keeps_what_finished(
    session: Session, settings: Settings, cancer: DatasetPublic
) -> None:
    # The balanced preset's 12 models in 5 folds, then 40 tuning trials: far more than 30 s.
    job = _train(session, settings, cancer, preset=Preset.balanced, budget_seconds=30)
    job = wait_finished(session, job.id, TRAIN_WAIT)
    assert job.state is JobState.succeeded, job.error
    result = _result(job)
    assert result.stopped_by_budget and result.model is not None
    assert 1 <= len(result.leaderboard) < result.models_total + 1
    assert job.started_at and job.finished_at
    wall = (job.finished_at - job.started_at).total_seconds()
    assert wall <= 30 + BUDGET_SLACK_SECONDS, f"{wall:.1f} s for a 30 s budget"


def test_cancel_keeps_the_finished_models_registers_nothing_and_ends_the_run_killed(
    session: Session, settings: Settings, cancer: DatasetPublic
) -> None:
    job = _train(session, settings, cancer, preset=Preset.balanced, budget_seconds=300)
    wait_for(
        session, job.id, lambda j: bool((j.result or {}).get("leaderboard")), "a row", TRAIN_WAIT
    )
    jobs.cancel(actor=OPERATOR, session=session, settings=settings, job_id=job.id)
    job = wait_finished(session, job.id, TRAIN_WAIT)
    assert job.state is JobState.cancelled
    result = _result(job)
    assert result.leaderboard and result.model is None
    client = tracking.client(settings)
    assert client.get_run(result.parent_run_id).info.status == "KILLED"
    assert client.search_registered_models() == []


def test_a_dataset_deleted_while_the_training_waits_fails_it_clearly(
    session: Session,
    settings: Settings,
    cancer: DatasetPublic,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    settings = configure(monkeypatch, **(FAST_JOBS | {"max_parallel_jobs": 1}))
    release = tmp_path / "release"
    blocker = submit(
        session, settings, job_functions.hold, fraction=0.5, release=str(release), limit=60
    )
    job = _train(session, settings, cancer)
    assert job.state is JobState.queued
    datasets.delete_dataset(
        actor=OPERATOR, session=session, settings=settings, dataset_id=cancer.id
    )
    release.touch()
    wait_finished(session, blocker.id)
    job = wait_finished(session, job.id, TRAIN_WAIT)
    assert job.state is JobState.failed
    assert "was deleted after this training was queued; nothing was trained" in (job.error or "")
    assert tracking.client(settings).search_registered_models() == []


def test_bad_input_is_refused_before_any_job_is_queued(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "one.csv"
    pd.DataFrame({"x": range(100), "y": ["same"] * 100}).to_csv(path, index=False)
    dataset = add_file(session, settings, path, name="one").dataset
    with pytest.raises(InvalidInput, match="only one value"):
        start_training(
            actor=OPERATOR,
            session=session,
            settings=settings,
            options=TrainingOptions(dataset_id=dataset.id, target="y"),
        )
    assert jobs.find_jobs(session=session, kind="train") == []
