"""A registered version's bundle put together from the registry: its model file checked against
the digest training recorded and against the packages it was trained with, its schema from the
training sample, its manifest with lineage, and the API keys that may call it."""

import tempfile
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from sqlmodel import Session

from services import registry
from services.access import Actor
from services.automl import tracking
from services.config import Settings
from services.errors import InvalidInput, NotFound
from services.registry import ModelVersionPublic
from services.registry.catalog import check_alias, holder
from services.serving import bundle
from services.serving.keys import export_keys
from services.serving.schema import ModelSchema, build_schema


def choose_version(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    name: str,
    version: int | None = None,
    alias: str | None = None,
) -> ModelVersionPublic:
    """A version of `name` the actor may see: `version`, the one holding `alias`, or (neither
    given) the newest; one without a recorded digest is refused (it cannot be checked)."""
    model = registry.get_model(session=session, settings=settings, actor=actor, name=name)
    if alias is not None:
        check_alias(settings, alias)
        held = holder(session, name, alias)
        if held is None or held.version is None:
            raise InvalidInput(
                f"No version of {name} holds '{alias}' yet: promote one, or give a version."
            )
        version = held.version
    chosen = next((v for v in model.versions if version in (None, v.version)), None)
    if chosen is None:
        raise NotFound(f"The model '{name}' has no version {version} that you can see.")
    if not chosen.sha256:
        raise InvalidInput(
            f"Version {chosen.version} of {name} was trained before Kaizen recorded its "
            "model file's digest, so it cannot be checked before loading. Train it again."
        )
    return chosen


def assemble(
    session: Session, settings: Settings, who: Actor, chosen: ModelVersionPublic, into: Path
) -> None:
    """Writes the bundle of `chosen` into `into` (the actor may see it: the caller checked)."""
    import cloudpickle
    import mlflow

    assert chosen.sha256 and chosen.run_id and chosen.target  # _resolve refused others
    tracking.use_tracking(settings)
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(mlflow.artifacts.download_artifacts(chosen.source, dst_path=scratch))
        model_file = local / bundle.MODEL_FILE
        if bundle.sha256_of(model_file) != chosen.sha256:
            raise InvalidInput(
                f"The stored model file of {chosen.name} v{chosen.version} does not match the "
                "one training wrote, so it was not published; an admin should check the MLflow "
                "artifact store."
            )
        _check_trained_with(local / bundle.REQUIREMENTS_FILE, chosen)
        with model_file.open("rb") as handle:
            pipeline = cloudpickle.load(handle)  # after the digest check: our training's file
        _holdout, sample = tracking.load_split(settings, chosen.run_id)
        schema = build_schema(pipeline, sample, chosen.target, chosen.name, chosen.version)
        bundle.write_bundle(
            into,
            model_file=model_file,
            manifest=_manifest(chosen, schema, pipeline),
            schema=schema,
            keys=export_keys(session=session, actor=who, model_name=chosen.name),
            requirements=bundle.requirements(),
        )


def _check_trained_with(requirements: Path, chosen: ModelVersionPublic) -> None:
    """Refuses a model pickled with other versions of the packages that load it than these
    (unpickling across versions may fail, or worse, predict otherwise)."""
    pinned = dict(
        line.strip().split("==", 1)
        for line in (requirements.read_text().splitlines() if requirements.is_file() else [])
        if "==" in line and not line.startswith("#")
    )
    differ = []
    for package in bundle.MODEL_PACKAGES:
        try:
            here = installed_version(package)
        except PackageNotFoundError:
            here = None
        if package in pinned and pinned[package] != here:
            differ.append(f"{package} {pinned[package]} (here: {here or 'not installed'})")
    if differ:
        raise InvalidInput(
            f"{chosen.name} v{chosen.version} was trained with {', '.join(differ)}; publish it "
            "from an installation with the same versions, or train it again here."
        )


def _manifest(chosen: ModelVersionPublic, schema: ModelSchema, pipeline: Any) -> bundle.Manifest:
    from services.insights.encoded import input_columns

    features = input_columns(pipeline, chosen.target) or [c.name for c in schema.columns]
    try:
        kaizen = installed_version("kaizen-studio")
    except PackageNotFoundError:
        kaizen = "unknown"
    return bundle.Manifest(
        name=chosen.name,
        version=chosen.version,
        sha256=chosen.sha256 or "",
        task=schema.task,
        target=schema.target,
        classes=schema.classes,
        features=features,
        model_id=chosen.model_id,
        metric=chosen.metric,
        holdout_score=chosen.holdout_score,
        trained_by_job=chosen.job_id,
        run_id=chosen.run_id,
        model_uri=chosen.source,
        dataset=bundle.DatasetLineage(
            id=chosen.dataset_id,
            name=chosen.dataset_name,
            version=chosen.dataset_version,
            sha256=chosen.dataset_sha256,
        ),
        kaizen_version=kaizen,
    )
