"""Values as the summary shows them, and the evenly spaced rows it samples."""

import functools
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pyarrow as pa

from services.profiling.models import JsonValue, TopValue

TOP_VALUES = 10
VALUE_CHARS = 100


def json_value(value: object) -> JsonValue:
    """A value as JSON shows it: dates as ISO text, long text cut short."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float | Decimal):
        return finite_or_none(float(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS] + "…"


def finite_or_none(value: float | Decimal | None) -> float | None:
    """The number as a float; None for missing, NaN or infinite (JSON has no such numbers)."""
    return None if value is None or not math.isfinite(value) else float(value)


def top_values(labels: pa.Array, counts: np.ndarray, limit: int = TOP_VALUES) -> list[TopValue]:
    """The `limit` most common of the `labels`, given each label's count."""
    order = (
        np.argpartition(-counts, limit)[:limit] if len(counts) > limit else np.arange(len(counts))
    )
    order = order[np.lexsort((order, -counts[order]))]  # most common first, then first seen
    # Of many values, those seen once are not "top" values (and the sampled path can't tell).
    order = order[counts[order] > (1 if len(counts) > limit else 0)]
    values = labels.take(pa.array(order)).to_pylist()
    return [
        {"value": json_value(v), "count": int(counts[i])}
        for v, i in zip(values, order, strict=True)
    ]


@functools.lru_cache(maxsize=8)  # asked for again for every column; callers never modify it
def evenly_spaced_rows(rows: int, limit: int) -> np.ndarray | None:
    """Evenly spaced row numbers, or None for all rows when there are few enough."""
    return None if rows <= limit else np.linspace(0, rows - 1, limit).astype(np.int64)
