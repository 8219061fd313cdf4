"""A served model's typed input: each column's kind, whether it may be missing, the values and
ranges seen in training, an example row; and the pydantic request model generated from it, so
FastAPI validates rows and /docs shows real field types.

Decisions: a category value never seen in training is not refused (the training sample shows
only part of the values, and PyCaret's encoders take unseen values): it passes to the pipeline
and the response warns. Numbers outside the training's 1st-99th percentile pass with a warning
too. Types are strict (a number is a JSON number, not a string), null is a missing value and
is allowed only in columns that had missing values in training (the pipeline imputes them);
NaN and infinities are refused."""

import math
from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, create_model
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from services.insights.encoded import class_labels, final_estimator, input_columns
from services.insights.features import MAX_CATEGORIES, FeatureInfo, describe_features

ColumnKind = Literal["number", "integer", "category", "boolean", "datetime", "text"]
TaskName = Literal["binary", "multiclass", "regression"]
Label = bool | int | float | str
Cell = bool | int | float | str | None
SHOWN_CATEGORIES = 10  # named in a column's description; the schema lists them all
# scikit-learn checks numbers as float32 (trees, imputers): a larger one is refused up front,
# as a 422, rather than failing inside the pipeline. Whole numbers must fit in int64.
LARGEST_NUMBER = 3.4028234663852886e38  # numpy.finfo(numpy.float32).max
INT64 = (-(2**63), 2**63 - 1)


class ColumnSchema(BaseModel):
    """One input column as the API takes it."""

    name: str
    kind: ColumnKind
    dtype: str  # the pandas dtype the pipeline was trained on: the frame is built with it
    required: bool  # False: null or absent is a missing value the pipeline imputes
    categories: list[str] = []  # category: the values seen in training, most frequent first
    minimum: float | None = None  # numbers: training's 1st percentile (below: a warning)
    maximum: float | None = None  # numbers: training's 99th percentile (above: a warning)
    lowest: float | None = None  # numbers: training's smallest value (the demo's slider range)
    highest: float | None = None  # numbers: training's largest value
    example: Cell = None  # a typical value: the median or the most frequent


class ModelSchema(BaseModel):
    """What a served model takes and answers."""

    name: str
    version: int
    task: TaskName
    target: str
    classes: list[Label] | None  # the labels predictions use, in probabilities' order
    columns: list[ColumnSchema]

    def example_row(self) -> dict[str, Cell]:
        """A typical row: each column's median or most frequent value."""
        return {c.name: c.example for c in self.columns}


def task_of(pipeline: Any) -> TaskName:
    """Regression, or classification with two or more classes, as the model says."""
    if not hasattr(final_estimator(pipeline), "classes_"):
        return "regression"
    return "binary" if len(class_labels(pipeline)) == 2 else "multiclass"


def build_schema(
    pipeline: Any,
    train_sample: pd.DataFrame,
    target: str,
    name: str,
    version: int,
    task: TaskName | None = None,
) -> ModelSchema:
    """The schema of `pipeline` from the training sample it was trained on (target included)."""
    features = input_columns(pipeline, target) or [
        str(c) for c in train_sample.columns if c != target
    ]
    frame = train_sample[features]
    described = describe_features(frame)
    task = task or task_of(pipeline)
    classes = None if task == "regression" else [_label(c) for c in class_labels(pipeline)]
    return ModelSchema(
        name=name,
        version=version,
        task=task,
        target=target,
        classes=classes,
        columns=[_column(info, frame[info.name]) for info in described],
    )


def _column(info: FeatureInfo, values: pd.Series) -> ColumnSchema:
    kind: ColumnKind = info.kind
    if kind == "integer" and not pd.api.types.is_integer_dtype(values):
        kind = "number"  # whole numbers in a float column: the pipeline takes any number
    distinct = values.dropna().astype(str).nunique() if kind == "category" else 0
    if kind == "category" and distinct > MAX_CATEGORIES:
        kind = "text"  # too many values to list: any text is taken
    column = ColumnSchema(
        name=info.name,
        kind=kind,
        dtype=str(values.dtype),
        required=info.missing_share == 0,
        categories=info.categories if kind == "category" else [],
    )
    if kind in ("number", "integer"):
        column.minimum, column.maximum = info.low, info.high
        column.lowest, column.highest = _extreme(values.min()), _extreme(values.max())
        if info.median is not None:
            column.example = (
                round(info.median) if kind == "integer" else _typical(info.median, values)
            )
    elif kind in ("category", "text"):
        column.example = info.categories[0] if info.categories else None
    elif kind == "boolean":
        present = values.dropna()
        column.example = bool(present.mode().iloc[0]) if len(present) else None
    else:
        present = pd.to_datetime(values.dropna())
        column.example = present.median().isoformat() if len(present) else None
    return column


