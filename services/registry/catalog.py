"""The registry as people see it: MLflow's registered models and versions, with the project,
lineage and aliases Kaizen records, filtered to the projects the caller can see."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from services.access import Action, Actor, require, visible_projects
from services.automl import tracking
from services.config import Settings
from services.errors import InvalidInput, NotFound
from services.models import AliasHolder, Job
from services.registry.shapes import ModelVersionPublic, RegisteredModelPublic
from services.serving_models import Publication

PAGE = 1000  # MLflow's largest page of registered models


def aliases(settings: Settings) -> list[str]:
    """The aliases admins may move (KAIZEN_MODEL_ALIASES)."""
    return list(settings.model_aliases)


def list_models(
    *, session: Session, settings: Settings, actor: Actor
) -> list[RegisteredModelPublic]:
    """Every registered model with a version the actor may see, by name."""
    require(session, actor, Action.view_models)
    client = tracking.client(settings)
    registered = {m.name: m for m in _pages(client.search_registered_models)}
    by_name: dict[str, list[Any]] = {}
    for found in _pages(client.search_model_versions):
        if found.name in registered:  # not a prompt (MLflow keeps those in the registry too)
            by_name.setdefault(found.name, []).append(found)
    jobs = _job_projects(session, [v for versions in by_name.values() for v in versions])
    visible = visible_projects(session, actor)
    models = [_model(session, registered[n], by_name[n], jobs, visible) for n in sorted(by_name)]
    return [m for m in models if m is not None]


def get_model(
    *, session: Session, settings: Settings, actor: Actor, name: str
) -> RegisteredModelPublic:
    """One registered model, if it has a version the actor may see."""
    require(session, actor, Action.view_models)
    client = tracking.client(settings)
    registered = _registered(client, name)
    model = None
    if registered is not None:
        versions = _pages(client.search_model_versions, filter_string=f"name = '{name}'")
        jobs = _job_projects(session, versions)
        model = _model(session, registered, versions, jobs, visible_projects(session, actor))
    if model is None:
        raise NotFound(f"There is no registered model named '{name}' that you can see.")
    return model


def get_version(
    *, session: Session, settings: Settings, actor: Actor, name: str, version: int
) -> ModelVersionPublic:
    """One version of a model, if the actor may see it."""
    require(session, actor, Action.view_models)
    model = get_model(session=session, settings=settings, actor=actor, name=name)
    for found in model.versions:
        if found.version == version:
            return found
    raise NotFound(f"The model '{name}' has no version {version} that you can see.")


def holder(session: Session, name: str, alias: str) -> AliasHolder | None:
    """The app's record of which version holds `alias` of `name`, as stored now."""
    query = select(AliasHolder).where(AliasHolder.model_name == name, AliasHolder.alias == alias)
    # Another session may have moved it since this one loaded it: read the row, not the cache.
    return session.exec(query.execution_options(populate_existing=True)).first()


def _model(
    session: Session,
    registered: Any,
    versions: list[Any],
    jobs: dict[int, int | None],
    visible: list[int] | None,
) -> RegisteredModelPublic | None:
    """The model as the actor sees it: only their projects' versions, newest first."""
    query = select(AliasHolder).where(AliasHolder.model_name == registered.name)
    held = session.exec(query.execution_options(populate_existing=True))
    holders = [h for h in held if h.version is not None]
    by_version: dict[int, list[str]] = {}
    for h in sorted(holders, key=lambda h: h.alias):
        by_version.setdefault(int(h.version or 0), []).append(h.alias)
    shown = []
    published = _publications(session, registered.name)
    for found in sorted(versions, key=lambda v: int(v.version), reverse=True):
        project_id = _project_of(found.tags or {}, jobs)
        if visible is None or project_id in visible:
            version = _version(found, project_id, by_version.get(int(found.version), []))
            version.publications = published.get(version.version, [])
            shown.append(version)
    if not shown:
        return None
    return RegisteredModelPublic(
        name=registered.name,
        project_id=shown[0].project_id,
        versions=shown,
        aliases={h.alias: int(h.version or 0) for h in holders},
        alias_revisions={h.alias: h.revision for h in holders},
        alias_warnings=_drift({h.alias: h.version for h in holders}, registered.aliases or {}),
    )


