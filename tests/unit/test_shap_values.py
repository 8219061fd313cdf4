"""SHAP explanations without PyCaret's setup: the explainer each model gets, encoded columns
summed back to their raw feature, the time limit, the JSON form, the sentence and the charts."""

import json
import math
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import (
    AdaBoostClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC, SVR
from sklearn.tree import DecisionTreeRegressor

from services.errors import InvalidInput
from services.insights.encoded import encode, encode_traced
from services.insights.explainers import Problem, Runner, choose
from services.insights.shap_result import ShapExplanation
from services.insights.shap_values import explain, reasons_sentence
from tests.support.pipelines import customers, hand_made
from views._shap_charts import beeswarm_figure, importance_figure, waterfall_figure

FEATURES = ["tenure", "monthly_charges", "contract:kind", "payment", "payment_method", "senior"]


def _table(rows: int = 240) -> pd.DataFrame:
    """The customers table, its contract column renamed with a colon (PyCaret cleans it)."""
    frame = customers(rows).drop(columns=["region"])
    return frame.rename(columns={"contract": "contract:kind"})


def _frame(target: str, rows: int = 240) -> pd.DataFrame:
    others = [t for t in ("churn", "plan", "spend") if t != target]
    return _table(rows).drop(columns=others)


def _fitted(X: np.ndarray, y: np.ndarray, model: Any) -> Any:
    return model.fit(X, y)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    binary = (X[:, 0] + X[:, 1] > 0).astype(int)
    three = np.digitize(X[:, 0], [-0.5, 0.5])
    numbers = X @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(0, 0.1, 120)
    return X, binary, three, numbers


@pytest.mark.parametrize(
    ("model", "task", "kind", "output"),
    [
        (RandomForestClassifier(n_estimators=5), "binary", "tree", "probability"),
        (GradientBoostingClassifier(n_estimators=5), "binary", "tree", "probability"),
        (GradientBoostingClassifier(n_estimators=5), "multiclass", "permutation", "probability"),
        (LGBMClassifier(n_estimators=5, verbose=-1), "binary", "tree", "probability"),
        (LGBMClassifier(n_estimators=5, verbose=-1), "multiclass", "tree", "log-odds"),
        (DecisionTreeRegressor(), "regression", "tree", "value"),
        (ExtraTreesRegressor(n_estimators=5), "regression", "tree", "value"),
        (LogisticRegression(), "binary", "linear", "log-odds"),
        (LogisticRegression(), "multiclass", "linear", "log-odds"),
        (LinearDiscriminantAnalysis(), "binary", "linear", "log-odds"),
        (LinearRegression(), "regression", "linear", "value"),
        (Lasso(alpha=0.01), "regression", "linear", "value"),
        (Ridge(), "regression", "linear", "value"),
        (
            AdaBoostClassifier(n_estimators=5, algorithm="SAMME"),
            "binary",
            "permutation",
            "probability",
        ),
        (KNeighborsClassifier(), "binary", "permutation", "probability"),
        (GaussianNB(), "multiclass", "permutation", "probability"),
        (SVR(), "regression", "permutation", "value"),
        (
            VotingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())], voting="soft"),
            "binary",
            "permutation",
            "probability",
        ),
        (
            StackingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())], cv=3),
            "binary",
            "permutation",
            "probability",
        ),
    ],
    ids=lambda v: type(v).__name__ if hasattr(v, "fit") else str(v),
)
def test_each_kind_of_model_gets_its_explainer(
    data: tuple[np.ndarray, ...], model: Any, task: str, kind: str, output: str
) -> None:
    X, binary, three, numbers = data
    y = {"binary": binary, "multiclass": three, "regression": numbers}[task]
    choice = choose(_fitted(X, y, model), task)  # type: ignore[arg-type]
    assert (choice.kind, choice.output_kind) == (kind, output)


def test_a_classifier_without_probabilities_is_refused_in_words(data: Any) -> None:
    X, binary, _, _ = data
    with pytest.raises(InvalidInput, match="no probabilities"):
        choose(SVC().fit(X, binary), "binary")


def test_encoded_columns_are_traced_to_their_raw_feature_through_renames_and_prefixes() -> None:
    frame = _frame("churn")
    pipeline = hand_made(LogisticRegression(), frame, "churn")
    matrix, sources = encode_traced(pipeline, frame.drop(columns="churn").head(20))
    traced = dict(zip(matrix.columns, sources, strict=True))
    # PyCaret's name cleaning dropped the colon: contractkind_one_year comes from contract:kind.
    assert traced["contractkind_one_year"] == "contract:kind"
    # `payment` is a prefix of `payment_method_card`; the encoder's own mapping decides.
    assert traced["payment_method_card"] == "payment_method"
    assert traced["payment_method_bank_transfer"] == "payment_method"
    assert traced["payment"] == "payment"
    assert set(sources) == set(FEATURES)


