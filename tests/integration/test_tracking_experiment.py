"""The project's MLflow experiment is made on first use: two processes starting trainings of a
new project at the same moment both get it (one makes it, the other finds it), neither fails."""

import multiprocessing
import os
from pathlib import Path
from typing import Any

from services.automl import tracking
from services.config import Settings, get_settings


def _use_experiment(home: str, barrier: Any, answers: Any) -> None:
    os.environ["KAIZEN_HOME"] = home
    get_settings.cache_clear()
    settings = get_settings()
    tracking.use_tracking(settings)
    import mlflow

    mlflow.get_experiment_by_name("warm-up")  # the store opened: the race is in what follows
    barrier.wait()  # both ask for the experiment at once
    try:
        answers.put(tracking.use_experiment(settings, "fresh"))
    except Exception as error:
        answers.put(f"{type(error).__name__}: {error}")


def test_two_jobs_starting_at_once_share_the_new_experiment(settings: Settings) -> None:
    tracking.prepare_store(settings)
    spawn = multiprocessing.get_context("spawn")
    barrier, answers = spawn.Barrier(2), spawn.Queue()
    home = str(Path(settings.home).resolve())
    workers = [
        spawn.Process(target=_use_experiment, args=(home, barrier, answers)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    found = [answers.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert found[0] == found[1] and found[0].isdigit(), found
