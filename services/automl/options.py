"""What a training job is asked to do: the task, the preset and the options a user can set."""

from enum import StrEnum

from pydantic import BaseModel, Field

from services.errors import InvalidInput

MIN_BUDGET_SECONDS = 30.0
MAX_BUDGET_SECONDS = 24 * 3600.0


class Task(StrEnum):
    binary = "binary"
    multiclass = "multiclass"
    regression = "regression"

    @property
    def is_classification(self) -> bool:
        return self is not Task.regression


class Preset(StrEnum):
    fast = "fast"
    balanced = "balanced"
    best = "best"


class PresetSpec(BaseModel):
    """How a preset searches: which models, how many folds, how much tuning and ensembling."""

    label: str
    folds: int
    budget_seconds: float  # the default; the user may choose another
    classification_models: list[str]
    regression_models: list[str]
    tune_top: int = 0  # random-search the hyperparameters of the best N models
    tune_trials: int = 0  # trials per tuned model, at most (the budget may stop it sooner)
    ensemble: bool = False  # blend and stack the top models; kept only if better on holdout
    # No new model starts after this share of the budget, nor a tuning trial after the next:
    # the later phases get their time even when the first pass could use it all.
    search_share: float = 1.0
    tune_share: float = 1.0


# Fast: a cheap model first, so the first leaderboard row arrives within seconds. Balanced and
# best: the usual winner on tables first, so a short budget still reaches it.
# Classifiers without predict_proba (ridge, linear SVM) are left out: they give no
# probabilities to serve or explain, and no honest AUC.
_FAST_CLS = ["lr", "lightgbm", "rf", "et", "dt", "nb"]
_FAST_REG = ["lr", "lightgbm", "rf", "et", "ridge", "lasso", "dt"]
_MORE_CLS = ["lightgbm", "lr", "rf", "et", "gbc", "ada", "lda", "nb", "dt", "knn", "qda"]
_MORE_REG = ["lightgbm", "lr", "rf", "et", "gbr", "ridge", "lasso", "en", "br", "huber"]
_MORE_REG += ["ada", "knn", "omp", "dt"]
_BEST_CLS = ["mlp"]
_BEST_REG = ["lar", "par", "mlp", "svm"]

PRESETS: dict[Preset, PresetSpec] = {
    Preset.fast: PresetSpec(
        label="Fast: a first leaderboard in about a minute",
        folds=3,
        budget_seconds=120,
        classification_models=_FAST_CLS,
        regression_models=_FAST_REG,
    ),
    Preset.balanced: PresetSpec(
        label="Balanced: more models, 5-fold scores, the best one tuned",
        folds=5,
        budget_seconds=600,
        classification_models=_MORE_CLS,
        regression_models=_MORE_REG,
        tune_top=1,
        tune_trials=40,
        search_share=0.6,
    ),
    Preset.best: PresetSpec(
        label="Best quality: every model, the top three tuned, then blended and stacked",
        folds=5,
        budget_seconds=1800,
        classification_models=_MORE_CLS + _BEST_CLS,
        regression_models=_MORE_REG + _BEST_REG,
        tune_top=3,
        tune_trials=40,
        ensemble=True,
        search_share=0.45,
        tune_share=0.8,
    ),
}

# PyCaret's display names of the metrics it scores, and whether higher is better.
CLASSIFICATION_METRICS = {
    "AUC": True,
    "Accuracy": True,
    "F1": True,
    "Recall": True,
    "Prec.": True,
    "Kappa": True,
    "MCC": True,
}
REGRESSION_METRICS = {"RMSE": False, "MAE": False, "R2": True, "MAPE": False, "RMSLE": False}


def metrics_for(task: Task) -> dict[str, bool]:
    """The metrics a task is scored by, each with whether higher is better."""
    return CLASSIFICATION_METRICS if task.is_classification else REGRESSION_METRICS


