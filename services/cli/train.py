"""`kaizen train`: compare models on a dataset version inside a time budget, register the best,
made by a job the command waits for."""

import argparse
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from services.access import Actor
from services.automl.options import (
    CLASSIFICATION_METRICS,
    MAX_BUDGET_SECONDS,
    MIN_BUDGET_SECONDS,
    REGRESSION_METRICS,
    Preset,
    Task,
    TrainingOptions,
)
from services.automl.plan import plan_training
from services.automl.results import TrainingResult
from services.automl.training import start_training, training_result
from services.cli.common import Context, Parser, wait_for_job
from services.config import Settings
from services.db import session_scope
from services.errors import InvalidInput, KaizenError
from services.models import JobPublic, JobState

CLASSIFICATION = "classification"  # binary or multiclass, by the number of classes
# The command's flag for each TrainingOptions field a user sets.
FLAGS = {
    "dataset_id": "DATASET_ID",
    "target": "--target",
    "task": "--task",
    "preset": "--preset",
    "budget_seconds": "--budget",
    "include_models": "--include",
    "exclude_models": "--exclude",
    "folds": "--folds",
    "metric": "--metric",
    "seed": "--seed",
}


class TrainingFailed(KaizenError):
    """The training job failed or was cancelled; the message says why."""


def register(groups: Any, common: Parser) -> None:
    command = groups.add_parser(
        "train",
        parents=[common],
        help="compare models on a dataset version within a time budget, register the best",
    )
    command.add_argument("dataset_id", type=int)
    command.add_argument("--target", required=True, metavar="COL", help="the column to predict")
    command.add_argument(
        "--task",
        choices=[*(t.value for t in Task), CLASSIFICATION],
        help="default: inferred from the target; 'classification' is binary or multiclass "
        "by the number of classes",
    )
    command.add_argument(
        "--preset",
        choices=[p.value for p in Preset],
        default=Preset.fast.value,
        help="how wide the search is (default: fast)",
    )
    command.add_argument(
        "--budget",
        type=float,
        metavar="SECONDS",
        help=f"wall-clock limit of the whole job, {MIN_BUDGET_SECONDS:.0f} to "
        f"{MAX_BUDGET_SECONDS:.0f} (default: the preset's)",
    )
    command.add_argument("--folds", type=int, metavar="N", help="default: the preset's")
    command.add_argument(
        "--metric", metavar="M", help="what ranks the models (default: AUC, or RMSE for numbers)"
    )
    command.add_argument("--seed", type=int, default=42, metavar="N")
    command.add_argument(
        "--include", type=_ids, default=[], metavar="ID,ID", help="only these models (lr,rf...)"
    )
    command.add_argument("--exclude", type=_ids, default=[], metavar="ID,ID", help="not these")
    command.add_argument(
        "--fix-imbalance", action="store_true", help="add synthetic rows of rare classes (SMOTE)"
    )
    command.add_argument(
        "--feature-selection", action="store_true", help="keep only the most useful features"
    )
    command.set_defaults(handler=_train)


