"""The models a server holds in memory: each with its schema, request model and the frame it
builds from validated rows; predictions, warnings and explanations; and the set of models,
replaced as a whole in one reference swap (a reload never leaves a request half-served)."""

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from services.insights.encoded import final_estimator
from services.serving.schema import ColumnSchema, ModelSchema, field_name, request_model

TOP_CONTRIBUTIONS = 5  # SHAP contributions per row with ?explain=true
WARNED_ROWS = 20  # row numbers named per warning; the count says how many there were


@dataclass(frozen=True)
class LoadedModel:
    """One served model, ready to answer."""

    schema: ModelSchema
    pipeline: Any
    body: type[BaseModel]  # the generated request model: {"rows": [row, ...]}
    digest: str  # the model file's SHA-256: a reload keeps a model whose file is unchanged
    alias: str | None = None  # the publication follows this alias on reload
    background: pd.DataFrame | None = None  # training rows' features: SHAP's baseline
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def name(self) -> str:
        return self.schema.name

    @property
    def version(self) -> int:
        return self.schema.version


def ready_model(
    schema: ModelSchema,
    pipeline: Any,
    *,
    digest: str,
    max_rows: int,
    unknown_columns: Literal["reject", "ignore"],
    alias: str | None = None,
    background: pd.DataFrame | None = None,
) -> LoadedModel:
    """A loaded pipeline, set to one thread, with its generated request model."""
    single_threaded(pipeline)
    body = request_model(schema, max_rows=max_rows, unknown_columns=unknown_columns)
    return LoadedModel(schema, pipeline, body, digest, alias, background)


def single_threaded(pipeline: Any) -> None:
    """Sets the model's n_jobs (and its members') to 1. A server answers many requests at once:
    a thread pool per prediction (LightGBM's OpenMP, joblib) only adds start-up and contention
    to a small request (measured: a LightGBM row 2-3x slower on a busy 2-core machine). The
    number of threads does not change a prediction."""
    estimator = final_estimator(pipeline)
    try:
        names = [n for n in estimator.get_params(deep=True) if n.split("__")[-1] == "n_jobs"]
        if names:
            estimator.set_params(**dict.fromkeys(names, 1))
    except (AttributeError, TypeError, ValueError):  # not a scikit-learn estimator: as it is
        return


def row_columns(schema: ModelSchema, rows: list[BaseModel]) -> dict[str, Any]:
    """The validated rows column by column, in the dtypes the pipeline was trained on."""
    values = [row.__dict__ for row in rows]
    return {
        column.name: _series(column, [v[field_name(i)] for v in values])
        for i, column in enumerate(schema.columns)
    }


def frame_of(columns: dict[str, Any]) -> pd.DataFrame:
    """The pipeline's input frame from `row_columns` (in the schema's order already: naming
    the columns again makes pandas take four times longer)."""
    return pd.DataFrame(columns)


def rows_frame(schema: ModelSchema, rows: list[BaseModel]) -> pd.DataFrame:
    """The validated rows as the frame the pipeline was trained on."""
    return frame_of(row_columns(schema, rows))


def _series(column: ColumnSchema, values: list[Any]) -> Any:
    if column.kind == "datetime":
        stamps = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
        return stamps.dt.tz_convert(None)  # training's timestamps are naive: compare in UTC
    missing = any(v is None for v in values)
    if column.kind in ("number", "integer"):
        whole = column.kind == "integer" and not missing
        array = np.array(values, dtype=np.int64 if whole else np.float64)
        return _cast(array, column.dtype)
    if column.kind == "boolean" and not missing:
        return np.array(values, dtype=bool)
    return np.array(values, dtype=object)  # text keeps None: the pipeline's imputer fills it


def _cast(array: np.ndarray, dtype: str) -> np.ndarray:
    """The training dtype when it holds the values exactly (int32, float32); else as is."""
    try:
        wanted = np.dtype(dtype)
    except TypeError:  # a pandas extension dtype (Int64, ...): numpy's own is fine
        return array
    if wanted.kind not in "iuf" or (wanted.kind in "iu" and array.dtype.kind == "f"):
        return array
    return array.astype(wanted, copy=False)


