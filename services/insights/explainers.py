"""The SHAP explainer for each kind of model, run on the model's numeric matrix, with the values
summed back to the raw features.

- Trees (scikit-learn's decision trees, random forests, extra trees, gradient boosting; LightGBM):
  shap.TreeExplainer, interventional, against the background rows. Classifiers are explained
  as probabilities wherever SHAP does that exactly: forests and single trees hold probabilities
  in their leaves, and a binary booster's log-odds go through the logistic function. A booster
  of several classes (softmax) cannot be: its raw scores (log-odds) are explained instead.
  scikit-learn compares float32 inputs with float64 thresholds while SHAP's trees work in
  float32; the thresholds are rounded down to float32 and the rows cast to float32 first, so
  each row lands in the very leaf scikit-learn's own predict picks (else the values of a row
  on a tie miss the prediction by a whole tree's share).
- Linear models (logistic regression, linear discriminant analysis; the linear regressors):
  shap.LinearExplainer with an independent masker: exact, and instant. A classifier's linear
  part is its log-odds (softmax scores for several classes), which is what it explains.
- Everything else (AdaBoost, whose weighted vote of trees TreeExplainer does not read; voting
  and stacking ensembles; k-nearest neighbours, naive Bayes, QDA, neural networks, SVMs):
  permutation SHAP on predict_proba (or predict) against at most ~100 background rows.
  Permutation rather than Kernel SHAP: it adds up exactly by construction (each antithetic
  permutation walks from the background to the row and back), needs 2M+1 evaluations per
  permutation instead of Kernel's ~2M+2048 samples and a weighted regression, and is exact
  for models with no more than pairwise interactions after one permutation.
  It is shap.PermutationExplainer's algorithm written here in numpy, because shap's own
  compiles numba code on its first use in every process (~8 s here: a fresh job process and
  the page's first what-if would each pay it) and its __call__ in 0.49 also computes main
  effects for every row after the first (its own result list is passed on as the flag).
  It masks whole raw features, not matrix columns: a one-hot group is switched as one
  (no row is ever both 'one_year' and 'two_year'), and M is the raw feature count. The
  masked rows are put together from the rows' and background's own encoded values per
  feature, so the slow preprocessing runs once, not for each of the model's thousands of
  evaluations (exact: PyCaret encodes each raw column on its own).
"""

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from services.errors import InvalidInput

Kind = Literal["tree", "linear", "permutation"]
OutputKind = Literal["probability", "log-odds", "value"]
TaskName = Literal["binary", "multiclass", "regression"]

SKLEARN_TREES = {
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "ExtraTreeClassifier",
    "ExtraTreeRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
}
LIGHTGBM = {"LGBMClassifier", "LGBMRegressor"}
LINEAR_CLASSIFIERS = {"LogisticRegression", "LogisticRegressionCV", "LinearDiscriminantAnalysis"}
MAX_MODEL_ROWS = 60_000  # rows per model call of the permutation explainer
GLOBAL_PERMUTATIONS = 1  # antithetic pairs per row: exact for pairwise interactions
LOCAL_PERMUTATIONS = 5  # one row on the page affords more, for steadier values


@dataclass(frozen=True)
class Choice:
    """How a model is explained: which explainer, in which output space, in words."""

    kind: Kind
    output_kind: OutputKind
    words: str  # e.g. "TreeExplainer, interventional"


def choose(estimator: Any, task: TaskName) -> Choice:
    """The explainer for `estimator` (the pipeline's final step)."""
    name = type(estimator).__name__
    classifier = task != "regression"
    if name in SKLEARN_TREES | LIGHTGBM and _tree_supported(estimator, task):
        probability = classifier and not (name in LIGHTGBM and task == "multiclass")
        output: OutputKind = "probability" if probability else "log-odds" if classifier else "value"
        return Choice("tree", output, "TreeExplainer, interventional")
    if _is_linear(estimator, task):
        return Choice("linear", "log-odds" if classifier else "value", "LinearExplainer")
    if classifier and not hasattr(estimator, "predict_proba"):
        raise InvalidInput(
            f"{name} gives no probabilities, so its predictions cannot be explained as chances."
        )
    return Choice("permutation", "probability" if classifier else "value", "Permutation SHAP")