def _train(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    options = _options(args)
    with session_scope(ctx.engine) as session:
        if args.task == CLASSIFICATION:
            _check_classification(session, ctx.settings, ctx.actor, options)
        job = start_training(
            session=session, settings=ctx.settings, actor=ctx.actor, options=options
        )
        job = wait_for_job(session, ctx, job)
    if job.state != JobState.succeeded:
        reason = job.error or f"the training job was {job.state.value}"
        raise TrainingFailed(" ".join(f"Job {job.id}: {reason}".split()))  # one line
    result = training_result(job)
    if result is None:
        raise RuntimeError(f"training job {job.id} succeeded without a training result")
    return _document(job, result), _text(job, result)


def _options(args: argparse.Namespace) -> TrainingOptions:
    """The request, with pydantic's complaint turned into one line naming the flag."""
    try:
        return TrainingOptions(
            dataset_id=args.dataset_id,
            target=args.target,
            task=None if args.task in (None, CLASSIFICATION) else Task(args.task),
            preset=Preset(args.preset),
            budget_seconds=args.budget,
            include_models=args.include,
            exclude_models=args.exclude,
            folds=args.folds,
            fix_imbalance=args.fix_imbalance,
            feature_selection=args.feature_selection,
            metric=_metric_name(args.metric),
            seed=args.seed,
        )
    except ValidationError as error:
        raise InvalidInput(_validation_message(error, args)) from None


def _validation_message(error: ValidationError, args: argparse.Namespace) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    if field == "budget_seconds":
        return (
            f"--budget {args.budget:g} is outside the allowed range: give the training between "
            f"{MIN_BUDGET_SECONDS:.0f} and {MAX_BUDGET_SECONDS:.0f} seconds."
        )
    if field == "folds":
        return f"--folds {args.folds} is outside the allowed range: choose 2 to 20 folds."
    return f"{FLAGS.get(field, field)}: {first['msg']}."


def _metric_name(given: str | None) -> str | None:
    """PyCaret's spelling of a metric typed in any case ('auc' -> 'AUC', 'prec' -> 'Prec.')."""
    if given is None:
        return None
    known = {m.lower().rstrip("."): m for m in [*CLASSIFICATION_METRICS, *REGRESSION_METRICS]}
    return known.get(given.strip().lower().rstrip("."), given)


def _check_classification(
    session: Session, settings: Settings, actor: Actor, options: TrainingOptions
) -> None:
    """`--task classification`: the target must be inferred as classes, not as a quantity."""
    plan = plan_training(session=session, settings=settings, actor=actor, options=options)
    if plan.task is Task.regression:
        raise InvalidInput(
            f"The target '{options.target}' holds numbers with many different values, so it "
            "is a quantity, not classes. To treat each value as a class, use --task "
            "multiclass; to predict the number, use --task regression."
        )


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _document(job: JobPublic, result: TrainingResult) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "state": job.state.value,
        **result.summary(),
        "budget_seconds": result.budget_seconds,
        "elapsed_seconds": result.elapsed_seconds,
        "overrun_seconds": round(result.overrun_seconds, 2),
        "stopped_by_budget": result.stopped_by_budget,
        "skipped": result.skipped,
        "notes": result.notes,
    }


def _text(job: JobPublic, result: TrainingResult) -> str:
    metric = result.metric
    better = "higher" if result.greater_is_better else "lower"
    lines = [
        f"job {job.id} {job.state.value}: {result.task.value} on '{result.options.target}', "
        f"{len(result.leaderboard)} of {result.models_total} models in "
        f"{result.elapsed_seconds:.0f} of {result.budget_seconds:.0f} s "
        f"(ranked by {metric}, {better} is better)"
    ]
    ranked = result.ranked()
    names = [f"{r.name} ({r.model_id})" for r in ranked]
    width = max([len(n) for n in names] + [len("model")])
    cv, holdout = f"{metric} cv", f"{metric} holdout"
    header = f"{'rank':>4}  {'model':<{width}}  {cv:>9}  {holdout:>9}  {'seconds':>7}"
    lines.append(header)
    for rank, (name, row) in enumerate(zip(names, ranked, strict=True), 1):
        lines.append(
            f"{rank:>4}  {name:<{width}}  {_score(row.cv.get(metric)):>{max(9, len(cv))}}  "
            f"{_score(row.holdout.get(metric)):>{max(9, len(holdout))}}  {row.seconds:>7.1f}"
        )
    if result.model is None:
        lines.append("no model registered")
    else:
        chosen = result.model
        lines.append(
            f"registered: {chosen.name} version {chosen.version} "
            f"({chosen.model_id}, holdout {metric} {_score(chosen.score)})"
        )
    if result.stopped_by_budget:
        lines.append("the budget ended the search before every model was tried")
    lines += [f"skipped {model}: {why}" for model, why in result.skipped.items()]
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
