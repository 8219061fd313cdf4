"""Before a promotion: the candidate's holdout scores against the current alias holder's, on
the same holdout rows when both trainings split the same data the same way."""

from typing import Any

from sqlmodel import Session, col, select

from services.access import Action, Actor, require
from services.automl import tracking
from services.automl.options import CLASSIFICATION_METRICS, REGRESSION_METRICS
from services.config import Settings
from services.errors import NotFound
from services.models import Job
from services.registry.catalog import check_alias, get_model, holder
from services.registry.shapes import Comparison, ModelVersionPublic, VersionScores

# Whether higher is better, by metric (the two tasks' metric names do not overlap).
GREATER_IS_BETTER = CLASSIFICATION_METRICS | REGRESSION_METRICS


def compare(
    *, session: Session, settings: Settings, actor: Actor, name: str, version: int, alias: str
) -> Comparison:
    """`version` of `name` against the version holding `alias` now, with a warning if worse."""
    require(session, actor, Action.view_models)
    check_alias(settings, alias)
    model = get_model(session=session, settings=settings, actor=actor, name=name)
    versions = {v.version: v for v in model.versions}
    if version not in versions:
        raise NotFound(f"The model '{name}' has no version {version} that you can see.")
    candidate = versions[version]
    record = holder(session, name, alias)
    current = versions.get(record.version) if record and record.version is not None else None
    jobs = _jobs(session, [v for v in (candidate, current) if v is not None])
    metric = candidate.metric or (current.metric if current else None)
    better = GREATER_IS_BETTER.get(metric or "", True)
    ours = _scores(settings, candidate, jobs, metric)
    theirs = _scores(settings, current, jobs, metric) if current else None
    same = current is not None and _same_holdout(candidate, current, jobs)
    worse = theirs is not None and _worse(ours.score, theirs.score, better)
    return Comparison(
        name=name,
        alias=alias,
        metric=metric,
        greater_is_better=better,
        candidate=ours,
        current=theirs,
        current_revision=record.revision if record else 0,
        same_holdout=same,
        worse=worse,
        warning=_warning(ours, theirs, alias, metric, better, same) if worse else None,
    )


def _scores(
    settings: Settings, version: ModelVersionPublic, jobs: dict[int, Job], metric: str | None
) -> VersionScores:
    """The version's holdout scores, from the fullest source at hand."""
    # Its row of its training's leaderboard, else its MLflow runs, else the score in its tags.
    job = jobs.get(version.job_id) if version.job_id is not None else None
    holdout, source = _leaderboard_row(job, version.model_id), "leaderboard"
    if holdout is None:
        holdout, source = _run_scores(settings, version), "run"
    if not holdout:
        holdout = {version.metric: version.holdout_score} if version.metric else {}
        source = "tag"
    dataset = version.dataset_name
    return VersionScores(
        version=version.version,
        model_id=version.model_id,
        dataset=f"{dataset} v{version.dataset_version}" if dataset else None,
        holdout=holdout,
        score=holdout.get(metric) if metric else None,
        source=source,
    )


def _leaderboard_row(job: Job | None, model_id: str | None) -> dict[str, float | None] | None:
    rows = (job.result or {}).get("leaderboard", []) if job is not None else []
    for row in rows:
        if model_id is not None and row.get("model_id") == model_id:
            return dict(row.get("holdout") or {})
    return None


def _run_scores(settings: Settings, version: ModelVersionPublic) -> dict[str, float | None]:
    """'holdout <metric>' of the version's run, or of its child run of the same model."""
    from mlflow.exceptions import MlflowException

    if not version.run_id:
        return {}
    client = tracking.client(settings)
    try:
        run = client.get_run(version.run_id)
        children = f"tags.`mlflow.parentRunId` = '{version.run_id}'"
        if version.model_id and "'" not in version.model_id:
            children += f" and tags.`kaizen.model_id` = '{version.model_id}'"
        runs = [run, *client.search_runs([run.info.experiment_id], children)]
    except MlflowException:  # the run was deleted: the tags still tell the main score
        return {}
    for found in runs:
        metrics: dict[str, Any] = found.data.metrics
        holdout = {k.removeprefix("holdout "): v for k, v in metrics.items() if k[:8] == "holdout "}
        if holdout:
            return holdout
    return {}


def _same_holdout(a: ModelVersionPublic, b: ModelVersionPublic, jobs: dict[int, Job]) -> bool:
    """Same data content, target and seed: the trainings held out the very same rows."""
    if a.dataset_sha256 is None or (a.dataset_sha256, a.target) != (b.dataset_sha256, b.target):
        return False
    seeds = [_seed(jobs.get(v.job_id) if v.job_id is not None else None) for v in (a, b)]
    return seeds[0] is not None and seeds[0] == seeds[1]


def _seed(job: Job | None) -> int | None:
    options = (job.params or {}).get("options") if job is not None else None
    return options.get("seed") if isinstance(options, dict) else None


def _worse(ours: float | None, theirs: float | None, greater_is_better: bool) -> bool:
    if ours is None or theirs is None:
        return False
    return ours < theirs if greater_is_better else ours > theirs


def _warning(
    ours: VersionScores,
    theirs: VersionScores | None,
    alias: str,
    metric: str | None,
    greater_is_better: bool,
    same_holdout: bool,
) -> str:
    assert theirs is not None and ours.score is not None and theirs.score is not None
    sentence = (
        f"Version {ours.version} scores worse than version {theirs.version}, which holds "
        f"'{alias}' now: holdout {metric} {ours.score:.4f} against {theirs.score:.4f} "
        f"({'higher' if greater_is_better else 'lower'} is better)."
    )
    if not same_holdout:
        sentence += " They were scored on different holdout rows, so compare with care."
    return sentence


def _jobs(session: Session, versions: list[ModelVersionPublic]) -> dict[int, Job]:
    ids = [v.job_id for v in versions if v.job_id is not None]
    if not ids:
        return {}
    return {int(j.id or 0): j for j in session.exec(select(Job).where(col(Job.id).in_(ids)))}