def _typical(median: float, values: pd.Series) -> float:
    """The median as the column holds numbers: a float32 column's in its shortest digits
    (85.98, not 85.980003), as its values are shown."""
    return float(str(np.float32(median))) if values.dtype == np.float32 else median


def _extreme(value: Any) -> float | None:
    """A sample's min or max as a plain float (a float32's shortest digits: 80.4, not
    80.4000015258789); None when every value is missing."""
    if pd.isna(value):
        return None
    return float(str(value)) if isinstance(value, np.float32) else float(value)


def _label(value: Any) -> Label:
    if isinstance(value, bool | int | str):
        return value
    number = float(value)
    return int(number) if number.is_integer() else number


def request_model(
    schema: ModelSchema, *, max_rows: int, unknown_columns: Literal["reject", "ignore"]
) -> type[BaseModel]:
    """The body of a predict request, `{"rows": [...]}`; each row a typed dict of columns
    (dicts, not model instances: 10,000 rows validate in half the time)."""
    row = row_type(schema, unknown_columns=unknown_columns)
    example: dict[str, Any] = {"rows": [schema.example_row()]}
    rows = Annotated[list[row], Field(min_length=1, max_length=max_rows)]  # type: ignore[valid-type]
    return create_model(
        f"{_title(schema.name)}Request",
        __config__=ConfigDict(extra="forbid", json_schema_extra={"examples": [example]}),
        rows=(rows, ...),
    )


def row_type(schema: ModelSchema, *, unknown_columns: Literal["reject", "ignore"]) -> Any:
    """One row: a TypedDict keyed by the column names (which need not be identifiers)."""
    example: dict[str, Any] = schema.example_row()
    row: Any = TypedDict(  # type: ignore[misc]
        f"{_title(schema.name)}Row", {c.name: _field(c) for c in schema.columns}
    )
    row.__pydantic_config__ = ConfigDict(  # type: ignore[attr-defined]
        extra="forbid" if unknown_columns == "reject" else "ignore",
        json_schema_extra={"examples": [example]},
    )
    return row


def _field(column: ColumnSchema) -> Any:
    base = _TYPES[column.kind]
    constraints: dict[str, Any] = {"strict": column.kind != "datetime"}
    if column.kind == "number":
        constraints |= {"allow_inf_nan": False, "ge": -LARGEST_NUMBER, "le": LARGEST_NUMBER}
    elif column.kind == "integer":
        constraints |= {"ge": INT64[0], "le": INT64[1]}
    described: dict[str, Any] = {
        "description": _description(column),
        "examples": [column.example] if column.example is not None else None,
    }
    if column.required:
        return Annotated[base, Field(**constraints, **described)]
    # null or left out: a missing value the pipeline imputes
    return NotRequired[Annotated[Annotated[base, Field(**constraints)] | None, Field(**described)]]


_TYPES: dict[str, Any] = {
    "number": float,
    "integer": int,
    "category": str,
    "text": str,
    "boolean": bool,
    "datetime": datetime,
}


def _description(column: ColumnSchema) -> str:
    """The column in words: what is typical, what is only warned about, whether it may be null."""
    parts = []
    if column.minimum is not None and column.maximum is not None:
        parts.append(
            f"Typically {_number(column.minimum)} to {_number(column.maximum)} (training's "
            "1st to 99th percentile); a value outside is used, with a warning."
        )
    if column.categories:
        shown = ", ".join(column.categories[:SHOWN_CATEGORIES])
        more = len(column.categories) - SHOWN_CATEGORIES
        shown += f" and {more} more (see the model's schema)" if more > 0 else ""
        parts.append(f"Seen in training: {shown}. Another value is used, with a warning.")
    if not column.required:
        parts.append("May be null or left out: the model fills it in as in training.")
    return " ".join(parts) or f"A {column.kind} value."


def _number(value: float) -> str:
    return f"{value:,.6g}" if math.isfinite(value) else str(value)


def _title(name: str) -> str:
    """`default-cancer-target` as `DefaultCancerTarget`, for the OpenAPI component names."""
    words = "".join(ch if ch.isalnum() else " " for ch in name).split()
    return "".join(w[:1].upper() + w[1:] for w in words) or "Model"
