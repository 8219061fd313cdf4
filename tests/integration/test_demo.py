"""The Gradio demo of a served model (services/serving/demo.py), on small real PyCaret pipelines
with every kind of column: inputs built from the schema and the training range, holdout rows as
examples, the same answer as the REST API (in-process and through a real POST to a served
bundle), plain-words errors, the reasons sentence and chart."""

import copy
import datetime
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.serving import ServingSettings
from services.serving.app import create_app
from services.serving.bundle import Manifest, write_bundle
from services.serving.demo import build_demo, demo_inputs, demo_predict
from services.serving.loaded import LoadedModel, predict, ready_model, row_columns
from services.serving.schema import TaskName, build_schema
from services.serving.sources import BundleSource
from tests.support.pipelines import _quiet_pycaret
from tests.support.serving import home_env, wait_ready

gr = pytest.importorskip("gradio")

# Building the pipelines warns (PyCaret's scoring, LightGBM's feature names): not our subject.
pytestmark = pytest.mark.filterwarnings("ignore")

ROWS, SEED = 300, 7
TARGETS: dict[TaskName, str] = {"binary": "churn", "multiclass": "tier", "regression": "spend"}
MODELS: dict[TaskName, tuple[str, dict[str, Any]]] = {
    "binary": ("lr", {}),
    "multiclass": ("dt", {"max_depth": 5}),
    "regression": ("lightgbm", {"n_estimators": 30, "num_leaves": 15}),
}
SECRET = "kz_demo-test-secret"


def customers() -> pd.DataFrame:
    """A whole number, a number with gaps, a category, many-valued text, a boolean and a date
    (midnights), and three targets."""
    rng = np.random.default_rng(SEED)
    age = rng.integers(18, 80, ROWS)
    income = rng.normal(50, 12, ROWS).round(1)
    income[rng.choice(ROWS, 20, replace=False)] = np.nan
    plan = rng.choice(["basic", "plus", "pro"], ROWS, p=[0.5, 0.3, 0.2])
    member = rng.integers(0, 2, ROWS).astype(bool)
    signup = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700, ROWS), "D")
    city = [f"city {n}" for n in rng.integers(0, 80, ROWS)]  # > 50 values: free text
    logit = (
        0.04 * (age - 50) + 0.8 * (plan == "pro") + 0.6 * member + np.nan_to_num(income - 50) / 20
    )
    churn = np.where(rng.random(ROWS) < 1 / (1 + np.exp(-logit)), "yes", "no")
    spend = 3 * age + 20 * (plan == "pro") + np.nan_to_num(income) + rng.normal(0, 5, ROWS)
    return pd.DataFrame(
        {
            "age": age,
            "income": income,
            "plan": plan,
            "member": member,
            "signup": signup,
            "city": city,
            "churn": churn,
            "spend": spend.round(2),
            "tier": np.select([spend < 180, spend < 250], ["low", "mid"], "high"),
        }
    )


@dataclass(frozen=True)
class Case:
    model: LoadedModel
    train: pd.DataFrame  # the training rows' features, as training logs them
    holdout: pd.DataFrame  # the holdout's features


@cache
def case(task: TaskName) -> Case:
    """A pipeline trained as the training job trains one, loaded as the server loads it."""
    pipeline, features, train, holdout = fitted(task)
    target = TARGETS[task]
    schema = build_schema(pipeline, train, target, f"customers-{task}", 3)
    model = ready_model(
        schema,
        pipeline,
        digest="",
        max_rows=100,
        unknown_columns="reject",
        alias="production" if task == "binary" else None,
        background=features.sample(100, random_state=0),
        sample=features,
        examples=holdout.head(5),
    )
    return Case(model, features, holdout)


