"""MLflow as Kaizen uses it: where the store is, one experiment per project, the final model
logged and registered, and loaded back only after its digest matches the one we recorded."""

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from services import datasets
from services.automl.options import TrainingOptions
from services.automl.plan import TrainingPlan
from services.config import Settings
from services.errors import InvalidInput
from services.job_runner import JobCancelled
from services.models import Dataset

MODEL_NAME = "model"  # the model's name inside its run
MODEL_FILE = "model.pkl"  # what mlflow.sklearn writes in the cloudpickle format
# Every leaderboard model, as trained on the training rows, in its child run (for insights).
PIPELINE_DIR, PIPELINE_FILE = "pipeline", "pipeline.pkl"
# The training's split in its parent run: the holdout and a sample of the training rows.
SPLIT_DIR, HOLDOUT_FILE, TRAIN_SAMPLE_FILE = "data", "holdout.parquet", "train_sample.parquet"
TRAIN_SAMPLE_ROWS = 2_000
# What serving a model needs, pinned to the versions that trained it (no UI, no profiling).
SERVING_PACKAGES = [
    "pycaret-core",
    "scikit-learn",
    "pandas",
    "numpy",
    "scipy",
    "lightgbm",
    "category-encoders",
    "imbalanced-learn",
    "joblib",
    "cloudpickle",
    "mlflow",
]


def tracking_uri(settings: Settings) -> str:
    """The MLflow tracking (and registry) URI of this installation."""
    configured = os.environ.get("MLFLOW_TRACKING_URI") or settings.mlflow_tracking_uri
    if configured:
        return configured
    return f"sqlite:///{(settings.mlflow_dir / 'mlflow.db').resolve()}"


def use_tracking(settings: Settings) -> None:
    """Points this process's MLflow at the installation's store (job processes call it)."""
    import mlflow

    # MLflow draws a progress bar on stderr for every download: noise in the CLI and logs.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    settings.mlflow_dir.mkdir(parents=True, exist_ok=True)
    uri = tracking_uri(settings)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)


def prepare_store(settings: Settings) -> None:
    """Creates the embedded MLflow store now (about 7 s), so no training pays for it."""
    if tracking_uri(settings).startswith("sqlite:"):
        client(settings).search_experiments(max_results=1)


def client(settings: Settings) -> Any:
    """An MlflowClient on the installation's store."""
    from mlflow import MlflowClient

    settings.mlflow_dir.mkdir(parents=True, exist_ok=True)
    uri = tracking_uri(settings)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def use_experiment(settings: Settings, project: str) -> str:
    """Makes the project's experiment (created on first use) the one new runs go to."""
    import mlflow
    from mlflow.exceptions import MlflowException

    name = f"kaizen/{project}"
    found = mlflow.get_experiment_by_name(name)
    if found is None:
        # The embedded store keeps artifacts under home; a tracking server chooses its own.
        embedded = tracking_uri(settings).startswith("sqlite:")
        location = (settings.mlflow_dir / "artifacts").resolve().as_uri() if embedded else None
        try:
            experiment_id = str(mlflow.create_experiment(name, artifact_location=location))
        except MlflowException:
            found = mlflow.get_experiment_by_name(name)
            if found is None:  # not made by another job meanwhile: a real failure
                raise
            experiment_id = str(found.experiment_id)  # two trainings started at once
    else:
        experiment_id = str(found.experiment_id)
    mlflow.set_experiment(experiment_id=experiment_id)  # nested runs follow it, not their parent
    return experiment_id


def registered_name(project: str, dataset: str, target: str) -> str:
    """`<project>-<dataset>-<target>` as a slug: the registry name of a training's models."""
    return "-".join(_slug(part) for part in (project, dataset, target))


def pinned_requirements() -> list[str]:
    """The serving packages at the versions installed here."""
    pins = []
    for package in SERVING_PACKAGES:
        try:
            pins.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return pins


def log_model(pipeline: Any, example: pd.DataFrame) -> tuple[str, str]:
    """Logs the fitted pipeline in the active run; returns its URI and its file's SHA-256.

    PyCaret pipelines hold pandas internals that skops cannot write, so the format is
    cloudpickle, chosen knowingly: we load back only what our jobs logged, after checking
    the digest our database recorded (`load_pipeline`)."""
    import mlflow
    from mlflow.models import infer_signature

    signature = infer_signature(example, pipeline.predict(example))
    info = mlflow.sklearn.log_model(
        pipeline,
        name=MODEL_NAME,
        serialization_format="cloudpickle",
        signature=signature,
        input_example=example,
        pip_requirements=pinned_requirements(),
    )
    with tempfile.TemporaryDirectory() as scratch:
        local = mlflow.artifacts.download_artifacts(info.model_uri, dst_path=scratch)
        digest = _sha256(Path(local) / MODEL_FILE)
    return str(info.model_uri), digest


def register(model_uri: str, name: str, tags: dict[str, str], description: str) -> int:
    """A new version of `name` for the logged model; no alias is set (promotion is an admin's)."""
    import mlflow

    registered = mlflow.register_model(model_uri, name, tags=tags)
    client = mlflow.MlflowClient()
    client.update_model_version(name, registered.version, description=description)
    return int(registered.version)


