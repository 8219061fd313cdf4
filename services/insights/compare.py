"""Two models' holdout metrics side by side, each marked with which model does better."""

from typing import Literal

from pydantic import BaseModel

from services.automl.options import CLASSIFICATION_METRICS, REGRESSION_METRICS
from services.errors import InvalidInput
from services.insights.diagnostics import ClassificationDiagnostics
from services.insights.residuals import RegressionDiagnostics

Diagnostics = ClassificationDiagnostics | RegressionDiagnostics
# Whether higher is better, for the metrics the diagnostics add to PyCaret's.
EXTRA_METRICS = {"Log loss": False, "Brier": False, "Median AE": False}


class MetricComparison(BaseModel):
    """One metric of models A and B; `better` is None on a tie or when either lacks it."""

    metric: str
    a: float | None
    b: float | None
    greater_is_better: bool
    better: Literal["a", "b"] | None


def metric_comparison(a: Diagnostics, b: Diagnostics) -> list[MetricComparison]:
    """The metrics both models report, in the order of `a`, with the better of the two."""
    if a.kind != b.kind:
        raise InvalidInput("Only two classifiers or two regression models can be compared.")
    direction = {**CLASSIFICATION_METRICS, **REGRESSION_METRICS, **EXTRA_METRICS}
    rows = []
    for metric, first in a.metrics.items():
        if metric not in b.metrics:
            continue
        second = b.metrics[metric]
        higher = direction.get(metric, True)
        rows.append(
            MetricComparison(
                metric=metric,
                a=first,
                b=second,
                greater_is_better=higher,
                better=_better(first, second, higher),
            )
        )
    return rows


def _better(a: float | None, b: float | None, higher: bool) -> Literal["a", "b"] | None:
    if a is None or b is None or a == b:
        return None
    return "a" if (a > b) == higher else "b"
