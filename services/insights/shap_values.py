"""SHAP explanations of a trained pipeline in its raw features, for every kind of model, inside a
time budget: which explainer (services/insights/explainers.py), how many rows and background
rows, and a compact, JSON-ready result the Models page, the job and the CLI share.

The explained output: binary -> the positive class, defined once as the second class in the
model's class order (PyCaret sorts the encoded labels: 'yes' over 'no', 1 over 0, True over
False); several classes -> every class; regression -> the prediction. Its space is recorded
honestly in `output_kind`: "probability", "log-odds" or "value"."""

import math
import signal
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from services.errors import InvalidInput
from services.insights.encoded import (
    checked_rows,
    class_labels,
    encode,
    encode_traced,
    final_estimator,
    target_name,
)
from services.insights.explainers import Choice, Kind, OutputKind, Problem, Runner, choose
from services.time_limit import TimeLimitReached, time_limit

TaskName = Literal["binary", "multiclass", "regression"]
Cell = float | int | str | bool | None

DEFAULT_MAX_ROWS = 1000  # explained rows of a global explanation, at most
DEFAULT_BACKGROUND_ROWS = 100  # background (baseline) rows, a random sample
DEFAULT_TIME_LIMIT_SECONDS = 25.0  # what a global explanation gets by default (goal: < 30 s)
ROW_BACKGROUND_ROWS = 50  # explain_row of a model-agnostic explainer: a quick answer
MIN_BACKGROUND_ROWS = 20  # the budget may shrink the background this far...
MIN_GLOBAL_ROWS = 50  # ...rather than explain fewer rows than this
PROBE_ROWS = {"tree": 10, "linear": 100_000, "permutation": 1}  # the first chunk, timed
CHUNK_SECONDS = 2.0  # later chunks take about this long, so the clock is read often
SAFETY = 0.9  # plan to use this share of the time left
FINISH_SECONDS, FINISH_SHARE = 0.2, 0.02  # kept back from the limit for the final assembly
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
        pairs = [(name, _round(float(m))) for name, m in zip(self.features, means, strict=True)]
        return sorted(pairs, key=lambda pair: -pair[1])

    def prediction(self, output: str, row: int) -> float:
        """The explained output for `row`: base value + the sum of its SHAP values."""
        index = self.output_index(output)
        return float(self.base_values[index] + sum(self.values[index][row]))

    def contributions(self, output: str, row: int) -> list[tuple[str, Cell, float]]:
        """(feature, its value, its SHAP value) of `row`, the largest |SHAP value| first."""
        shap_row = self.values[self.output_index(output)][row]
        triples = zip(self.features, self.data[row], shap_row, strict=True)
        return sorted(triples, key=lambda t: -abs(t[2]))


def explain(
    *,
    pipeline: Any,
    rows: pd.DataFrame,
    background: pd.DataFrame,
    task: TaskName,
    time_limit_seconds: float | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_background: int = DEFAULT_BACKGROUND_ROWS,
    seed: int = 0,
) -> ShapExplanation:
    """SHAP values of (a random sample of at most `max_rows` of) `rows` against a random sample
    of at most `max_background` background rows; both are raw feature frames. With a time
    limit, the sizes are chosen to fit it: the first rows are timed, the background shrinks
    (to 20 rows) if fewer than 50 rows would fit, and the work stops cleanly when time is up,
    with the rows done so far."""
    started = time.monotonic()
    deadline = None
    if time_limit_seconds:
        # The rows end a little before the limit: the result is put together after them.
        kept_back = max(FINISH_SECONDS, FINISH_SHARE * time_limit_seconds)
        deadline = started + max(time_limit_seconds - kept_back, time_limit_seconds / 2)
    if len(rows) == 0 or len(background) == 0:
        raise InvalidInput("There are no rows to explain, or no background rows to compare with.")
    rows = checked_rows(pipeline, rows, "rows to explain")
    background = checked_rows(pipeline, background, "background rows")
    estimator = final_estimator(pipeline)
    choice = choose(estimator, task)
    rng = np.random.default_rng(seed)
    positions = rng.permutation(len(rows))[: max(1, max_rows)]
    picked = rows.iloc[positions]
    base_rows = background.iloc[rng.permutation(len(background))[: max(1, max_background)]]
    encoded_background, sources = encode_traced(pipeline, base_rows)
    encoded_rows = encode(pipeline, picked)
    outputs, positive, columns = _outputs(pipeline, estimator, task)
    features = list(rows.columns) + [s for s in dict.fromkeys(sources) if s not in rows.columns]
    problem = Problem(
        estimator=estimator,
        task=task,
        columns=[str(c) for c in encoded_rows.columns],
        groups=[[i for i, s in enumerate(sources) if s == f] for f in features],
        output_columns=columns,
    )
    matrix = np.asarray(encoded_rows, dtype=float)
    local = len(picked) == 1
    done, used_background, notes = _run(
        choice, problem, matrix, np.asarray(encoded_background, dtype=float), deadline, local
    )
    values = np.concatenate([r.values for r in done], axis=0)
    count = len(values)
    if count < len(picked):
        notes.append(
            f"The time limit of {time_limit_seconds:g} s allowed {count:,} of "
            f"{len(picked):,} sampled rows."
        )
    return ShapExplanation(
        explainer=choice.kind,
        explainer_label=_label(choice, outputs, positive, task),
        estimator=type(estimator).__name__,
        task=task,
        output_kind=choice.output_kind,
        outputs=outputs,
        positive_class=positive,
        target=target_name(pipeline),
        features=features,
        base_values=[_round(b) for b in done[0].base],
        values=[[[_round(v) for v in row] for row in values[:, :, k]] for k in range(len(outputs))],
        data=_cells(picked.iloc[:count], features),
        row_positions=[int(p) for p in positions[:count]],
        sample_rows=count,
        background_rows=used_background,
        sampled_from=len(rows),
        seconds=round(time.monotonic() - started, 3),
        stopped_early=count < len(picked),
        notes=notes,
    )


