"""SHAP values add up (issue 6's quality bar): on real PyCaret pipelines, for a sample of holdout
rows, base value + the sum of the SHAP values equals the pipeline's own output in the space the
explanation records: predict_proba for probabilities, the decision function (or, for a
softmax booster, the log of predict_proba up to each row's constant) for log-odds, predict for
values. Also: the raw features come back, and a row explainer kept for many rows answers
as explaining each row alone."""

import numpy as np
import pytest

from services.insights.row_explainer import ROW_BACKGROUND_ROWS, RowExplainer
from services.insights.shap_result import ShapExplanation
from services.insights.shap_values import DEFAULT_BACKGROUND_ROWS, explain
from tests.support.pipelines import Built, TaskName, built

# Building the pipelines warns (PyCaret's scoring, LightGBM's feature names): not our subject.
pytestmark = pytest.mark.filterwarnings("ignore")

ROWS = 40  # explained holdout rows per model
PROBABILITY_TOLERANCE = 1e-3  # five significant digits per value, summed over a dozen features
RELATIVE_TOLERANCE = 2e-4  # for values and log-odds, of the output's scale

CASES: list[tuple[TaskName, str, str]] = [
    ("binary", "lightgbm", "tree"),
    ("binary", "rf", "tree"),
    ("binary", "lr", "linear"),
    ("binary", "blend", "permutation"),
    ("binary", "stack", "permutation"),
    ("binary", "ada", "permutation"),
    ("multiclass", "lightgbm", "tree"),
    ("multiclass", "rf", "tree"),
    ("multiclass", "lr", "linear"),
    ("multiclass", "stack", "permutation"),
    ("regression", "lightgbm", "tree"),
    ("regression", "rf", "tree"),
    ("regression", "lasso", "linear"),
    ("regression", "blend", "permutation"),
    ("regression", "stack", "permutation"),
    ("regression", "knn", "permutation"),
]


def _explained(case: Built) -> ShapExplanation:
    return explain(
        pipeline=case.pipeline,
        rows=case.X_test,
        background=case.X_train,
        task=case.task,
        max_rows=ROWS,
    )


def _model_output(case: Built, explanation: ShapExplanation) -> np.ndarray:
    """The pipeline's own output for the explained rows, as rows x explained outputs."""
    rows = case.X_test.iloc[explanation.row_positions]
    pipeline = case.pipeline
    if explanation.output_kind == "value":
        return np.asarray(pipeline.predict(rows), dtype=float).reshape(-1, 1)
    if explanation.output_kind == "probability":
        chances = np.asarray(pipeline.predict_proba(rows))
        return chances[:, [1]] if case.task == "binary" else chances
    if explanation.explainer == "linear":
        scores = np.asarray(pipeline.decision_function(rows), dtype=float)
        return scores.reshape(len(rows), -1)
    # A softmax booster's raw scores: log-probabilities up to a constant per row.
    logs = np.log(np.asarray(pipeline.predict_proba(rows)))
    return logs - logs.mean(axis=1, keepdims=True)


@pytest.mark.parametrize(("task", "model", "kind"), CASES, ids=["-".join(c[:2]) for c in CASES])
def test_base_plus_shap_values_equals_the_model_output(
    task: TaskName, model: str, kind: str
) -> None:
    case = built(task, model)  # type: ignore[arg-type]
    explanation = _explained(case)
    assert explanation.explainer == kind
    assert explanation.sample_rows == ROWS and len(explanation.row_positions) == ROWS
    expected = _model_output(case, explanation)
    got = np.array(
        [
            [explanation.prediction(output, row) for output in explanation.outputs]
            for row in range(explanation.sample_rows)
        ]
    )
    if explanation.output_kind == "log-odds" and explanation.explainer == "tree":
        got = got - got.mean(axis=1, keepdims=True)
    if explanation.output_kind == "probability":
        tolerance = PROBABILITY_TOLERANCE
    else:
        tolerance = RELATIVE_TOLERANCE * max(1.0, float(np.abs(expected).max()))
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= tolerance
    # Not trivially: the features do move the predictions.
    assert np.abs(np.asarray(explanation.values)).max() > 10 * tolerance


def test_the_classes_and_outputs_are_the_original_labels() -> None:
    binary = _explained(built("binary", "lightgbm"))
    assert (binary.outputs, binary.positive_class) == (["yes"], "yes")
    assert binary.explainer_label == "TreeExplainer, interventional, probability of 'yes'"
    several = _explained(built("multiclass", "rf"))
    assert several.outputs == ["basic", "plus", "premium"] and several.positive_class is None
    # The probabilities of every class add up to one, and so do their bases.
    totals = [sum(several.prediction(o, 0) for o in several.outputs)]
    assert np.allclose(totals, 1.0, atol=1e-3)
    assert sum(several.base_values) == pytest.approx(1.0, abs=1e-3)
    numbers = _explained(built("regression", "lightgbm"))
    assert numbers.outputs == ["spend"] and numbers.output_kind == "value"
    assert numbers.explainer_label == "TreeExplainer, interventional, predicted spend"


def test_every_raw_feature_comes_back_once_and_encoded_columns_do_not() -> None:
    case = built("binary", "lr")
    explanation = _explained(case)
    assert explanation.features == list(case.X_train.columns)
    assert "contract_one_year" not in explanation.features
    importance = dict(explanation.mean_abs("yes"))
    assert importance["contract"] > 0 and importance["region"] > 0  # one-hot, target-encoded


def test_features_dropped_by_feature_selection_are_present_with_zero_values() -> None:
    case = built("binary", "rf", feature_selection=True)
    explanation = _explained(case)
    assert explanation.features == list(case.X_train.columns)
    importance = dict(explanation.mean_abs("yes"))
    assert min(importance.values()) == 0.0  # at least one feature was not selected
    expected = np.asarray(case.pipeline.predict_proba(case.X_test.iloc[explanation.row_positions]))
    got = [explanation.prediction("yes", r) for r in range(explanation.sample_rows)]
    assert np.allclose(got, expected[:, 1], atol=PROBABILITY_TOLERANCE)


@pytest.mark.parametrize("model", ["lightgbm", "lr", "stack"])
def test_a_row_explainer_kept_for_many_rows_answers_as_explaining_the_row_alone(
    model: str,
) -> None:
    case = built("binary", model)  # type: ignore[arg-type]
    row = case.X_test.iloc[[3]]
    explainer = RowExplainer(pipeline=case.pipeline, background=case.X_train, task="binary")
    first = explainer.explain(row)
    explainer.explain(case.X_test.iloc[[5]])
    again = explainer.explain(row)
    size = ROW_BACKGROUND_ROWS if first.explainer == "permutation" else DEFAULT_BACKGROUND_ROWS
    alone = explain(
        pipeline=case.pipeline,
        rows=row,
        background=case.X_train,
        task="binary",
        max_background=size,
    )
    assert first.values == again.values == alone.values
    assert first.base_values == alone.base_values and first.data == alone.data
    assert first.sample_rows == 1 and first.background_rows == size
    expected = case.pipeline.predict_proba(row)[0, 1]
    if first.output_kind == "log-odds":
        expected = case.pipeline.decision_function(row)[0]
    assert first.prediction("yes", 0) == pytest.approx(expected, abs=1e-3)
