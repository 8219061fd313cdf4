"""Training as a job: PyCaret compares models inside a hard time budget, the leaderboard is
published as it fills, every model is tracked in MLflow and the best one is registered."""

import logging
import time
from pathlib import Path
from typing import Any

from sqlmodel import Session

from services import datasets, jobs
from services.access import Action, Actor, as_params, from_params, require
from services.automl import tracking
from services.automl.experiment import finalized, quiet_pycaret, set_up
from services.automl.options import TrainingOptions, metrics_for
from services.automl.plan import describe, plan_training, read_table
from services.automl.refine import ensemble, tune
from services.automl.results import ChosenModel, TrainingResult
from services.automl.search import Budget, Search, Trained
from services.automl.target import prepare
from services.config import Settings
from services.errors import InvalidInput, NotFound
from services.job_runner import JobContext
from services.models import Dataset, Job, JobPublic, Project, utcnow

log = logging.getLogger("kaizen.automl")
KIND = "train"


def start_training(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    options: TrainingOptions,
) -> JobPublic:
    """Checks the request (refusing bad input before anything runs) and queues the job in
    the dataset's project."""
    require(session, actor, Action.train)
    plan = plan_training(session=session, settings=settings, actor=actor, options=options)
    project = session.get(Project, plan.project_id)
    assert project is not None  # a dataset's project exists (foreign key)
    params = {
        "options": options.model_dump(mode="json"),
        "project": project.name,
        "actor": as_params(actor),
    }
    return jobs.submit(
        session=session,
        settings=settings,
        kind=KIND,
        run=train_job,
        params=params,
        owner=actor.username,
        project_id=plan.project_id,
    )


def training_jobs(
    *, session: Session, actor: Actor, dataset_id: int | None = None
) -> list[JobPublic]:
    """Training jobs the actor may see, newest first (of one dataset version, if given)."""
    found = jobs.list_jobs(session=session, actor=actor, kind=KIND, limit=200)
    return [j for j in found if dataset_id is None or _dataset_of(j) == dataset_id]


def training_options(job: JobPublic) -> TrainingOptions | None:
    """What a training job was asked to do."""
    options = job.params.get("options") if job.kind == KIND else None
    return TrainingOptions.model_validate(options) if options else None


def training_result(job: JobPublic) -> TrainingResult | None:
    """The job's leaderboard and chosen model, as far as it got."""
    if job.kind != KIND or not job.result or "leaderboard" not in job.result:
        return None
    return TrainingResult.model_validate(job.result)


def train_job(
    ctx: JobContext, *, options: dict[str, Any], project: str, actor: dict[str, Any]
) -> dict[str, Any]:
    """The job: prepare, search, refine, choose, finalize, log and register."""
    request = TrainingOptions.model_validate(options)
    with ctx.session() as session:  # a role revoked while the job waited stops it here
        owner = require(session, from_params(actor), Action.train).username
    started, log_path = _job_facts(ctx)
    budget = Budget(request.budget, started=started)
    quiet_pycaret(log_path)
    with ctx.session() as session:
        dataset = _dataset_for_job(session, request.dataset_id)
    ctx.progress(0.01, "Reading the dataset")
    prepared = prepare(read_table(ctx.settings, dataset), dataset.column_infos, request)
    plan = describe(dataset, prepared, request)
    result = TrainingResult(
        options=request,
        task=plan.task,
        metric=plan.metric,
        greater_is_better=metrics_for(plan.task)[plan.metric],
        models_total=len(plan.models),
        notes=plan.notes,
        budget_seconds=request.budget,
    )
    ctx.progress(0.02, "Preparing the data (PyCaret setup)")
    experiment = set_up(prepared, request, budget)
    tracking.use_tracking(ctx.settings)
    result.experiment_id = tracking.use_experiment(ctx.settings, project)
    tags = tracking.lineage_tags(ctx.job_id, owner, dataset, request)
    title = f"{dataset.name} v{dataset.version}: {request.target}"
    with tracking.parent_run(result.experiment_id, tags, title) as run:
        tracking.log_inputs(ctx.settings, dataset, prepared.frame, plan)
        tracking.log_split(
            _labelled(experiment.X_test, experiment.y_test),
            _labelled(experiment.X_train, experiment.y_train),
        )
        result.parent_run_id = str(run.info.run_id)
        search = Search(
            experiment=experiment,
            result=result,
            budget=budget,
            on_change=_reporter(ctx, result, budget),
        )
        search.run_models(plan.models, until=request.spec.search_share * budget.seconds)
        chosen = _refine_and_choose(search, request)
        if chosen is None:
            raise InvalidInput(_nothing_finished(result))
        name = tracking.registered_name(project, dataset.name, request.target)
        result.model = _finalize_and_register(search, chosen, name, tags)
        result.elapsed_seconds = round(budget.elapsed(), 2)
    ctx.progress(1.0, "Done")
    return result.model_dump(mode="json")


