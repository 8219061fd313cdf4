"""A trained pipeline seen from its model: the raw feature columns it takes, the numeric matrix
its preprocessing makes of them (as predict does), which raw feature each matrix column comes
from, and the labels of its classes."""

from typing import Any

import numpy as np
import pandas as pd

from services.errors import InvalidInput


def final_estimator(pipeline: Any) -> Any:
    """The model at the end of the pipeline (the pipeline itself if it has no steps)."""
    steps = getattr(pipeline, "steps", None)
    return steps[-1][1] if steps else pipeline


def _preprocessing(pipeline: Any) -> list[Any]:
    """The steps predict runs before the model: PyCaret skips its train-only steps (outlier
    removal, resampling of classes)."""
    steps = getattr(pipeline, "steps", None)
    if not steps:
        return []
    iterate = getattr(pipeline, "_iter", None)
    if iterate is not None:
        try:
            return [step for _, _, step in iterate(with_final=False)]
        except TypeError:  # a plain scikit-learn pipeline's _iter has other arguments
            pass
    return [step for _, step in steps[:-1] if step not in (None, "passthrough")]


def _apply(step: Any, X: pd.DataFrame) -> pd.DataFrame:
    out = step.transform(X)
    if isinstance(out, tuple):  # PyCaret's wrappers answer (X, y) for target-only steps
        out = out[0]
    if not isinstance(out, pd.DataFrame):
        out = np.asarray(out)
        names = (
            list(X.columns)
            if out.shape[1] == X.shape[1]
            else [f"x{i}" for i in range(out.shape[1])]
        )
        out = pd.DataFrame(out, index=X.index, columns=names)
    return out


def input_columns(pipeline: Any, target: str | None = None) -> list[str] | None:
    """The raw feature columns the pipeline was fitted on, if it says (PyCaret's list also
    holds the target: it is left out)."""
    names = getattr(pipeline, "feature_names_in_", None)
    if names is None:
        return None
    target = target or target_name(pipeline)
    return [str(n) for n in names if str(n) != target]


def target_name(pipeline: Any) -> str | None:
    """The target's column name, as PyCaret's preprocessing steps recorded it."""
    for _, step in getattr(pipeline, "steps", [])[:-1]:
        name = getattr(step, "target_name_", None)
        if name is not None:
            return str(name)
    return None


def checked_rows(pipeline: Any, frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """`frame` with exactly the pipeline's raw feature columns, in its order."""
    expected = input_columns(pipeline)
    if expected is None:
        return frame
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        named = ", ".join(f"'{c}'" for c in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise InvalidInput(f"The {what} lack the column(s) the model needs: {named}{more}.")
    return frame[expected]


def encode(pipeline: Any, X: pd.DataFrame) -> pd.DataFrame:
    """The model's numeric matrix for raw rows `X`, made as the pipeline's predict makes it."""
    for step in _preprocessing(pipeline):
        X = _apply(step, X)
    return X


def encode_traced(pipeline: Any, X: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """`encode(pipeline, X)`, and for each of its columns the raw feature it is made from.

    Followed step by step: a kept column keeps its source; new columns come from the
    encoder's own mapping when it has one (category_encoders' one-hot encoder), else from the
    consumed column whose name is their longest prefix (`payment_method_card` comes from
    `payment_method`, not from `payment`); a step that only renames (PyCaret cleans odd
    characters from names) maps by position. A column of unknown origin is its own source."""
    origin = {str(c): str(c) for c in X.columns}
    for step in _preprocessing(pipeline):
        before = [str(c) for c in X.columns]
        X = _apply(step, X)
        after = [str(c) for c in X.columns]
        origin = _follow(step, before, after, origin)
    return X, [origin[str(c)] for c in X.columns]


def _follow(
    step: Any, before: list[str], after: list[str], origin: dict[str, str]
) -> dict[str, str]:
    known = set(before)
    new = [c for c in after if c not in known]
    if not new:
        return {c: origin[c] for c in after}
    encoder_map = _encoder_mapping(step)
    if not encoder_map and len(after) == len(before):  # a step that only renames
        return {a: origin[b] for a, b in zip(after, before, strict=True)}
    consumed = [c for c in before if c not in set(after)]
    result = {c: origin[c] for c in after if c in known}
    for column in new:
        parent = encoder_map.get(column) or _longest_prefix(column, consumed or before)
        if parent is None and len(consumed) == 1:
            parent = consumed[0]
        result[column] = origin.get(parent, column) if parent else column
    return result


def _encoder_mapping(step: Any) -> dict[str, str]:
    """New column -> consumed column, from category_encoders' one-hot encoder's mapping."""
    encoder = getattr(step, "transformer", step)
    mapping = getattr(encoder, "mapping", None)
    result: dict[str, str] = {}
    if isinstance(mapping, list):
        for item in mapping:
            table = item.get("mapping") if isinstance(item, dict) else None
            if isinstance(table, pd.DataFrame) and "col" in item:
                result.update({str(c): str(item["col"]) for c in table.columns})
    return result


def _longest_prefix(column: str, candidates: list[str]) -> str | None:
    matches = [c for c in candidates if column.startswith(f"{c}_")]
    return max(matches, key=len) if matches else None


def class_labels(pipeline: Any) -> list[Any]:
    """The original labels of the model's classes, in the order of predict_proba's columns
    (PyCaret label-encodes the target; its label encoder step decodes the model's classes)."""
    encoded = np.asarray(final_estimator(pipeline).classes_)
    for _, step in getattr(pipeline, "steps", [])[:-1]:
        encoder = getattr(step, "transformer", step)
        if type(encoder).__name__ == "LabelEncoder" and hasattr(encoder, "classes_"):
            return list(encoder.inverse_transform(encoded).tolist())
    return list(encoded.tolist())
