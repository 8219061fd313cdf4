"""Database tables and the shapes they are shown in (one SQLModel family per entity)."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


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

    __table_args__ = (UniqueConstraint("name", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    storage_key: str = Field(index=True, max_length=64)
    schema_columns: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def column_infos(self) -> list[ColumnInfo]:
        return [ColumnInfo.model_validate(c) for c in self.schema_columns]


class DatasetPublic(DatasetBase):
    id: int
    created_at: datetime
    column_infos: list[ColumnInfo]