def _labelled(features: Any, target: Any) -> Any:
    """Features with the target as the last column (PyCaret keeps them apart)."""
    return features.assign(**{str(target.name): target.to_numpy()})


def _refine_and_choose(search: Search, request: TrainingOptions) -> Trained | None:
    spec, budget = request.spec, search.budget
    chosen = _top(search, list(search.trained), spec.tune_top)
    for position, trained in enumerate(chosen):
        if search.result.stopped_by_budget:
            break
        # The tuning phase is shared equally among the models still to tune.
        end = spec.tune_share * budget.seconds
        until = budget.elapsed() + (end - budget.elapsed()) / (len(chosen) - position)
        tune(search, trained.row.model_id, spec.tune_trials, request.seed, until)
    best = search.best()
    if spec.ensemble and not search.result.stopped_by_budget:
        top = _top(search, list(search.trained), 3)
        return ensemble(search, top) or best
    return best


def _top(search: Search, among: list[str], count: int) -> list[Trained]:
    ranked = [r.model_id for r in search.result.ranked() if r.model_id in among]
    return [search.trained[m] for m in ranked[:count]]


def _finalize_and_register(
    search: Search, chosen: Trained, name: str, tags: dict[str, str]
) -> ChosenModel:
    import mlflow

    result, exp = search.result, search.exp
    search.on_change(f"Refitting {chosen.row.name} on all rows")
    started = time.monotonic()
    pipeline, refit_on_all = finalized(search, chosen)
    search.on_change("Logging and registering the model")
    refit = time.monotonic() - started
    model_uri, digest = tracking.log_model(pipeline, exp.X_test.head(5))
    score = chosen.row.holdout.get(result.metric)
    version = tracking.register(
        model_uri,
        name,
        tags=tags
        | {
            "kaizen.model_id": chosen.row.model_id,
            "kaizen.metric": result.metric,
            "kaizen.holdout_score": str(score),
            "kaizen.finalized": str(refit_on_all).lower(),
            "kaizen.model_sha256": digest,
        },
        description=f"{chosen.row.name}; holdout {result.metric} {score}.",
    )
    mlflow.set_tags({"kaizen.registered_model": name, "kaizen.registered_version": str(version)})
    log.info(
        "refit %.1f s; logged and registered in %.1f s", refit, time.monotonic() - started - refit
    )
    return ChosenModel(
        model_id=chosen.row.model_id,
        name=name,
        version=version,
        metric=result.metric,
        score=score,
        finalized=refit_on_all,
        run_id=str(mlflow.active_run().info.run_id),  # type: ignore[union-attr]
        model_uri=model_uri,
        sha256=digest,
    )


def _reporter(ctx: JobContext, result: TrainingResult, budget: Budget) -> Any:
    """Progress in the user's words and the leaderboard so far, after every step."""

    def report(step: str) -> None:
        done, total = len(result.leaderboard), result.models_total
        share = max(min(done / max(total, 1), 1.0) * 0.9, budget.elapsed() / budget.seconds)
        result.elapsed_seconds = round(budget.elapsed(), 2)
        ctx.publish(result.model_dump(mode="json"))
        ctx.progress(
            min(share, 0.99),
            f"{step} · {done} of {total} models done · "
            f"{_clock(budget.elapsed())} of {_clock(budget.seconds)}",
        )

    return report


def _nothing_finished(result: TrainingResult) -> str:
    if result.stopped_by_budget:
        return (
            f"No model finished within the budget of {result.budget_seconds:.0f} seconds. "
            "Give the training more time, or use a smaller version of the dataset."
        )
    reasons = "; ".join(f"{m}: {why}" for m, why in list(result.skipped.items())[:3])
    return f"Every model failed on this data ({reasons}). Check the target and the columns."


def _dataset_for_job(session: Session, dataset_id: int) -> Dataset:
    try:
        return datasets.dataset_row(session=session, dataset_id=dataset_id)
    except NotFound:
        raise InvalidInput(
            f"Dataset {dataset_id} was deleted after this training was queued; nothing was "
            "trained. Choose another dataset."
        ) from None


def _job_facts(ctx: JobContext) -> tuple[float, Path]:
    """When the job started, on the monotonic clock (the budget counts the process's start
    too), and its log file."""
    with ctx.session() as session:
        job = session.get(Job, ctx.job_id)
        assert job is not None  # the runner is running it
        started, log_path = job.started_at or utcnow(), Path(job.log_path)
    waited = (utcnow() - jobs._aware(started)).total_seconds()
    return time.monotonic() - max(0.0, waited), log_path


def _dataset_of(job: JobPublic) -> int | None:
    options = training_options(job)
    return options.dataset_id if options else None


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"
