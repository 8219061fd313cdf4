"""Instant summary of a stored dataset: column facts, chart data and plain-language alerts.

One pass over the Parquet file (see `scan`) gives every figure; the result is cached as JSON per
stored table, target and column roles. The public shapes live in `models` and are re-exported.
"""

import hashlib
import json
import re
import uuid
from pathlib import Path

import pyarrow.parquet as pq
from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from services.access import Action, Actor
from services.config import Settings
from services.datasets import parquet_path, visible_row
from services.errors import InvalidInput
from services.models import ColumnInfo, ColumnRole
from services.profiling import alerts, charts
from services.profiling.charts import MATRIX_COLUMNS
from services.profiling.columns import BALANCE_CLASSES, ScannedColumn
from services.profiling.leakage import holds_classes, leak_alerts
from services.profiling.models import (
    Alert,
    CategoricalDistribution,
    ClassShare,
    ColumnSummary,
    Correlation,
    DatasetProfile,
    JsonValue,
    MissingSample,
    NumericDistribution,
    TopValue,
)
from services.profiling.scan import TableScan, scan_table

__all__ = [
    "CategoricalDistribution",
    "ClassShare",
    "ColumnSummary",
    "Correlation",
    "DatasetProfile",
    "JsonValue",
    "MissingSample",
    "NumericDistribution",
    "TopValue",
    "column_distribution",
    "summarize",
]

PROFILE_VERSION = 1  # bump when the summary changes, so cached ones are recomputed
_USED = {ColumnRole.feature, ColumnRole.target}  # roles of the columns a model would use


class _Cached(BaseModel):
    stamp: str
    profile: DatasetProfile


def summarize(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    dataset_id: int,
    target: str | None = None,
) -> DatasetProfile:
    """The instant summary of a dataset version; the target defaults to the role-target column."""
    dataset = visible_row(session, actor, dataset_id, Action.view)
    infos = dataset.column_infos
    target = _target(dataset.name, infos, target)
    path = _cache_path(settings, dataset.storage_key, target)
    stamp = hashlib.sha256(
        json.dumps([PROFILE_VERSION, target, [[i.name, i.role] for i in infos]]).encode()
    ).hexdigest()
    try:
        cached = _Cached.model_validate_json(path.read_bytes())
        if cached.stamp == stamp:
            return cached.profile
    except (OSError, ValidationError):
        pass  # not cached yet, or written by another version: compute it again
    profile = _assemble(scan_table(parquet_path(settings, dataset), infos, target), target)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    partial.write_text(_Cached(stamp=stamp, profile=profile).model_dump_json())
    partial.replace(path)  # atomic: a reader sees the old summary or the new one
    return profile


def column_distribution(
    *, session: Session, settings: Settings, actor: Actor, dataset_id: int, column: str
) -> NumericDistribution | CategoricalDistribution:
    """Histogram of a numeric or date column, or the top values of any other column."""
    dataset = visible_row(session, actor, dataset_id, Action.view)
    info = next((i for i in dataset.column_infos if i.name == column), None)
    if info is None:
        raise InvalidInput(f"Dataset '{dataset.name}' has no column '{column}'.")
    values = pq.ParquetFile(parquet_path(settings, dataset)).read(columns=[column]).column(column)
    return charts.distribution(values, info.kind)


def _target(name: str, infos: list[ColumnInfo], target: str | None) -> str | None:
    """The chosen target, checked, or else the column whose role is target."""
    if target is None:
        return next((i.name for i in infos if i.role == ColumnRole.target), None)
    if target not in {i.name for i in infos}:
        raise InvalidInput(
            f"Dataset '{name}' has no column '{target}' to use as the target. "
            "Choose one of its columns."
        )
    return target


def _cache_path(settings: Settings, storage_key: str, target: str | None) -> Path:
    """Where the summary of this stored table and target is cached."""
    if target is None:
        slug = "none"
    else:  # any column name becomes a safe, distinct file name
        digest = hashlib.sha256(target.encode()).hexdigest()[:12]
        slug = f"target-{re.sub(r'[^A-Za-z0-9_-]+', '_', target)[:40]}-{digest}"
    return settings.home / "profiles" / storage_key / f"summary-{slug}.json"


def _assemble(table: TableScan, target: str | None) -> DatasetProfile:
    """The profile of a scanned table: alerts (warnings first), balance, charts and notes."""
    columns, rows = table.columns, table.rows
    chosen = next((c for c in columns if c.summary.name == target), None)
    duplicate = alerts.duplicate_alert(table.duplicates, rows)
    balance = chosen.balance if chosen is not None and holds_classes(chosen) else None
    imbalance = None
    if target and balance and len(balance) <= BALANCE_CLASSES:  # not with "(other values)"
        imbalance = alerts.imbalance_alert(target, balance)
    leaks = leak_alerts(columns, chosen) if chosen is not None else []
    ordered = [a for a in (duplicate, imbalance) if a is not None] + leaks
    ordered += _column_alerts(columns, rows, chosen)
    ordered.sort(key=lambda a: a.severity != "warning")  # warnings first, else table order
    correlation = charts.correlation(columns, chosen)
    notes = _notes(rows, table.sampled, len(columns))
    return DatasetProfile(
        rows=rows,
        columns=len(columns),
        duplicate_rows=table.duplicates,
        target=target,
        column_summaries=[c.summary for c in columns],
        alerts=ordered,
        target_balance=balance,
        correlation=correlation,
        missing_sample=charts.missing_sample(columns),
        sample_rows=table.sampled,
        notes=notes,
    )


def _column_alerts(
    columns: list[ScannedColumn], rows: int, target: ScannedColumn | None
) -> list[Alert]:
    """Each column's own alerts, then the text checks of the columns a model would use."""
    found = [
        alert
        for c in columns
        for alert in alerts.column_alerts(c.summary, rows=rows, is_target=c is target)
    ]
    return found + [
        alert
        for c in columns
        if c.texts is not None and c.summary.role in _USED
        for alert in alerts.text_alerts(c.summary.name, c.texts)
    ]


def _notes(rows: int, sampled: int, columns: int) -> list[str]:
    """How the figures were computed, in plain words."""
    notes = ["Counts, missing values, ranges and duplicate rows cover all rows."]
    if sampled < rows:
        notes.append(
            f"Correlations, the leakage check and the text checks use {sampled:,} evenly spaced "
            f"rows of the {rows:,}."
        )
    if columns > MATRIX_COLUMNS:
        notes.append(
            f"The missing values chart shows the {MATRIX_COLUMNS} columns with the most gaps."
        )
    return notes
