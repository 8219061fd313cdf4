"""Holdout diagnostics checked against scikit-learn, statsmodels and small hand-made cases."""

import json

import numpy as np
import plotly.graph_objects as go
import pytest
import statsmodels.api as sm
from pydantic import BaseModel
from scipy import stats
from sklearn import metrics
from sklearn.calibration import calibration_curve
from statsmodels.stats.outliers_influence import OLSInfluence

from services.errors import InvalidInput
from services.insights.compare import metric_comparison
from services.insights.diagnostics import (
    ClassificationDiagnostics,
    Confusion,
    classification_diagnostics,
    confusion_at,
)
from services.insights.leverage import hat_diagonal
from services.insights.numbers import amount
from services.insights.residuals import regression_diagnostics
from views import _diagnostic_charts as charts


def binary_case(rows: int = 2_000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Labels 'no'/'yes' and P(yes) that is informative but imperfect."""
    rng = np.random.default_rng(seed)
    hits = rng.random(rows) < 0.3
    scores = 1 / (1 + np.exp(-(1.5 * hits - 0.8 + rng.normal(size=rows))))
    return np.where(hits, "yes", "no"), scores


def binary(
    rows: int = 2_000, seed: int = 1
) -> tuple[ClassificationDiagnostics, np.ndarray, np.ndarray]:
    labels, scores = binary_case(rows, seed)
    found = classification_diagnostics(
        y_true=labels.tolist(),
        probabilities=np.column_stack([1 - scores, scores]),
        classes=["no", "yes"],
        positive="yes",
    )
    return found, labels == "yes", scores


def multiclass_case(
    classes: int = 3, rows: int = 1_500, seed: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    actual = rng.choice(
        classes, size=rows, p=np.linspace(2, 1, classes) / np.linspace(2, 1, classes).sum()
    )
    logits = rng.normal(size=(rows, classes))
    logits[np.arange(rows), actual] += 1.2
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return actual, probabilities


def round_trip(model: BaseModel) -> None:
    document = json.loads(json.dumps(model.model_dump(mode="json")))
    assert type(model).model_validate(document) == model


# --- binary classification ---------------------------------------------------------------


def test_binary_metrics_equal_sklearn() -> None:
    found, hits, scores = binary()
    called = scores >= 0.5
    expected = {
        "AUC": metrics.roc_auc_score(hits, scores),
        "Accuracy": metrics.accuracy_score(hits, called),
        "Recall": metrics.recall_score(hits, called),
        "Prec.": metrics.precision_score(hits, called),
        "F1": metrics.f1_score(hits, called),
        "Kappa": metrics.cohen_kappa_score(hits, called),
        "MCC": metrics.matthews_corrcoef(hits, called),
        "Log loss": metrics.log_loss(hits, scores),
        "Brier": metrics.brier_score_loss(hits, scores),
    }
    assert found.metrics == pytest.approx(expected, rel=1e-4)
    assert found.roc[0].area == pytest.approx(expected["AUC"], rel=1e-4)
    assert found.pr[0].area == pytest.approx(
        metrics.average_precision_score(hits, scores), rel=1e-4
    )
    assert found.pr[0].baseline == pytest.approx(hits.mean(), rel=1e-4)
    assert found.rows == 2_000 and found.sampled_from is None and found.positive == "yes"


def test_the_positive_class_is_the_one_asked_for() -> None:
    labels, scores = binary_case()
    found = classification_diagnostics(
        y_true=labels.tolist(),
        probabilities=np.column_stack([1 - scores, scores]),
        classes=["no", "yes"],
        positive="no",
    )
    assert found.positive == "no" and found.roc[0].label == "no"
    assert found.metrics["AUC"] == pytest.approx(
        metrics.roc_auc_score(labels == "no", 1 - scores), rel=1e-4
    )
    default = classification_diagnostics(
        y_true=labels.tolist(),
        probabilities=np.column_stack([1 - scores, scores]),
        classes=["no", "yes"],
        positive=None,
    )
    assert default.positive == "yes"  # the second column, as scikit-learn orders classes


def test_roc_and_pr_curves_are_thinned_to_200_points_keeping_both_ends() -> None:
    found, hits, scores = binary(rows=20_000)
    roc, pr = found.roc[0], found.pr[0]
    assert len(roc.x) <= 200 and len(roc.x) == len(roc.y) == len(roc.thresholds)
    assert (roc.x[0], roc.y[0], roc.x[-1], roc.y[-1]) == (0, 0, 1, 1)
    assert len(pr.x) <= 200 and pr.x[0] == 1 and pr.x[-1] == 0
    fpr, tpr, thresholds = metrics.roc_curve(hits, scores)
    middle = len(roc.x) // 2  # a kept point lies on sklearn's curve at its threshold
    at = np.flatnonzero(np.isclose(thresholds, roc.thresholds[middle], rtol=1e-4))[0]
    assert (roc.x[middle], roc.y[middle]) == pytest.approx((fpr[at], tpr[at]), abs=1e-4)


def test_calibration_matches_sklearn_quantile_bins() -> None:
    found, hits, scores = binary()
    observed, predicted = calibration_curve(hits, scores, n_bins=10, strategy="quantile")
    assert found.calibration.observed == pytest.approx(observed, rel=1e-4)
    assert found.calibration.predicted == pytest.approx(predicted, rel=1e-4)
    assert sum(found.calibration.counts) == 2_000 and len(found.calibration.counts) == 10


def test_gain_and_lift_on_a_hand_made_ranking() -> None:
    # Ten rows ranked by score; the 1st, 2nd and 4th are 'yes'.
    scores = np.linspace(0.95, 0.05, 10)
    labels = ["yes", "yes", "no", "yes", "no", "no", "no", "no", "no", "no"]
    found = classification_diagnostics(
        y_true=labels,
        probabilities=np.column_stack([1 - scores, scores]),
        classes=["no", "yes"],
        positive="yes",
    )
    gains = found.gains
    assert gains.share_of_rows == pytest.approx(np.arange(1, 11) / 10)
    assert gains.gain[:4] == pytest.approx([1 / 3, 2 / 3, 2 / 3, 1], rel=1e-4)
    assert gains.lift[0] == pytest.approx(10 / 3, rel=1e-4) and gains.lift[-1] == 1
    assert gains.group_lift[:4] == pytest.approx([10 / 3, 10 / 3, 0, 10 / 3], rel=1e-4)
    assert gains.base_rate == pytest.approx(0.3)


def test_confusion_at_a_threshold_equals_a_direct_count() -> None:
    found, hits, scores = binary()
    confusion = confusion_at(found, 0.37)
    called = scores >= 0.37
    true_positive, false_positive = int((called & hits).sum()), int((called & ~hits).sum())
    false_negative, true_negative = int((~called & hits).sum()), int((~called & ~hits).sum())
    assert confusion.labels == ["no", "yes"]
    assert confusion.counts == [[true_negative, false_positive], [false_negative, true_positive]]
    precision, recall = true_positive / called.sum(), true_positive / hits.sum()
    assert confusion.precision == pytest.approx(precision, rel=1e-4)
    assert confusion.recall == pytest.approx(recall, rel=1e-4)
    assert confusion.accuracy == pytest.approx(np.mean(called == hits), rel=1e-4)
    assert confusion.threshold == 0.37
    assert f"Out of 100 rows predicted 'yes', {round(100 * precision)} really" in confusion.reading
    assert f"it finds {round(100 * recall)} of every 100 real 'yes'" in confusion.reading


def test_the_reading_says_the_numbers_of_a_small_case() -> None:
    # Five rows predicted 'yes' (p >= 0.5): four really are; six real 'yes' in all.
    labels = ["yes"] * 4 + ["no"] + ["yes"] * 2 + ["no"] * 3
    scores = [0.9, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.2, 0.1, 0.05]
    found = classification_diagnostics(
        y_true=labels,
        probabilities=np.column_stack([1 - np.array(scores), scores]),
        classes=["no", "yes"],
        positive="yes",
    )
    assert found.reading == (
        "Out of 100 rows predicted 'yes', 80 really were 'yes'; "
        "it finds 67 of every 100 real 'yes'."
    )
    assert found.confusion.counts == [[3, 1], [2, 4]]
    nothing = confusion_at(found, 1.0)
    assert nothing.precision is None and nothing.counts == [[4, 0], [6, 0]]
    assert "No row is predicted 'yes'" in nothing.reading


def test_constant_predictions_are_assessed_as_guessing() -> None:
    labels, _ = binary_case(rows=500)
    found = classification_diagnostics(
        y_true=labels.tolist(),
        probabilities=np.full((500, 2), 0.5),
        classes=["no", "yes"],
        positive="yes",
    )
    assert found.metrics["AUC"] == 0.5
    assert found.gains.lift == pytest.approx([1.0] * 10)  # tied scores: no ranking at all
    assert len(found.calibration.counts) == 1 and found.calibration.counts[0] == 500
    round_trip(found)


def test_per_row_lists_are_a_seeded_sample_of_at_most_20000_rows() -> None:
    first, hits, scores = binary(rows=25_000)
    again, _, _ = binary(rows=25_000)
    assert len(first.actual) == len(first.scores or []) == 20_000
    assert first.sampled_from == 25_000 and first.rows == 25_000
    assert first.actual == again.actual and first.scores == again.scores
    assert first.metrics["AUC"] == pytest.approx(metrics.roc_auc_score(hits, scores), rel=1e-4)
    sampled = confusion_at(first, 0.5)
    assert sampled.sampled_from == 25_000 and np.sum(sampled.counts) == 20_000


def test_integral_float_labels_match_their_class() -> None:
    scores = np.array([0.2, 0.8, 0.3, 0.9])
    found = classification_diagnostics(
        y_true=[0.0, 1.0, 0.0, 1.0],
        probabilities=np.column_stack([1 - scores, scores]),
        classes=["0", "1"],
        positive="1",
    )
    assert found.metrics["AUC"] == 1.0 and found.actual == [0, 1, 0, 1]


@pytest.mark.parametrize(
    ("labels", "probabilities", "classes", "positive", "message"),
    [
        (
            ["yes", "yes"],
            [[0.2, 0.8], [0.4, 0.6]],
            ["no", "yes"],
            "yes",
            "Every holdout row is 'yes'",
        ),
        (["no", "yes"], [[np.nan, np.nan], [0.4, 0.6]], ["no", "yes"], "yes", "missing (NaN)"),
        (["no", "yes"], [[0.2, 0.8]], ["no", "yes"], "yes", "shape"),
        (["no", "maybe"], [[0.2, 0.8], [0.4, 0.6]], ["no", "yes"], "yes", "'maybe'"),
        (["no", "yes"], [[0.2, 0.8], [0.4, 0.6]], ["no", "yes"], "perhaps", "positive class"),
        (["no", "yes"], [[0.7, 0.8], [0.4, 0.6]], ["no", "yes"], "yes", "not probabilities"),
        (["no", None], [[0.2, 0.8], [0.4, 0.6]], ["no", "yes"], "yes", "missing values"),
        (["no", "yes"], [[0.2, 0.8], [0.4, 0.6]], ["yes", "yes"], "yes", "distinct classes"),
    ],
)
def test_unusable_classification_input_is_refused_clearly(
    labels: list, probabilities: list, classes: list[str], positive: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        classification_diagnostics(
            y_true=labels,
            probabilities=np.asarray(probabilities, dtype=float),
            classes=classes,
            positive=positive,
        )


def test_a_threshold_outside_zero_to_one_is_refused() -> None:
    found, _, _ = binary(rows=100)
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        confusion_at(found, 1.5)


# --- multiclass classification -----------------------------------------------------------


def test_multiclass_metrics_and_confusion_equal_sklearn() -> None:
    actual, probabilities = multiclass_case()
    classes = ["a", "b", "c"]
    found = classification_diagnostics(
        y_true=[classes[i] for i in actual],
        probabilities=probabilities,
        classes=classes,
        positive=None,
    )
    predicted = probabilities.argmax(axis=1)
    weighted = {"average": "weighted", "zero_division": 0}
    assert found.metrics == pytest.approx(
        {
            "AUC": metrics.roc_auc_score(
                actual, probabilities, multi_class="ovr", average="weighted"
            ),
            "Accuracy": metrics.accuracy_score(actual, predicted),
            "Recall": metrics.recall_score(actual, predicted, **weighted),
            "Prec.": metrics.precision_score(actual, predicted, **weighted),
            "F1": metrics.f1_score(actual, predicted, **weighted),
            "Kappa": metrics.cohen_kappa_score(actual, predicted),
            "MCC": metrics.matthews_corrcoef(actual, predicted),
            "Log loss": metrics.log_loss(actual, probabilities),
        },
        rel=1e-4,
    )
    assert found.confusion.counts == metrics.confusion_matrix(actual, predicted).tolist()
    assert [c.label for c in found.roc] == classes and found.averaging == "weighted"
    for index, curve in enumerate(found.roc):
        assert curve.area == pytest.approx(
            metrics.roc_auc_score(actual == index, probabilities[:, index]), rel=1e-4
        )
    assert found.calibration.label == "a" and found.gains.label == "a"  # the most frequent
    assert found.scores is None and found.positive is None


def test_multiclass_confusion_ignores_the_threshold_and_reads_best_and_worst() -> None:
    actual, probabilities = multiclass_case()
    found = classification_diagnostics(
        y_true=actual.tolist(), probabilities=probabilities, classes=["0", "1", "2"], positive=None
    )
    assert confusion_at(found, 0.1) == confusion_at(found, 0.9)
    assert confusion_at(found, 0.1).threshold is None
    recall = metrics.recall_score(actual, probabilities.argmax(axis=1), average=None)
    best, worst = int(recall.argmax()), int(recall.argmin())
    accuracy = metrics.accuracy_score(actual, probabilities.argmax(axis=1))
    assert found.reading == (
        f"It names the right class for {round(100 * accuracy)} of every 100 rows; "
        f"it finds {round(100 * recall[best])} of every 100 real '{best}' "
        f"but only {round(100 * recall[worst])} of every 100 real '{worst}'."
    )


def test_many_classes_show_the_ten_most_frequent() -> None:
    actual, probabilities = multiclass_case(classes=12, rows=3_000)
    names = [f"class {i}" for i in range(12)]
    found = classification_diagnostics(
        y_true=[names[i] for i in actual], probabilities=probabilities, classes=names, positive=None
    )
    assert len(found.roc) == len(found.pr) == 10
    support = np.bincount(actual, minlength=12)
    rarest = {names[i] for i in np.argsort(support)[:2]}
    assert set(found.classes_not_shown) == rarest
    round_trip(found)


def test_a_class_absent_from_the_holdout_gets_no_curve() -> None:
    actual, probabilities = multiclass_case()
    kept = actual != 2
    found = classification_diagnostics(
        y_true=actual[kept].tolist(),
        probabilities=probabilities[kept],
        classes=["0", "1", "2"],
        positive=None,
    )
    assert [c.label for c in found.roc] == ["0", "1"] and found.classes_not_shown == ["2"]
    assert found.metrics["AUC"] is not None


def test_classification_results_round_trip_through_json() -> None:
    found, _, _ = binary()
    round_trip(found)
    round_trip(confusion_at(found, 0.42))
    actual, probabilities = multiclass_case()
    round_trip(
        classification_diagnostics(
            y_true=actual.tolist(),
            probabilities=probabilities,
            classes=["0", "1", "2"],
            positive=None,
        )
    )
    assert isinstance(found.confusion, Confusion)


# --- regression --------------------------------------------------------------------------


def ols_case(
    rows: int = 200, seed: int = 3
) -> tuple[np.ndarray, np.ndarray, sm.regression.linear_model.RegressionResultsWrapper]:
    rng = np.random.default_rng(seed)
    design = rng.normal(size=(rows, 3))
    design[:3] *= 6  # a few rows of high leverage
    target = design @ [1.0, 2.0, -3.0] + 5 + rng.normal(scale=2, size=rows)
    fit = sm.OLS(target, sm.add_constant(design)).fit()
    return design, target, fit


def test_regression_metrics_equal_sklearn() -> None:
    design, target, fit = ols_case()
    predicted = fit.fittedvalues
    found = regression_diagnostics(y_true=target.tolist(), y_pred=predicted.tolist(), design=design)
    assert found.metrics == pytest.approx(
        {
            "MAE": metrics.mean_absolute_error(target, predicted),
            "RMSE": np.sqrt(metrics.mean_squared_error(target, predicted)),
            "R2": metrics.r2_score(target, predicted),
            "MAPE": metrics.mean_absolute_percentage_error(target, predicted),
            "RMSLE": np.sqrt(metrics.mean_squared_log_error(np.abs(target), np.abs(predicted))),
            "Median AE": metrics.median_absolute_error(target, predicted),
        },
        rel=1e-4,
    )


def test_mape_needs_no_zero_and_r2_a_varying_target() -> None:
    found = regression_diagnostics(
        y_true=[0.0, 1.0, 2.0, 3.0], y_pred=[0.5, 1.0, 2.5, 3.0], design=None
    )
    assert found.metrics["MAPE"] is None and found.metrics["R2"] is not None
    flat = regression_diagnostics(y_true=[2.0, 2.0, 2.0], y_pred=[1.0, 2.0, 3.0], design=None)
    assert flat.metrics["R2"] is None and flat.metrics["MAPE"] == pytest.approx(1 / 3, rel=1e-4)


def test_the_regression_reading_says_the_error_quantiles() -> None:
    actual = np.arange(1, 11) * 10_000.0
    predicted = actual + np.arange(1, 11) * 1_000.0  # errors of 1,000 to 10,000
    found = regression_diagnostics(y_true=actual.tolist(), y_pred=predicted.tolist(), design=None)
    assert (
        found.reading
        == "Half of the predictions are within 5,500 of the real value; 90% within 9,100."
    )
    assert found.errors.absolute_error[50] == 5_500 and found.errors.share[90] == 0.9
    assert amount(0.012345) == "0.0123" and amount(1234.5) == "1,230" and amount(-4.5) == "-4.5"


def test_leverage_is_the_hat_diagonal_and_sums_to_the_rank() -> None:
    rng = np.random.default_rng(4)
    x = np.column_stack([np.ones(50), rng.normal(size=(50, 3))])
    leverage, rank = hat_diagonal(x)
    assert leverage == pytest.approx(np.diag(x @ np.linalg.inv(x.T @ x) @ x.T), abs=1e-10)
    assert rank == 4 and leverage.sum() == pytest.approx(4)
    without_constant, _ = hat_diagonal(x[:, 1:])  # the model's intercept is added
    assert without_constant == pytest.approx(leverage, abs=1e-10)


def test_leverage_of_a_rank_deficient_design_is_its_projection() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 3))
    x = np.column_stack([x, x[:, 0] + x[:, 1], 1e6 * x[:, 2]])  # a repeated direction, a huge scale
    leverage, rank = hat_diagonal(x)
    full = np.column_stack([np.ones(40), x])
    assert rank == 4 and leverage.sum() == pytest.approx(4)
    assert leverage == pytest.approx(np.diag(full @ np.linalg.pinv(full)), abs=1e-8)


def test_cooks_distance_and_standardized_residuals_match_statsmodels() -> None:
    design, target, fit = ols_case()
    found = regression_diagnostics(
        y_true=target.tolist(), y_pred=fit.fittedvalues.tolist(), design=design
    )
    influence = OLSInfluence(fit)
    points = found.points
    assert points.cooks_distance == pytest.approx(influence.cooks_distance[0], rel=1e-3, abs=1e-7)
    assert points.standardized == pytest.approx(
        influence.resid_studentized_internal, rel=1e-3, abs=1e-6
    )
    assert points.leverage == pytest.approx(influence.hat_matrix_diag, rel=1e-3)
    # The textbook formula, by hand: D = r^2 / (p s^2) * h / (1 - h)^2.
    h, residual, p = influence.hat_matrix_diag, fit.resid, 4
    s2 = np.sum(residual**2) / (len(residual) - p)
    assert points.cooks_distance == pytest.approx(
        residual**2 / (p * s2) * h / (1 - h) ** 2, rel=1e-3, abs=1e-7
    )
    assert found.parameters == 4 and found.leverage_note is None
    top = np.argsort(-influence.cooks_distance[0])[:5]
    assert [row.row for row in found.influential] == top.tolist()


def test_qq_of_normal_residuals_lies_on_the_diagonal() -> None:
    rng = np.random.default_rng(6)
    actual = rng.normal(size=3_000) * 4 + 100
    found = regression_diagnostics(y_true=actual.tolist(), y_pred=[100.0] * 3_000, design=None)
    qq = found.qq
    assert len(qq.theoretical) <= 200 and qq.theoretical == sorted(qq.theoretical)
    middle = np.abs(np.asarray(qq.theoretical)) < 2
    assert np.max(np.abs(np.subtract(qq.sample, qq.theoretical)[middle])) < 0.15
    assert np.corrcoef(qq.theoretical, qq.sample)[0, 1] > 0.995
    assert qq.theoretical[0] == pytest.approx(stats.norm.ppf(0.5 / 3_000), rel=1e-4)
    skewed = regression_diagnostics(
        y_true=rng.exponential(size=3_000).tolist(), y_pred=[1.0] * 3_000, design=None
    )
    assert skewed.qq.sample[-1] - skewed.qq.theoretical[-1] > 1  # a long right tail shows


def test_the_trend_is_the_mean_of_each_bin_of_fitted_values() -> None:
    predicted = np.arange(2_000.0)
    actual = predicted + np.where(predicted < 1_000, 1.0, -1.0)
    found = regression_diagnostics(y_true=actual.tolist(), y_pred=predicted.tolist(), design=None)
    assert found.fitted_trend.x == pytest.approx(np.arange(20) * 100 + 49.5)
    assert found.fitted_trend.y == pytest.approx([1.0] * 10 + [-1.0] * 10)
    few = regression_diagnostics(
        y_true=actual[:120].tolist(), y_pred=predicted[:120].tolist(), design=None
    )
    assert len(few.fitted_trend.x) == 2  # 50 rows a bin at least: few rows make no jagged line


@pytest.mark.parametrize(
    ("design", "note"),
    [
        (None, "not available"),
        (np.array([["a", "b"]] * 10, dtype=object), "not available"),
        (np.ones((10, 6)), "6 inputs for 10 holdout rows"),
        (np.full((10, 2), np.nan), "missing values"),
        (np.ones((7, 2)), "not 10 rows"),
    ],
)
def test_leverage_is_left_out_with_a_reason(design: np.ndarray | None, note: str) -> None:
    found = regression_diagnostics(
        y_true=list(range(10)), y_pred=[float(v) + 0.5 for v in range(10)], design=design
    )
    assert found.leverage_note is not None and note in found.leverage_note
    assert found.points.leverage is None and found.influential == [] and found.parameters is None
    assert charts.leverage_figure(found).layout.annotations[0].text == found.leverage_note


@pytest.mark.parametrize(
    ("actual", "predicted", "message"),
    [
        ([1.0, 2.0, 3.0], [1.0, float("nan"), 3.0], "missing or infinite"),
        ([1.0, 2.0, 3.0], [1.0, 2.0], "3 actual values but 2 predictions"),
        ([1.0, 2.0], [1.0, 2.0], "at least 3"),
        (["a", "b", "c"], [1.0, 2.0, 3.0], "must be numbers"),
    ],
)
def test_unusable_regression_input_is_refused_clearly(
    actual: list, predicted: list, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        regression_diagnostics(y_true=actual, y_pred=predicted, design=None)


def test_constant_and_perfect_predictions_do_not_break_the_plots() -> None:
    rng = np.random.default_rng(7)
    actual = rng.normal(size=100)
    design = rng.normal(size=(100, 2))
    constant = regression_diagnostics(y_true=actual.tolist(), y_pred=[0.0] * 100, design=design)
    assert constant.fitted_trend.x == [0.0] and constant.metrics["R2"] is not None
    assert constant.fitted_trend.y == pytest.approx([actual.mean()], rel=1e-4)
    perfect = regression_diagnostics(y_true=actual.tolist(), y_pred=actual.tolist(), design=design)
    assert perfect.metrics["RMSE"] == 0 and set(perfect.points.standardized) == {0.0}
    assert set(perfect.points.cooks_distance or []) == {0.0}
    round_trip(constant)
    round_trip(perfect)


def test_regression_points_are_a_seeded_sample_of_at_most_20000_rows() -> None:
    rng = np.random.default_rng(8)
    actual = rng.normal(size=25_000)
    predicted = actual + rng.normal(scale=0.1, size=25_000)
    design = rng.normal(size=(25_000, 3))
    found = regression_diagnostics(y_true=actual, y_pred=predicted, design=design)
    assert len(found.points.row) == len(found.points.leverage or []) == 20_000
    assert found.sampled_from == 25_000 and found.rows == 25_000
    assert found.points.row == sorted(found.points.row)
    assert found.metrics["MAE"] == pytest.approx(np.mean(np.abs(actual - predicted)), rel=1e-4)
    assert found.points.actual[:5] == pytest.approx(actual[found.points.row[:5]], rel=1e-5)
    round_trip(found)


# --- comparing two models ----------------------------------------------------------------


def test_metric_comparison_marks_the_better_model() -> None:
    good, _, _ = binary(seed=1)
    labels, scores = binary_case(seed=1)
    noisy = np.clip(scores + np.random.default_rng(9).normal(scale=0.3, size=len(scores)), 0, 1)
    worse = classification_diagnostics(
        y_true=labels.tolist(),
        probabilities=np.column_stack([1 - noisy, noisy]),
        classes=["no", "yes"],
        positive="yes",
    )
    rows = {row.metric: row for row in metric_comparison(good, worse)}
    assert rows["AUC"].better == "a" and rows["AUC"].greater_is_better
    assert rows["Log loss"].better == "a" and not rows["Log loss"].greater_is_better
    assert metric_comparison(good, good)[0].better is None
    design, target, fit = ols_case()
    regression = regression_diagnostics(
        y_true=target.tolist(), y_pred=fit.fittedvalues.tolist(), design=design
    )
    with pytest.raises(InvalidInput):
        metric_comparison(good, regression)


# --- charts ------------------------------------------------------------------------------


def names(figure: go.Figure) -> list[str]:
    return [trace.name for trace in figure.data]


def test_classification_charts_have_the_expected_traces() -> None:
    found, _, _ = binary(rows=300)
    auc = f"{found.metrics['AUC']:.3f}"
    assert names(charts.roc_figure(found)) == [f"'yes' (AUC {auc})", "guessing"]
    assert names(charts.pr_figure(found)) == [f"'yes' (AP {found.pr[0].area:.3f})", "guessing"]
    assert names(charts.calibration_figure(found)) == ["model", "perfectly calibrated"]
    assert names(charts.gain_figure(found)) == ["model", "random order"]
    assert names(charts.lift_figure(found)) == ["model", "random order"]
    gain = charts.gain_figure(found).data[0]
    assert gain.x[0] == 0 and len(gain.x) == 11
    confusion = charts.confusion_figure(confusion_at(found, 0.3))
    assert len(confusion.data) == 1 and isinstance(confusion.data[0], go.Heatmap)
    assert np.asarray(confusion.data[0].text).tolist() == confusion_at(found, 0.3).counts
    assert (
        charts.roc_figure(found).layout.yaxis.title.text
        == "Share of 'yes' found (true positive rate)"
    )


def test_multiclass_charts_draw_one_curve_per_class() -> None:
    actual, probabilities = multiclass_case()
    found = classification_diagnostics(
        y_true=actual.tolist(), probabilities=probabilities, classes=["0", "1", "2"], positive=None
    )
    assert len(charts.roc_figure(found).data) == 4  # three classes and guessing
    assert len(charts.pr_figure(found).data) == 3  # no single baseline for several classes
    assert np.asarray(charts.confusion_figure(found.confusion).data[0].z).shape == (3, 3)


def test_regression_charts_have_the_expected_traces() -> None:
    design, target, fit = ols_case()
    found = regression_diagnostics(
        y_true=target.tolist(), y_pred=fit.fittedvalues.tolist(), design=design
    )
    assert names(charts.predicted_vs_actual_figure(found)) == ["rows", "perfect prediction"]
    assert names(charts.residuals_vs_fitted_figure(found)) == ["rows", "trend"]
    assert names(charts.qq_figure(found)) == ["residuals", "normal"]
    assert names(charts.scale_location_figure(found)) == ["rows", "trend"]
    leverage = charts.leverage_figure(found)
    assert names(leverage) == [
        "rows",
        "largest Cook's distance",
        "Cook's distance 0.5",
        "Cook's distance 1",
    ]
    assert len(leverage.data[0].x) == 200
    assert leverage.data[1].text[0] == f"row {found.influential[0].row}"
    # On the contour of level D, Cook's distance in standardized residuals gives back D.
    contour = leverage.data[3]
    h, r = contour.x[10], contour.y[10]
    assert r**2 * h / (found.parameters * (1 - h)) == pytest.approx(1.0)


def test_compare_figure_overlays_two_models() -> None:
    a, _, _ = binary(seed=1)
    b, _, _ = binary(seed=2)
    for kind, count in (("roc", 3), ("pr", 3), ("calibration", 3), ("gain", 3), ("lift", 3)):
        figure = charts.compare_figure(a, b, kind, names=("LightGBM", "Logistic"))
        assert len(figure.data) == count and figure.data[0].name.startswith("LightGBM")
        assert figure.data[1].name.startswith("Logistic")
    design, target, fit = ols_case()
    first = regression_diagnostics(
        y_true=target.tolist(), y_pred=fit.fittedvalues.tolist(), design=design
    )
    second = regression_diagnostics(
        y_true=target.tolist(), y_pred=(fit.fittedvalues * 1.1).tolist(), design=None
    )
    assert names(charts.compare_figure(first, second, "errors")) == ["A", "B"]
    assert names(charts.compare_figure(first, second, "residuals")) == ["A", "B"]
    assert charts.compare_kinds(first) == ["errors", "residuals"]
    with pytest.raises(InvalidInput):
        charts.compare_figure(a, first, "roc")
    with pytest.raises(InvalidInput):
        charts.compare_figure(first, second, "roc")


def test_compare_figure_picks_a_class_of_multiclass_models() -> None:
    actual, probabilities = multiclass_case()
    found = classification_diagnostics(
        y_true=actual.tolist(), probabilities=probabilities, classes=["0", "1", "2"], positive=None
    )
    figure = charts.compare_figure(found, found, "roc", label="2")
    assert list(figure.data[0].x) == found.roc[2].x
    with pytest.raises(InvalidInput, match="'7'"):
        charts.compare_figure(found, found, "pr", label="7")