def test_one_hot_columns_appear_once_under_their_own_name() -> None:
    frame = _frame("churn")
    pipeline = hand_made(RandomForestClassifier(n_estimators=10, random_state=0), frame, "churn")
    X = frame.drop(columns="churn")
    result = explain(pipeline=pipeline, rows=X, background=X, task="binary", max_rows=30)
    assert result.features == FEATURES
    assert [len(row) for row in result.values[0]] == [len(FEATURES)] * 30
    assert result.data[0][FEATURES.index("contract:kind")] in {
        "month_to_month",
        "one_year",
        "two_year",
    }
    positions = result.row_positions
    expected = pipeline.predict_proba(X.iloc[positions])[:, 1]
    got = [result.prediction("yes", r) for r in range(30)]
    assert np.allclose(got, expected, atol=1e-3)


def test_permutation_shap_equals_exact_linear_shap_on_a_linear_model() -> None:
    """On an additive model, permutation SHAP with whole-feature masking is exact: it must
    match LinearExplainer's values summed over each feature's one-hot columns."""
    frame = _frame("spend")
    pipeline = hand_made(LinearRegression(), frame, "spend")
    X = frame.drop(columns="spend")
    background, sources = encode_traced(pipeline, X.head(60))
    rows = encode(pipeline, X.tail(15))
    estimator = pipeline.steps[-1][1]
    problem = Problem(
        estimator=estimator,
        task="regression",
        columns=list(rows.columns),
        groups=[[i for i, s in enumerate(sources) if s == f] for f in FEATURES],
        output_columns=None,
    )
    linear = Runner(choose(estimator, "regression"), problem, background.to_numpy(), local=False)
    agnostic = Runner(
        choose(SVR(), "regression"), problem, background.to_numpy(), local=False
    )  # the model-agnostic path, on the same linear model
    exact, sampled = linear.explain(rows.to_numpy()), agnostic.explain(rows.to_numpy())
    assert np.allclose(exact.values, sampled.values, atol=1e-6)
    assert np.allclose(exact.base, sampled.base)


class _Slow(BaseEstimator, RegressorMixin):
    """A regressor whose predictions take 0.1 ms a row: a stand-in for a heavy ensemble."""

    def fit(self, X: Any, y: Any) -> "_Slow":
        self.coef_ = np.linalg.lstsq(np.asarray(X), np.asarray(y), rcond=None)[0]
        return self

    def predict(self, X: Any) -> np.ndarray:
        time.sleep(len(X) * 1e-4)
        return np.asarray(X) @ self.coef_


def test_the_time_limit_shrinks_the_background_and_stops_cleanly_with_the_rows_done() -> None:
    frame = _frame("spend", rows=400)
    pipeline = hand_made(_Slow(), frame, "spend")
    X = frame.drop(columns="spend")
    unlimited_per_row = len(FEATURES) * 2 + 1  # model rows per background row, one permutation
    assert unlimited_per_row * 100 * 1e-4 > 0.1  # a row against 100 background rows: > 0.1 s
    started = time.monotonic()
    result = explain(
        pipeline=pipeline, rows=X, background=X, task="regression", time_limit_seconds=2.0
    )
    took = time.monotonic() - started
    assert took < 2.6
    assert result.stopped_early and 0 < result.sample_rows < 400
    assert 20 <= result.background_rows < 100
    assert result.sampled_from == 400
    assert any("background was cut" in note for note in result.notes)
    assert any("time limit" in note for note in result.notes)
    predicted = pipeline.predict(X.iloc[result.row_positions])
    got = [result.prediction("spend", r) for r in range(result.sample_rows)]
    assert np.allclose(got, predicted, rtol=1e-4, atol=0.05)


def test_without_a_time_limit_every_sampled_row_is_explained() -> None:
    frame = _frame("churn")
    pipeline = hand_made(LogisticRegression(), frame, "churn")
    X = frame.drop(columns="churn")
    result = explain(pipeline=pipeline, rows=X, background=X, task="binary", max_rows=100)
    assert (result.sample_rows, result.background_rows, result.sampled_from) == (100, 100, 240)
    assert not result.stopped_early and result.notes == []
    assert result.explainer_label == "LinearExplainer, log-odds of 'yes'"
    assert result.positive_class == "yes" and result.outputs == ["yes"]


def test_the_json_form_round_trips_and_keeps_five_significant_digits() -> None:
    frame = _frame("churn")
    frame.loc[frame.index[:3], "monthly_charges"] = np.nan
    pipeline = hand_made(LogisticRegression(), frame, "churn")
    X = frame.drop(columns="churn")
    result = explain(pipeline=pipeline, rows=X.head(10), background=X, task="binary")
    text = result.model_dump_json()
    again = ShapExplanation.model_validate_json(text)
    assert again == result
    assert again.mean_abs("yes") == result.mean_abs("yes")
    document = json.loads(text)
    values = [v for row in document["values"][0] for v in row] + document["base_values"]
    assert all(value == float(f"{value:.5g}") for value in values)
    cells = {type(cell) for row in document["data"] for cell in row}
    assert cells <= {int, float, str, type(None)}
    assert None in [row[1] for row in document["data"]]  # the missing monthly charges


