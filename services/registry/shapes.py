"""What the registry services return: models and versions with their lineage, alias moves,
promotion requests and the comparison an admin decides on."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.models import AliasMoveBase, PromotionRequestBase


class ModelVersionPublic(BaseModel):
    """One registered version: who trained it, on what, how it scored, which aliases it holds."""

    name: str
    version: int
    created_at: datetime
    author: str | None  # who started the training (tag kaizen.owner)
    project_id: int | None
    description: str
    metric: str | None  # what the training ranked by, e.g. "AUC"
    holdout_score: float | None  # of `metric`, on the holdout rows
    model_id: str | None  # the algorithm, PyCaret's id ("lightgbm", "lr-tuned")
    finalized: bool | None  # refit on every row, holdout included
    job_id: int | None
    dataset_id: int | None
    dataset_name: str | None
    dataset_version: int | None
    dataset_sha256: str | None
    target: str | None
    run_id: str | None  # the training's MLflow run
    source: str  # the model's MLflow URI, for tracking.load_pipeline
    sha256: str | None  # of the model file, checked before it is loaded
    aliases: list[str]  # held now, by the app's record
    publications: list[dict[str, Any]] = Field(default_factory=list)  # API and demo links


class RegisteredModelPublic(BaseModel):
    """A registered model and its versions (newest first) that the caller may see."""

    name: str
    project_id: int | None  # of its newest version
    versions: list[ModelVersionPublic]
    aliases: dict[str, int]  # alias -> version holding it, by the app's record
    alias_revisions: dict[str, int]  # alias -> its revision, to pass as expected_revision
    # Where MLflow's aliases differ from the app's record (someone changed MLflow directly).
    alias_warnings: list[str] = Field(default_factory=list)


class AliasEvent(AliasMoveBase):
    """One move of an alias, as the history shows it."""

    id: int
    at: datetime


class AliasChange(AliasEvent):
    """The move a promotion, an approval or a rollback just made."""


class VersionScores(BaseModel):
    """A version's holdout scores, as its training measured them."""

    version: int
    model_id: str | None
    dataset: str | None  # "cancer v2"
    holdout: dict[str, float | None]  # by metric
    score: float | None  # of the comparison's metric
    source: str  # "leaderboard", "run" or "tag": where the scores were found


class Comparison(BaseModel):
    """A candidate version against the alias's current holder, on the holdout."""

    name: str
    alias: str
    metric: str | None
    greater_is_better: bool
    candidate: VersionScores
    current: VersionScores | None  # None: no version holds the alias yet
    current_revision: int  # the alias's revision now, to pass as expected_revision
    # Same dataset content, target and seed: both were scored on the very same holdout rows.
    same_holdout: bool
    worse: bool  # the candidate scores worse on `metric`
    warning: str | None  # a plain sentence when it is worse


class PromotionRequestPublic(PromotionRequestBase):
    """A promotion request; pending ones carry the comparison the decision needs."""

    id: int
    comparison: Comparison | None = None