def _version(found: Any, project_id: int | None, held: list[str]) -> ModelVersionPublic:
    tags: dict[str, str] = found.tags or {}
    return ModelVersionPublic(
        name=found.name,
        version=int(found.version),
        created_at=datetime.fromtimestamp(int(found.creation_timestamp) / 1000, UTC),
        author=tags.get("kaizen.owner") or found.user_id or None,
        project_id=project_id,
        description=found.description or "",
        metric=tags.get("kaizen.metric"),
        holdout_score=_number(tags.get("kaizen.holdout_score")),
        model_id=tags.get("kaizen.model_id"),
        finalized={"true": True, "false": False}.get(tags.get("kaizen.finalized", "")),
        job_id=_integer(tags.get("kaizen.job_id")),
        dataset_id=_integer(tags.get("kaizen.dataset_id")),
        dataset_name=tags.get("kaizen.dataset_name"),
        dataset_version=_integer(tags.get("kaizen.dataset_version")),
        dataset_sha256=tags.get("kaizen.dataset_sha256"),
        target=tags.get("kaizen.target"),
        run_id=found.run_id or None,
        source=str(found.source),
        sha256=tags.get("kaizen.model_sha256"),
        aliases=held,
    )


def _publications(session: Session, name: str) -> dict[int, list[dict[str, Any]]]:
    """The model's REST API publication, by the version it serves (services.publish)."""
    query = select(Publication).where(Publication.model_name == name)
    found = session.exec(query.execution_options(populate_existing=True)).first()
    if found is None:
        return {}
    entry = {
        "kind": "api",
        "alias": found.alias,
        "bundle_dir": found.bundle_dir,
        "image": found.image,
        "by": found.updated_by or found.created_by,
        "at": found.updated_at.isoformat(),
    }
    return {found.version: [entry]}


def _drift(recorded: dict[str, int | None], in_mlflow: dict[str, Any]) -> list[str]:
    """A sentence for each alias MLflow shows otherwise than the app's record."""
    warnings = []
    for alias in sorted(set(recorded) | set(in_mlflow)):
        ours, theirs = recorded.get(alias), in_mlflow.get(alias)
        if ours != (int(theirs) if theirs is not None else None):
            where = f"on version {theirs}" if theirs is not None else "on no version"
            warnings.append(
                f"MLflow shows the alias '{alias}' {where}, but Kaizen's record says "
                f"{f'version {ours}' if ours is not None else 'no version'}; it was changed "
                "outside Kaizen. Kaizen's record counts: the alias's next promotion or "
                "rollback sets MLflow to match."
            )
    return warnings


def _project_of(tags: dict[str, str], jobs: dict[int, int | None]) -> int | None:
    """A version's project: its own tag, else its training job's project."""
    tagged = _integer(tags.get("kaizen.project_id"))
    if tagged is not None:
        return tagged
    job_id = _integer(tags.get("kaizen.job_id"))
    return jobs.get(job_id) if job_id is not None else None


def _job_projects(session: Session, versions: list[Any]) -> dict[int, int | None]:
    """The projects of the training jobs behind versions made before they carried their own."""
    found = [_integer((v.tags or {}).get("kaizen.job_id")) for v in versions]
    ids = {job_id for job_id in found if job_id is not None}
    if not ids:
        return {}
    query = select(Job.id, Job.project_id).where(col(Job.id).in_(ids))
    return {job: project for job, project in session.exec(query) if job is not None}


def _registered(client: Any, name: str) -> Any | None:
    """The registered model named `name`, or None."""
    from mlflow.exceptions import MlflowException

    if "'" in name:  # cannot be quoted in MLflow's search filter; never a name Kaizen makes
        return None
    try:
        return client.get_registered_model(name)
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def _pages(search: Callable[..., Any], **options: Any) -> list[Any]:
    """Every result of a paged MLflow search."""
    found: list[Any] = []
    token = None
    while True:
        page = search(max_results=PAGE, page_token=token, **options)
        found.extend(page)
        token = page.token
        if not token:
            return found


def _integer(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "None") else None
    except ValueError:
        return None


def check_alias(settings: Settings, alias: str) -> None:
    """Refuses an alias that is not configured."""
    if alias not in settings.model_aliases:
        raise InvalidInput(
            f"'{alias}' is not one of the aliases this installation uses: "
            f"{', '.join(settings.model_aliases)}."
        )


def clean_reason(reason: str, what: str = "Give a reason") -> str:
    """The reason without surrounding blanks; a blank one is refused (the audit log needs it)."""
    cleaned = (reason or "").strip()
    if not cleaned:
        raise InvalidInput(f"{what}; it is kept in the audit log.")
    if len(cleaned) > 2000:
        raise InvalidInput("Keep the reason under 2000 characters.")
    return cleaned