def fitted(task: TaskName) -> tuple[Any, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """PyCaret's setup and a model (2 s): the pipeline, the training features, the training
    rows with the target (as training logs them) and the holdout's features."""
    _quiet_pycaret()
    if task == "regression":
        from pycaret.regression import RegressionExperiment as Experiment
    else:
        from pycaret.classification import ClassificationExperiment as Experiment
    target = TARGETS[task]
    data = customers().drop(columns=[t for t in TARGETS.values() if t != target])
    exp = Experiment()
    exp.setup(
        data=data,
        target=target,
        train_size=0.8,
        session_id=SEED,
        n_jobs=1,
        verbose=False,
        html=False,
        log_experiment=False,
        system_log=False,
        memory=False,
        normalize=True,
    )
    name, options = MODELS[task]
    estimator = exp.create_model(name, cross_validation=False, verbose=False, **options)
    pipeline = copy.deepcopy(exp.pipeline)
    pipeline.steps.append(("actual_estimator", estimator))
    features, holdout = exp.X_train.copy(), exp.X_test.copy()
    return pipeline, features, features.assign(**{target: exp.y_train.to_numpy()}), holdout


def api_row(record: dict[str, Any]) -> dict[str, Any]:
    """A holdout row as a client's JSON carries it."""
    row = {}
    for name, value in record.items():
        if isinstance(value, pd.Timestamp):
            value = value.isoformat()
        elif isinstance(value, np.generic):
            value = value.item()
        row[name] = None if value is None or value != value else value
    return row


def api_answer(model: LoadedModel, row: dict[str, Any]) -> tuple[Any, np.ndarray | None]:
    """What the REST API's route computes for one row: its request model, then predict."""
    rows = model.body.model_validate({"rows": [row]}).rows
    predictions, probabilities = predict(model, row_columns(model.schema, rows))
    return predictions[0], probabilities


def gradio_values(model: LoadedModel, example: list[Any]) -> list[Any]:
    """An example row as Gradio hands it to the function: through each input's preprocess."""
    return [c.preprocess(v) for c, v in zip(demo_inputs(model), example, strict=True)]


def test_inputs_follow_the_schema_and_the_training_range() -> None:
    found = case("binary")
    inputs = {c.label: c for c in demo_inputs(found.model)}
    assert list(inputs) == [c.name for c in found.model.schema.columns]
    age, income, plan = inputs["age"], inputs["income"], inputs["plan"]
    assert isinstance(age, gr.Slider) and age.step == 1
    assert (age.minimum, age.maximum) == (found.train["age"].min(), found.train["age"].max())
    assert age.value == found.model.schema.columns[0].example
    assert isinstance(income, gr.Number) and "missing" in (income.info or "")  # gaps in training
    assert isinstance(plan, gr.Dropdown)
    assert {c[1] for c in plan.choices} == set(found.train["plan"].astype(str))
    assert plan.value == found.train["plan"].astype(str).mode()[0]
    assert isinstance(inputs["member"], gr.Checkbox)
    assert isinstance(inputs["city"], gr.Textbox)  # too many values for a list
    signup = inputs["signup"]
    assert isinstance(signup, gr.DateTime) and signup.type == "string"
    assert not signup.include_time  # every training value is at midnight
    timed = found.train.assign(signup=found.train["signup"] + pd.Timedelta(hours=13))
    later = replace(found.model, background=timed, examples=None)
    assert next(c for c in demo_inputs(later) if c.label == "signup").include_time
    schema_age = found.model.schema.columns[0]
    assert (schema_age.lowest, schema_age.highest) == (age.minimum, age.maximum)
    older = replace(found.model, examples=found.holdout.head(2).assign(age=[30, 120]))
    assert demo_inputs(older)[0].maximum == 120  # a slider refuses values outside its range


def test_examples_are_holdout_rows_as_the_inputs_take_them() -> None:
    found = case("binary")
    demo = build_demo(found.model)
    first = found.holdout.iloc[0]
    assert len(demo.examples) == 5
    assert demo.examples[0] == [
        int(first["age"]),
        None if pd.isna(first["income"]) else float(str(first["income"])),  # float32's digits
        str(first["plan"]),
        bool(first["member"]),
        first["signup"].strftime("%Y-%m-%d"),
        str(first["city"]),
    ]
    gaps = replace(found.model, examples=found.holdout.head(2).assign(income=np.nan))
    assert [row[1] for row in build_demo(gaps).examples] == [None, None]  # may be missing
    # Training had no missing ages: such a row would only show an error, so it is left out.
    ageless = replace(found.model, examples=found.holdout.head(2).assign(age=[np.nan, 40.0]))
    assert [row[0] for row in build_demo(ageless).examples] == [40]
    assert build_demo(replace(found.model, examples=None)).examples is None


def test_title_description_and_article() -> None:
    demo = build_demo(case("binary").model)
    assert demo.title == "customers-binary"
    assert "churn" in demo.description and "no, yes" in demo.description
    assert demo.article == "Model customers-binary, version 3 (following alias production)"
    regression = build_demo(case("regression").model)
    assert regression.article == "Model customers-regression, version 3"
    assert "spend" in regression.description
    assert isinstance(regression.output_components[0], gr.Number)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_the_demo_answers_as_the_api_for_the_same_row(task: TaskName) -> None:
    model = case(task).model
    holdout = case(task).holdout.head(5)
    for example, record in zip(build_demo(model).examples, holdout.to_dict("records"), strict=True):
        answer = demo_predict(model, *gradio_values(model, example))
        predicted, probabilities = api_answer(model, api_row(record))
        if task == "regression":
            assert answer[0] == pytest.approx(float(predicted), rel=1e-12)
            continue
        assert probabilities is not None and model.schema.classes is not None
        expected = {
            str(c): float(p) for c, p in zip(model.schema.classes, probabilities[0], strict=True)
        }
        assert answer[0] == pytest.approx(expected, rel=1e-12)
        label = gr.Label(num_top_classes=len(expected)).postprocess(answer[0])
        assert label.label == str(predicted)  # the heading is the predicted class


def test_the_reasons_sentence_and_chart_explain_the_prediction() -> None:
    for task in ("binary", "multiclass", "regression"):
        model = case(task).model
        values = gradio_values(model, build_demo(model).examples[0])
        answer, markdown, figure = demo_predict(model, *values)
        assert markdown.startswith("Predicted") and "mostly because" in markdown
        assert isinstance(figure, go.Figure) and 1 <= len(figure.data[0].y) <= 8
        assert set(figure.data[0].marker.color) <= {"#d6336c", "#1c7ed6"}
    multiclass = case("multiclass").model
    values = gradio_values(multiclass, build_demo(multiclass).examples[0])
    answer, markdown, _ = demo_predict(multiclass, *values)
    assert f"chance of '{max(answer, key=answer.get)}'" in markdown  # the predicted class
    bare = replace(case("binary").model, background=None)
    assert len(build_demo(bare).output_components) == 2
    assert len(demo_predict(bare, *gradio_values(bare, build_demo(bare).examples[0]))) == 2


def test_values_outside_training_are_answered_with_a_note() -> None:
    model = case("binary").model
    values = gradio_values(model, build_demo(model).examples[0])
    values[1] = 5000.0  # income, far above anything seen
    values[2] = "enterprise"  # a plan never seen
    _, markdown, _ = demo_predict(model, *values)
    assert "Note: income: above the training range" in markdown
    assert "Note: plan: a value not seen in training" in markdown


def test_bad_values_are_refused_in_plain_words_naming_the_column() -> None:
    model = case("binary").model
    good = gradio_values(model, build_demo(model).examples[0])

    def refusal(position: int, value: Any) -> str:
        values = list(good)
        values[position] = value
        with pytest.raises(gr.Error) as raised:
            demo_predict(model, *values)
        return str(raised.value.message)

    assert refusal(0, None) == "age: a value is required — fill it in."
    assert refusal(0, 30.5) == "age: 30.5 is not a whole number — use a whole number."
    assert refusal(4, "abc") == "signup: 'abc' is not a date — use YYYY-MM-DD."
    assert refusal(3, "") == "member: a value is required — fill it in."
    assert demo_predict(model, *[*good[:1], "", *good[2:]])  # income may be missing


def test_an_unexpected_failure_is_logged_and_said_without_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sklearn.linear_model import LogisticRegression

    model = case("binary").model
    broken = copy.deepcopy(model.pipeline)
    broken.steps[-1] = ("actual_estimator", LogisticRegression())  # never fitted
    values = gradio_values(model, build_demo(model).examples[0])
    with caplog.at_level(logging.ERROR, "kaizen.serving"), pytest.raises(gr.Error) as raised:
        demo_predict(replace(model, pipeline=broken, road=None), *values)
    assert (
        raised.value.message == "The model could not answer this row; the server log has details."
    )
    assert any(r.exc_info for r in caplog.records if r.name == "kaizen.serving")


def test_the_interface_answers_through_gradios_own_queue() -> None:
    """The demo mounted on a bare app (as `kaizen serve` mounts it) and called over HTTP."""
    model = case("binary").model
    demo = build_demo(model)
    app = gr.mount_gradio_app(FastAPI(), demo, path="/demo/customers")
    with TestClient(app) as client:
        assert client.get("/demo/customers/").status_code == 200
        called = client.post(
            "/demo/customers/gradio_api/call/predict", json={"data": demo.examples[0]}
        )
        event = called.json()["event_id"]
        stream = client.get(f"/demo/customers/gradio_api/call/predict/{event}").text
    assert "event: complete" in stream, stream
    label, markdown, plot = json.loads(stream.split("data:", 1)[1])
    expected = demo_predict(model, *gradio_values(model, demo.examples[0]))[0]
    assert {c["label"]: c["confidence"] for c in label["confidences"]} == expected
    assert markdown.startswith("Predicted") and plot["type"] == "plotly"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, LoadedModel]]:
    """The binary model published as a bundle and served by `kaizen serve`'s app in-process."""
    root = tmp_path_factory.mktemp("demo-serving")
    model = case("binary").model
    model_file = root / "model.pkl"
    model_file.write_bytes(cloudpickle.dumps(model.pipeline))
    bundle = root / "bundle"
    write_bundle(
        bundle,
        model_file=model_file,
        manifest=_manifest(model, model_file),
        schema=model.schema,
        keys=[_key()],
        requirements=[],
    )
    with home_env(root) as settings:
        serving = ServingSettings()
        app = create_app(BundleSource([bundle], serving), settings, serving)
        with TestClient(app) as client:
            wait_ready(client.get)
            yield client, app.state.server.models.state.loaded[model.name]