def _hand(kind: str = "probability", task: str = "binary") -> ShapExplanation:
    return ShapExplanation(
        explainer="tree",
        explainer_label="TreeExplainer, interventional, probability of 'yes'",
        estimator="LGBMClassifier",
        task=task,  # type: ignore[arg-type]
        output_kind=kind,  # type: ignore[arg-type]
        outputs=["yes"] if task != "regression" else ["spend"],
        positive_class="yes" if task == "binary" else None,
        target="spend" if task == "regression" else "churn",
        features=["tenure", "monthly_charges", "contract", "senior"],
        base_values=[0.31],
        values=[[[0.18, 0.06, 0.12, -0.01], [-0.05, 0.0, 0.02, 0.01]]],
        data=[[2, 95.2, "month-to-month", None], [40, 20.5, "two_year", 1]],
        row_positions=[0, 1],
        sample_rows=2,
        background_rows=100,
        sampled_from=2,
        seconds=0.1,
    )


def test_mean_abs_and_prediction() -> None:
    explanation = _hand()
    ranked = explanation.mean_abs("yes")
    assert [name for name, _ in ranked] == ["tenure", "contract", "monthly_charges", "senior"]
    assert ranked[0][1] == pytest.approx(0.115)
    assert explanation.prediction("yes", 0) == pytest.approx(0.31 + 0.35)
    with pytest.raises(InvalidInput):
        explanation.mean_abs("no")


def test_the_sentence_names_the_three_largest_contributions_with_their_direction() -> None:
    sentence = reasons_sentence(_hand(), output="yes", row=0)
    assert sentence == (
        "Predicted 66% chance of 'yes' (average 31%), mostly because tenure = 2 (raises it by "
        "18 points), contract = 'month-to-month' (+12) and monthly_charges = 95.2 (+6)."
    )
    lowered = reasons_sentence(_hand(), output="yes", row=1, top=2)
    assert lowered.startswith("Predicted 29% chance of 'yes' (average 31%), mostly because ")
    assert "tenure = 40 (lowers it by 5 points)" in lowered
    assert "contract = 'two_year' (+2)" in lowered


def test_the_sentence_speaks_of_odds_for_log_odds_and_of_the_target_for_numbers() -> None:
    odds = reasons_sentence(_hand("log-odds"), output="yes", row=0)
    chance = 1 / (1 + math.exp(-(0.31 + 0.35)))
    assert odds.startswith(f"Predicted {chance * 100:.0f}% chance of 'yes' (baseline 58%)")
    assert "tenure = 2 (raises the odds \u00d71.2)" in odds
    assert "contract = 'month-to-month' (odds \u00d71.1)" in odds
    value = reasons_sentence(_hand("value", "regression"), output="spend", row=1)
    assert value.startswith("Predicted spend of 0.29 (average 0.31), mostly because tenure = 40")
    assert "(lowers it by 0.05)" in value


def test_the_beeswarm_has_a_trace_per_feature_colored_by_value_or_grey() -> None:
    explanation = _hand()
    figure = beeswarm_figure(explanation, "yes", max_features=3)
    names = [trace.name for trace in figure.data]
    assert set(names) == {"tenure", "contract", "monthly_charges"}  # senior is fourth
    tenure = next(t for t in figure.data if t.name == "tenure")
    assert list(tenure.x) == [0.18, -0.05]
    assert list(tenure.marker.color) == [0.0, 1.0]  # 2 is low, 40 high
    contract = next(t for t in figure.data if t.name == "contract")
    assert contract.marker.color == "#adb5bd"  # text: grey
    assert list(figure.layout.yaxis.ticktext) == ["monthly_charges", "contract", "tenure"]


def test_the_importance_bars_and_the_waterfall() -> None:
    explanation = _hand()
    bars = importance_figure(explanation, "yes").data[0]
    assert list(bars.y) == ["tenure", "contract", "monthly_charges", "senior"]
    assert list(bars.x) == [0.115, 0.07, 0.03, 0.01]
    waterfall = waterfall_figure(explanation, "yes", 0, max_features=2).data[0]
    assert list(waterfall.y) == [
        "average (base value)",
        "tenure = 2",
        "contract = 'month-to-month'",
        "other 2 features",
        "prediction",
    ]
    assert list(waterfall.measure) == ["absolute", "relative", "relative", "relative", "total"]
    assert waterfall.x[3] == pytest.approx(0.05)
    assert waterfall.x[-1] == pytest.approx(0.66)
