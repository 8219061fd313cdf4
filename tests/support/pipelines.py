"""Small real PyCaret pipelines for the explanation tests, built as the training job builds them:
PyCaret's setup with the product's preprocessing (imputation, one-hot encoding of small
categoricals, target encoding of large ones, normalization), a model, and the model appended
to a copy of the preprocessing pipeline (services/automl/experiment.finalized).

Each experiment and model is built once per test session (setup costs seconds)."""

import copy
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

TaskName = Literal["binary", "multiclass", "regression"]
TARGETS: dict[TaskName, str] = {"binary": "churn", "multiclass": "plan", "regression": "spend"}
ROWS = 360
SEED = 42
REGIONS = [f"region_{n:02d}" for n in range(30)]  # > 25 values: target-encoded, not one-hot

# PyCaret model id, or an ensemble of the tree, linear and forest models.
Model = Literal["lightgbm", "rf", "lr", "lasso", "knn", "ada", "blend", "stack"]


@dataclass(frozen=True)
class Built:
    """A trained pipeline on the raw feature columns, and the rows it was set up with."""

    task: TaskName
    model: str
    pipeline: Any
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    target: str


def customers(rows: int = ROWS, seed: int = SEED) -> pd.DataFrame:
    """A telecom-customer table: numbers (one with gaps), two one-hot categoricals whose names
    and values have underscores (and a numeric column `payment` that is a prefix of
    `payment_method`), a 30-valued region, and three targets (churn, plan, spend)."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows).astype(float)
    charges = rng.normal(70, 20, rows).clip(18, 120).round(2)
    contract = rng.choice(["month_to_month", "one_year", "two_year"], rows, p=[0.5, 0.3, 0.2])
    method = rng.choice(["card", "bank_transfer", "e_check", "mailed_check"], rows)
    region = rng.choice(REGIONS, rows)
    senior = rng.integers(0, 2, rows)
    payment = (charges * rng.uniform(0.8, 1.2, rows)).round(2)
    region_effect = {r: rng.normal(0, 0.6) for r in REGIONS}
    logit = (
        -0.05 * tenure
        + 0.03 * (charges - 70)
        + 1.4 * (contract == "month_to_month")
        + 0.7 * (method == "e_check")
        + np.array([region_effect[r] for r in region])
        + 0.4 * senior
    )
    churn = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "yes", "no")
    score = charges / 20 + 0.8 * (contract == "two_year") + rng.normal(0, 0.8, rows)
    plan = np.select([score < 3.2, score < 4.2], ["basic", "plus"], "premium")
    spend = charges * tenure / 10 + 40 * (contract == "two_year") + rng.normal(0, 15, rows)
    frame = pd.DataFrame(
        {
            "tenure": tenure,
            "monthly_charges": charges,
            "contract": contract,
            "payment": payment,
            "payment_method": method,
            "region": region,
            "senior": senior,
            "churn": churn,
            "plan": plan,
            "spend": spend.round(2),
        }
    )
    frame.loc[rng.choice(rows, rows // 20, replace=False), "monthly_charges"] = np.nan
    return frame


@cache
def experiment(task: TaskName, feature_selection: bool = False) -> Any:
    """PyCaret's experiment on the customers table, set up as services/automl/experiment does
    (with 2 folds and 1 process: fast)."""
    _quiet_pycaret()
    target = TARGETS[task]
    others = [t for t in TARGETS.values() if t != target]
    data = customers().drop(columns=others)
    classes = task != "regression"
    if classes:
        from pycaret.classification import ClassificationExperiment as Experiment
    else:
        from pycaret.regression import RegressionExperiment as Experiment
    exp = Experiment()
    exp.setup(
        data=data,
        target=target,
        train_size=0.8,
        fold=2,
        fold_strategy="stratifiedkfold" if classes else "kfold",
        fold_shuffle=True,
        data_split_stratify=classes,
        normalize=True,
        feature_selection=feature_selection,
        n_features_to_select=0.5,
        session_id=SEED,
        n_jobs=1,
        verbose=False,
        html=False,
        log_experiment=False,
        system_log=False,
        memory=False,
        **({"fix_imbalance": False} if classes else {}),
    )
    if task == "multiclass":  # as services/automl/experiment.set_up: AUC on probabilities
        from services.automl.experiment import auc_one_vs_rest

        exp.remove_metric("auc")
        exp.add_metric("auc", "AUC", auc_one_vs_rest, target="pred_proba")
    return exp


@cache
def built(task: TaskName, model: Model, feature_selection: bool = False) -> Built:
    """`model` trained on the experiment's training rows, as a full pipeline."""
    exp = experiment(task, feature_selection)
    if model in ("blend", "stack"):
        members = [_create(exp, name, task) for name in ("lr", "rf", "lightgbm")]
        if model == "blend":
            estimator = exp.blend_models(members, fold=2, verbose=False)
        else:
            estimator = exp.stack_models(members, fold=2, meta_model_fold=3, verbose=False)
    else:
        estimator = _create(exp, model, task)
    pipeline = copy.deepcopy(exp.pipeline)
    pipeline.steps.append(("actual_estimator", estimator))
    return Built(
        task=task,
        model=model,
        pipeline=pipeline,
        X_train=exp.X_train.copy(),
        X_test=exp.X_test.copy(),
        target=TARGETS[task],
    )


@cache
def _create(exp: Any, model: str, task: TaskName) -> Any:
    small = {
        "lightgbm": {"n_estimators": 40, "num_leaves": 15},
        "rf": {"n_estimators": 25, "max_depth": 8},
        "ada": {"n_estimators": 20},
    }.get(model, {})
    return exp.create_model(model, cross_validation=False, verbose=False, **small)


def _quiet_pycaret() -> None:
    """PyCaret's own log to a temporary file, not logs.log in the working directory."""
    if "PYCARET_CUSTOM_LOGGING_PATH" not in os.environ:
        log = Path(tempfile.gettempdir()) / "kaizen-tests-pycaret.log"
        os.environ["PYCARET_CUSTOM_LOGGING_PATH"] = str(log)
        os.environ["PYCARET_CUSTOM_LOGGING_LEVEL"] = "WARNING"


def hand_made(estimator: Any, frame: pd.DataFrame, target: str) -> Any:
    """A PyCaret pipeline put together without setup (milliseconds, for unit tests): mean
    imputation of numbers, one-hot encoding of text columns (category_encoders, as PyCaret
    does), PyCaret's cleaning of odd characters from column names, standard scaling, and
    `estimator`; fitted on `frame`."""
    _quiet_pycaret()
    from category_encoders.one_hot import OneHotEncoder
    from pycaret.internal.pipeline import Pipeline
    from pycaret.internal.preprocess.transformers import CleanColumnNames, TransformerWrapper
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    X, y = frame.drop(columns=target), frame[target]
    numbers = list(X.select_dtypes("number").columns)
    texts = [c for c in X.columns if c not in numbers]
    encoder = OneHotEncoder(cols=texts, use_cat_names=True, handle_missing="return_nan")
    steps = [
        ("numerical_imputer", TransformerWrapper(SimpleImputer(), include=numbers)),
        ("onehot_encoding", TransformerWrapper(encoder, include=texts)),
        ("clean_column_names", TransformerWrapper(CleanColumnNames())),
        ("normalize", TransformerWrapper(StandardScaler())),
        ("actual_estimator", estimator),
    ]
    return Pipeline(steps).fit(X, y)
