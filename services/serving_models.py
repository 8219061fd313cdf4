"""Tables of the serving side: API keys (only their hashes are stored), publications (the
registry version each published model serves, and its bundle) and share links to demos."""

from datetime import datetime
from typing import Literal

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


ShareAccess = Literal["anyone", "password", "signed_in"]


class ShareLinkBase(SQLModel):
    model_name: str = Field(max_length=500, index=True)
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    prefix: str = Field(max_length=16)  # the token's first characters, to tell links apart
    access: str = Field(default="anyone", max_length=20)  # ShareAccess
    note: str | None = Field(default=None, max_length=200)  # what it is for, or for whom
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None  # None: until revoked
    views: int = 0
    last_viewed_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = Field(default=None, max_length=200)


class ShareLink(ShareLinkBase, table=True):
    """A link to a published model's demo (`/s/<token>`). Like an API key, the token is shown
    once and only its SHA-256 is kept; a password, when asked for, is hashed as accounts' are."""

    __table_args__ = (UniqueConstraint("sha256", name="uq_sharelink_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64)
    password_hash: str | None = Field(default=None, max_length=500)


class ShareLinkPublic(ShareLinkBase):
    """A share link as it is listed: never its token, nor its hashes."""

    id: int
    state: Literal["active", "expired", "revoked"] = "active"
