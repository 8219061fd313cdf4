"""The instant summary's public shapes: column facts, alerts and chart data, as cached in JSON."""

from typing import Literal

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from services.models import ColumnKind, ColumnRole

JsonValue = bool | int | float | str | None
AlertCode = Literal[
    "constant",
    "near_constant",
    "id_like",
    "high_cardinality",
    "high_missing",
    "duplicate_rows",
    "target_leakage",
    "class_imbalance",
    "mixed_types",
    "date_as_text",
    "all_missing",
]
Severity = Literal["warning", "info"]


class Alert(BaseModel):
    """One data quality finding, explained in plain language."""

    code: AlertCode
    column: str | None
    severity: Severity
    title: str
    message: str


class TopValue(TypedDict):
    value: JsonValue
    count: int


class ClassShare(TypedDict):
    value: JsonValue
    count: int
    share: float


class Correlation(TypedDict):
    columns: list[str]
    matrix: list[list[float | None]]


class MissingSample(TypedDict):
    columns: list[str]
    rows: list[list[bool]]


class NumericDistribution(TypedDict):
    kind: Literal["numeric"]
    edges: list[float] | list[str]  # dates and times as ISO text
    counts: list[int]


class CategoricalDistribution(TypedDict):
    kind: Literal["categorical"]
    values: list[JsonValue]
    counts: list[int]


class ColumnSummary(BaseModel):
    """What one column holds, over all rows."""

    name: str
    kind: ColumnKind
    dtype: str
    role: ColumnRole = ColumnRole.feature
    missing: int
    missing_pct: float
    distinct: int | None  # None for nested values that cannot be compared
    min: JsonValue = None
    max: JsonValue = None
    mean: float | None = None
    mean_length: float | None = None  # text columns, in characters, from sampled values
    # The 10 most common values; of a column with more values, only those seen more than once.
    # Where most values differ (over 100,000 rows), chosen among the sample's repeated values;
    # the counts are always exact.
    top_values: list[TopValue] = Field(default_factory=list)


class DatasetProfile(BaseModel):
    """The instant summary of one dataset version."""

    rows: int
    columns: int
    duplicate_rows: int  # counted over all rows
    target: str | None
    column_summaries: list[ColumnSummary]
    alerts: list[Alert]
    target_balance: list[ClassShare] | None  # classes of a categorical target, largest first
    correlation: Correlation | None
    missing_sample: MissingSample
    sample_rows: int  # rows the correlations, leakage and text checks looked at
    notes: list[str]  # how the figures were computed, in plain words
