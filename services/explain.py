"""Model insights as a service: which model a page or the CLI means, the job that computes its
metrics, diagnostics and SHAP explanations once, and the cached result read back."""

from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from services import jobs
from services.access import Action, Actor, as_params, from_params, require
from services.automl import tracking
from services.automl.options import Task
from services.automl.training import training_result
from services.config import Settings
from services.errors import InvalidInput, NotFound
from services.insights import store
from services.insights.compute import ModelInsights, compute_insights
from services.insights.local import LoadedModel, load_model
from services.job_runner import JobContext
from services.models import JobPublic, JobState

KIND = "explain"


class ModelRef(BaseModel):
    """One leaderboard model of one training job: what insights are computed for."""

    job_id: int
    model_id: str
    name: str
    task: Task
    target: str
    metric: str
    run_id: str  # the model's child run: its pipeline and its cached insights
    parent_run_id: str  # the training's run: the holdout and the training sample
    pipeline_sha256: str
    registered: str | None = None  # "name v3" when this is the training's registered model


def model_ref(*, session: Session, actor: Actor, job_id: int, model_id: str) -> ModelRef:
    """The leaderboard model `model_id` of training job `job_id`, if the actor may see it."""
    job = jobs.get_job(session=session, actor=actor, job_id=job_id)
    result = training_result(job)
    if result is None:
        raise NotFound(f"Job {job_id} is not a training with a leaderboard.")
    row = next((r for r in result.leaderboard if r.model_id == model_id), None)
    if row is None:
        raise NotFound(f"Training job {job_id} has no model '{model_id}'.")
    if row.run_id is None or row.pipeline_sha256 is None or result.parent_run_id is None:
        raise InvalidInput(
            f"{row.name} was trained before Kaizen kept every leaderboard model, so it cannot be "
            "explained. Train again to see its insights."
        )
    chosen = result.model
    registered = None
    if chosen is not None and chosen.model_id == model_id:
        registered = f"{chosen.name} v{chosen.version}"
    return ModelRef(
        job_id=job_id,
        model_id=model_id,
        name=row.name,
        task=result.task,
        target=result.options.target,
        metric=result.metric,
        run_id=row.run_id,
        parent_run_id=result.parent_run_id,
        pipeline_sha256=row.pipeline_sha256,
        registered=registered,
    )


def registered_ref(
    *, session: Session, settings: Settings, actor: Actor, name: str, version: str | None = None
) -> ModelRef:
    """The leaderboard model behind a registered version (`"3"`), alias (`"@production"`) or,
    with no version, the newest version."""
    client = tracking.client(settings)
    try:
        if version is None:
            found = client.search_model_versions(f"name = '{_quoted(name)}'")
            chosen = max(found, key=lambda v: int(v.version)) if found else None
        elif version.startswith("@"):
            chosen = client.get_model_version_by_alias(name, version[1:])
        else:
            chosen = client.get_model_version(name, version)
    except Exception:
        chosen = None
    tags = dict(chosen.tags) if chosen is not None else {}
    missing = NotFound(
        f"There is no registered model {name}{'' if version is None else ' ' + version}. "
        "List models to see the names."
    )
    if "kaizen.job_id" not in tags or "kaizen.model_id" not in tags:
        raise missing
    try:
        job_id = int(tags["kaizen.job_id"])
        return model_ref(
            session=session, actor=actor, job_id=job_id, model_id=tags["kaizen.model_id"]
        )
    except NotFound:  # another project's model is as unknown as a missing one
        raise missing from None


def open_model(*, settings: Settings, ref: ModelRef) -> LoadedModel:
    """`ref`'s pipeline with its computed insights, for questions about single rows; `ref`
    comes from `model_ref`, which checked the actor may see it."""
    insights = store.read(settings, ref.run_id)
    if insights is None:
        raise InvalidInput(f"The insights of {ref.name} are not computed yet. Compute them first.")
    pipeline = tracking.load_candidate(settings, ref.run_id, ref.pipeline_sha256)
    holdout, train_sample = tracking.load_split(settings, ref.parent_run_id)
    return load_model(pipeline, insights, holdout, train_sample)


def cached_insights(*, settings: Settings, ref: ModelRef) -> ModelInsights | None:
    """The insights computed earlier for `ref` (kept with its MLflow run), or None."""
    return store.read(settings, ref.run_id)


def explaining_job(*, session: Session, actor: Actor, ref: ModelRef) -> JobPublic | None:
    """The newest insights job of `ref` the actor may see (running or finished), if any."""
    for job in jobs.list_jobs(session=session, actor=actor, kind=KIND, limit=200):
        if job.params.get("job_id") == ref.job_id and job.params.get("model_id") == ref.model_id:
            return job
    return None


def start_explaining(
    *, session: Session, settings: Settings, actor: Actor, ref: ModelRef
) -> JobPublic:
    """Queues the insights job of `ref`; one already queued or running is returned instead."""
    require(session, actor, Action.explain)
    running = explaining_job(session=session, actor=actor, ref=ref)
    if running is not None and running.state in (JobState.queued, JobState.running):
        return running
    training = jobs.get_job(session=session, actor=actor, job_id=ref.job_id)
    return jobs.submit(
        session=session,
        settings=settings,
        kind=KIND,
        run=explain_job,
        params={"job_id": ref.job_id, "model_id": ref.model_id, "actor": as_params(actor)},
        owner=actor.username,
        project_id=training.project_id,
    )


def explain_job(
    ctx: JobContext, *, job_id: int, model_id: str, actor: dict[str, Any]
) -> dict[str, Any]:
    """The job: load the model and the training's split, compute, keep the result in MLflow."""
    with ctx.session() as session:  # a role revoked while the job waited stops it here
        who = require(session, from_params(actor), Action.explain)
        ref = model_ref(session=session, actor=who, job_id=job_id, model_id=model_id)
    ctx.progress(0.02, f"Loading {ref.name}")
    pipeline = tracking.load_candidate(ctx.settings, ref.run_id, ref.pipeline_sha256)
    holdout, train_sample = tracking.load_split(ctx.settings, ref.parent_run_id)
    insights = compute_insights(
        pipeline=pipeline,
        holdout=holdout,
        train_sample=train_sample,
        target=ref.target,
        task=ref.task,
        time_limit_seconds=ctx.settings.explain_time_limit_seconds,
        progress=ctx.progress,
    )
    ctx.progress(0.98, "Keeping the insights with the model's MLflow run")
    store.write(ctx.settings, ref.run_id, insights)
    ctx.progress(1.0, "Done")
    return {"run_id": ref.run_id, "model": ref.name, **insights.headline()}


def _quoted(text: str) -> str:
    return text.replace("'", "\\'")
