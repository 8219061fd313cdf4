"""PyCaret made fit for a job: its log kept out of the working directory, its setup run under
the budget, and the chosen model refit on all rows only when the budget affords it."""

import os
from pathlib import Path
from typing import Any

from services.automl.options import Task, TrainingOptions
from services.automl.search import LOG_RESERVE_SECONDS, MIN_SLOT_SECONDS, Budget, Search, Trained
from services.automl.target import HOLDOUT_FRACTION, Prepared
from services.errors import InvalidInput
from services.time_limit import TimeLimitReached, time_limit


def quiet_pycaret(log_path: Path) -> None:
    """Sends PyCaret's own log (made when it is imported) to the job's log, warnings only;
    by default it writes a DEBUG logs.log into the working directory."""
    os.environ["PYCARET_CUSTOM_LOGGING_PATH"] = str(log_path)
    os.environ["PYCARET_CUSTOM_LOGGING_LEVEL"] = "WARNING"


def set_up(prepared: Prepared, request: TrainingOptions, budget: Budget) -> Any:
    """PyCaret's experiment on the prepared rows: split, folds and preprocessing, as planned."""
    if prepared.task.is_classification:
        from pycaret.classification import ClassificationExperiment as Experiment
    else:
        from pycaret.regression import RegressionExperiment as Experiment
    experiment = Experiment()
    classes = prepared.task.is_classification
    # Only PyCaret's classification setup knows fix_imbalance.
    extra = {"fix_imbalance": request.fix_imbalance} if classes else {}
    try:
        with time_limit(budget.left() - LOG_RESERVE_SECONDS):
            experiment.setup(
                data=prepared.frame,
                target=request.target,
                train_size=1 - HOLDOUT_FRACTION,
                fold=request.fold_count,
                fold_strategy="stratifiedkfold" if classes else "kfold",
                fold_shuffle=True,
                data_split_stratify=classes,
                normalize=True,
                feature_selection=request.feature_selection,
                session_id=request.seed,
                n_jobs=-1,
                verbose=False,
                html=False,
                log_experiment=False,  # Kaizen logs its own runs (tracking.py)
                system_log=False,
                memory=False,
                **extra,
            )
    except TimeLimitReached:
        raise InvalidInput(
            f"The budget of {request.budget:.0f} seconds ended while preparing the data, before "
            "any model was trained. Give it more time, or train on a smaller version."
        ) from None
    if prepared.task is Task.multiclass:
        # PyCaret's AUC asks decision_function first, which is no probability for several
        # classes: sklearn refuses it and PyCaret records 0.0. Score probabilities instead.
        experiment.remove_metric("auc")
        experiment.add_metric("auc", "AUC", auc_one_vs_rest, target="pred_proba")
    return experiment


def auc_one_vs_rest(y_true: Any, probabilities: Any, **kwargs: Any) -> float:
    """AUC of several classes: each class against the rest, weighted by its share."""
    from sklearn.metrics import roc_auc_score

    return float(
        roc_auc_score(y_true, probabilities, multi_class="ovr", average="weighted", **kwargs)
    )


def finalized(search: Search, chosen: Trained) -> tuple[Any, bool]:
    """The chosen model refit on every row, or, if the budget cannot afford that, as trained."""
    limit = search.budget.left() - LOG_RESERVE_SECONDS
    if limit >= MIN_SLOT_SECONDS:
        try:
            with time_limit(limit):
                return search.exp.finalize_model(chosen.model), True
        except TimeLimitReached:
            search.stop()
    search.result.notes.append(
        "The budget left no time to refit the chosen model on all rows: it is kept as trained "
        f"on the training rows ({100 - round(HOLDOUT_FRACTION * 100)}%)."
    )
    return search.pipeline_of(chosen.model), False
