"""The target checks and task inference before any training runs: every bad input named in
issue 5 gets its own clear message, and the good ones are prepared as the plan says."""

import numpy as np
import pandas as pd
import pytest

from services.automl.options import (
    Preset,
    Task,
    TrainingOptions,
    candidates,
    checked_metric,
)
from services.automl.target import prepare
from services.errors import InvalidInput
from services.models import ColumnInfo, ColumnKind, ColumnRole

RNG = np.random.default_rng(7)
ROWS = 200


def _infos(frame: pd.DataFrame, roles: dict[str, ColumnRole] | None = None) -> list[ColumnInfo]:
    roles = roles or {}
    return [
        ColumnInfo(
            name=c,
            kind=ColumnKind.other,
            dtype=str(frame[c].dtype),
            missing=0,
            role=roles.get(c, ColumnRole.feature),
        )
        for c in frame.columns
    ]


def _frame(target: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": RNG.integers(18, 90, ROWS),
            "spend": RNG.normal(100, 30, ROWS),
            "plan": RNG.choice(["basic", "plus", "pro"], ROWS),
            "y": target,
        }
    )


def _prepare(frame: pd.DataFrame, roles: dict[str, ColumnRole] | None = None, **options: object):
    return prepare(
        frame, _infos(frame, roles), TrainingOptions(dataset_id=1, target="y", **options)
    )


def _refused(frame: pd.DataFrame, *words: str, **options: object) -> str:
    with pytest.raises(InvalidInput) as refused:
        _prepare(frame, **options)
    message = str(refused.value)
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize(
    ("target", "task"),
    [
        (RNG.choice(["yes", "no"], ROWS), Task.binary),
        (RNG.choice([True, False], ROWS), Task.binary),
        (RNG.choice([0, 1], ROWS), Task.binary),
        (RNG.choice(["a", "b", "c", "d"], ROWS), Task.multiclass),
        (RNG.integers(1, 6, ROWS), Task.multiclass),
        (RNG.normal(0, 1, ROWS), Task.regression),
        (RNG.integers(0, 10_000, ROWS), Task.regression),
    ],
)
def test_the_task_is_inferred_from_the_target(target: object, task: Task) -> None:
    assert _prepare(_frame(target)).task is task


def test_a_target_that_is_empty_everywhere_is_refused() -> None:
    _refused(_frame([None] * ROWS), "'y'", "no values", "Choose another column")


def test_a_target_with_one_value_is_refused() -> None:
    _refused(_frame(["churned"] * ROWS), "only one value", "'churned'")


def test_a_class_with_fewer_rows_than_folds_is_refused_with_the_count_needed() -> None:
    target = ["a"] * 100 + ["b"] * 97 + ["rare"] * 3
    message = _refused(_frame(target), "'rare' (3)", "fewer folds", folds=5)
    assert "at least 7 rows" in message  # 5 folds over the 80% that is not held back


def test_numbers_stored_as_text_are_read_as_numbers_and_said_so() -> None:
    values = [f"${v:,.2f}" for v in RNG.uniform(1_000, 90_000, ROWS)]
    prepared = _prepare(_frame(values))
    assert prepared.task is Task.regression
    assert pd.api.types.is_float_dtype(prepared.frame["y"])
    assert any("numbers stored as text" in note for note in prepared.notes)


def test_regression_on_a_text_target_is_refused() -> None:
    _refused(
        _frame(RNG.choice(["red", "blue"], ROWS)), "is text", "classification", task="regression"
    )


def test_ten_thousand_distinct_values_as_classes_are_refused() -> None:
    frame = pd.DataFrame({"x": RNG.normal(0, 1, 10_000), "y": [f"id-{i}" for i in range(10_000)]})
    _refused(frame, "10,000 distinct values", "regression", task="multiclass")


def test_binary_asked_for_three_classes_is_refused() -> None:
    _refused(_frame(RNG.choice(["a", "b", "c"], ROWS)), "not two", "multiclass", task="binary")


