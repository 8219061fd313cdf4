"""After the first pass: random-search tuning of the best models and, for the best-quality
preset, blended and stacked ensembles kept only when they beat the best single model."""

from functools import partial
from typing import Any

from services.automl.search import Search, Trained


def tune(search: Search, model_id: str, trials: int, seed: int, until: float) -> Trained | None:
    """Tries up to `trials` random settings of a trained model, starting none after `until`
    seconds of the budget; adds the best if it scores better."""
    from pycaret.internal.distributions import get_base_distributions
    from sklearn.base import clone
    from sklearn.model_selection import ParameterSampler

    base = search.trained[model_id]
    space = get_base_distributions(search.exp._all_models_internal[model_id].tune_distribution)
    if not space:
        return None
    name = f"{base.row.name} (tuned)"
    metric = search.result.metric
    best: tuple[dict[str, Any], float] | None = None
    for trial, params in enumerate(ParameterSampler(space, n_iter=trials, random_state=seed), 1):
        if search.result.stopped_by_budget or (trial > 1 and search.budget.elapsed() >= until):
            break
        search.on_change(f"Tuning {base.row.name} (trial {trial} of {trials})")
        candidate = clone(base.model).set_params(**params)
        scored = search.score(name, partial(search._create, candidate), holdout=False)
        if search.result.stopped_by_budget:
            break
        score = scored[1].get(metric) if scored else None
        if score is not None and search.better(score, best[1] if best else base.row.cv[metric]):
            best = (params, score)
    if best is None:
        return None
    tuned = clone(base.model).set_params(**best[0])
    return search.add(f"{model_id}-tuned", name, partial(search._create, tuned))


def ensemble(search: Search, top: list[Trained]) -> Trained | None:
    """Blends and stacks `top`; the better ensemble if it beats the best of them on holdout."""
    if len(top) < 2:
        return None
    models = [t.model for t in top]
    exp, folds = search.exp, search.folds
    made = [
        search.add(
            "blend",
            "Blend of " + ", ".join(t.row.name for t in top),
            lambda: exp.blend_models(models, fold=folds, verbose=False),
        ),
        search.add(
            "stack",
            "Stack of " + ", ".join(t.row.name for t in top),
            lambda: exp.stack_models(models, fold=folds, verbose=False),
        ),
    ]
    metric = search.result.metric
    bar = max(_ordered(search, t.row.holdout.get(metric)) for t in top)
    better = [m for m in made if m and _ordered(search, m.row.holdout.get(metric)) > bar]
    return max(better, key=lambda m: _ordered(search, m.row.holdout.get(metric)), default=None)


def _ordered(search: Search, score: float | None) -> float:
    """A key under which a larger value is always better."""
    if score is None:
        return float("-inf")
    return score if search.result.greater_is_better else -score
