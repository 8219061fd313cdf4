"""Who the tests act as: the operator (an admin, as at the command line) in the first project."""

from pathlib import Path
from typing import Any

from sqlmodel import Session

from services import datasets
from services.access import Actor
from services.config import Settings
from services.datasets import AddOutcome
from services.models import DEFAULT_PROJECT_ID, Role

OPERATOR = Actor(username="tester", role=Role.admin)
PROJECT = DEFAULT_PROJECT_ID


def add_file(session: Session, settings: Settings, source: Path, **options: Any) -> AddOutcome:
    """Stores a table file as a dataset of the first project, as the operator."""
    return datasets.add_dataset(
        session=session,
        settings=settings,
        actor=OPERATOR,
        project_id=PROJECT,
        source=source,
        filename=options.pop("filename", source.name),
        **options,
    )
