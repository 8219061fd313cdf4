"""Partial dependence of known functions: the curves recover their shape, within a budget."""

import json
import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from services.errors import InvalidInput
from services.insights.dependence import DependenceCurve, partial_dependence
from views._diagnostic_charts import dependence_figure

EFFECTS = {"a": 0.0, "b": 1.0, "c": -2.0}


def frame(rows: int = 2_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "age": rng.integers(18, 90, size=rows),
            "plan": rng.choice(["a", "b", "c"], size=rows, p=[0.5, 0.3, 0.2]),
            "member": rng.random(rows) < 0.3,
            "since": pd.date_range("2020-01-01", periods=rows, freq="h"),
        }
    )


def additive(rows: pd.DataFrame) -> np.ndarray:
    """2x + sin(age / 10) + an effect per plan + 0.5 for members: each term stands alone."""
    return (
        2 * rows["x"].to_numpy(dtype=float)
        + np.sin(rows["age"].to_numpy(dtype=float) / 10)
        + rows["plan"].map(EFFECTS).to_numpy(dtype=float)
        + 0.5 * rows["member"].to_numpy(dtype=float)
    )


def by_name(curves: list[DependenceCurve]) -> dict[str, DependenceCurve]:
    return {curve.feature: curve for curve in curves}


def test_an_additive_function_gives_back_each_term_plus_a_constant() -> None:
    rows = frame()
    curves = by_name(
        partial_dependence(predict=additive, rows=rows, features=["x", "age", "plan", "member"])
    )
    x = curves["x"]
    assert x.kind == "numeric" and 2 <= len(x.values) <= 20
    offsets = np.asarray(x.average) - 2 * np.asarray(x.values)
    assert np.ptp(offsets) == pytest.approx(0, abs=1e-4)  # a straight line of slope 2
    age = curves["age"]
    offsets = np.asarray(age.average) - np.sin(np.asarray(age.values) / 10)
    assert np.ptp(offsets) == pytest.approx(0, abs=1e-4)
    plan = curves["plan"]
    assert plan.kind == "categorical" and plan.categories == ["a", "b", "c"]  # most frequent first
    shifts = np.asarray(plan.average) - [EFFECTS[c] for c in plan.categories]
    assert np.ptp(shifts) == pytest.approx(0, abs=1e-4)
    member = curves["member"]
    assert member.categories == ["False", "True"]
    assert member.average[1] - member.average[0] == pytest.approx(0.5, abs=1e-4)


def test_the_constant_is_the_average_of_the_other_terms() -> None:
    rows = frame(rows=300)  # under max_rows: every row is averaged
    (x,) = partial_dependence(predict=additive, rows=rows, features=["x"])
    others = additive(rows) - 2 * rows["x"].to_numpy()
    assert x.average[0] == pytest.approx(2 * x.values[0] + others.mean(), rel=1e-4)
    assert x.rows == 300 and x.sampled_from is None


def test_numeric_grids_are_quantiles_or_the_few_values_there_are() -> None:
    rows = frame()
    rows["stars"] = np.random.default_rng(1).integers(1, 6, size=len(rows))
    curves = by_name(
        partial_dependence(predict=additive, rows=rows, features=["x", "age", "stars"])
    )
    x = curves["x"]
    expected = np.quantile(rows["x"], np.linspace(0.05, 0.95, 20))
    assert x.values == pytest.approx(expected, rel=1e-5)
    assert all(float(v).is_integer() for v in curves["age"].values)  # integers stay integers
    stars = curves["stars"]
    assert stars.values == [1, 2, 3, 4, 5]
    counts = rows["stars"].value_counts(normalize=True).sort_index()
    assert stars.share == pytest.approx(counts.to_numpy(), abs=1e-4)
    assert sum(x.share) == pytest.approx(1)


def test_shares_count_missing_values_nowhere_and_categories_stop_at_twenty() -> None:
    rng = np.random.default_rng(2)
    rows = pd.DataFrame(
        {
            "city": rng.choice([f"city {i:02d}" for i in range(30)], size=3_000),
            "x": np.where(rng.random(3_000) < 0.25, np.nan, rng.normal(size=3_000)),
        }
    )
    curves = by_name(
        partial_dependence(
            predict=lambda f: f["x"].fillna(0).to_numpy(), rows=rows, features=["city", "x"]
        )
    )
    city = curves["city"]
    assert len(city.categories) == 20
    top = rows["city"].value_counts().head(20)
    assert city.categories == top.index.tolist()
    assert city.share == pytest.approx((top / 3_000).to_numpy(), abs=1e-4)
    assert sum(curves["x"].share) == pytest.approx(rows["x"].notna().mean(), abs=1e-4)