def default_metric(task: Task) -> str:
    return "AUC" if task.is_classification else "RMSE"


class TrainingOptions(BaseModel):
    """One request to train: every choice the Train page and `kaizen train` offer."""

    dataset_id: int
    target: str
    task: Task | None = None  # None: inferred from the target
    preset: Preset = Preset.fast
    budget_seconds: float | None = Field(
        default=None, ge=MIN_BUDGET_SECONDS, le=MAX_BUDGET_SECONDS
    )  # None: the preset's default
    include_models: list[str] = Field(default_factory=list)  # empty: the preset's models
    exclude_models: list[str] = Field(default_factory=list)
    folds: int | None = Field(default=None, ge=2, le=20)  # None: the preset's
    fix_imbalance: bool = False
    feature_selection: bool = False
    metric: str | None = None  # None: AUC for classes, RMSE for numbers
    seed: int = 42

    @property
    def spec(self) -> PresetSpec:
        return PRESETS[self.preset]

    @property
    def budget(self) -> float:
        return self.budget_seconds or self.spec.budget_seconds

    @property
    def fold_count(self) -> int:
        return self.folds or self.spec.folds


# The models Kaizen offers, by PyCaret id (all of them in the scikit-learn/LightGBM stack we ship).
CLASSIFICATION_MODELS = {
    "lr": "Logistic Regression",
    "lightgbm": "Light Gradient Boosting Machine",
    "rf": "Random Forest",
    "et": "Extra Trees",
    "dt": "Decision Tree",
    "nb": "Naive Bayes",
    "gbc": "Gradient Boosting",
    "ada": "AdaBoost",
    "lda": "Linear Discriminant Analysis",
    "knn": "K Nearest Neighbours",
    "qda": "Quadratic Discriminant Analysis",
    "mlp": "Neural Network (MLP)",
}
REGRESSION_MODELS = {
    "lr": "Linear Regression",
    "lightgbm": "Light Gradient Boosting Machine",
    "rf": "Random Forest",
    "et": "Extra Trees",
    "ridge": "Ridge Regression",
    "lasso": "Lasso Regression",
    "dt": "Decision Tree",
    "gbr": "Gradient Boosting",
    "en": "Elastic Net",
    "br": "Bayesian Ridge",
    "huber": "Huber Regressor",
    "ada": "AdaBoost",
    "knn": "K Nearest Neighbours",
    "omp": "Orthogonal Matching Pursuit",
    "lar": "Least Angle Regression",
    "par": "Passive Aggressive Regressor",
    "mlp": "Neural Network (MLP)",
    "svm": "Support Vector Regression",
}


def catalog(task: Task) -> dict[str, str]:
    """Every model on offer for `task`: id -> name."""
    return CLASSIFICATION_MODELS if task.is_classification else REGRESSION_MODELS


def candidates(task: Task, options: TrainingOptions) -> dict[str, str]:
    """The models a training compares, in order: the preset's, or the user's choice."""
    offered = catalog(task)
    unknown = [m for m in [*options.include_models, *options.exclude_models] if m not in offered]
    if unknown:
        raise InvalidInput(
            f"Unknown model {', '.join(repr(m) for m in unknown)} for {task.value}; "
            f"choose from: {', '.join(offered)}."
        )
    spec = options.spec
    preset = spec.classification_models if task.is_classification else spec.regression_models
    chosen = options.include_models or preset
    names = {m: offered[m] for m in chosen if m not in options.exclude_models}
    if not names:
        raise InvalidInput("Every model is excluded; leave at least one to train.")
    return names


def checked_metric(task: Task, options: TrainingOptions) -> str:
    """The optimization metric, refused with the choices if `task` does not score it."""
    metric = options.metric or default_metric(task)
    if metric not in metrics_for(task):
        raise InvalidInput(
            f"'{metric}' is not a {task.value} metric; choose from: {', '.join(metrics_for(task))}."
        )
    return metric
