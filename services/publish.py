"""Publishing a registered model as a REST API: one publication per model, pinned to a version
(an alias publication records the version holding the alias now; re-publishing, or the server's
reload, follows the alias), its bundle replaced whole and its image built when asked;
idempotent and audited. The Publish page runs it as a job."""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services import audit, jobs
from services.access import Action, Actor, as_params, can_see, from_params, require
from services.config import Settings
from services.errors import Conflict, InvalidInput, NotFound
from services.job_runner import JobContext
from services.models import JobPublic, utcnow
from services.registry import ModelVersionPublic
from services.serving import bundle
from services.serving.assemble import assemble, choose_version
from services.serving.image import Built, build_image, check_tag
from services.serving_models import Publication, PublicationPublic

KIND = "publish"
Progress = Callable[[float, str], None]


def publish(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    name: str,
    version: int | None = None,
    alias: str | None = None,
    bundle_dir: Path | None = None,
    image: str | None = None,
    progress: Progress | None = None,
) -> PublicationPublic:
    """Publishes `version` of `name`, or the version holding `alias`: writes its bundle (in
    `bundle_dir`, else the publication's or $KAIZEN_HOME/bundles/NAME), builds `image` if
    asked and an engine is at hand; a failure leaves the previous publication and bundle."""
    who = require(session, actor, Action.publish)
    chosen = _resolve(session, settings, who, name, version, alias)
    tag = image_tag(image)
    step = progress or (lambda _fraction, _step: None)
    existing = _publication(session, name)
    target = _bundle_path(settings, name, bundle_dir, existing)
    with bundle.Replacement(target) as replacement:
        step(0.05, f"Writing the bundle of {name} v{chosen.version}")
        assemble(session, settings, who, chosen, replacement.staging)
        built = None
        if tag is not None:
            step(0.3, f"Building the image {tag}")
            built = build_image(
                settings=settings,
                bundle_dir=replacement.staging,
                tag=tag,
                container=f"kaizen-{_slug(name)}",
            )
        replacement.swap()
        record = _record(session, who, existing, chosen, alias, target, built)
    step(1.0, "Published")
    public = PublicationPublic.model_validate(record.model_dump())
    return public.model_copy(
        update={
            "image_note": built.note if built else None,
            "docker_run": built.run_line if built else None,
        }
    )


def start_publishing(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    name: str,
    version: int | None = None,
    alias: str | None = None,
    bundle_dir: Path | None = None,
    image: str | None = None,
) -> JobPublic:
    """Queues a publish job (for the page); what can be checked now is checked first."""
    who = require(session, actor, Action.publish)
    chosen = _resolve(session, settings, who, name, version, alias)
    params = {
        "name": name,
        "version": version,
        "alias": alias,
        "bundle_dir": str(bundle_dir) if bundle_dir is not None else None,
        "image": image_tag(image),
        "actor": as_params(who),
    }
    return jobs.submit(
        session=session,
        settings=settings,
        kind=KIND,
        run=publish_job,
        params=params,
        owner=who.username,
        project_id=chosen.project_id,
    )


def publish_job(
    ctx: JobContext,
    *,
    name: str,
    version: int | None,
    alias: str | None,
    bundle_dir: str | None,
    image: str | None,
    actor: dict[str, Any],
) -> dict[str, Any]:
    """The job: `publish` for the actor who started it (checked again now)."""
    with ctx.session() as session:
        published = publish(
            session=session,
            settings=ctx.settings,
            actor=from_params(actor),
            name=name,
            version=version,
            alias=alias,
            bundle_dir=Path(bundle_dir) if bundle_dir else None,
            image=image,
            progress=ctx.progress,
        )
    return published.model_dump(mode="json")


def publication_result(job: JobPublic) -> PublicationPublic | None:
    """The publication a finished publish job made, if it succeeded."""
    if job.kind != KIND or not job.result or "model_name" not in job.result:
        return None
    return PublicationPublic.model_validate(job.result)


