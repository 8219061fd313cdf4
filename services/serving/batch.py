"""Batch scoring of a CSV or Parquet file with a registered model (`kaizen predict`, the Publish
page's "score a file"): the input's columns plus `prediction` and, for classifiers, one
`proba_<class>` per class; CSV written so a spreadsheet never runs a cell as a formula."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlmodel import Session

from services.access import Action, Actor, require
from services.audit import safe_cell
from services.automl import tracking
from services.config import Settings
from services.errors import InvalidInput
from services.insights.encoded import checked_rows, class_labels, final_estimator
from services.serving.assemble import choose_version

CSV_SUFFIXES = {".csv", ".txt"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
PREDICTION = "prediction"


@dataclass(frozen=True)
class Scored:
    """What a batch scoring wrote."""

    name: str
    version: int
    rows: int
    output: Path


def score_file(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    name: str,
    source: Path,
    output: Path,
    version: int | None = None,
    alias: str | None = None,
) -> Scored:
    """Scores every row of `source` with `version` of `name` (or its `alias`, or its newest
    version) and writes `output`; the model is loaded only after its digest matches."""
    require(session, actor, Action.view_models)
    chosen = choose_version(
        session=session, settings=settings, actor=actor, name=name, version=version, alias=alias
    )
    writer = _writer(output)
    frame = read_table(source)
    pipeline = tracking.load_pipeline(settings, chosen.source, chosen.sha256 or "")
    scored = score_frame(pipeline, frame)
    output.parent.mkdir(parents=True, exist_ok=True)
    writer(scored, output)
    return Scored(name=chosen.name, version=chosen.version, rows=len(scored), output=output)


def score_frame(pipeline: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with the model's prediction and, for a classifier, each class's probability."""
    taken = [c for c in frame.columns if c == PREDICTION or str(c).startswith("proba_")]
    if taken:
        raise InvalidInput(
            f"The input already has column(s) {', '.join(map(str, taken[:5]))}, which the "
            "scores are written to; rename them first."
        )
    rows = checked_rows(pipeline, frame, "input rows")
    scored = frame.copy()
    scored[PREDICTION] = _values(pipeline.predict(rows))
    if hasattr(final_estimator(pipeline), "classes_"):
        probabilities = pipeline.predict_proba(rows)
        for index, label in enumerate(class_labels(pipeline)):
            scored[f"proba_{label}"] = probabilities[:, index]
    return scored


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file as a frame."""
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES | PARQUET_SUFFIXES:
        raise InvalidInput(f"Score a CSV or Parquet file; {path.name} is neither.")
    if not path.is_file():
        raise InvalidInput(f"There is no file at {path}.")
    try:
        if suffix in PARQUET_SUFFIXES:
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (ValueError, OSError, UnicodeDecodeError) as error:
        detail = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise InvalidInput(f"{path.name} could not be read as a table ({detail}).") from None


def safe_csv(frame: pd.DataFrame, path: Path) -> None:
    """Writes `frame` as CSV; text cells and names that start like a formula are quoted."""
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            safe[column] = values.map(lambda v: v if _missing(v) else safe_cell(v))
    safe.columns = [safe_cell(c) for c in safe.columns]
    safe.to_csv(path, index=False)


def _writer(output: Path) -> Any:
    suffix = output.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return safe_csv
    if suffix in PARQUET_SUFFIXES:
        return lambda frame, path: frame.to_parquet(path, index=False)
    raise InvalidInput(f"Write the scores to a .csv or .parquet file, not {output.name}.")


def _values(predictions: Any) -> Any:
    """Predictions as a plain array (PyCaret answers a Series indexed like its input)."""
    return predictions.to_numpy() if hasattr(predictions, "to_numpy") else predictions


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array in a cell
        return False
