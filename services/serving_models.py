"""Tables of the serving side: API keys (only their hashes are stored) and publications (the
registry version each published model serves, and its bundle)."""

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.models import utcnow


class ApiKeyBase(SQLModel):
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=16)  # the secret's first characters, to tell keys apart
    models: list[str] | None = Field(default=None, sa_column=Column(JSON))  # None: every model
    admin: bool = False  # may also reload the server
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class ApiKey(ApiKeyBase, table=True):
    """A key for the REST API. The secret is shown once; a high-entropy secret needs no slow
    hash, so its SHA-256 is what is kept and looked up."""

    __table_args__ = (UniqueConstraint("sha256", name="uq_apikey_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64)
    revoked_by: str | None = Field(default=None, max_length=200)


class PublicationBase(SQLModel):
    model_name: str = Field(max_length=500)
    version: int  # pinned when published (an alias publication moves only when re-published)
    alias: str | None = Field(default=None, max_length=100)  # followed on reload, if set
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    sha256: str = Field(max_length=64)  # of model.pkl, checked before it is loaded
    model_uri: str = Field(max_length=1000)
    bundle_dir: str = Field(max_length=1000)
    image: str | None = Field(default=None, max_length=300)  # the tag of the built API image
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Publication(PublicationBase, table=True):
    """A model published as a REST API: the version served and where its bundle is."""

    # One publication per model: /v1/models/{name} serves exactly one version.
    __table_args__ = (UniqueConstraint("model_name", name="uq_publication_model_name"),)

    id: int | None = Field(default=None, primary_key=True)
    updated_by: str = Field(default="", max_length=200)


class ApiKeyPublic(ApiKeyBase):
    """An API key as it is listed: never its secret, nor its hash."""

    id: int


class PublicationPublic(PublicationBase):
    """A publication as services return it."""

    id: int
    # Set by publish when an image was asked for: why it was not built (no container engine),
    # or the exact command that runs the one built.
    image_note: str | None = None
    docker_run: str | None = None
