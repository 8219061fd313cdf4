"""Distinct values of a column: coded row by row, or only counted where codes cost too much."""

from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PARTITION_ROWS = 1_000_000  # texts hashed at once when counting distinct values


class Encoded(NamedTuple):
    """A column as value codes: one per row, with each code's value and row count."""

    codes: np.ndarray  # each row's code
    labels: pa.Array  # the value of each code
    counts: np.ndarray  # rows per code; 0 for the code that means missing
    nulls: np.ndarray  # which codes mean missing


def encode_values(values: pa.ChunkedArray) -> Encoded | None:
    """Row codes, the value of each code, rows per code, and which codes mean missing."""
    if values.num_chunks == 0:
        return None
    if pa.types.is_dictionary(values.type):  # read from Parquet's own dictionaries: no hashing
        values = pa.table({"v": values}).unify_dictionaries().column(0)
        labels = pa.concat_arrays([values.chunk(0).dictionary, pa.nulls(1, values.type.value_type)])
        chunks = [chunk.indices.fill_null(len(labels) - 1) for chunk in values.chunks]
    else:
        try:
            encoded = pc.dictionary_encode(values, null_encoding="encode")
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
            return None  # nested values cannot be hashed
        labels, chunks = encoded.chunk(0).dictionary, [c.indices for c in encoded.chunks]
    codes = np.concatenate([chunk.to_numpy() for chunk in chunks])
    counts = np.bincount(codes, minlength=len(labels))
    nulls = np.asarray(labels.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    counts[nulls] = 0
    return Encoded(codes, labels, counts, nulls)


def count_distinct(values: pa.ChunkedArray) -> int:
    """Distinct values present; numbers are sorted, which beats hashing millions of them."""
    dtype = values.type
    if pa.types.is_date32(dtype) or pa.types.is_time32(dtype):
        values, dtype = values.cast(pa.int32()), pa.int32()
    elif pa.types.is_temporal(dtype):
        values, dtype = values.cast(pa.int64()), pa.int64()
    if not (pa.types.is_integer(dtype) or pa.types.is_floating(dtype)):
        return _count_distinct_hashed(values.drop_null())
    numbers = values.drop_null().to_numpy()
    if len(numbers) == 0 or (numbers[1:] > numbers[:-1]).all():  # IDs often come in order
        return len(numbers)
    numbers = np.sort(numbers)
    nan = np.isnan(numbers) if numbers.dtype.kind == "f" else np.zeros(len(numbers), dtype=bool)
    numbers = numbers[~nan]
    return int(np.count_nonzero(numbers[1:] != numbers[:-1]) + (len(numbers) > 0) + nan.any())


def _count_distinct_hashed(values: pa.ChunkedArray) -> int:
    """Distinct values by hashing; past a million texts, part by part."""
    # One hash table of millions of texts takes several times the column's memory, so texts
    # are split by a cheap function of each (first and last characters, length).
    parts = -(-len(values) // PARTITION_ROWS)
    if parts <= 1 or not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return len(pc.unique(values))
    first, last = pc.utf8_slice_codeunits(values, 0, 1), pc.utf8_slice_codeunits(values, -2)
    ends = pc.dictionary_encode(pc.binary_join_element_wise(first, last, ""))
    codes = np.concatenate([chunk.indices.to_numpy() for chunk in ends.chunks]).astype(np.int64)
    part = (codes * 31 + pc.binary_length(values).to_numpy()) % parts
    return sum(len(pc.unique(values.filter(pa.array(part == p)))) for p in range(parts))
