"""The fast road through a real PyCaret pipeline's preprocessing (services/serving/fast.py):
taken only when proven equal, and then answering exactly what the pipeline's own predict and
predict_proba answer, for typical rows, unseen categories and missing values; a pipeline with a
step it does not know keeps PyCaret's transform."""

import copy
import os
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from services.serving.loaded import frame_of, predict, ready_model, row_columns
from services.serving.schema import build_schema

ROWS = 600


def _table(many_values: bool) -> pd.DataFrame:
    """Numbers with gaps, a yes/no column (ordinal), a 4-value one (one-hot), optionally one
    of 40 values (target-encoded, a step the fast road does not know); binary target."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 50.0, ROWS),
            "visits": rng.integers(0, 20, ROWS),
            "member": rng.choice(["yes", "no"], ROWS),
            "plan": rng.choice(["basic", "plus", "pro", "team"], ROWS),
        }
    )
    if many_values:
        frame["city"] = rng.choice([f"city {i}" for i in range(40)], ROWS)
    score = frame["amount"] / 100 + (frame["plan"] == "pro") - (frame["member"] == "no")
    frame["churn"] = np.where(score + rng.normal(0, 0.5, ROWS) > 1, "yes", "no")
    frame.loc[::7, "amount"] = np.nan
    frame.loc[::11, "plan"] = None
    return frame


def _pipeline(frame: pd.DataFrame, model_id: str) -> Any:
    """A leaderboard pipeline made as a training makes it (the product's setup)."""
    from services.automl.experiment import set_up
    from services.automl.options import Task, TrainingOptions
    from services.automl.search import Budget
    from services.automl.target import Prepared

    features = [c for c in frame.columns if c != "churn"]
    prepared = Prepared(frame=frame, task=Task.binary, features=features, excluded={})
    options = TrainingOptions(dataset_id=0, target="churn", task=Task.binary, seed=1)
    experiment = set_up(prepared, options, Budget(600.0, time.monotonic()))
    quiet = {"verbosity": -1} if model_id == "lightgbm" else {}
    model = experiment.create_model(model_id, verbose=False, **quiet)
    pipeline = copy.deepcopy(experiment.pipeline)
    pipeline.steps.append(("actual_estimator", model))
    return pipeline


@pytest.fixture(autouse=True)
def _pycaret_log(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYCARET_CUSTOM_LOGGING_PATH", os.fspath(tmp_path / "pycaret.log"))


def _requests(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as a request carries them: the table's, plus unseen values and missing ones."""
    rows = frame.drop(columns="churn").head(50).to_dict("records")
    rows = [{k: None if v is None or v != v else v for k, v in r.items()} for r in rows]
    odd = rows[0] | {"plan": "enterprise", "member": "maybe", "amount": None}
    return [*rows, odd, rows[1] | {"plan": None}, rows[2] | {"amount": 1e6}]


@pytest.mark.parametrize("model_id", ["lightgbm", "lr"])
def test_the_fast_road_is_proven_and_answers_exactly_as_the_pipeline(model_id: str) -> None:
    frame = _table(many_values=False)
    pipeline = _pipeline(frame, model_id)
    schema = build_schema(pipeline, frame, "churn", "churn", 1)
    model = ready_model(
        schema, pipeline, digest="x", max_rows=100, unknown_columns="reject", sample=frame
    )
    assert model.road is not None
    requests = _requests(frame)
    for batch in (requests, *([row] for row in requests[-4:])):  # a batch, and single rows
        columns = row_columns(schema, batch)
        rows = frame_of(columns)
        predictions, probabilities = predict(model, columns)
        assert predictions.tolist() == pipeline.predict(rows).tolist()
        assert np.array_equal(probabilities, pipeline.predict_proba(rows))


def test_a_step_the_fast_road_does_not_know_keeps_pycarets_transform() -> None:
    frame = _table(many_values=True)
    pipeline = _pipeline(frame, "lr")
    schema = build_schema(pipeline, frame, "churn", "churn", 1)
    model = ready_model(
        schema, pipeline, digest="x", max_rows=100, unknown_columns="reject", sample=frame
    )
    assert model.road is None
    columns = row_columns(schema, _requests(frame))
    rows = frame_of(columns)
    predictions, probabilities = predict(model, columns)
    assert predictions.tolist() == pipeline.predict(rows).tolist()
    assert np.array_equal(probabilities, pipeline.predict_proba(rows))