def list_publications(*, session: Session, actor: Actor) -> list[PublicationPublic]:
    """The publications of the models the actor may see, by model name."""
    require(session, actor, Action.view_models)
    found = session.exec(select(Publication).order_by(col(Publication.model_name)))
    return [_public(p) for p in found if can_see(session, actor, p.project_id)]


def served_publications(session: Session) -> list[PublicationPublic]:
    """Every publication, unchecked: what `kaizen serve` serves."""
    query = select(Publication).order_by(col(Publication.model_name))
    return [_public(p) for p in session.exec(query.execution_options(populate_existing=True))]


def unpublish(*, session: Session, actor: Actor, name: str) -> PublicationPublic:
    """Ends a publication (the server stops serving it on reload); its bundle files stay."""
    who = require(session, actor, Action.publish)
    found = _publication(session, name)
    if found is None or not can_see(session, who, found.project_id):
        raise NotFound(f"{name} is not published (or not in a project you can see).")
    removed = _public(found)
    session.delete(found)
    audit.record(
        session,
        actor=who.username,
        action="model.unpublished",
        subject=name,
        before={"version": removed.version, "alias": removed.alias},
    )
    session.commit()
    return removed


def image_tag(tag: str | None) -> str | None:
    """The image tag asked for, checked; None for none."""
    return check_tag(tag.strip()) if tag and tag.strip() else None


def _resolve(
    session: Session,
    settings: Settings,
    who: Actor,
    name: str,
    version: int | None,
    alias: str | None,
) -> ModelVersionPublic:
    """The version to publish: given, or the one holding the alias; the actor must see it."""
    if (version is None) == (alias is None):
        raise InvalidInput("Say what to publish: a version number or an alias (one of them).")
    chosen = choose_version(
        session=session, settings=settings, actor=who, name=name, version=version, alias=alias
    )
    if not (chosen.run_id and chosen.target):
        raise InvalidInput(
            f"Version {chosen.version} of {name} was trained before Kaizen recorded its "
            "training data, so it cannot be published. Train it again."
        )
    return chosen


def _record(
    session: Session,
    who: Actor,
    existing: Publication | None,
    chosen: ModelVersionPublic,
    alias: str | None,
    target: Path,
    built: Built | None,
) -> Publication:
    """The publication as it is now: unchanged when the same was published again, else
    created or updated, audited, committed."""
    same_model = existing is not None and existing.sha256 == chosen.sha256
    fields: dict[str, Any] = {
        "version": chosen.version,
        "alias": alias,
        "project_id": chosen.project_id,
        "sha256": chosen.sha256,
        "model_uri": chosen.source,
        "bundle_dir": str(target),
        # An image built before still serves this model if the model is the same one.
        "image": (built.image if built else None)
        or (existing.image if existing is not None and same_model else None),
    }
    if existing is not None and all(getattr(existing, k) == v for k, v in fields.items()):
        return existing
    before = None if existing is None else {"version": existing.version, "alias": existing.alias}
    record = existing or Publication(model_name=chosen.name, created_by=who.username, **fields)
    record.sqlmodel_update(fields | {"updated_at": utcnow(), "updated_by": who.username})
    session.add(record)
    audit.record(
        session,
        actor=who.username,
        action="model.published",
        subject=f"{chosen.name}@{alias}" if alias else f"{chosen.name} v{chosen.version}",
        before=before,
        after={k: fields[k] for k in ("version", "alias", "bundle_dir", "image")},
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(
            f"{chosen.name} was published by someone else meanwhile; try again."
        ) from None
    return record


def _publication(session: Session, name: str) -> Publication | None:
    query = select(Publication).where(Publication.model_name == name)
    return session.exec(query.execution_options(populate_existing=True)).first()


def _bundle_path(
    settings: Settings, name: str, given: Path | None, existing: Publication | None
) -> Path:
    if given is not None:
        return given.expanduser().resolve()
    if existing is not None:
        return Path(existing.bundle_dir)
    return (settings.bundles_dir / _slug(name)).resolve()


def _public(record: Publication) -> PublicationPublic:
    return PublicationPublic.model_validate(record.model_dump())


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-.") or "model"
