"""What a training job reports: the leaderboard, the chosen model and how the budget went."""

import math
from typing import Any

from pydantic import BaseModel, Field

from services.automl.options import Task, TrainingOptions


class LeaderboardRow(BaseModel):
    """One trained model: cross-validated scores on the training part, scores on the holdout."""

    model_id: str  # PyCaret's id ("lightgbm"), with "-tuned" for a tuned one, or an ensemble's
    name: str
    cv: dict[str, float | None]  # mean over the folds, by metric
    holdout: dict[str, float | None]
    seconds: float  # cross-validation, refit and holdout scoring
    run_id: str | None = None  # its MLflow child run
    pipeline_sha256: str | None = None  # of the pipeline file in that run (insights load it)


class ChosenModel(BaseModel):
    """The model kept from a training: refit on all rows (if the budget allowed) and registered."""

    model_id: str
    name: str  # the registered model's name
    version: int
    metric: str
    score: float | None  # the holdout score of `metric`
    finalized: bool  # refit on every row, holdout included
    run_id: str
    model_uri: str
    sha256: str  # of the model file, checked before it is ever loaded


class TrainingResult(BaseModel):
    """A training job's result, published as it grows (the live leaderboard) and at its end."""

    options: TrainingOptions
    task: Task
    metric: str
    greater_is_better: bool
    models_total: int
    leaderboard: list[LeaderboardRow] = Field(default_factory=list)
    skipped: dict[str, str] = Field(default_factory=dict)  # model name -> why it has no row
    notes: list[str] = Field(default_factory=list)
    experiment_id: str | None = None
    parent_run_id: str | None = None
    model: ChosenModel | None = None
    budget_seconds: float
    elapsed_seconds: float = 0.0
    stopped_by_budget: bool = False

    @property
    def overrun_seconds(self) -> float:
        return max(0.0, self.elapsed_seconds - self.budget_seconds)

    def ranked(self) -> list[LeaderboardRow]:
        """The leaderboard, best cross-validated score first (rows without one last)."""
        sign = -1 if self.greater_is_better else 1

        def key(row: LeaderboardRow) -> tuple[bool, float]:
            score = row.cv.get(self.metric)
            return (score is None, sign * score if score is not None else 0.0)

        return sorted(self.leaderboard, key=key)

    def summary(self) -> dict[str, Any]:
        """The documented JSON of `kaizen train`."""
        return {
            "leaderboard": [
                {"model": r.name, "model_id": r.model_id, "cv": r.cv, "holdout": r.holdout}
                for r in self.ranked()
            ],
            "model": None
            if self.model is None
            else {
                "name": self.model.name,
                "version": self.model.version,
                "metric": self.metric,
                "score": self.model.score,
            },
        }


def clean_scores(scores: dict[str, Any], metrics: list[str]) -> dict[str, float | None]:
    """Rounded floats for the metrics asked for; NaN (a metric a model cannot score) as None."""
    cleaned: dict[str, float | None] = {}
    for metric in metrics:
        value = scores.get(metric)
        number = float(value) if value is not None else math.nan
        cleaned[metric] = None if math.isnan(number) else round(number, 4)
    return cleaned