def predict(model: LoadedModel, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
    """Predictions, and class probabilities for a classifier: as `pipeline.predict` and
    `predict_proba` answer, with the preprocessing run once for both."""
    pipeline, classifier = model.pipeline, model.schema.classes is not None
    transform = getattr(pipeline, "_memory_full_transform", None)
    if transform is None:  # not PyCaret's pipeline: its own methods
        proba = pipeline.predict_proba(frame) if classifier else None
        return np.asarray(pipeline.predict(frame)), proba
    # PyCaret's predict and predict_proba each run this same transform; the preprocessing is
    # most of a row's cost, so it runs once and feeds both (the same steps, the same values).
    encoded, _ = transform(pipeline, frame, None, with_final=False)
    estimator = pipeline.steps[-1][1]
    predictions = np.asarray(pipeline.inverse_transform(estimator.predict(encoded)))
    probabilities = None
    if classifier and hasattr(estimator, "predict_proba"):
        probabilities = np.asarray(estimator.predict_proba(encoded), dtype=float)
    return predictions, probabilities


def warnings(schema: ModelSchema, columns: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Values the model takes but did not see in training: out-of-range numbers, unseen
    categories; one warning per column and problem, naming the first rows. `columns` is the
    frame, or `row_columns` (plain arrays: no pandas work per request)."""
    found: list[dict[str, Any]] = []
    for column in schema.columns:
        values = np.asarray(columns[column.name])
        if column.kind in ("number", "integer") and column.minimum is not None:
            high = column.maximum if column.maximum is not None else np.inf
            found += _warning(
                column.name,
                values < column.minimum,
                f"below the training range ({column.minimum:g})",
            )
            found += _warning(column.name, values > high, f"above the training range ({high:g})")
        elif column.kind == "category" and column.categories:
            seen = set(column.categories)
            unseen = [v is not None and v == v and v not in seen for v in values.tolist()]
            found += _warning(column.name, np.asarray(unseen), "a value not seen in training")
    return found


def _warning(column: str, flagged: np.ndarray, problem: str) -> list[dict[str, Any]]:
    rows = np.flatnonzero(flagged)
    if not len(rows):
        return []
    return [
        {
            "column": column,
            "problem": f"{problem} in {len(rows):,} row(s); the prediction may be less reliable",
            "rows": rows[:WARNED_ROWS].tolist(),
        }
    ]


def explain(model: LoadedModel, frame: pd.DataFrame, predictions: np.ndarray) -> list[Any]:
    """Per row, the top SHAP contributions (name, value, contribution) to what it predicts:
    the positive class of a binary model, the predicted class of several, or the value."""
    from services.insights.shap_values import explain_row

    if model.background is None:
        raise ValueError("explain needs the training rows")
    explained = []
    for position in range(len(frame)):
        explanation = explain_row(
            pipeline=model.pipeline,
            row=frame.iloc[[position]],
            background=model.background,
            task=model.schema.task,
        )
        output = explanation.outputs[0]
        if model.schema.task == "multiclass":
            output = str(predictions[position])
        explained.append(
            [
                {"name": name, "value": value, "contribution": contribution}
                for name, value, contribution in explanation.contributions(output, 0)
            ][:TOP_CONTRIBUTIONS]
        )
    return explained


@dataclass(frozen=True)
class Served:
    """The models being served and those that failed to load, as of one load."""

    loaded: dict[str, LoadedModel] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # name -> why it is not loaded


class Models:
    """What a server serves now, replaced as a whole."""

    def __init__(self) -> None:
        self.state = Served()
        self.reloading = threading.Lock()  # one reload at a time; requests never wait on it

    def replace(self, loaded: dict[str, LoadedModel], failed: dict[str, str]) -> None:
        """The new set in one reference swap: a request sees the old or the new, never a mix."""
        self.state = Served(dict(loaded), dict(failed))
