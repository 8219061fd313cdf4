"""Chart data: a column's histogram or top values, correlations and the missing-values sample."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from services.models import ColumnKind, ColumnRole
from services.profiling.columns import ScannedColumn
from services.profiling.models import (
    CategoricalDistribution,
    Correlation,
    MissingSample,
    NumericDistribution,
)
from services.profiling.values import finite_or_none, top_values

DISTRIBUTION_VALUES, BINS = 30, 30
CORRELATION_ROWS = 50_000
CORRELATION_COLUMNS = 30
MATRIX_COLUMNS = 100  # columns of the missing-values chart


def distribution(
    values: pa.ChunkedArray, kind: ColumnKind
) -> NumericDistribution | CategoricalDistribution:
    """Histogram of a numeric or date column, or the top values of any other column."""
    if kind in (ColumnKind.integer, ColumnKind.float):
        return _histogram(values, integer=kind == ColumnKind.integer)
    if kind in (ColumnKind.date, ColumnKind.datetime):
        return _time_histogram(values)
    if pa.types.is_nested(values.type):  # lists and records have no values to count
        return {"kind": "categorical", "values": [], "counts": []}
    counts = pc.value_counts(values.drop_null())
    top = top_values(counts.field("values"), counts.field("counts").to_numpy(), DISTRIBUTION_VALUES)
    return {
        "kind": "categorical",
        "values": [t["value"] for t in top],
        "counts": [t["count"] for t in top],
    }


def _histogram(values: pa.ChunkedArray, *, integer: bool) -> NumericDistribution:
    """Bars of a numeric column."""
    edges, counts = _bins(values.cast(pa.float64(), safe=False).to_numpy(), integer=integer)
    return {"kind": "numeric", "edges": edges.tolist(), "counts": counts.tolist()}


def _time_histogram(values: pa.ChunkedArray) -> NumericDistribution:
    """Bars of a date or time column, the edges as ISO text."""
    dtype = values.type
    if pa.types.is_date32(dtype):
        seconds = values.cast(pa.int32()).cast(pa.float64(), safe=False).to_numpy() * 86_400
    else:  # date64 counts milliseconds; timestamps their own unit
        per = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}[getattr(dtype, "unit", "ms")]
        seconds = values.cast(pa.int64()).cast(pa.float64(), safe=False).to_numpy() / per
    edges, counts = _bins(seconds, integer=False)
    unit, per_unit = ("D", 86_400) if pa.types.is_date(dtype) else ("s", 1)
    zone = "Z" if getattr(dtype, "tz", None) else ""  # zoned times are stored in UTC
    labels = [f"{np.datetime64(round(e / per_unit), unit)}{zone}" for e in edges.tolist()]
    return {"kind": "numeric", "edges": labels, "counts": counts.tolist()}


def _bins(numbers: np.ndarray, *, integer: bool) -> tuple[np.ndarray, np.ndarray]:
    """Histogram edges and counts of the finite numbers."""
    numbers = numbers[np.isfinite(numbers)]
    if len(numbers) == 0:
        return np.array([]), np.array([], dtype=np.int64)
    low, high = numbers.min(), numbers.max()
    # Whole numbers over a short range get one bar per value.
    bins = np.arange(low - 0.5, high + 1.5) if integer and high - low < BINS else BINS
    counts, edges = np.histogram(numbers, bins=bins)
    return edges, counts


def correlation(columns: list[ScannedColumn], target: ScannedColumn | None) -> Correlation | None:
    """Pairwise correlations of the numeric columns a model would use, on sampled rows."""
    usable = {
        c.summary.name: c.numbers
        for c in columns
        if c.numbers is not None
        and (c is target or c.summary.role == ColumnRole.feature)
        and (c.summary.distinct or 0) > 1
    }
    names = list(usable)[:CORRELATION_COLUMNS]
    if target is not None and target.summary.name in usable and target.summary.name not in names:
        names[-1] = target.summary.name
    if len(names) < 2:
        return None
    step = max(1, -(-len(usable[names[0]]) // CORRELATION_ROWS))
    frame = pd.DataFrame({name: usable[name][::step] for name in names})
    matrix = frame.corr().round(4).to_numpy()
    return {
        "columns": names,
        "matrix": [[finite_or_none(v) for v in row] for row in matrix.tolist()],
    }


def missing_sample(columns: list[ScannedColumn]) -> MissingSample:
    """Missing flags of up to 200 evenly spaced rows; with many columns, the gappiest ones."""
    shown = columns
    if len(columns) > MATRIX_COLUMNS:
        gappiest = sorted(range(len(columns)), key=lambda i: -columns[i].summary.missing)
        shown = [columns[i] for i in sorted(gappiest[:MATRIX_COLUMNS])]
    if not shown:
        return {"columns": [], "rows": []}
    flags = np.column_stack([c.missing_rows for c in shown])
    return {"columns": [c.summary.name for c in shown], "rows": flags.tolist()}
