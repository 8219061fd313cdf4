"""One row's SHAP explanation, quickly: the Models page's local explanation and what-if, the
API's `?explain=true` and the demo's reasons. Trees and linear models are explained against
the usual background, a model-agnostic explainer against 50 rows with more permutations.

A `RowExplainer` encodes the background and builds SHAP's explainer once, which is most of a
row's time otherwise; a served model keeps one for all its rows."""

import time
from typing import Any

import numpy as np
import pandas as pd

from services.errors import InvalidInput
from services.insights.encoded import checked_rows, final_estimator
from services.insights.explainers import Runner, built, choose
from services.insights.shap_result import ShapExplanation
from services.insights.shap_values import DEFAULT_BACKGROUND_ROWS, Basis, TaskName

ROW_BACKGROUND_ROWS = 50  # a model-agnostic explainer's background: a quick answer
SEED = 0  # the background sample `explain` takes by default, so both give the same values


class RowExplainer:
    """Explains rows one at a time against one model's background; safe to share between
    threads (SHAP's explainers only read themselves, and each row gets its own runner)."""

    def __init__(self, *, pipeline: Any, background: pd.DataFrame, task: TaskName) -> None:
        if len(background) == 0:
            raise InvalidInput("There are no background rows to compare the row with.")
        background = checked_rows(pipeline, background, "background rows")
        model_agnostic = choose(final_estimator(pipeline), task).kind == "permutation"
        size = ROW_BACKGROUND_ROWS if model_agnostic else DEFAULT_BACKGROUND_ROWS
        sample = np.random.default_rng(SEED).permutation(len(background))[:size]
        self.basis = Basis.of(pipeline, background.iloc[sample], task)
        self._explainer = built(self.basis.choice, self.basis.problem, self.basis.background)

    def explain(self, row: pd.DataFrame) -> ShapExplanation:
        """The SHAP values of the first row of `row`, a raw frame."""
        started = time.monotonic()
        if len(row) == 0:
            raise InvalidInput("There is no row to explain.")
        basis = self.basis
        picked = checked_rows(basis.pipeline, row.iloc[:1], "rows to explain")
        runner = Runner(basis.choice, basis.problem, basis.background, True, self._explainer)
        done = [runner.explain(basis.matrix(picked))]
        return basis.explanation(
            picked=picked,
            positions=[0],
            done=done,
            sampled_from=1,
            background_rows=len(basis.background),
            started=started,
            notes=[],
        )
