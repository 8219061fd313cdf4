"""One row at a time: a model's prediction for a holdout row or typed values, its SHAP
explanation and the reasons in words (the what-if of the Models page)."""

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from services.insights.compute import ModelInsights
from services.insights.features import row_from_values
from services.insights.reasons import reasons_sentence
from services.insights.row_explainer import RowExplainer
from services.insights.shap_result import ShapExplanation

BACKGROUND_ROWS = 100  # enough for a stable baseline; a model-agnostic row stays ~1 s


@dataclass
class LoadedModel:
    """A model ready for single-row questions: the pipeline and what it was explained with."""

    pipeline: Any
    insights: ModelInsights
    background: pd.DataFrame  # training rows' features: SHAP's baseline
    holdout: pd.DataFrame  # holdout rows' features: rows to pick from

    @cached_property
    def explainer(self) -> RowExplainer:
        """SHAP's explainer of this model's rows, built when the first row is explained."""
        return RowExplainer(
            pipeline=self.pipeline, background=self.background, task=self.insights.task.value
        )


class RowOutcome(BaseModel):
    """What the model says about one row, and why."""

    prediction: str | float
    probabilities: dict[str, float] = {}
    explanation: ShapExplanation | None = None
    output: str | None = None  # the explained output (class of interest, or the value)
    reasons: str = ""


def load_model(
    pipeline: Any, insights: ModelInsights, holdout: pd.DataFrame, train: pd.DataFrame
) -> LoadedModel:
    """Bundles a loaded pipeline with its split (features only)."""
    target = insights.target
    background = train.drop(columns=[target])
    background = background.sample(min(len(background), BACKGROUND_ROWS), random_state=0)
    return LoadedModel(pipeline, insights, background, holdout.drop(columns=[target]))


def holdout_row(model: LoadedModel, position: int) -> pd.DataFrame:
    """The holdout row at `position` (0-based), as a one-row frame."""
    return model.holdout.iloc[[position]]


def values_row(model: LoadedModel, values: dict[str, Any]) -> pd.DataFrame:
    """Typed values as a row the pipeline accepts; a bad value is refused naming its column."""
    return row_from_values(model.insights.features, values, model.background)


def outcome(model: LoadedModel, row: pd.DataFrame) -> RowOutcome:
    """The prediction for `row`, its class chances and its explanation in words."""
    pipeline, insights = model.pipeline, model.insights
    prediction = pipeline.predict(row)[0]
    classes = insights.task.is_classification
    result = RowOutcome(prediction=str(prediction) if classes else round(float(prediction), 6))
    if classes:
        chances = np.asarray(pipeline.predict_proba(row))[0]
        pairs = zip(insights.classes, chances, strict=True)
        result.probabilities = {label: round(float(p), 4) for label, p in pairs}
    explanation = model.explainer.explain(row)
    output = _output_of(explanation, str(prediction))
    result.explanation, result.output = explanation, output
    result.reasons = reasons_sentence(explanation, output=output, row=0)
    return result


def _output_of(explanation: ShapExplanation, predicted: str) -> str:
    """Binary: the positive class; several classes: the predicted one; numbers: the value."""
    if predicted in explanation.outputs and len(explanation.outputs) > 1:
        return predicted
    return explanation.outputs[0]
