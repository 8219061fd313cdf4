"""Where the served models and the API keys come from: the installation (publications in the app
database, models from MLflow, keys in the database) or bundle directories (the container: the
model, its schema and the keys' hashes in files, no database). The installation's modules are
imported only when it is the source: the API image has no MLflow."""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.access import operator
from services.config import Settings
from services.serving import ServingSettings
from services.serving.loaded import LoadedModel, ready_model
from services.serving.schema import build_schema

log = logging.getLogger("kaizen.serving")
BACKGROUND_ROWS = 100  # training rows kept in memory as SHAP's baseline (?explain=true)
EXAMPLE_ROWS = 5  # holdout rows kept as the demo's examples


@dataclass(frozen=True)
class Planned:
    """A model the source wants served, and how to load it."""

    name: str
    version: int
    digest: str | None  # the model file's SHA-256; None: unknown until loaded (always load)
    load: Callable[[], LoadedModel]


class Source(Protocol):
    """What a server asks of where its models come from."""

    def plan(self) -> list[Planned]:
        """The models to serve now (a reload asks again: an alias may have moved)."""
        ...

    def verify_key(self, secret: str) -> Any | None:
        """The API key with this secret (id, name, models, admin), or None."""
        ...


class InstallationSource:
    """The installation's publications, loaded from its MLflow store; keys from its database."""

    def __init__(self, settings: Settings, engine: Engine, serving: ServingSettings) -> None:
        self.settings, self.engine, self.serving = settings, engine, serving

    def plan(self) -> list[Planned]:
        from services.publish import served_publications

        with Session(self.engine) as session:
            planned = []
            for publication in served_publications(session):
                try:
                    planned.append(self._planned(session, publication))
                except Exception as error:  # one unusable publication does not stop the rest
                    log.exception("cannot plan %s", publication.model_name)
                    planned.append(_failing(publication.model_name, publication.version, error))
            return planned

    def verify_key(self, secret: str) -> Any | None:
        from services.serving.keys import verify_key

        with Session(self.engine) as session:
            found = verify_key(session, secret)
            session.commit()  # its last_used_at, when it was time to record it
            return found

    def _planned(self, session: Session, publication: Any) -> Planned:
        """The publication's version, or the version its alias points to now."""
        # Imported here: MLflow's side (datasets, jobs, alembic) is not in the API image.
        from services import registry
        from services.automl import tracking
        from services.registry.catalog import holder

        name, version = publication.model_name, int(publication.version)
        if publication.alias:
            held = holder(session, name, publication.alias)
            if held is not None and held.version is not None:
                version = int(held.version)
        found = registry.get_version(
            session=session, settings=self.settings, actor=operator(), name=name, version=version
        )
        digest = publication.sha256 if version == publication.version else found.sha256
        uri = publication.model_uri if version == publication.version else found.source

        def load() -> LoadedModel:
            pipeline = tracking.load_pipeline(self.settings, uri, digest or "")
            if found.run_id is None or found.target is None:
                raise ValueError(f"{name} v{version} has no training run to build its schema")
            holdout, train = tracking.load_split(self.settings, found.run_id)
            schema = build_schema(pipeline, train, found.target, name, version)
            features = train.drop(columns=[found.target])
            background = features.sample(min(len(features), BACKGROUND_ROWS), random_state=0)
            return ready_model(
                schema,
                pipeline,
                digest=digest or "",
                max_rows=self.serving.max_rows,
                unknown_columns=self.serving.unknown_columns,
                alias=publication.alias,
                background=background,
                sample=features,
                examples=holdout.drop(columns=[found.target]).head(EXAMPLE_ROWS),
            )

        return Planned(name=name, version=version, digest=digest, load=load)


class BundleSource:
    """Models from bundle directories (`kaizen publish --bundle`); keys from their key files."""

    def __init__(self, directories: Sequence[Path], serving: ServingSettings) -> None:
        self.directories, self.serving = [Path(d) for d in directories], serving
        self.keys: list[Any] = []

    def plan(self) -> list[Planned]:
        from services.serving.bundle import KEYS_FILE
        from services.serving.keys import keys_from_file

        keys: list[Any] = []
        for directory in self.directories:
            keys += keys_from_file(directory / KEYS_FILE)
        self.keys = keys  # a reload reads revocations too: the file is the list of valid keys
        return [self._planned(d) for d in self.directories]

    def verify_key(self, secret: str) -> Any | None:
        from services.serving.keys import verify_key_in

        return verify_key_in(self.keys, secret)

    def _planned(self, directory: Path) -> Planned:
        from services.serving import bundle

        try:  # the name, version and digest without loading the model: a reload compares them
            manifest = bundle.Manifest.model_validate_json(
                (directory / bundle.MANIFEST_FILE).read_bytes()
            )
        except (OSError, ValueError) as error:
            return _failing(directory.name, 0, error)

        def load() -> LoadedModel:
            found = bundle.read_bundle(directory, manifest.sha256)
            return ready_model(
                found.schema,
                found.pipeline,
                digest=found.sha256,
                max_rows=self.serving.max_rows,
                unknown_columns=self.serving.unknown_columns,
            )

        return Planned(manifest.name, manifest.version, manifest.sha256, load)


def _failing(name: str, version: int, error: Exception) -> Planned:
    """A model that cannot be loaded: /ready names it with the reason."""

    def load() -> LoadedModel:
        raise error

    return Planned(name=name, version=int(version), digest=None, load=load)