def _tree_supported(estimator: Any, task: TaskName) -> bool:
    # SHAP reads a gradient-boosting classifier of one class-vs-rest tree per stage only.
    if type(estimator).__name__ == "GradientBoostingClassifier":
        return task == "binary"
    return True


def _is_linear(estimator: Any, task: TaskName) -> bool:
    if not (hasattr(estimator, "coef_") and hasattr(estimator, "intercept_")):
        return False
    if task != "regression":
        return type(estimator).__name__ in LINEAR_CLASSIFIERS
    module = type(estimator).__module__
    return module.startswith("sklearn.linear_model") and np.ndim(estimator.coef_) <= 2


@dataclass
class Problem:
    """What an explainer works on: the model, its matrix columns grouped by raw feature, and
    which of the model's outputs are explained."""

    estimator: Any
    task: TaskName
    columns: list[str]  # the matrix's column names
    groups: list[list[int]]  # per explained feature, its matrix columns
    output_columns: list[int] | None  # predict_proba columns explained; None: predict

    def membership(self) -> np.ndarray:
        """Matrix column x feature: 1 where the column comes from the feature."""
        table = np.zeros((len(self.columns), len(self.groups)))
        for feature, columns in enumerate(self.groups):
            table[columns, feature] = 1.0
        return table


@dataclass
class Result:
    values: np.ndarray  # rows x features x outputs, raw-feature space
    base: np.ndarray  # outputs


