"""Per-column figures from one read of a column: counts, range, top values and sampled values."""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from services.models import ColumnInfo, ColumnKind
from services.profiling.distinct import count_distinct, encode_values
from services.profiling.models import ClassShare, ColumnSummary
from services.profiling.values import (
    TOP_VALUES,
    evenly_spaced_rows,
    finite_or_none,
    json_value,
    top_values,
)

TEXT_ROWS = 5_000  # evenly spaced values for the mixed-type and date-as-text checks
TEXT_CHARS = 100  # of each, the start they look at
MATRIX_ROWS = 200  # rows of the missing-values chart
BALANCE_CLASSES = 30
MANY_VALUES = 0.5  # share of distinct values in the sample above which a column isn't coded
_NUMERIC = {ColumnKind.integer, ColumnKind.float, ColumnKind.boolean}
_ORDERED = {ColumnKind.integer, ColumnKind.float, ColumnKind.date, ColumnKind.datetime}


@dataclass(eq=False)  # compared by identity: fields hold arrays
class ScannedColumn:
    """One column's summary, with the sampled values the table-wide checks need."""

    summary: ColumnSummary
    texts: pa.Array | None  # sampled text values
    missing_rows: np.ndarray  # the rows the missing-values chart shows
    codes: np.ndarray | None = None  # each sampled row's value code; -1 when missing
    numbers: np.ndarray | None = None  # sampled rows as floats (NaN when missing)
    balance: list[ClassShare] | None = None  # the target's classes
    codes_all: np.ndarray | None = None  # every row's value code, for the duplicate count
    codes_bound: int = 1  # codes_all are below this
    cardinality: int = 1  # values, counting missing as one


def scan_column(
    info: ColumnInfo, values: pa.ChunkedArray, picks: np.ndarray | None, is_target: bool
) -> ScannedColumn:
    """The figures of one column; `picks` are the sampled rows (None for all)."""
    rows, missing = len(values), values.null_count
    summary = ColumnSummary(
        name=info.name,
        kind=info.kind,
        dtype=info.dtype,
        role=info.role,
        missing=missing,
        missing_pct=round(100 * missing / rows, 2) if rows else 0.0,
        distinct=0 if pa.types.is_null(values.type) else None,
    )
    found = ScannedColumn(summary, _sampled_texts(summary, values), _missing_flags(values))
    sample = values if picks is None else values.take(picks)
    if summary.distinct == 0:
        return found
    counts = None if picks is None or is_target else _sample_counts(sample)
    if counts is not None:
        _count_repeated_values(found, values, counts)
    else:
        _count_all_values(found, values, picks, is_target)
    if info.kind in _NUMERIC:
        found.numbers = sample.cast(pa.float64(), safe=False).to_numpy()
    if info.kind in _ORDERED and summary.distinct:
        low_high = pc.min_max(values)
        summary.min = json_value(low_high["min"].as_py())
        summary.max = json_value(low_high["max"].as_py())
    if info.kind in _NUMERIC and summary.distinct:
        summary.mean = finite_or_none(pc.mean(values).as_py())  # ints and decimals too, uncopied
    return found


def _sample_counts(sample: pa.ChunkedArray) -> pa.StructArray | None:
    """The sample's value counts when most sampled values differ, else None."""
    # Hashing every row of such a column for codes would cost more than the whole budget.
    present = len(sample) - sample.null_count
    if present < 1_000 or pa.types.is_dictionary(sample.type) or pa.types.is_nested(sample.type):
        return None
    counts = pc.value_counts(sample.drop_null())
    return counts if len(counts) > MANY_VALUES * present else None


def _count_all_values(
    found: ScannedColumn, values: pa.ChunkedArray, picks: np.ndarray | None, target: bool
) -> None:
    """Counts every value: distinct count, top values, and codes for duplicates and leakage."""
    encoded = encode_values(values)
    if encoded is None:
        return
    codes_all, labels, counts, nulls = encoded
    found.summary.distinct = int(np.count_nonzero(counts))
    found.codes_all, found.codes_bound = codes_all, len(labels)
    found.cardinality = found.summary.distinct + (found.summary.missing > 0)
    found.summary.top_values = top_values(labels, counts)
    codes = codes_all if picks is None else codes_all[picks]
    found.codes = np.where(nulls[codes], -1, codes) if nulls.any() else codes
    found.balance = _class_shares(labels, counts) if target else None


def _count_repeated_values(
    found: ScannedColumn, values: pa.ChunkedArray, counts: pa.StructArray
) -> None:
    """Exact distinct count, and exact counts of the values the sample saw repeated."""
    # Only values repeated in the sample (`counts`) can be common in the whole column.
    distinct = count_distinct(values)
    found.summary.distinct, found.cardinality = distinct, distinct + (values.null_count > 0)
    repeated = counts.filter(pc.greater(counts.field("counts"), 1))
    if len(repeated) == 0:
        return
    order = np.argsort(-repeated.field("counts").to_numpy(), kind="stable")[:TOP_VALUES]
    common = repeated.field("values").take(pa.array(order))
    exact = pc.value_counts(values.filter(pc.is_in(values, value_set=common))).to_pylist()
    exact.sort(key=lambda c: -c["counts"])
    found.summary.top_values = [
        {"value": json_value(c["values"]), "count": c["counts"]} for c in exact
    ]


def _class_shares(labels: pa.Array, counts: np.ndarray) -> list[ClassShare]:
    """The target's largest classes with their shares, the rest as "(other values)"."""
    total = int(counts.sum())
    top = top_values(labels, counts, BALANCE_CLASSES)
    shares: list[ClassShare] = [
        {"value": t["value"], "count": t["count"], "share": round(t["count"] / total, 4)}
        for t in top
    ]
    rest = total - sum(t["count"] for t in top)
    if rest:
        shares.append({"value": "(other values)", "count": rest, "share": round(rest / total, 4)})
    return shares


def _sampled_texts(summary: ColumnSummary, values: pa.ChunkedArray) -> pa.Array | None:
    """Sampled text values, cut short (enough to tell numbers and dates); sets mean_length."""
    dtype = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
    if not (pa.types.is_string(dtype) or pa.types.is_large_string(dtype)):
        return None
    picks = evenly_spaced_rows(len(values), TEXT_ROWS)
    sample = (values if picks is None else values.take(picks)).drop_null().cast(dtype)
    if len(sample):
        summary.mean_length = finite_or_none(pc.mean(pc.utf8_length(sample)).as_py())
    return pc.utf8_slice_codeunits(sample, 0, TEXT_CHARS).combine_chunks()


def _missing_flags(values: pa.ChunkedArray) -> np.ndarray:
    """Which of the missing-values chart's evenly spaced rows lack a value."""
    if values.null_count == 0:
        return np.zeros(min(len(values), MATRIX_ROWS), dtype=bool)
    picks = evenly_spaced_rows(len(values), MATRIX_ROWS)
    sample = values if picks is None else values.take(picks)
    return np.asarray(sample.is_null().to_numpy(), dtype=bool)
