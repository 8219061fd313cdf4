"""Exact count of duplicate rows, from the value codes the column pass already made."""

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from services.profiling.distinct import encode_values

ReadRows = Callable[[str, np.ndarray], pa.ChunkedArray]  # a column's values at given rows


class DuplicateRowCounter:
    """Counts duplicate rows exactly, folding each row's value codes into one group number."""

    # Group numbers are renumbered before the product of value counts could overflow. Columns
    # with many values were not hashed in full: only rows still alike are checked on them.

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.groups: np.ndarray | None = None  # each row's group number so far
        self.group_bound = 1  # group numbers are below this
        self.unique = rows <= 1  # no row can repeat another
        self.deferred: list[str] = []  # columns without codes, checked at the end

    def add_column(self, name: str, cardinality: int, codes: np.ndarray | None, bound: int) -> None:
        """Folds in a column of `cardinality` values (missing as one), codes below `bound`."""
        if self.unique or cardinality <= 1:
            return
        if cardinality == self.rows:  # a column unique in every row: no row repeats
            self.unique, self.groups = True, None
        elif codes is None:
            self.deferred.append(name)
        elif self.groups is None:
            self.groups, self.group_bound = codes.astype(np.int64), bound
        else:
            if self.group_bound * bound >= 2**62:
                self._renumber()
            if self.groups is not None:
                self.groups = self.groups * bound + codes
                self.group_bound *= bound

    def _renumber(self) -> None:
        """Numbers the groups 0, 1, 2, … so their products stay small."""
        assert self.groups is not None
        codes, groups = pd.factorize(self.groups)
        self.groups, self.group_bound = codes.astype(np.int64), len(groups)
        if self.group_bound == self.rows:
            self.unique, self.groups = True, None

    def count(self, read: ReadRows) -> int:
        """Rows that repeat an earlier row; `read` gives a deferred column's values at rows."""
        if self.groups is not None:
            self._renumber()
        if self.unique:
            return 0
        if not self.deferred:
            return self.rows - (self.group_bound if self.groups is not None else 1)
        alike = np.arange(self.rows)
        rest = DuplicateRowCounter(self.rows)
        if self.groups is not None:
            alike = np.flatnonzero(np.bincount(self.groups)[self.groups] > 1)
            rest = DuplicateRowCounter(len(alike))
            codes, groups = pd.factorize(self.groups[alike])
            rest.add_column("", len(groups), codes, len(groups))
        for name in self.deferred:
            encoded = encode_values(read(name, alike))
            if encoded is not None:
                used = int(np.count_nonzero(encoded.counts) + encoded.nulls.any())
                rest.add_column(name, used, encoded.codes, len(encoded.labels))
        return rest.count(read)