def test_the_demo_of_the_served_model_matches_a_real_post(
    served: tuple[TestClient, LoadedModel],
) -> None:
    client, loaded = served
    holdout = case("binary").holdout.head(5)
    rows = [api_row(r) for r in holdout.to_dict("records")]
    answer = client.post(
        f"/v1/models/{loaded.name}/predict",
        json={"rows": rows},
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert build_demo(loaded).examples is None  # a bundle carries no holdout rows
    for position, example in enumerate(build_demo(case("binary").model).examples):
        label, _ = demo_predict(loaded, *gradio_values(loaded, example))
        classes = map(str, document["classes"])
        chances = dict(zip(classes, document["probabilities"][position], strict=True))
        assert label == pytest.approx(chances, rel=1e-12)
        assert max(label, key=label.get) == document["predictions"][position]


def _manifest(model: LoadedModel, model_file: Path) -> Manifest:
    schema = model.schema
    return Manifest(
        name=schema.name,
        version=schema.version,
        sha256=hashlib.sha256(model_file.read_bytes()).hexdigest(),
        task=schema.task,
        target=schema.target,
        classes=schema.classes,
        features=[c.name for c in schema.columns],
        model_id="lr",
        metric=None,
        holdout_score=None,
        trained_by_job=None,
        run_id=None,
        model_uri="models:/customers-binary/3",
        dataset={"id": None, "name": None, "version": None, "sha256": None},
        kaizen_version="test",
    )


def _key() -> dict[str, Any]:
    return {
        "id": 1,
        "name": "demo",
        "prefix": SECRET[:8],
        "sha256": hashlib.sha256(SECRET.encode()).hexdigest(),
        "models": None,
        "admin": False,
        "created_by": "tests",
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
    }
