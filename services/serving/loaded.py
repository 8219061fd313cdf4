"""The models a server holds in memory: each with its schema, request model and the frame it
builds from validated rows; predictions, warnings and explanations; and the set of models,
replaced as a whole in one reference swap (a reload never leaves a request half-served)."""

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from services.insights.encoded import final_estimator
from services.serving import fast
from services.serving.schema import ColumnSchema, ModelSchema, request_model

if TYPE_CHECKING:  # SHAP is imported only when a row is first explained
    from services.insights.row_explainer import RowExplainer

log = logging.getLogger("kaizen.serving")
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
    road: fast.Road | None = None  # the proven-equal array preprocessing, where there is one
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    examples: pd.DataFrame | None = None  # a few holdout rows' features: the demo's examples

    @property
    def name(self) -> str:
        return self.schema.name

    @property
    def version(self) -> int:
        return self.schema.version

    @cached_property
    def explainer(self) -> "RowExplainer":
        """SHAP's explainer of this model's rows, built when the first row is explained."""
        from services.insights.row_explainer import RowExplainer

        if self.background is None:
            raise ValueError("explaining needs the training rows")
        task = self.schema.task
        return RowExplainer(pipeline=self.pipeline, background=self.background, task=task)


def ready_model(
    schema: ModelSchema,
    pipeline: Any,
    *,
    digest: str,
    max_rows: int,
    unknown_columns: Literal["reject", "ignore"],
    alias: str | None = None,
    background: pd.DataFrame | None = None,
    sample: pd.DataFrame | None = None,
    examples: pd.DataFrame | None = None,
) -> LoadedModel:
    """A loaded pipeline, set to one thread, with its generated request model and, if it is
    proven equal on probing rows (`sample`: training rows to add to them), the fast road."""
    single_threaded(pipeline)
    body = request_model(schema, max_rows=max_rows, unknown_columns=unknown_columns)
    road = proven_road(pipeline, schema, sample)
    return LoadedModel(schema, pipeline, body, digest, alias, background, road, examples=examples)


def proven_road(pipeline: Any, schema: ModelSchema, sample: pd.DataFrame | None) -> Any:
    """The pipeline's preprocessing on plain arrays (services.serving.fast) if, on the probing
    rows, it gives the very values PyCaret's transform gives and the model predicts the same
    from them; else None (PyCaret's own transform then serves)."""
    road = fast.compile_road(pipeline)
    if road is None:
        return None
    probes = fast.probe_rows(schema, sample)
    records = [
        {str(k): None if v is None or v != v else v for k, v in r.items()}
        for r in probes.to_dict("records")
    ]
    columns = row_columns(schema, records)
    try:
        theirs, _ = pipeline._memory_full_transform(
            pipeline, frame_of(columns), None, with_final=False
        )
        road = replace(road, fortran=bool(np.asarray(theirs).flags.f_contiguous))
        ours = road.encode(columns)
        same = list(theirs.columns) == road.names and np.array_equal(
            ours.to_numpy(), theirs.to_numpy(np.float64), equal_nan=True
        )
        same = same and _same_answers(pipeline.steps[-1][1], ours, theirs)
    except Exception:  # any failure on the probes: not proven
        log.exception("the fast road of %s failed on the probing rows", schema.name)
        return None
    log.info("%s: fast road %s", schema.name, "proven" if same else "differs: not taken")
    return road if same else None


def _same_answers(estimator: Any, ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    if not np.array_equal(estimator.predict(ours), estimator.predict(theirs)):
        return False
    if hasattr(estimator, "predict_proba"):
        return np.array_equal(estimator.predict_proba(ours), estimator.predict_proba(theirs))
    return True


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


def row_columns(schema: ModelSchema, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The validated rows column by column, in the dtypes the pipeline was trained on; a left
    out optional column is missing (None)."""
    return {
        column.name: _series(column, [r.get(column.name) for r in rows])
        for column in schema.columns
    }


def frame_of(columns: dict[str, Any]) -> pd.DataFrame:
    """The pipeline's input frame from `row_columns` (in the schema's order already: naming
    the columns again makes pandas take four times longer)."""
    return pd.DataFrame(columns)


def rows_frame(schema: ModelSchema, rows: list[dict[str, Any]]) -> pd.DataFrame:
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
    # Missing text is NaN, as in the training frame: scikit-learn's imputer fills NaN, not None
    # (a None would reach the encoder, and a linear model would fail on it).
    return np.array([np.nan if v is None else v for v in values], dtype=object)


def _cast(array: np.ndarray, dtype: str) -> np.ndarray:
    """The training dtype when it holds the values exactly (int32, float32); else as is."""
    try:
        wanted = np.dtype(dtype)
    except TypeError:  # a pandas extension dtype (Int64, ...): numpy's own is fine
        return array
    if wanted.kind not in "iuf" or (wanted.kind in "iu" and array.dtype.kind == "f"):
        return array
    return array.astype(wanted, copy=False)


def predict(model: LoadedModel, columns: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """Predictions, and class probabilities for a classifier, of the rows as `row_columns`
    made them: as `pipeline.predict` and `predict_proba` answer, with the preprocessing run
    once for both (on the fast road when it is proven)."""
    pipeline, classifier = model.pipeline, model.schema.classes is not None
    transform = getattr(pipeline, "_memory_full_transform", None)
    if transform is None:  # not PyCaret's pipeline: its own methods
        frame = frame_of(columns)
        proba = pipeline.predict_proba(frame) if classifier else None
        return np.asarray(pipeline.predict(frame)), proba
    if model.road is not None:
        encoded = model.road.encode(columns)
    else:
        # PyCaret's predict and predict_proba each run this same transform; it is most of a
        # row's cost, so it runs once and feeds both (the same steps, the same values).
        encoded, _ = transform(pipeline, frame_of(columns), None, with_final=False)
    estimator = pipeline.steps[-1][1]
    probabilities = None
    if classifier and hasattr(estimator, "predict_proba"):
        probabilities = np.asarray(estimator.predict_proba(encoded), dtype=float)
    lightgbm = type(estimator).__name__ == "LGBMClassifier"
    if probabilities is not None and lightgbm and not callable(estimator.objective):
        # LGBMClassifier.predict is exactly this (the most probable class of predict_proba):
        # the trees are walked once instead of twice.
        codes = estimator.classes_[np.argmax(probabilities, axis=1)]
    else:
        codes = estimator.predict(encoded)
    return _labels(pipeline, codes), probabilities


def _labels(pipeline: Any, codes: Any) -> np.ndarray:
    """The model's codes as the target's labels: PyCaret's label encoder's classes, looked up
    as LabelEncoder.inverse_transform does (its pandas wrapping costs more than the lookup)."""
    for _, step in pipeline.steps[:-1]:
        encoder: Any = getattr(step, "transformer", None)
        if type(encoder).__name__ == "LabelEncoder":
            return np.asarray(encoder.classes_[np.asarray(codes, dtype=np.intp)])
    return np.asarray(pipeline.inverse_transform(codes))


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
    explained = []
    for position in range(len(frame)):
        explanation = model.explainer.explain(frame.iloc[[position]])
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
