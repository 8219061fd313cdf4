"""Partial dependence: the model's average output as one feature is set to each of its values."""

import logging
import time
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from services.errors import InvalidInput
from services.insights.numbers import SEED, sigs

log = logging.getLogger("kaizen.insights")
MAX_CATEGORIES = 20  # the most frequent categories; the rest are too rare to average over
QUANTILE_RANGE = (0.05, 0.95)  # as scikit-learn's: a few outliers do not stretch the grid


class DependenceCurve(BaseModel):
    """One feature's partial dependence, or why it has none (`left_out`)."""

    feature: str
    kind: Literal["numeric", "categorical"] | None = None  # None when left out
    values: list[float] = []  # numeric: the grid (its 5%-95% quantiles, or its few values)
    categories: list[str] = []  # categorical: the most frequent values, most frequent first
    average: list[float] = []  # mean model output with every row set to that grid point
    share: list[float] = []  # share of all rows at (numeric: nearest to) each grid point
    rows: int = 0  # rows averaged over
    sampled_from: int | None = None  # those rows are a seeded sample of this many
    left_out: str | None = None

    @property
    def computed(self) -> bool:
        return self.left_out is None


Predict = Callable[[pd.DataFrame], np.ndarray]


def partial_dependence(
    *,
    predict: Predict,
    rows: pd.DataFrame,
    features: list[str],
    grid_points: int = 20,
    max_rows: int = 500,
    time_limit_seconds: float | None = None,
) -> list[DependenceCurve]:
    """One curve per feature, in order; features past the time limit are left out, saying so."""
    if rows.empty:
        raise InvalidInput("Partial dependence needs at least one row.")
    if grid_points < 2 or max_rows < 1:
        raise InvalidInput("Partial dependence needs two or more grid points and one row.")
    sample = rows.sample(n=max_rows, random_state=SEED) if len(rows) > max_rows else rows
    sampled_from = len(rows) if len(rows) > max_rows else None
    started, per_feature = time.monotonic(), 0.0
    curves: list[DependenceCurve] = []
    for feature in features:
        elapsed = time.monotonic() - started
        if time_limit_seconds is not None and elapsed + per_feature > time_limit_seconds:
            reason = f"The {time_limit_seconds:g} s time limit ran out before this feature."
            curves.append(DependenceCurve(feature=feature, left_out=reason))
            continue
        curve = _curve(predict, rows, sample, feature, grid_points)
        if curve.computed:
            curve = curve.model_copy(update={"sampled_from": sampled_from})
        curves.append(curve)
        per_feature = (time.monotonic() - started) / len(curves)  # expect the next to take as long
    return curves


def _curve(
    predict: Predict, rows: pd.DataFrame, sample: pd.DataFrame, feature: str, points: int
) -> DependenceCurve:
    """The curve of one feature, or the reason it has none."""
    if feature not in rows.columns:
        return DependenceCurve(feature=feature, left_out="Not an input column of the model.")
    column = rows[feature]
    if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(column):
        return DependenceCurve(
            feature=feature, left_out="Dates and durations are left out: no grid to vary them on."
        )
    known = column.dropna()
    if known.nunique() < 2:
        return DependenceCurve(feature=feature, left_out="It has fewer than two distinct values.")
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    found = _numeric_grid(known, points) if numeric else _categories(known)
    grid, share = found[0], found[1] / len(rows)  # of all rows: missing values are at none
    try:
        average = _averages(predict, sample, feature, grid)
    except InvalidInput as problem:
        return DependenceCurve(feature=feature, left_out=str(problem))
    except Exception as error:  # one feature the model cannot take must not lose the others
        log.warning("partial dependence of %s failed", feature, exc_info=True)
        reason = f"The model failed on the varied rows ({type(error).__name__})."
        return DependenceCurve(feature=feature, left_out=reason)
    return DependenceCurve(
        feature=feature,
        kind="numeric" if numeric else "categorical",
        values=sigs(grid, 6) if numeric else [],
        categories=[] if numeric else [str(v) for v in grid],
        average=sigs(average, 6),
        share=sigs(share, 4),
        rows=len(sample),
    )


def _numeric_grid(known: pd.Series, points: int) -> tuple[list[Any], np.ndarray]:
    """Quantiles of the values (the values themselves when few) and the rows nearest each."""
    values = known.to_numpy(dtype=float)
    distinct = np.unique(values)
    if len(distinct) <= points:
        grid = distinct
    else:
        grid = np.unique(np.quantile(values, np.linspace(*QUANTILE_RANGE, points)))
        if pd.api.types.is_integer_dtype(known):
            grid = np.unique(np.round(grid))  # an integer column is only ever set to integers
    edges = (grid[1:] + grid[:-1]) / 2
    return grid.tolist(), np.bincount(np.searchsorted(edges, values), minlength=len(grid))


def _categories(known: pd.Series) -> tuple[list[Any], np.ndarray]:
    """The most frequent values and their row counts."""
    counts = known.value_counts().head(MAX_CATEGORIES)
    return counts.index.tolist(), counts.to_numpy()


def _averages(predict: Predict, sample: pd.DataFrame, feature: str, grid: list[Any]) -> np.ndarray:
    """Every sampled row set to each grid value in turn, predicted in one call, averaged."""
    count = len(sample)
    varied = pd.concat([sample] * len(grid), ignore_index=True)
    column = pd.Series(np.repeat(np.asarray(grid, dtype=object), count))
    try:
        varied[feature] = column.astype(sample[feature].dtype)  # as the model saw it in training
    except (TypeError, ValueError):
        varied[feature] = column
    output = np.asarray(predict(varied), dtype=float).ravel()
    if output.size != len(varied):
        raise InvalidInput(f"The model gave {output.size} outputs for {len(varied)} rows.")
    if not np.isfinite(output).all():
        raise InvalidInput("The model gave no number for some of the varied rows.")
    return output.reshape(len(grid), count).mean(axis=1)