def test_more_columns_than_rows_is_refused() -> None:
    frame = pd.DataFrame(RNG.normal(0, 1, (40, 60)), columns=[f"f{i}" for i in range(60)])
    frame["y"] = RNG.normal(0, 1, 40)
    _refused(frame, "60 feature columns", "only 40 rows", "more rows than columns")


def test_only_id_columns_leave_nothing_to_learn_from() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(ROWS)],
            "rownames": range(1, ROWS + 1),
            "y": RNG.choice(["yes", "no"], ROWS),
        }
    )
    message = _refused(frame, "Nothing to learn from", "like an ID")
    assert "customer_id" in message and "rownames" in message


def test_columns_marked_id_or_ignore_and_unusable_ones_are_left_out_with_reasons() -> None:
    frame = _frame(RNG.choice(["yes", "no"], ROWS)).assign(
        key=[f"K{i}" for i in range(ROWS)], note=None, same=1, secret=RNG.normal(0, 1, ROWS)
    )
    prepared = _prepare(frame, roles={"secret": ColumnRole.ignore})
    assert prepared.features == ["age", "spend", "plan"]
    assert prepared.excluded == {
        "key": "a different value in every row, like an ID",
        "note": "empty in every row",
        "same": "the same value in every row",
        "secret": "marked ignore",
    }


def test_a_measurement_with_all_distinct_whole_numbers_is_kept() -> None:
    frame = _frame(RNG.normal(0, 1, ROWS)).assign(income=RNG.permutation(10_000)[:ROWS] * 7)
    assert "income" in _prepare(frame).features


def test_infinite_values_become_missing_and_rows_without_target_are_left_out() -> None:
    target = RNG.normal(0, 1, ROWS)
    target[:5] = np.nan
    target[5] = np.inf
    frame = _frame(target)
    frame.loc[10:12, "spend"] = -np.inf
    prepared = _prepare(frame)
    assert len(prepared.frame) == ROWS - 6
    assert not np.isinf(prepared.frame["spend"].to_numpy(dtype=float, na_value=0)).any()
    assert any("Infinite values" in n and "'spend' (3)" in n for n in prepared.notes)
    assert any("6 rows without a target value" in n for n in prepared.notes)


def test_an_unknown_target_column_is_named() -> None:
    frame = _frame(RNG.normal(0, 1, ROWS)).drop(columns="y")
    _refused(frame, "no column 'y'")


def test_models_follow_the_preset_and_unknown_ids_are_refused() -> None:
    fast = TrainingOptions(dataset_id=1, target="y")
    assert list(candidates(Task.binary, fast))[:2] == ["lr", "lightgbm"]
    best = TrainingOptions(dataset_id=1, target="y", preset=Preset.best, exclude_models=["knn"])
    assert "knn" not in candidates(Task.binary, best) and "mlp" in candidates(Task.binary, best)
    # Classifiers without probabilities are not offered: nothing to serve or explain.
    assert "ridge" not in candidates(Task.binary, best) and "svm" not in candidates(
        Task.binary, best
    )
    chosen = TrainingOptions(dataset_id=1, target="y", include_models=["rf", "lasso"])
    assert list(candidates(Task.regression, chosen)) == ["rf", "lasso"]
    with pytest.raises(InvalidInput, match=r"Unknown model 'lasso'.*choose from"):
        candidates(Task.binary, chosen)
    with pytest.raises(InvalidInput, match="Every model is excluded"):
        candidates(
            Task.binary,
            TrainingOptions(dataset_id=1, target="y", include_models=["rf"], exclude_models=["rf"]),
        )


def test_metrics_are_checked_against_the_task() -> None:
    assert checked_metric(Task.binary, TrainingOptions(dataset_id=1, target="y")) == "AUC"
    assert checked_metric(Task.regression, TrainingOptions(dataset_id=1, target="y")) == "RMSE"
    with pytest.raises(InvalidInput, match="'RMSE' is not a binary metric"):
        checked_metric(Task.binary, TrainingOptions(dataset_id=1, target="y", metric="RMSE"))


def test_a_budget_under_thirty_seconds_is_refused() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 30"):
        TrainingOptions(dataset_id=1, target="y", budget_seconds=5)
