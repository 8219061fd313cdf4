"""How a regression model did on the holdout: metrics, a plain reading, the residual plots."""

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel
from scipy import stats

from services.errors import InvalidInput
from services.insights.leverage import (
    influence,
    leverage_problem,
    numeric_design,
    residual_scale,
)
from services.insights.numbers import (
    amount,
    finite_numbers,
    maybe,
    sampled_rows,
    sig,
    sigs,
    thin,
)

TREND_BINS = 20  # the trend line: the mean of each twentieth of the rows by fitted value...
TREND_BIN_ROWS = 50  # ...with at least this many rows a bin, so few rows do not make it jagged
QQ_TAIL = 10  # Q-Q points always kept at each end, where departures from normal show
MOST_INFLUENTIAL = 5
MIN_ROWS = 3


class Trend(BaseModel):
    """A trend line: the mean of y within equal-sized bins of x."""

    x: list[float]
    y: list[float]


class QuantilePairs(BaseModel):
    """Normal Q-Q: standard normal quantiles against the sorted standardized residuals."""

    theoretical: list[float]
    sample: list[float]


class ErrorQuantiles(BaseModel):
    """The absolute error below which each share of the predictions falls (0%, 1%, ... 100%)."""

    share: list[float]
    absolute_error: list[float]


class Influential(BaseModel):
    """A row that moves the fit most (largest Cook's distance)."""

    row: int  # position in the holdout
    cooks_distance: float
    leverage: float
    standardized_residual: float


class ResidualPoints(BaseModel):
    """The kept holdout rows, one entry per row in each list."""

    row: list[int]  # position in the holdout
    actual: list[float]
    predicted: list[float]
    residual: list[float]  # actual - predicted
    standardized: list[float]  # residual / (s * sqrt(1 - leverage)); leverage 0 without one
    leverage: list[float] | None
    cooks_distance: list[float] | None


class RegressionDiagnostics(BaseModel):
    """Everything the Models page shows of a regression model's holdout, computed once by a job."""

    kind: Literal["regression"] = "regression"
    rows: int  # holdout rows the metrics and error quantiles are computed on
    metrics: dict[str, float | None]  # PyCaret's names, plus "Median AE"
    reading: str
    errors: ErrorQuantiles
    points: ResidualPoints  # the residual plots are drawn from (and computed on) these rows
    fitted_trend: Trend  # residual against predicted value
    scale_trend: Trend  # sqrt(|standardized residual|) against predicted value
    qq: QuantilePairs
    parameters: int | None  # the design's rank: p in Cook's distance
    influential: list[Influential]  # largest Cook's distance first
    leverage_note: str | None  # why leverage and Cook's distance are left out, if they are
    sampled_from: int | None  # the points are a seeded sample of this many rows


def regression_diagnostics(
    *, y_true: Sequence[float], y_pred: Sequence[float], design: np.ndarray | None
) -> RegressionDiagnostics:
    """The holdout diagnostics of a regression model; `design`: its numeric input matrix."""
    actual = finite_numbers(y_true, "actual values")
    predicted = finite_numbers(y_pred, "predictions")
    if len(actual) != len(predicted):
        raise InvalidInput(f"{len(actual)} actual values but {len(predicted)} predictions.")
    if len(actual) < MIN_ROWS:
        raise InvalidInput(f"Diagnostics need at least {MIN_ROWS} holdout rows.")
    keep, sampled_from = sampled_rows(len(actual))
    matrix = numeric_design(design)
    note = leverage_problem(matrix, len(actual))
    kept_design = None if note or matrix is None else matrix[keep]
    points, influential, rank = _points(keep, actual[keep], predicted[keep], kept_design)
    errors = np.abs(actual - predicted)
    return RegressionDiagnostics(
        rows=len(actual),
        metrics=_metrics(actual, predicted),
        reading=_reading(errors),
        errors=_error_quantiles(errors),
        points=points,
        fitted_trend=trend(predicted[keep], actual[keep] - predicted[keep]),
        scale_trend=trend(predicted[keep], np.sqrt(np.abs(np.asarray(points.standardized)))),
        qq=normal_qq(np.asarray(points.standardized)),
        parameters=rank,
        influential=influential,
        leverage_note=note,
        sampled_from=sampled_from,
    )


