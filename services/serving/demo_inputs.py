"""The demo's input components, one per column of a served model's schema, and its example rows
(a few holdout rows) in the values those components take."""

import math
import os
from typing import Any

import numpy as np
import pandas as pd

from services.insights.reasons import number
from services.serving.loaded import LoadedModel
from services.serving.schema import ColumnSchema

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no internet: no usage pings
import gradio as gr

MISSING = "Leave empty if unknown (missing is allowed)."
DATE, DATE_TIME = "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"  # what gr.DateTime(type="string") hands over
SHOWN_CATEGORIES = 3  # named in a dropdown's info
BOOLEANS = ["True", "False"]  # an optional boolean's choices (a checkbox cannot be missing)


def demo_inputs(model: LoadedModel) -> list[gr.components.Component]:
    """One input per schema column, in schema order, set to the column's typical value."""
    return [_input(model, column) for column in model.schema.columns]


def _input(model: LoadedModel, column: ColumnSchema) -> gr.components.Component:
    if column.kind in ("number", "integer"):
        return _numeric(column, _seen(model.examples, column))
    if column.kind == "category":
        return gr.Dropdown(
            choices=list(column.categories),
            value=column.example,
            label=column.name,
            info=_category_info(column),
            # A holdout example or a caller may bring a value training never saw: the API takes
            # it (with a warning), so the demo does too.
            allow_custom_value=True,
        )
    if column.kind == "boolean":
        return _boolean(column)
    if column.kind == "datetime":
        timed = has_time(model, column)
        info = f"{'A date and time' if timed else 'A date'}: {_pattern(timed)}."
        return gr.DateTime(
            value=_stamp(column.example, timed),
            include_time=timed,
            type="string",
            label=column.name,
            info=info if column.required else f"{info} {MISSING}",
        )
    info = f"Any text, e.g. '{column.example}'." if column.example is not None else "Any text."
    return gr.Textbox(
        value=None if column.example is None else str(column.example),
        label=column.name,
        info=info if column.required else f"{info} {MISSING}",
    )


def _numeric(column: ColumnSchema, seen: pd.Series) -> gr.components.Component:
    """A slider over the training range (widened to the examples: a slider refuses a value
    outside it); a number box when the value may be missing or the range is unknown."""
    typical = _typical(column)
    bounds = slider_range(column, seen)
    if not column.required or bounds is None:
        info = typical if column.required else f"{typical} {MISSING}".strip()
        return gr.Number(value=_number_value(column), label=column.name, info=info or None)
    low, high = bounds
    return gr.Slider(
        minimum=low,
        maximum=high,
        value=_number_value(column),
        step=1 if column.kind == "integer" else None,
        label=column.name,
        info=typical or None,
    )


def _number_value(column: ColumnSchema) -> float | None:
    example = column.example
    return example if isinstance(example, int | float) and not isinstance(example, bool) else None


def slider_range(column: ColumnSchema, seen: pd.Series) -> tuple[float, float] | None:
    """Training's smallest to largest value (or, from an older schema, the 1st to 99th
    percentile), widened to take `seen` (the examples' values) and the typical value."""
    low = column.lowest if column.lowest is not None else column.minimum
    high = column.highest if column.highest is not None else column.maximum
    if low is None or high is None:
        return None
    values = [float(v) for v in seen.tolist()]
    if isinstance(column.example, int | float):
        values.append(float(column.example))
    low, high = min([low, *values]), max([high, *values])
    if column.kind == "integer":
        low, high = float(math.floor(low)), float(math.ceil(high))
    return (low, high) if high > low else (low, low + 1)  # a slider needs a range


def _typical(column: ColumnSchema) -> str:
    if column.minimum is None or column.maximum is None:
        return ""
    return f"Typically {number(column.minimum)} to {number(column.maximum)}."


def _category_info(column: ColumnSchema) -> str:
    shown = ", ".join(column.categories[:SHOWN_CATEGORIES])
    more = len(column.categories) - SHOWN_CATEGORIES
    info = f"Seen in training: {shown}" + (f" and {more} more." if more > 0 else ".")
    return info if column.required else f"{info} {MISSING}"


def _boolean(column: ColumnSchema) -> gr.components.Component:
    if column.required:
        return gr.Checkbox(value=bool(column.example), label=column.name, info="Ticked: true.")
    example = None if column.example is None else str(bool(column.example))
    return gr.Dropdown(choices=BOOLEANS, value=example, label=column.name, info=MISSING)


def has_time(model: LoadedModel, column: ColumnSchema) -> bool:
    """False when every training value of the column (the background rows, else the typical
    value) is at midnight: the demo then asks for a date only."""
    frames = [f for f in (model.background, model.examples) if f is not None]
    values = [f[column.name] for f in frames if column.name in f.columns]
    stamps = pd.DatetimeIndex(pd.concat(values).dropna() if values else [])
    if not len(stamps) and column.example is not None:
        stamps = pd.DatetimeIndex([pd.Timestamp(str(column.example))])
    return bool((stamps != stamps.normalize()).any()) if len(stamps) else True


def _pattern(timed: bool) -> str:
    return "YYYY-MM-DD HH:MM:SS" if timed else "YYYY-MM-DD"


def _stamp(value: Any, timed: bool) -> str | None:
    """A date or date-time value as the DateTime input shows and hands it over."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(pd.Timestamp(value).strftime(DATE_TIME if timed else DATE))


def _seen(examples: pd.DataFrame | None, column: ColumnSchema) -> pd.Series:
    if examples is None or column.name not in examples.columns:
        return pd.Series([], dtype=float)
    values = pd.to_numeric(examples[column.name], errors="coerce").dropna()
    return pd.Series([shortest(v, column.dtype) for v in values.tolist()], dtype=float)


def shortest(value: float, dtype: str) -> float:
    """A float32 column's value in its shortest digits (62.4, not 62.400001525878906): the
    same float32 when the row is cast to the training dtype, and readable in the examples."""
    return float(str(np.float32(value))) if dtype == "float32" else float(value)


def demo_examples(model: LoadedModel) -> list[list[Any]]:
    """The example rows (model.examples) as the inputs take them: a missing value as None,
    timestamps as the DateTime's text, numpy scalars as Python values."""
    if model.examples is None or model.examples.empty:
        return []
    columns = model.schema.columns
    timed = {c.name: has_time(model, c) for c in columns if c.kind == "datetime"}
    return [
        [_example_value(c, record.get(c.name), timed.get(c.name, False)) for c in columns]
        for record in model.examples.to_dict("records")
    ]


def _example_value(column: ColumnSchema, value: Any, timed: bool) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if column.kind == "datetime":
        return _stamp(value, timed)
    if column.kind in ("number", "integer") and isinstance(value, int | float):
        amount = shortest(value, column.dtype)
        return int(amount) if column.kind == "integer" and amount.is_integer() else amount
    if column.kind == "boolean":
        return bool(value) if column.required else str(bool(value))
    return str(value)
