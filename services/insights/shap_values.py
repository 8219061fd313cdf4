"""SHAP explanations of a trained pipeline in its raw features, for every kind of model, inside a
time budget: which explainer (services/insights/explainers.py), how many rows and background
rows, and a compact, JSON-ready result the Models page, the job and the CLI share.

The explained output: binary -> the positive class, defined once as the second class in the
model's class order (PyCaret sorts the encoded labels: 'yes' over 'no', 1 over 0, True over
False); several classes -> every class; regression -> the prediction. Its space is recorded
honestly in `output_kind`: "probability", "log-odds" or "value"."""

import signal
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from services.errors import InvalidInput
from services.insights.encoded import (
    checked_rows,
    class_labels,
    encode,
    encode_traced,
    final_estimator,
    target_name,
)
from services.insights.explainers import Choice, Problem, Runner, choose
from services.insights.shap_result import ShapExplanation, cells, rounded
from services.time_limit import TimeLimitReached, time_limit

TaskName = Literal["binary", "multiclass", "regression"]

DEFAULT_MAX_ROWS = 1000  # explained rows of a global explanation, at most
DEFAULT_BACKGROUND_ROWS = 100  # background (baseline) rows, a random sample
DEFAULT_TIME_LIMIT_SECONDS = 25.0  # what a global explanation gets by default (goal: < 30 s)
MIN_BACKGROUND_ROWS = 20  # the budget may shrink the background this far...
MIN_GLOBAL_ROWS = 50  # ...rather than explain fewer rows than this
PROBE_ROWS = {"tree": 10, "linear": 100_000, "permutation": 1}  # the first chunk, timed
CHUNK_SECONDS = 2.0  # later chunks take about this long, so the clock is read often
SAFETY = 0.9  # plan to use this share of the time left
FINISH_SECONDS, FINISH_SHARE = 0.2, 0.02  # kept back from the limit for the final assembly


@dataclass(frozen=True)
class Basis:
    """What explaining rows of one model against one background needs, made once: the
    explainer chosen, the encoded background, and the raw feature behind each matrix column."""

    pipeline: Any
    task: TaskName
    choice: Choice
    problem: Problem
    background: np.ndarray  # the background rows, encoded
    features: list[str]  # the raw feature columns, then any of unknown origin
    outputs: list[str]
    positive: str | None

    @classmethod
    def of(cls, pipeline: Any, background: pd.DataFrame, task: TaskName) -> "Basis":
        """The basis of `background`, raw rows with the pipeline's feature columns."""
        estimator = final_estimator(pipeline)
        encoded, sources = encode_traced(pipeline, background)
        outputs, positive, output_columns = _outputs(pipeline, estimator, task)
        columns = list(background.columns)
        features = columns + [s for s in dict.fromkeys(sources) if s not in columns]
        problem = Problem(
            estimator=estimator,
            task=task,
            columns=[str(c) for c in encoded.columns],
            groups=[[i for i, s in enumerate(sources) if s == f] for f in features],
            output_columns=output_columns,
        )
        matrix = np.asarray(encoded, dtype=float)
        choice = choose(estimator, task)
        return cls(pipeline, task, choice, problem, matrix, features, outputs, positive)

    def matrix(self, rows: pd.DataFrame) -> np.ndarray:
        """The model's matrix for raw rows."""
        return np.asarray(encode(self.pipeline, rows), dtype=float)

    def explanation(
        self,
        *,
        picked: pd.DataFrame,
        positions: Any,
        done: list[Any],
        sampled_from: int,
        background_rows: int,
        started: float,
        notes: list[str],
    ) -> ShapExplanation:
        """The JSON-ready result of the explained rows (`done`, the runner's results)."""
        values = np.concatenate([r.values for r in done], axis=0)
        count, outputs = len(values), self.outputs
        return ShapExplanation(
            explainer=self.choice.kind,
            explainer_label=_label(self.choice, outputs, self.positive, self.task),
            estimator=type(self.problem.estimator).__name__,
            task=self.task,
            output_kind=self.choice.output_kind,
            outputs=outputs,
            positive_class=self.positive,
            target=target_name(self.pipeline),
            features=self.features,
            base_values=[rounded(b) for b in done[0].base],
            values=[
                [[rounded(v) for v in row] for row in values[:, :, k]] for k in range(len(outputs))
            ],
            data=cells(picked.iloc[:count], self.features),
            row_positions=[int(p) for p in positions[:count]],
            sample_rows=count,
            background_rows=background_rows,
            sampled_from=sampled_from,
            seconds=round(time.monotonic() - started, 3),
            stopped_early=count < len(picked),
            notes=notes,
        )


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
    rng = np.random.default_rng(seed)
    positions = rng.permutation(len(rows))[: max(1, max_rows)]
    picked = rows.iloc[positions]
    base_rows = background.iloc[rng.permutation(len(background))[: max(1, max_background)]]
    basis = Basis.of(pipeline, base_rows, task)
    done, used_background, notes = _run(
        basis.choice,
        basis.problem,
        basis.matrix(picked),
        basis.background,
        deadline,
        local=len(picked) == 1,
    )
    count = sum(len(r.values) for r in done)
    if count < len(picked):
        notes.append(
            f"The time limit of {time_limit_seconds:g} s allowed {count:,} of "
            f"{len(picked):,} sampled rows."
        )
    return basis.explanation(
        picked=picked,
        positions=positions,
        done=done,
        sampled_from=len(rows),
        background_rows=used_background,
        started=started,
        notes=notes,
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


from services.insights.reasons import reasons_sentence  # noqa: E402 - re-exported here

__all__ = ["Basis", "ShapExplanation", "explain", "reasons_sentence"]
