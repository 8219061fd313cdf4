"""A publication's bundle: what serving one model version needs without the app's database or
MLflow, written deterministically (publishing twice gives the same bytes), put in place only
whole, and read back only after its model file's digest matches."""

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from services.errors import InvalidInput
from services.serving.keys import StoredKey, keys_from_file
from services.serving.schema import Label, ModelSchema, TaskName

MODEL_FILE, MANIFEST_FILE, SCHEMA_FILE = "model.pkl", "manifest.json", "schema.json"
REQUIREMENTS_FILE, KEYS_FILE = "requirements.txt", "api_keys.json"
FILES = (MODEL_FILE, MANIFEST_FILE, SCHEMA_FILE, REQUIREMENTS_FILE, KEYS_FILE)
BUNDLE_FORMAT = 1
Shape = TypeVar("Shape", bound=BaseModel)

# What an unpickled PyCaret pipeline imports to predict (measured on LightGBM, logistic
# regression and random forest pipelines of each task; jinja2 through pandas' Styler, which
# PyCaret's utilities import) and what the API server imports.
MODEL_PACKAGES = [
    "pycaret-core",
    "scikit-base",
    "scikit-learn",
    "numpy",
    "scipy",
    "pandas",
    "lightgbm",
    "category-encoders",
    "imbalanced-learn",
    "joblib",
    "cloudpickle",
    "jinja2",
]
SERVER_PACKAGES = [
    "fastapi",
    "uvicorn",
    "uvloop",
    "httptools",
    "orjson",
    "pydantic",
    "pydantic-settings",
    "sqlmodel",
]
# Followed no further: pycaret-core declares the notebook and plotting stack (IPython, sktime,
# matplotlib, plotly...), none of which a fitted pipeline imports.
LEAVES = {"pycaret-core"}


class DatasetLineage(BaseModel):
    id: int | None
    name: str | None
    version: int | None
    sha256: str | None


class Manifest(BaseModel):
    """manifest.json: which model this is and where it came from."""

    format: int = BUNDLE_FORMAT
    name: str
    version: int
    sha256: str  # of model.pkl
    task: TaskName
    target: str
    classes: list[Label] | None
    features: list[str]
    model_id: str | None
    metric: str | None
    holdout_score: float | None
    trained_by_job: int | None
    run_id: str | None
    model_uri: str
    dataset: DatasetLineage
    kaizen_version: str


@dataclass(frozen=True)
class Bundle:
    """A bundle read back: its model loaded after the digest check, its schema and keys."""

    path: Path
    manifest: Manifest
    pipeline: Any
    schema: ModelSchema
    keys: list[StoredKey]

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> int:
        return self.manifest.version

    @property
    def sha256(self) -> str:
        return self.manifest.sha256


def write_bundle(
    directory: Path,
    *,
    model_file: Path,
    manifest: Manifest,
    schema: ModelSchema,
    keys: list[dict[str, Any]],
    requirements: list[str],
) -> None:
    """Writes the bundle's files into `directory` (sorted, indented JSON: the same content
    gives the same bytes)."""
    if sha256_of(model_file) != manifest.sha256:
        raise InvalidInput(
            f"The model file of {manifest.name} v{manifest.version} does not match its "
            "recorded digest, so it was not published."
        )
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_file, directory / MODEL_FILE)
    _write_json(directory / MANIFEST_FILE, manifest.model_dump(mode="json"))
    _write_json(directory / SCHEMA_FILE, schema.model_dump(mode="json"))
    _write_json(directory / KEYS_FILE, keys)
    header = "# pinned; install with: pip install --no-deps -r requirements.txt\n"
    (directory / REQUIREMENTS_FILE).write_text(header + "\n".join(requirements) + "\n")


def read_bundle(directory: Path, expected_sha256: str | None = None) -> Bundle:
    """The bundle in `directory`; its model is unpickled only after model.pkl's SHA-256
    matches the manifest (and `expected_sha256`, the publication's record, when given)."""
    import cloudpickle

    manifest = _read_model(directory / MANIFEST_FILE, Manifest)
    actual = sha256_of(directory / MODEL_FILE)
    if actual != manifest.sha256 or expected_sha256 not in (None, actual):
        raise InvalidInput(
            f"The model file in {directory} is not the one published for {manifest.name} "
            f"v{manifest.version}, so it was not loaded. Publish the model again."
        )
    schema = _read_model(directory / SCHEMA_FILE, ModelSchema)
    with (directory / MODEL_FILE).open("rb") as handle:
        pipeline = cloudpickle.load(handle)
    keys = keys_from_file(directory / KEYS_FILE)
    return Bundle(path=directory, manifest=manifest, pipeline=pipeline, schema=schema, keys=keys)


def is_bundle(directory: Path) -> bool:
    """True if `directory` holds a bundle (which publishing may replace)."""
    return (directory / MANIFEST_FILE).is_file()


def requirements() -> list[str]:
    """`name==version` of what serving needs and everything it depends on, as installed here
    (where the model was trained and unpickled): the image installs exactly these."""
    pins: dict[str, str] = {}
    todo = list(MODEL_PACKAGES + SERVER_PACKAGES)
    while todo:
        key = _canonical(todo.pop())
        if key in pins:
            continue
        try:
            found = distribution(key)
        except PackageNotFoundError:
            continue  # an optional speed-up (uvloop) this platform lacks
        pins[key] = f"{found.metadata['Name']}=={found.version}"
        if key not in LEAVES:
            todo += _needs(found.requires or [])
    return sorted(pins.values(), key=str.lower)


def _needs(requires: list[str]) -> list[str]:
    """The distributions a package requires here (its extras and other platforms' left out)."""
    from packaging.requirements import Requirement

    needed = []
    for line in requires:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            needed.append(requirement.name)
    return needed


class Replacement:
    """A bundle directory replaced whole: written next to its target, swapped in by renames,
    and swapped back if anything fails before the block ends (the previous bundle stays)."""

    def __init__(self, target: Path) -> None:
        taken = target.exists() and (not target.is_dir() or any(target.iterdir()))
        if taken and not is_bundle(target):
            raise InvalidInput(
                f"{target} is not empty and holds no Kaizen bundle; choose a new or empty "
                "directory for the bundle."
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        self.target = target
        self.staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
        self.staging.chmod(0o755)  # mkdtemp's 0700 would keep the bundle from its readers
        self._old: Path | None = None
        self._swapped = False

    def swap(self) -> None:
        """Puts the staged bundle in the target's place, keeping the old one aside."""
        if self.target.exists():
            self._old = Path(
                tempfile.mkdtemp(prefix=f".{self.target.name}.old-", dir=self.target.parent)
            )
            os.replace(self.target, self._old)
        os.replace(self.staging, self.target)
        self._swapped = True

    def __enter__(self) -> "Replacement":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        _error: BaseException | None,
        _trace: TracebackType | None,
    ) -> None:
        if kind is not None and self._swapped:
            os.replace(self.target, self.staging)
            if self._old is not None:
                os.replace(self._old, self.target)
            self._old = None
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._old is not None:
            shutil.rmtree(self._old, ignore_errors=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def _read_model(path: Path, shape: type[Shape]) -> Shape:
    try:
        return shape.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        raise InvalidInput(
            f"{path.parent} is not a complete bundle ({path.name} is missing or unreadable); "
            "publish the model again."
        ) from None


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
