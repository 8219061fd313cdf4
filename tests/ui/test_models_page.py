"""The Models page with AppTest, on one real training (job processes, PyCaret, MLflow): a viewer
opens a model, computes its insights as a job, then reads metrics, diagnostics, SHAP, single
rows and what-if, and compares two models."""

from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from services import explain
from services.access import Actor
from services.automl.options import TrainingOptions
from services.automl.training import start_training
from services.config import Settings
from services.models import JobState, Role
from tests.support.actors import OPERATOR, add_file
from tests.support.jobs import describe, wait_finished
from tests.support.signin import app_as, first_admin, local_user

WAIT = 180.0
pytestmark = pytest.mark.real_jobs


@pytest.fixture
def trained(session: Session, settings: Settings, tmp_path: Path) -> int:
    """A finished fast training of breast cancer (logistic regression and a decision tree)."""
    source = tmp_path / "cancer.csv"
    frame = load_breast_cancer(as_frame=True).frame
    frame.iloc[:, [*range(8), 30]].to_csv(source, index=False)
    dataset = add_file(session, settings, source).dataset
    options = TrainingOptions(
        dataset_id=dataset.id, target="target", include_models=["lr", "dt"], budget_seconds=60
    )
    job = start_training(session=session, settings=settings, actor=OPERATOR, options=options)
    assert wait_finished(session, job.id, WAIT).state is JobState.succeeded, describe(
        session, job.id
    )
    return job.id


@pytest.fixture
def viewer(session: Session, settings: Settings) -> Actor:
    return local_user(session, settings, first_admin(session, settings), "vic", Role.viewer)


def models_page(actor: Actor, query: dict[str, str] | None = None) -> AppTest:
    at = app_as(actor, "views/models.py", timeout=120, query=query)
    assert not at.exception, at.exception
    return at


def _compute(at: AppTest, session: Session, trained: int, model_id: str) -> AppTest:
    next(b for b in at.button if b.label == "Compute insights").click().run()
    assert not at.exception, at.exception
    ref = explain.model_ref(session=session, actor=OPERATOR, job_id=trained, model_id=model_id)
    job = explain.explaining_job(session=session, actor=OPERATOR, ref=ref)
    assert job is not None and job.owner == "vic"
    assert wait_finished(session, job.id, WAIT).state is JobState.succeeded, describe(
        session, job.id
    )
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_viewer_computes_and_reads_a_models_insights(
    trained: int, session: Session, viewer: Actor
) -> None:
    at = models_page(viewer, {"job": str(trained), "model": "dt"})
    assert at.selectbox[1].value == "dt"
    assert not at.tabs  # nothing computed yet: the button says what it will do
    assert "computed once per model" in at.info[0].value
    at = _compute(at, session, trained, "dt")

    labels = [t.label for t in at.tabs]
    assert labels == ["Performance", "What drives it", "Single predictions", "Compare"]
    shown = {m.label for m in at.metric}
    assert {"AUC", "Accuracy", "Prediction"} <= shown
    reading = " ".join(m.value for m in at.markdown)
    assert "114 holdout rows" in reading and "Out of 100" in reading
    assert len(at.get("plotly_chart")) >= 9  # confusion, 5 curves, 2 SHAP, dependence, waterfall
    assert any("TreeExplainer" in c.value for c in at.caption)
    assert any(m.value.startswith("Predicted") for m in at.markdown)  # the reasons in words

    threshold = at.slider[0]
    before = next(m.value for m in at.markdown if "at a threshold" in m.value.lower())
    threshold.set_value(0.9).run()
    after = next(m.value for m in at.markdown if "at a threshold" in m.value.lower())
    assert before != after and not at.exception


def test_what_if_and_compare_with_another_model(
    trained: int, session: Session, viewer: Actor
) -> None:
    at = _compute(models_page(viewer, {"job": str(trained), "model": "lr"}), session, trained, "lr")
    first = at.number_input[0]
    assert first.label.startswith("Holdout row")
    first.set_value(3).run()
    edited = at.number_input[1]
    edited.set_value(edited.value * 4 + 50).run()
    next(b for b in at.button if b.label == "See the prediction").click().run()
    assert not at.exception, at.exception
    assert any(m.label == "Prediction after the change" for m in at.metric)

    assert any("not computed yet" in i.value for i in at.info)  # the tree has no insights yet