def explain_row(
    *, pipeline: Any, row: pd.DataFrame, background: pd.DataFrame, task: TaskName
) -> ShapExplanation:
    """One row, quickly (the page's local explanation and what-if): trees and linear models
    against the usual background; a model-agnostic explainer against 50 background rows, with
    more permutations for steadier values."""
    choice = choose(final_estimator(pipeline), task)
    smaller = choice.kind == "permutation"
    return explain(
        pipeline=pipeline,
        rows=row.iloc[:1],
        background=background,
        task=task,
        max_rows=1,
        max_background=ROW_BACKGROUND_ROWS if smaller else DEFAULT_BACKGROUND_ROWS,
    )


def _outputs(pipeline: Any, estimator: Any, task: TaskName) -> tuple[list[str], str | None, Any]:
    """The explained outputs' labels, the positive class, and their predict_proba columns."""
    if task == "regression":
        return [target_name(pipeline) or "prediction"], None, None
    labels = [str(label) for label in class_labels(pipeline)]
    if task == "binary":
        if len(labels) != 2:
            raise InvalidInput(f"A binary model has two classes; this one has {len(labels)}.")
        return [labels[1]], labels[1], [1]
    return labels, None, list(range(len(labels)))


def _run(
    choice: Choice,
    problem: Problem,
    matrix: np.ndarray,
    background: np.ndarray,
    deadline: float | None,
    local: bool,
) -> tuple[list[Any], int, list[str]]:
    """Explains the rows of `matrix` chunk by chunk until done or out of time; the results,
    the background rows used, and notes on what the budget changed."""
    notes: list[str] = []
    runner = Runner(choice, problem, background, local)
    results: list[Any] = []
    done, spent, shrunk = 0, 0.0, False
    size = min(len(matrix), PROBE_ROWS[choice.kind])
    while done < len(matrix):
        if deadline is not None:
            per_row = spent / done if done else None
            left = deadline - time.monotonic()
            fits = int(left * SAFETY / per_row) if per_row else size
            if fits < 1 or left <= 0:
                break
            size = min(size, fits)
        began = time.monotonic()
        try:
            with _hard_limit(deadline):
                results.append(runner.explain(matrix[done : done + size]))
        except TimeLimitReached:
            break
        spent += time.monotonic() - began
        done += size
        per_row = spent / done
        size = max(1, min(len(matrix) - done, int(CHUNK_SECONDS / max(per_row, 1e-6))))
        wanted = min(MIN_GLOBAL_ROWS, len(matrix))
        if deadline is not None and not shrunk and choice.kind != "linear" and done < wanted:
            left = deadline - time.monotonic()
            affordable = done + int(left * SAFETY / per_row)
            if affordable < wanted and len(background) > MIN_BACKGROUND_ROWS:
                rows_now = len(background)
                keep = max(MIN_BACKGROUND_ROWS, int(rows_now * affordable / wanted))
                background = background[:keep]
                runner = Runner(choice, problem, background, local)
                results, done, spent, shrunk = [], 0, 0.0, True
                size = min(len(matrix), PROBE_ROWS[choice.kind])
                notes.append(
                    f"The background was cut from {rows_now} to {keep} rows to explain more "
                    "rows in the time limit."
                )
    if not results:
        raise InvalidInput(
            "The time limit ended before a single row was explained; give the explanation "
            "more time."
        )
    return results, len(background), notes


def _hard_limit(deadline: float | None) -> AbstractContextManager[None]:
    """SIGALRM's hard stop when it is ours to use (the main thread, no alarm already set)."""
    if deadline is None or threading.current_thread() is not threading.main_thread():
        return nullcontext()
    if signal.getitimer(signal.ITIMER_REAL)[0] > 0:
        return nullcontext()
    return time_limit(max(deadline - time.monotonic(), 1e-3))


def _label(choice: Choice, outputs: list[str], positive: str | None, task: TaskName) -> str:
    if choice.output_kind == "value":
        return f"{choice.words}, predicted {outputs[0]}"
    space = "probability" if choice.output_kind == "probability" else "log-odds"
    of = f"'{positive}'" if positive is not None else "each class"
    return f"{choice.words}, {space} of {of}"


def _round(value: float, digits: int = VALUE_DIGITS) -> float:
    value = float(value)
    if not math.isfinite(value):
        return 0.0
    return float(f"{value:.{digits}g}")


def _cells(frame: pd.DataFrame, features: list[str]) -> list[list[Cell]]:
    present = [c for c in features if c in frame.columns]
    table = [[_cell(v) for v in row] for row in frame[present].itertuples(index=False)]
    missing = len(features) - len(present)  # features of unknown origin: no raw value
    return [row + [None] * missing for row in table]


def _cell(value: Any) -> Cell:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _round(float(value), DATA_DIGITS)
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    return str(value)


from services.insights.reasons import reasons_sentence  # noqa: E402 - re-exported here

__all__ = ["ShapExplanation", "explain", "explain_row", "reasons_sentence"]
