"""The model search of a training job: each candidate cross-validated under the budget's hard
limit, scored on the holdout, logged as an MLflow child run, and added to the leaderboard."""

import copy
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from services.automl.results import LeaderboardRow, TrainingResult, clean_scores
from services.time_limit import TimeLimitReached, time_limit

log = logging.getLogger("kaizen.automl")
MIN_SLOT_SECONDS = 1.0  # less than this left: do not start another model or a refit
LOG_RESERVE_SECONDS = 4.0  # kept for logging and registering the chosen model (~1-2 s)
FIRST_MODEL_SECONDS = 15.0  # the least the first model gets, even past the budget
FINALIZE_SHARE = 0.6  # a refit on all rows takes about this share of a model's CV time


class Budget:
    """The job's wall-clock budget, counted from when the job started."""

    def __init__(self, seconds: float, started: float) -> None:
        self.seconds, self.started = seconds, started

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def left(self) -> float:
        return self.seconds - self.elapsed()


@dataclass
class Trained:
    row: LeaderboardRow
    model: Any  # the fitted estimator, trained on the training part


class Search:
    """Trains candidates one at a time inside the budget and keeps the leaderboard."""

    def __init__(
        self,
        *,
        experiment: Any,
        result: TrainingResult,
        budget: Budget,
        on_change: Callable[[str], None],
    ) -> None:
        self.exp, self.result, self.budget, self.on_change = experiment, result, budget, on_change
        self.folds = result.options.fold_count
        self.trained: dict[str, Trained] = {}

    def run_models(self, names: dict[str, str], until: float) -> None:
        """Cross-validates each model in order until the list or the budget ends; none starts
        after `until` seconds once one has finished (the later phases need the rest)."""
        for position, (model_id, name) in enumerate(names.items(), 1):
            if self.result.stopped_by_budget:
                return
            if self.trained and self.budget.elapsed() >= until:
                for later in list(names.values())[position - 1 :]:
                    self.result.skipped[later] = "not started: the rest of the budget is for tuning"
                return
            self.on_change(f"Training {name} ({position} of {len(names)} models)")
            self.add(model_id, name, partial(self._create, model_id))

    def add(self, model_id: str, name: str, fit: Callable[[], Any]) -> Trained | None:
        """Fits, scores and logs one candidate; None if it failed or the budget ended."""
        scored = self.score(name, fit, holdout=True)
        if scored is None:
            return None
        model, cv, holdout, seconds = scored
        row = LeaderboardRow(model_id=model_id, name=name, cv=cv, holdout=holdout, seconds=seconds)
        row.run_id, row.pipeline_sha256 = _log_child(row, model, self.pipeline_of(model))
        self.trained[model_id] = Trained(row=row, model=model)
        self.result.leaderboard.append(row)
        self.on_change(f"{name} scored")
        return self.trained[model_id]

    def score(
        self, name: str, fit: Callable[[], Any], *, holdout: bool
    ) -> tuple[Any, dict[str, float | None], dict[str, float | None], float] | None:
        """Runs `fit` (a PyCaret create/blend/stack call) under the time left; its scores."""
        # Until one model has finished there is nothing to keep time back for: the first
        # may run past the budget's end (the overrun is measured and shown) rather than fail.
        if self.trained:
            limit = self.budget.left() - self.reserve()
        else:
            limit = max(self.budget.left() - LOG_RESERVE_SECONDS, FIRST_MODEL_SECONDS)
        if limit < MIN_SLOT_SECONDS:
            self.stop()
            return None
        started = time.monotonic()
        try:
            with time_limit(limit):
                model = fit()
                cv = self.exp.pull().loc["Mean"].to_dict()
                scores = self._holdout(model) if holdout else {}
        except TimeLimitReached:
            log.info("%s stopped: the budget ran out", name)
            self.stop()
            return None
        except Exception as error:
            log.warning("%s failed", name, exc_info=True)
            self.result.skipped[name] = _reason(error)
            return None
        metrics = list(self.result_metrics())
        seconds = round(time.monotonic() - started, 2)
        return model, clean_scores(cv, metrics), clean_scores(scores, metrics), seconds

    def reserve(self) -> float:
        """Time kept back for refitting the current best model on all rows and logging it."""
        best = self.best()
        refit = best.row.seconds * FINALIZE_SHARE if best else 0.0
        return LOG_RESERVE_SECONDS + max(refit, MIN_SLOT_SECONDS)  # finalized() needs a slot

    def best(self, among: list[str] | None = None) -> Trained | None:
        """The best trained model by cross-validated score (of `among`, if given)."""
        ranked = [
            row.model_id
            for row in self.result.ranked()
            if row.model_id in self.trained and (among is None or row.model_id in among)
        ]
        return self.trained[ranked[0]] if ranked else None

    def stop(self) -> None:
        self.result.stopped_by_budget = True
        _stop_worker_processes()

    def result_metrics(self) -> dict[str, bool]:
        from services.automl.options import metrics_for

        return metrics_for(self.result.task)

    def better(self, score: float | None, than: float | None) -> bool:
        if score is None:
            return False
        if than is None:
            return True
        return score > than if self.result.greater_is_better else score < than

    def pipeline_of(self, model: Any) -> Any:
        """The experiment's fitted preprocessing with `model` at its end: what predicts."""
        pipeline = copy.deepcopy(self.exp.pipeline)
        pipeline.steps.append(("actual_estimator", model))
        return pipeline

    def _create(self, estimator: Any) -> Any:
        return self.exp.create_model(estimator, fold=self.folds, verbose=False)

    def _holdout(self, model: Any) -> dict[str, Any]:
        self.exp.predict_model(model, verbose=False)
        scores: dict[str, Any] = self.exp.pull().iloc[0].to_dict()
        return scores


def _log_child(row: LeaderboardRow, model: Any, pipeline: Any) -> tuple[str, str]:
    """The model's child run: its settings, scores and pipeline; the run id and file digest."""
    import mlflow

    from services.automl.tracking import log_candidate

    with mlflow.start_run(run_name=row.name, nested=True) as run:
        mlflow.set_tag("kaizen.model_id", row.model_id)
        mlflow.log_params(_params(model))
        metrics = {f"cv {k}": v for k, v in row.cv.items() if v is not None}
        metrics |= {f"holdout {k}": v for k, v in row.holdout.items() if v is not None}
        mlflow.log_metrics(metrics | {"seconds": row.seconds})
        digest = log_candidate(pipeline)
    return str(run.info.run_id), digest


def _params(model: Any) -> dict[str, str]:
    """The estimator's own settings, as short strings (nested estimators by class name)."""
    try:
        params = model.get_params(deep=False)
    except Exception:
        return {}
    return {k: _short(v) for k, v in list(params.items())[:100]}


def _short(value: Any) -> str:
    text = type(value).__name__ if hasattr(value, "get_params") else repr(value)
    return text[:500]


def _reason(error: Exception) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first[:200]}" if first else type(error).__name__


def _stop_worker_processes() -> None:
    """An interrupted cross-validation leaves joblib's worker processes busy: end them."""
    try:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=False, kill_workers=True)
    except Exception:
        log.warning("could not stop joblib's workers", exc_info=True)