def test_the_model_sees_each_column_with_its_training_type() -> None:
    rows = frame(rows=100)
    rows["tier"] = pd.Categorical(np.where(rows["x"] > 0, "gold", "basic"))
    seen: list[pd.Series] = []

    def predict(varied: pd.DataFrame) -> np.ndarray:
        seen.append(varied.dtypes)
        return np.zeros(len(varied))

    partial_dependence(predict=predict, rows=rows, features=["age", "tier", "member"])
    for dtypes in seen:
        assert dtypes.equals(rows.dtypes)


@pytest.mark.parametrize(
    ("feature", "reason"),
    [
        ("since", "Dates and durations"),
        ("missing", "Not an input column"),
        ("flat", "fewer than two distinct values"),
    ],
)
def test_features_without_a_curve_say_why(feature: str, reason: str) -> None:
    rows = frame(rows=50).assign(flat=1.0)
    (curve,) = partial_dependence(predict=additive, rows=rows, features=[feature])
    assert not curve.computed and curve.left_out is not None and reason in curve.left_out
    assert curve.kind is None and curve.average == []


def test_rows_beyond_max_rows_are_a_seeded_sample() -> None:
    rows = frame(rows=2_000)
    sizes: list[int] = []

    def predict(varied: pd.DataFrame) -> np.ndarray:
        sizes.append(len(varied))
        return additive(varied)

    first = partial_dependence(predict=predict, rows=rows, features=["plan"], max_rows=100)
    again = partial_dependence(predict=additive, rows=rows, features=["plan"], max_rows=100)
    assert first == again
    assert first[0].rows == 100 and first[0].sampled_from == 2_000
    assert sizes == [300]  # one call: 100 rows x 3 categories


def test_the_time_limit_leaves_out_the_later_features_and_says_so() -> None:
    def slow(varied: pd.DataFrame) -> np.ndarray:
        time.sleep(0.05)
        return additive(varied)

    features = ["x", "age", "plan", "member", "x"]
    started = time.monotonic()
    curves = partial_dependence(
        predict=slow, rows=frame(rows=200), features=features, time_limit_seconds=0.12
    )
    assert time.monotonic() - started < 0.3
    assert [curve.feature for curve in curves] == features
    done = [curve.computed for curve in curves]
    assert done[0] and not done[-1] and done == sorted(done, reverse=True)
    assert "0.12 s time limit ran out" in (curves[-1].left_out or "")
    nothing = partial_dependence(
        predict=slow, rows=frame(rows=20), features=["x"], time_limit_seconds=0
    )
    assert not nothing[0].computed


def test_a_failing_or_silent_model_loses_only_that_feature() -> None:
    def picky(varied: pd.DataFrame) -> np.ndarray:
        output = additive(varied)
        if varied["x"].nunique() <= 20:  # x set to its grid: the model refuses
            raise ValueError("the model cannot take these values")
        if varied["age"].nunique() <= 20:  # age set to its grid: the model gives NaN
            output[::7] = np.nan
        return output

    curves = by_name(
        partial_dependence(predict=picky, rows=frame(rows=400), features=["plan", "x", "age"])
    )
    assert curves["plan"].computed
    assert curves["x"].left_out == "The model failed on the varied rows (ValueError)."
    assert curves["age"].left_out == "The model gave no number for some of the varied rows."
    short = partial_dependence(predict=lambda f: np.zeros(3), rows=frame(rows=10), features=["x"])
    assert "3 outputs" in (short[0].left_out or "")


def test_unusable_requests_are_refused() -> None:
    with pytest.raises(InvalidInput, match="at least one row"):
        partial_dependence(predict=additive, rows=frame().iloc[:0], features=["x"])
    with pytest.raises(InvalidInput, match="two or more grid points"):
        partial_dependence(predict=additive, rows=frame(), features=["x"], grid_points=1)


def test_curves_round_trip_through_json() -> None:
    curves = partial_dependence(
        predict=additive, rows=frame(), features=["x", "plan", "since"], max_rows=200
    )
    for curve in curves:
        document = json.loads(json.dumps(curve.model_dump(mode="json")))
        assert DependenceCurve.model_validate(document) == curve


def test_dependence_figure_draws_the_curve_over_the_share_of_rows() -> None:
    x, plan, since = partial_dependence(
        predict=additive, rows=frame(), features=["x", "plan", "since"], max_rows=200
    )
    figure = dependence_figure(x)
    assert [trace.name for trace in figure.data] == ["share of rows", "average prediction"]
    assert isinstance(figure.data[0], go.Bar) and figure.data[1].yaxis == "y2"
    assert figure.layout.xaxis.title.text == "x"
    categorical = dependence_figure(plan)
    assert list(categorical.data[1].x) == ["a", "b", "c"] and categorical.data[1].mode == "markers"
    empty = dependence_figure(since)
    assert len(empty.data) == 0 and "Dates and durations" in empty.layout.annotations[0].text