class Runner:
    """An explainer set up with its background, explaining rows (encoded) chunk by chunk."""

    def __init__(
        self,
        choice: Choice,
        problem: Problem,
        background: np.ndarray,
        local: bool,
        explainer: Any = None,
    ):
        """`explainer`: one `built` earlier for this background, shared (SHAP's tree and
        linear explainers only read themselves when explaining)."""
        self.choice, self.problem, self.background = choice, problem, background
        self.permutations = LOCAL_PERMUTATIONS if local else GLOBAL_PERMUTATIONS
        self._rng = np.random.default_rng(0)
        self._explainer = explainer if explainer is not None else built(choice, problem, background)

    def explain(self, rows: np.ndarray) -> Result:
        if self.choice.kind == "permutation":
            return self._permutation(rows)
        if self.choice.kind == "tree":
            if _float32(self.problem.estimator):
                rows = rows.astype(np.float32).astype(np.float64)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                raw = self._explainer.shap_values(rows, check_additivity=False)
        else:
            raw = self._explainer.shap_values(rows)
        values, base = _outputs(np.asarray(raw), np.asarray(self._explainer.expected_value), self)
        summed = np.einsum("rck,cf->rfk", values, self.problem.membership())
        return Result(values=summed, base=base)

    def _permutation(self, rows: np.ndarray) -> Result:
        """Antithetic permutation sampling, shap.PermutationExplainer's algorithm, in numpy:
        per row and permutation of the features, the mean output over the background as the
        row's features are switched on one by one in that order, then off again in the same
        order; each feature gets the mean of its steps' differences. Exact additivity: each
        walk goes from the background's mean output to the row's output and back."""
        problem, background = self.problem, self.background
        both = np.vstack([background, rows])
        # Per raw feature, the distinct encoded values among background and rows, and which
        # one each row has: a masked row is assembled from these by index.
        tables, codes = [], np.zeros((len(both), len(problem.groups)), dtype=np.int64)
        for feature, columns in enumerate(problem.groups):
            unique, inverse = np.unique(both[:, columns], axis=0, return_inverse=True)
            tables.append(unique)
            codes[:, feature] = inverse.reshape(-1)
        base_codes, row_codes = codes[: len(background)], codes[len(background) :]
        features, walk = len(problem.groups), 2 * len(problem.groups) + 1
        orders = [
            [self._rng.permutation(features) for _ in range(self.permutations)] for _ in row_codes
        ]
        per_row = self.permutations * walk * len(background)
        batch = max(1, MAX_MODEL_ROWS // per_row)
        means = []
        for first in range(0, len(row_codes), batch):
            chosen = range(first, min(first + batch, len(row_codes)))
            masked = np.concatenate(
                [_walk(row_codes[r], base_codes, order) for r in chosen for order in orders[r]]
            )
            outputs = self._predict(_assemble(masked, tables, problem))
            shape = (len(chosen), self.permutations, walk, len(background), -1)
            means.append(outputs.reshape(shape).mean(axis=3))
        mean = np.concatenate(means)  # rows x permutations x walk x outputs
        values = np.zeros((len(row_codes), features, mean.shape[-1]))
        for r in range(len(row_codes)):
            for p, order in enumerate(orders[r]):
                on = mean[r, p, 1 : features + 1] - mean[r, p, :features]
                off = mean[r, p, features : 2 * features] - mean[r, p, features + 1 :]
                values[r, order] += on + off
        values /= 2 * self.permutations
        return Result(values=values, base=mean[0, 0, 0])

    def _predict(self, matrix: pd.DataFrame) -> np.ndarray:
        problem = self.problem
        if problem.output_columns is None:
            return np.asarray(problem.estimator.predict(matrix), dtype=float).reshape(-1, 1)
        probabilities = np.asarray(problem.estimator.predict_proba(matrix), dtype=float)
        return probabilities[:, problem.output_columns]


def built(choice: Choice, problem: Problem, background: np.ndarray) -> Any:
    """SHAP's explainer for a tree or linear model on `background`; None for the permutation
    explainer, which is our own numpy."""
    if choice.kind == "tree":
        return _tree_explainer(problem, background, choice.output_kind)
    if choice.kind == "linear":
        import shap

        masker = shap.maskers.Independent(background, max_samples=len(background))
        return shap.LinearExplainer(problem.estimator, masker)
    return None


def _walk(row: np.ndarray, background: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The masked inputs of one permutation: (2M+1) steps x background rows, as codes."""
    features = len(order)
    shown = np.zeros((2 * features + 1, features), dtype=bool)
    for step, feature in enumerate(order, 1):
        shown[step:, feature] = True  # on from this step...
        shown[features + step :, feature] = False  # ...off again on the way back
    steps = np.where(shown[:, None, :], row[None, None, :], background[None, :, :])
    return steps.reshape(-1, features)


def _assemble(codes: np.ndarray, tables: list[np.ndarray], problem: Problem) -> pd.DataFrame:
    """The model's matrix for coded rows: each feature's encoded columns looked up by code."""
    matrix = np.zeros((len(codes), len(problem.columns)))
    for feature, columns in enumerate(problem.groups):
        if columns:
            matrix[:, columns] = tables[feature][codes[:, feature]]
    return pd.DataFrame(matrix, columns=problem.columns)


def _tree_explainer(problem: Problem, background: np.ndarray, output: OutputKind) -> Any:
    import shap

    float32 = _float32(problem.estimator)
    data = background.astype(np.float32).astype(np.float64) if float32 else background
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.TreeExplainer(
            problem.estimator,
            data=data,
            feature_perturbation="interventional",
            model_output="probability" if output == "probability" else "raw",
        )
        if float32:
            ensemble = explainer.model
            thresholds = ensemble.thresholds
            single = thresholds.astype(np.float32)
            lower = np.nextafter(single, np.float32(-np.inf)).astype(np.float64)
            wider = single.astype(np.float64) > thresholds
            ensemble.thresholds[...] = np.where(wider, lower, single.astype(np.float64))
            expected = np.asarray(ensemble.predict(explainer.data)).mean(0)
            explainer.expected_value = expected.reshape(-1)[0] if expected.size == 1 else expected
    return explainer


def _float32(estimator: Any) -> bool:
    """Whether SHAP reads this tree model in float32 (scikit-learn's trees do)."""
    return type(estimator).__name__ in SKLEARN_TREES


def _outputs(
    raw: np.ndarray, expected: np.ndarray, runner: Runner
) -> tuple[np.ndarray, np.ndarray]:
    """SHAP's answer as rows x columns x outputs, only the outputs explained."""
    values = raw if raw.ndim == 3 else raw[:, :, None]
    base = np.atleast_1d(expected).astype(float)
    wanted = runner.problem.output_columns
    if wanted is not None and values.shape[2] > 1 and len(wanted) < values.shape[2]:
        values, base = values[:, :, wanted], base[wanted]
    return values, base