def trend(x: np.ndarray, y: np.ndarray) -> Trend:
    """Mean x and mean y of 2 to TREND_BINS equal-sized bins of the rows ordered by x."""
    order = np.argsort(x, kind="stable")
    # One bin when x is constant: a vertical "trend" would mean nothing.
    count = max(2, min(TREND_BINS, len(x) // TREND_BIN_ROWS)) if np.ptp(x) > 0 else 1
    bins = [b for b in np.array_split(order, count) if b.size]
    return Trend(x=sigs(x[b].mean() for b in bins), y=sigs(y[b].mean() for b in bins))


def normal_qq(standardized: np.ndarray) -> QuantilePairs:
    """Sorted sample against normal quantiles at (i - 0.5) / n, thinned; both tails kept."""
    sample = np.sort(standardized)
    count = len(sample)
    theoretical = stats.norm.ppf((np.arange(1, count + 1) - 0.5) / count)
    tails = np.r_[np.arange(min(QQ_TAIL, count)), np.arange(max(count - QQ_TAIL, 0), count)]
    keep = np.unique(np.r_[thin(count, 180), tails])
    return QuantilePairs(theoretical=sigs(theoretical[keep]), sample=sigs(sample[keep]))


def _points(
    rows: np.ndarray, actual: np.ndarray, predicted: np.ndarray, design: np.ndarray | None
) -> tuple[ResidualPoints, list[Influential], int | None]:
    """The kept rows' residuals, with leverage and Cook's distance when there is a design."""
    residual = actual - predicted
    found = None if design is None else influence(residual, design)
    if found is None:
        scale = residual_scale(residual)
        standardized = residual / scale if scale > 0 else np.zeros_like(residual)
    else:
        standardized = found.standardized
    points = ResidualPoints(
        row=rows.tolist(),
        actual=sigs(actual, 6),
        predicted=sigs(predicted, 6),
        residual=sigs(residual, 4),  # drawn, not read: four digits are plenty
        standardized=sigs(standardized, 4),
        leverage=None if found is None else sigs(found.leverage, 4),
        cooks_distance=None if found is None else sigs(found.cooks, 4),
    )
    if found is None:
        return points, [], None
    top = np.argsort(-found.cooks, kind="stable")[:MOST_INFLUENTIAL]
    influential = [
        Influential(
            row=int(rows[i]),
            cooks_distance=sig(found.cooks[i]),
            leverage=sig(found.leverage[i]),
            standardized_residual=sig(found.standardized[i]),
        )
        for i in top
    ]
    return points, influential, found.rank


def _metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float | None]:
    """PyCaret's regression metrics (RMSLE of absolute values, as it scores it) and median AE."""
    error = actual - predicted
    spread = float(np.sum((actual - actual.mean()) ** 2))
    logs = np.log1p(np.abs(predicted)) - np.log1p(np.abs(actual))
    return {
        "MAE": maybe(float(np.mean(np.abs(error)))),
        "RMSE": maybe(float(np.sqrt(np.mean(error**2)))),
        "R2": maybe(1.0 - float(np.sum(error**2)) / spread) if spread > 0 else None,
        "MAPE": None if np.any(actual == 0) else maybe(float(np.mean(np.abs(error / actual)))),
        "RMSLE": maybe(float(np.sqrt(np.mean(logs**2)))),
        "Median AE": maybe(float(np.median(np.abs(error)))),
    }


def _reading(errors: np.ndarray) -> str:
    """How close the predictions come, in the target's own units."""
    half, most = np.quantile(errors, [0.5, 0.9])
    return (
        f"Half of the predictions are within {amount(float(half))} of the real value; "
        f"90% within {amount(float(most))}."
    )


def _error_quantiles(errors: np.ndarray) -> ErrorQuantiles:
    shares = np.linspace(0, 1, 101)
    return ErrorQuantiles(share=sigs(shares, 3), absolute_error=sigs(np.quantile(errors, shares)))
