"""What a training will do, checked and said in plain language before it starts."""

import pandas as pd
from pydantic import BaseModel
from sqlmodel import Session

from services import datasets
from services.access import Action, Actor
from services.automl.options import Task, TrainingOptions, candidates, checked_metric
from services.automl.target import HOLDOUT_FRACTION, Prepared, prepare
from services.config import Settings
from services.models import Dataset

ONE_HOT_MAX = 25  # PyCaret's max_encoding_ohe: more distinct values get target encoding


class TrainingPlan(BaseModel):
    """The checked request: the task, the data used, the models and the steps, in words."""

    dataset_id: int
    project_id: int
    dataset_name: str
    dataset_version: int
    target: str
    task: Task
    task_inferred: bool
    rows: int
    train_rows: int
    holdout_rows: int
    features: list[str]
    excluded: dict[str, str]
    classes: dict[str, int]
    models: dict[str, str]
    folds: int
    metric: str
    budget_seconds: float
    steps: list[str]
    notes: list[str]


def plan_training(
    *, session: Session, settings: Settings, actor: Actor, options: TrainingOptions
) -> TrainingPlan:
    """Checks `options` against the dataset; the plan, or an InvalidInput saying what to fix."""
    dataset = datasets.visible_row(session, actor, options.dataset_id, Action.view)
    prepared = prepare(read_table(settings, dataset), dataset.column_infos, options)
    return describe(dataset, prepared, options)


def read_table(settings: Settings, dataset: Dataset) -> pd.DataFrame:
    """The stored table of a dataset version (timezone-aware times as UTC without a zone)."""
    frame = pd.read_parquet(datasets.parquet_path(settings, dataset))
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.DatetimeTZDtype):
            frame[name] = frame[name].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame


def describe(dataset: Dataset, prepared: Prepared, options: TrainingOptions) -> TrainingPlan:
    task = prepared.task
    holdout = round(len(prepared.frame) * HOLDOUT_FRACTION)
    assert dataset.id is not None
    return TrainingPlan(
        dataset_id=dataset.id,
        project_id=dataset.project_id,
        dataset_name=dataset.name,
        dataset_version=dataset.version,
        target=options.target,
        task=task,
        task_inferred=options.task is None,
        rows=len(prepared.frame),
        train_rows=len(prepared.frame) - holdout,
        holdout_rows=holdout,
        features=prepared.features,
        excluded=prepared.excluded,
        classes=prepared.classes,
        models=candidates(task, options),
        folds=options.fold_count,
        metric=checked_metric(task, options),
        budget_seconds=options.budget,
        steps=_steps(prepared, options, holdout),
        notes=prepared.notes,
    )


def _steps(prepared: Prepared, options: TrainingOptions, holdout: int) -> list[str]:
    features = prepared.frame[prepared.features]
    train = len(prepared.frame) - holdout
    split = "keeping each class's share in both parts" if prepared.task.is_classification else ""
    steps = [
        f"Hold back {holdout:,} rows (20%) to check the chosen model on rows it never saw; "
        f"train on the other {train:,}{', ' + split if split else ''}.",
        f"Score every model by {options.fold_count}-fold cross-validation on the training rows.",
    ]
    steps += _preprocessing(features)
    if options.fix_imbalance and prepared.task.is_classification:
        steps.append("Balance the classes by adding synthetic rows of the rarer ones (SMOTE).")
    if options.feature_selection:
        steps.append("Keep only the most useful features (PyCaret's feature selection).")
    spec = options.spec
    if spec.tune_top:
        steps.append(f"Tune the settings of the best {spec.tune_top} model(s) by random search.")
    if spec.ensemble:
        steps.append(
            "Blend and stack the top models; keep the ensemble only if it beats the best "
            "single model on the held-back rows."
        )
    steps.append(
        "Refit the chosen model on all rows, log it to MLflow and register it as a new "
        "version (no alias is set: promotion is an admin's decision)."
    )
    return steps


def _preprocessing(features: pd.DataFrame) -> list[str]:
    steps = []
    numbers = features.select_dtypes(include="number").columns
    dates = features.select_dtypes(include=["datetime"]).columns
    categories = [c for c in features.columns if c not in numbers and c not in dates]
    missing = [c for c in features.columns if features[c].isna().any()]
    if missing:
        steps.append(
            f"Fill missing values in {len(missing)} column(s): numbers with the column's "
            "mean, categories with the most frequent value."
        )
    if categories:
        wide = [c for c in categories if features[c].nunique() > ONE_HOT_MAX]
        text = f"Turn {len(categories)} category column(s) into numbers: one column per value"
        steps.append(
            text
            + (
                f"; {len(wide)} with more than {ONE_HOT_MAX} values by target encoding."
                if wide
                else "."
            )
        )
    if len(dates):
        steps.append(f"Split {len(dates)} date column(s) into year, month, day and weekday.")
    if len(numbers):
        steps.append(f"Rescale {len(numbers)} numeric column(s) to mean 0 and spread 1.")
    return steps
