"""The result of a SHAP explanation: the values of some rows in their raw features, JSON-ready,
with what was done to get them, and the readings the pages and the API take from it."""

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from services.errors import InvalidInput
from services.insights.explainers import Kind, OutputKind, TaskName

Cell = float | int | str | bool | None

VALUE_DIGITS, DATA_DIGITS = 5, 7  # significant digits kept


class ShapExplanation(BaseModel):
    """SHAP values of some rows, in the raw features, with what was done to get them."""

    explainer: Kind
    explainer_label: str  # in words, e.g. "TreeExplainer, interventional, probability of 'yes'"
    estimator: str  # the model's class, e.g. "LGBMClassifier"
    task: TaskName
    output_kind: OutputKind
    outputs: list[str]  # the explained outputs: class labels, or the target's name
    positive_class: str | None = None  # binary only: the class whose chance is explained
    target: str | None = None
    features: list[str]  # the raw feature columns
    base_values: list[float]  # per output: the average output over the background rows
    values: list[list[list[float]]]  # per output: rows x features
    data: list[list[Cell]]  # the explained rows' raw values: rows x features
    row_positions: list[int]  # where each explained row is in the `rows` given (0-based)
    sample_rows: int  # rows explained
    background_rows: int
    sampled_from: int  # rows there were to explain
    seconds: float
    stopped_early: bool = False  # the time limit ended it before every sampled row was done
    notes: list[str] = []

    def output_index(self, output: str) -> int:
        if output not in self.outputs:
            raise InvalidInput(f"'{output}' is not explained; choose from {self.outputs}.")
        return self.outputs.index(output)

    def mean_abs(self, output: str) -> list[tuple[str, float]]:
        """Mean |SHAP value| of each feature, largest first."""
        table = np.abs(np.asarray(self.values[self.output_index(output)], dtype=float))
        means = table.mean(axis=0) if len(table) else np.zeros(len(self.features))
        pairs = [(name, rounded(float(m))) for name, m in zip(self.features, means, strict=True)]
        return sorted(pairs, key=lambda pair: -pair[1])

    def space(self, output: str) -> str:
        """What the values of `output` move, in words: "probability of 'yes'"."""
        if self.output_kind == "probability":
            return f"probability of '{output}'"
        if self.output_kind == "log-odds":
            return f"log-odds of '{output}'"
        return f"predicted {output}"

    def prediction(self, output: str, row: int) -> float:
        """The explained output for `row`: base value + the sum of its SHAP values."""
        index = self.output_index(output)
        return float(self.base_values[index] + sum(self.values[index][row]))

    def contributions(self, output: str, row: int) -> list[tuple[str, Cell, float]]:
        """(feature, its value, its SHAP value) of `row`, the largest |SHAP value| first."""
        shap_row = self.values[self.output_index(output)][row]
        triples = zip(self.features, self.data[row], shap_row, strict=True)
        return sorted(triples, key=lambda t: -abs(t[2]))


def rounded(value: float, digits: int = VALUE_DIGITS) -> float:
    """`value` to `digits` significant digits; 0 for a value that is not finite."""
    value = float(value)
    if not math.isfinite(value):
        return 0.0
    return float(f"{value:.{digits}g}")


def cells(frame: pd.DataFrame, features: list[str]) -> list[list[Cell]]:
    """The raw values of `frame`'s rows under `features`, JSON-ready."""
    present = [c for c in features if c in frame.columns]
    table = [[cell(v) for v in row] for row in frame[present].itertuples(index=False)]
    missing = len(features) - len(present)  # features of unknown origin: no raw value
    return [row + [None] * missing for row in table]


def cell(value: Any) -> Cell:
    """One raw value, JSON-ready: missing as None, numbers rounded, dates as ISO text."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return rounded(float(value), DATA_DIGITS)
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    return str(value)
