"""What a model's input columns look like in its training rows: the what-if form is built from
it, and typed values are read back into a row the pipeline accepts."""

import contextlib
import math
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel

from services.errors import InvalidInput

MAX_CATEGORIES = 50  # a dropdown longer than this is no help; others are typed
FeatureKind = Literal["number", "integer", "category", "boolean", "datetime"]


class FeatureInfo(BaseModel):
    """One input column: its kind, typical value and the values seen in training."""

    name: str
    kind: FeatureKind
    median: float | None = None
    low: float | None = None  # the 1st and 99th percentile: the slider's range
    high: float | None = None
    categories: list[str] = []  # the most frequent first
    missing_share: float = 0.0


def describe_features(frame: pd.DataFrame) -> list[FeatureInfo]:
    """The input columns of `frame` (the training sample's features)."""
    return [_describe(name, frame[name]) for name in frame.columns]


def _describe(name: str, values: pd.Series) -> FeatureInfo:
    missing = round(float(values.isna().mean()), 4) if len(values) else 0.0
    if pd.api.types.is_bool_dtype(values):
        return FeatureInfo(name=name, kind="boolean", missing_share=missing)
    if pd.api.types.is_datetime64_any_dtype(values):
        return FeatureInfo(name=name, kind="datetime", missing_share=missing)
    if pd.api.types.is_numeric_dtype(values):
        present: pd.Series = values.dropna().astype(float)
        whole = pd.api.types.is_integer_dtype(values) or bool((present % 1 == 0).all())
        return FeatureInfo(
            name=name,
            kind="integer" if whole else "number",
            median=_number(present.median()),
            low=_number(present.quantile(0.01)),
            high=_number(present.quantile(0.99)),
            missing_share=missing,
        )
    counts = values.dropna().astype(str).value_counts()
    return FeatureInfo(
        name=name,
        kind="category",
        categories=[str(c) for c in counts.index[:MAX_CATEGORIES]],
        missing_share=missing,
    )


def row_from_values(
    features: list[FeatureInfo], values: dict[str, Any], like: pd.DataFrame
) -> pd.DataFrame:
    """One row with the dtypes of `like` (the training sample) from typed values; a value
    that does not fit its column is refused naming the column."""
    row: dict[str, Any] = {}
    for feature in features:
        row[feature.name] = _parsed(feature, values.get(feature.name))
    frame = pd.DataFrame([row], columns=[f.name for f in features])
    for name in frame.columns:
        if name in like.columns and frame[name].notna().all():
            # A value that will not cast stays as typed: the pipeline's encoders take it.
            with contextlib.suppress(TypeError, ValueError):
                frame[name] = frame[name].astype(like[name].dtype)
    return frame


def _parsed(feature: FeatureInfo, value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None  # the pipeline imputes a missing value as it did in training
    try:
        if feature.kind in ("number", "integer"):
            number = float(str(value).replace(",", "")) if isinstance(value, str) else float(value)
            if not math.isfinite(number):
                raise ValueError
            return int(number) if feature.kind == "integer" and number % 1 == 0 else number
        if feature.kind == "boolean":
            return _boolean(value)
        if feature.kind == "datetime":
            return pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"'{value}' is not a valid value for {feature.name} ({feature.kind}). "
            "Type a value like the ones in the training data, or leave it empty."
        ) from None
    return str(value)


def _boolean(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise ValueError(text)


def _number(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) else round(number, 6)
