"""Database tables and the shapes they are shown in (one SQLModel family per entity)."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

DEFAULT_PROJECT_ID = 1  # made by the migration that brought projects; holds earlier data


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    """What a user may do: viewers read, analysts also change their projects, admins all."""

    viewer = "viewer"
    analyst = "analyst"
    admin = "admin"

    def at_least(self, other: "Role") -> bool:
        order = list(Role)
        return order.index(self) >= order.index(other)


class UserBase(SQLModel):
    username: str = Field(index=True, unique=True, max_length=200)
    display_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)
    role: Role = Role.viewer
    provider: str = Field(default="local", max_length=20)  # "local" or "oidc"
    active: bool = True


class User(UserBase, table=True):
    """A person who signs in, with a local password or through the identity provider."""

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str | None = Field(default=None, max_length=500)  # argon2; None for OIDC
    # "<issuer> <subject>" of an OIDC user: who they are, whatever name or email they show.
    external_id: str | None = Field(default=None, unique=True, max_length=500)
    failed_sign_ins: int = 0
    locked_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    last_sign_in_at: datetime | None = None


class UserPublic(UserBase):
    id: int
    created_at: datetime
    last_sign_in_at: datetime | None
    locked_until: datetime | None


class ProjectBase(SQLModel):
    name: str = Field(index=True, unique=True, max_length=100)
    description: str = Field(default="", max_length=1000)


class Project(ProjectBase, table=True):
    """A team's space: its datasets, jobs and models are visible to its members only."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)


class ProjectPublic(ProjectBase):
    id: int
    created_at: datetime


class Membership(SQLModel, table=True):
    """A user's membership of a project."""

    __table_args__ = (UniqueConstraint("user_id", "project_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    project_id: int = Field(foreign_key="project.id", index=True)


class AuditEventBase(SQLModel):
    actor: str = Field(max_length=200)
    action: str = Field(index=True, max_length=50)
    subject: str = Field(default="", max_length=500)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    reason: str | None = Field(default=None, max_length=2000)


class AuditEvent(AuditEventBase, table=True):
    """Who did what, when; the app only ever adds these."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)


class AuditEventPublic(AuditEventBase):
    id: int
    at: datetime


class ColumnRole(StrEnum):
    feature = "feature"
    target = "target"
    ignore = "ignore"
    id = "id"


class ColumnKind(StrEnum):
    integer = "integer"
    float = "float"
    boolean = "boolean"
    datetime = "datetime"
    date = "date"
    category = "category"
    text = "text"
    other = "other"


class ColumnInfo(BaseModel):
    """One column of a stored dataset: its inferred type and the role the user gave it."""

    name: str
    kind: ColumnKind
    dtype: str
    missing: int
    role: ColumnRole = ColumnRole.feature


class DatasetBase(SQLModel):
    name: str = Field(index=True, max_length=200)
    version: int
    rows: int = Field(sa_type=BigInteger)
    columns: int
    sha256: str = Field(index=True, max_length=64)
    source_filename: str = Field(max_length=500)
    source_format: str = Field(max_length=20)
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    size_bytes: int = Field(sa_type=BigInteger)


class Dataset(DatasetBase, table=True):
    """One version of a dataset; its table lives once, as Parquet, under `storage_key`."""

    # Names and their versions are a project's own.
    __table_args__ = (
        UniqueConstraint("project_id", "name", "version", name="uq_dataset_project_name_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(default=DEFAULT_PROJECT_ID, foreign_key="project.id", index=True)
    storage_key: str = Field(index=True, max_length=64)
    schema_columns: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def column_infos(self) -> list[ColumnInfo]:
        return [ColumnInfo.model_validate(c) for c in self.schema_columns]


class DatasetPublic(DatasetBase):
    id: int
    project_id: int
    created_at: datetime
    column_infos: list[ColumnInfo]


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def finished(self) -> bool:
        return self not in (JobState.queued, JobState.running)


class JobBase(SQLModel):
    kind: str = Field(index=True, max_length=50)
    owner: str = Field(max_length=200)
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    state: JobState = Field(default=JobState.queued, index=True)
    progress: float = 0.0
    step: str = Field(default="", max_length=500)
    error: str | None = None  # what the user reads; the traceback stays in the log file
    executor: str = Field(default="local", max_length=20)


class Job(JobBase, table=True):
    """Long work done outside the page: its state, progress and outcome."""

    id: int | None = Field(default=None, primary_key=True)
    target: str = Field(max_length=200)  # "module:function" of our own code, never user input
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    cancel_requested: bool = False
    # Running jobs hold one of KAIZEN_MAX_PARALLEL_JOBS slots; the unique constraint makes
    # the limit hold even when the app and a worker start jobs at the same moment.
    slot: int | None = Field(default=None, unique=True)
    pid: int | None = None
    host: str | None = Field(default=None, max_length=255)
    log_path: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None


class JobPublic(JobBase):
    id: int
    log_path: str
    cancel_requested: bool
    params: dict[str, Any]
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None

    @property
    def elapsed_seconds(self) -> float:
        if self.started_at is None:
            return 0.0
        end = self.finished_at or utcnow()
        return max(0.0, (end - self.started_at).total_seconds())


class AliasHolder(SQLModel, table=True):
    """The version holding one alias of a registered model: the app's record, which MLflow
    follows. `revision` counts the alias's moves: a move names the revision it saw, so of two
    admins moving it at once exactly one succeeds (compare-and-set)."""

    __table_args__ = (
        UniqueConstraint("model_name", "alias", name="uq_aliasholder_model_name_alias"),
    )

    id: int | None = Field(default=None, primary_key=True)
    model_name: str = Field(max_length=500)
    alias: str = Field(max_length=100)
    version: int | None = None  # None: no version holds it yet
    revision: int = 0
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str = Field(default="", max_length=200)


class PromotionState(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


class PromotionRequestBase(SQLModel):
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    model_name: str = Field(index=True, max_length=500)
    version: int
    alias: str = Field(max_length=100)
    reason: str = Field(max_length=2000)
    requested_by: str = Field(max_length=200)
    requested_at: datetime = Field(default_factory=utcnow)
    state: PromotionState = Field(default=PromotionState.pending, index=True)
    expected_revision: int = 0  # the alias's revision when the request was made
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = None
    decision_note: str | None = Field(default=None, max_length=2000)


class PromotionRequest(PromotionRequestBase, table=True):
    """An analyst's request to move an alias to a version, until an admin decides it (shown as
    services.registry.PromotionRequestPublic, with the comparison the decision needs)."""

    id: int | None = Field(default=None, primary_key=True)


class MoveKind(StrEnum):
    promoted = "promoted"  # directly, by an admin or the operator
    approved = "approved"  # an approved request
    rolled_back = "rolled_back"  # back to the version that held the alias before


class AliasMoveBase(SQLModel):
    model_name: str = Field(index=True, max_length=500)
    alias: str = Field(max_length=100)
    from_version: int | None = None
    to_version: int
    revision: int  # the alias's revision after this move
    kind: MoveKind
    by: str = Field(max_length=200)
    reason: str = Field(max_length=2000)
    request_id: int | None = Field(default=None, foreign_key="promotionrequest.id")
    project_id: int | None = Field(default=None, foreign_key="project.id")


class AliasMove(AliasMoveBase, table=True):
    """One move of an alias, the history rollbacks read (shown as services.registry.AliasEvent)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