def load_pipeline(settings: Settings, model_uri: str, expected_sha256: str) -> Any:
    """The pipeline at `model_uri`, loaded only if its file is the one our training wrote."""
    import mlflow

    use_tracking(settings)
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(mlflow.artifacts.download_artifacts(model_uri, dst_path=scratch))
        _check_digest(local / MODEL_FILE, expected_sha256)
        return mlflow.sklearn.load_model(str(local))


def log_candidate(pipeline: Any) -> str:
    """Writes a leaderboard model's pipeline into the active (child) run; its file's SHA-256.

    Plain cloudpickle, for the reason `log_model` gives; `load_candidate` checks the digest."""
    import cloudpickle
    import mlflow

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / PIPELINE_FILE
        with path.open("wb") as handle:
            cloudpickle.dump(pipeline, handle)
        mlflow.log_artifact(str(path), PIPELINE_DIR)
        return _sha256(path)


def load_candidate(settings: Settings, run_id: str, expected_sha256: str) -> Any:
    """A leaderboard model's pipeline, loaded only if its file is the one training wrote."""
    import cloudpickle
    import mlflow

    use_tracking(settings)
    with tempfile.TemporaryDirectory() as scratch:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=f"{PIPELINE_DIR}/{PIPELINE_FILE}", dst_path=scratch
        )
        _check_digest(Path(local), expected_sha256)
        with Path(local).open("rb") as handle:
            return cloudpickle.load(handle)


def log_split(holdout: pd.DataFrame, train: pd.DataFrame) -> None:
    """The holdout rows and a sample of the training rows (features and target) in the active
    run: insights judge every model on the same holdout, and explain against the training."""
    import mlflow

    sample = train.sample(min(len(train), TRAIN_SAMPLE_ROWS), random_state=0)
    with tempfile.TemporaryDirectory() as scratch:
        for frame, name in ((holdout, HOLDOUT_FILE), (sample, TRAIN_SAMPLE_FILE)):
            frame.to_parquet(Path(scratch) / name)
            mlflow.log_artifact(str(Path(scratch) / name), SPLIT_DIR)


def load_split(settings: Settings, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The holdout and the training sample a training logged (see `log_split`)."""
    import mlflow

    use_tracking(settings)
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(
            mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=SPLIT_DIR, dst_path=scratch
            )
        )
        return pd.read_parquet(local / HOLDOUT_FILE), pd.read_parquet(local / TRAIN_SAMPLE_FILE)


def _check_digest(path: Path, expected_sha256: str) -> None:
    if _sha256(path) != expected_sha256:
        raise InvalidInput(
            "The stored model file does not match the one training wrote, so it was not "
            "loaded. Train the model again; an admin should check the MLflow artifact store."
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


@contextmanager
def parent_run(experiment_id: str | None, tags: dict[str, str], name: str) -> Iterator[Any]:
    """A training job's MLflow run: KILLED when the job is cancelled, FAILED when it fails."""
    import mlflow

    run = mlflow.start_run(experiment_id=experiment_id, run_name=name, tags=tags)
    try:
        yield run
    except JobCancelled:
        _end_runs("KILLED")
        raise
    except BaseException:
        _end_runs("FAILED")
        raise
    _end_runs("FINISHED")


def log_inputs(
    settings: Settings, dataset: Dataset, frame: pd.DataFrame, plan: TrainingPlan
) -> None:
    """Lineage and environment on the active run: the dataset, the plan, the pinned packages."""
    import mlflow

    source = str(datasets.parquet_path(settings, dataset).resolve())
    data = mlflow.data.from_pandas(  # type: ignore[attr-defined]
        frame, source=source, name=f"{dataset.name} v{dataset.version}", targets=plan.target
    )
    mlflow.log_input(data, context="training")
    mlflow.log_params(
        {
            "task": plan.task.value,
            "metric": plan.metric,
            "folds": plan.folds,
            "budget_seconds": plan.budget_seconds,
            "rows": plan.rows,
            "features": len(plan.features),
            "models": ",".join(plan.models),
        }
    )
    mlflow.log_text("\n".join(pinned_requirements()) + "\n", "environment/requirements.txt")
    mlflow.log_dict(plan.model_dump(mode="json"), "plan.json")


def lineage_tags(
    job_id: int, owner: str, dataset: Dataset, options: TrainingOptions
) -> dict[str, str]:
    """What a run and its registered version are traced back to."""
    return {
        "kaizen.job_id": str(job_id),
        "kaizen.project_id": str(dataset.project_id),  # who may see it in the registry
        "kaizen.owner": owner,
        "kaizen.dataset_id": str(dataset.id),
        "kaizen.dataset_name": dataset.name,
        "kaizen.dataset_version": str(dataset.version),
        "kaizen.dataset_sha256": dataset.sha256,
        "kaizen.target": options.target,
        "kaizen.preset": options.preset.value,
    }


def _end_runs(status: str) -> None:
    import mlflow

    while mlflow.active_run() is not None:
        mlflow.end_run(status)
