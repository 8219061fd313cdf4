"""The work of an insights job: predictions on the training's holdout, the diagnostics, SHAP
explanations and partial dependence, inside one time limit."""

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from services.automl.options import Task
from services.insights.dependence import DependenceCurve, partial_dependence
from services.insights.diagnostics import ClassificationDiagnostics, classification_diagnostics
from services.insights.features import FeatureInfo, describe_features
from services.insights.residuals import RegressionDiagnostics, regression_diagnostics
from services.insights.shap_result import ShapExplanation
from services.insights.shap_values import DEFAULT_TIME_LIMIT_SECONDS, explain
from services.models import utcnow

log = logging.getLogger("kaizen.insights")
# Shares of the job's time limit (diagnostics take the rest); SHAP values of a sample of
# the holdout are as good after the explainer's own bound (the benchmark's 30 s goal).
SHAP_SHARE, DEPENDENCE_SHARE = 0.5, 0.3
DEPENDENCE_FEATURES = 5  # partial dependence for this many of the most important features


class ModelInsights(BaseModel):
    """Everything the Models page shows of one model, computed once and kept with its run."""

    computed_at: datetime = Field(default_factory=utcnow)
    task: Task
    target: str
    classes: list[str] = []  # in the order of the model's probabilities
    holdout_rows: int
    classification: ClassificationDiagnostics | None = None
    regression: RegressionDiagnostics | None = None
    shap: ShapExplanation | None = None
    shap_error: str | None = None  # why there are no SHAP values, if there are none
    dependence: list[DependenceCurve] = []
    features: list[FeatureInfo] = []
    seconds: dict[str, float] = {}

    def importance(self) -> list[tuple[str, float]]:
        """Mean |SHAP| per original feature for the explained output, largest first."""
        if self.shap is None:
            return []
        return self.shap.mean_abs(self.shap.outputs[0])

    def headline(self) -> dict[str, Any]:
        """The documented JSON of `kaizen explain`."""
        return {
            "explainer": self.shap.explainer if self.shap else None,
            "features": [
                {"name": name, "mean_abs_shap": value} for name, value in self.importance()
            ],
        }


def compute_insights(
    *,
    pipeline: Any,
    holdout: pd.DataFrame,
    train_sample: pd.DataFrame,
    target: str,
    task: Task,
    time_limit_seconds: float,
    progress: Callable[[float, str], None],
) -> ModelInsights:
    """Judges `pipeline` on the holdout and explains it against the training sample."""
    rows, truth = holdout.drop(columns=[target]), holdout[target]
    background = train_sample.drop(columns=[target])
    insights = ModelInsights(
        task=task,
        target=target,
        classes=class_labels(pipeline) if task.is_classification else [],
        holdout_rows=len(rows),
        features=describe_features(background),
    )
    started = time.monotonic()
    progress(0.1, "Scoring the holdout rows")
    _diagnose(insights, pipeline, rows, truth)
    insights.seconds["diagnostics"] = round(time.monotonic() - started, 2)
    progress(0.3, "Explaining the predictions (SHAP)")
    shap_limit = min(time_limit_seconds * SHAP_SHARE, DEFAULT_TIME_LIMIT_SECONDS)
    _explain(insights, pipeline, rows, background, shap_limit)
    progress(0.75, "Partial dependence of the most important features")
    started = time.monotonic()
    insights.dependence = _dependence(
        insights, pipeline, rows, time_limit_seconds * DEPENDENCE_SHARE
    )
    insights.seconds["dependence"] = round(time.monotonic() - started, 2)
    return insights


def class_labels(pipeline: Any) -> list[str]:
    """The classes in the column order of the pipeline's probabilities (PyCaret label-encodes
    the target: the encoder's classes are that order)."""
    encoder = dict(pipeline.steps).get("label_encoding")
    classes = getattr(getattr(encoder, "transformer", None), "classes_", None)
    if classes is None:
        classes = pipeline.steps[-1][1].classes_
    return [str(c) for c in classes]


def _diagnose(insights: ModelInsights, pipeline: Any, rows: pd.DataFrame, truth: Any) -> None:
    if insights.task.is_classification:
        insights.classification = classification_diagnostics(
            y_true=truth.astype(str).tolist(),
            probabilities=np.asarray(pipeline.predict_proba(rows)),
            classes=insights.classes,
            positive=insights.classes[-1] if len(insights.classes) == 2 else None,
        )
    else:
        insights.regression = regression_diagnostics(
            y_true=truth.astype(float).tolist(),
            y_pred=np.asarray(pipeline.predict(rows), dtype=float).tolist(),
            design=_design(pipeline, rows),
        )


def _explain(
    insights: ModelInsights,
    pipeline: Any,
    rows: pd.DataFrame,
    background: pd.DataFrame,
    limit: float,
) -> None:
    started = time.monotonic()
    try:
        insights.shap = explain(
            pipeline=pipeline,
            rows=rows,
            background=background,
            task=insights.task.value,
            time_limit_seconds=limit,
        )
    except Exception as error:  # the metrics stay useful without SHAP values
        log.warning("SHAP failed", exc_info=True)
        insights.shap_error = f"SHAP could not explain this model ({type(error).__name__})."
    insights.seconds["shap"] = round(time.monotonic() - started, 2)


def _dependence(
    insights: ModelInsights, pipeline: Any, rows: pd.DataFrame, limit: float
) -> list[DependenceCurve]:
    ranked = [name for name, _ in insights.importance()] or list(rows.columns)
    features = ranked[:DEPENDENCE_FEATURES]
    return partial_dependence(
        predict=output_function(pipeline, insights),
        rows=rows,
        features=features,
        time_limit_seconds=limit,
    )


def output_function(pipeline: Any, insights: ModelInsights) -> Callable[[pd.DataFrame], Any]:
    """One number per row: the chance of the class of interest, or the predicted value."""
    if not insights.task.is_classification:
        return lambda frame: np.asarray(pipeline.predict(frame), dtype=float)
    column = len(insights.classes) - 1 if len(insights.classes) == 2 else 0
    if insights.shap is not None and insights.shap.positive_class in insights.classes:
        column = insights.classes.index(insights.shap.positive_class)
    return lambda frame: np.asarray(pipeline.predict_proba(frame))[:, column]


def _design(pipeline: Any, rows: pd.DataFrame) -> np.ndarray | None:
    """The model's numeric input for `rows` (the pipeline's steps before the estimator)."""
    try:
        matrix = rows
        for _, step in pipeline.steps[:-1]:
            matrix = step.transform(matrix)
        return np.asarray(matrix, dtype=float)
    except Exception:
        log.warning("no design matrix for leverage", exc_info=True)
        return None
