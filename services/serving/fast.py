"""A faster road through a PyCaret pipeline's preprocessing, taken only where it is proven equal.

PyCaret's predict spends most of a small request in pandas bookkeeping around each step
(merges to restore the column order, copies, signature lookups): about 2 ms for one row where
the model itself needs 0.1 ms. The usual steps are simple column-wise arithmetic, redone here on
plain arrays from the steps' own fitted values: imputation (scikit-learn's SimpleImputer),
ordinal and one-hot encoding (category_encoders), standard scaling and PyCaret's column-name
cleaning. At load time the result is compared with PyCaret's own transform on probing rows (the
training sample where there is one, and rows built from the schema: every category, an unseen
one, the range ends, missing values); only when every value and the model's predictions and
probabilities are identical is the road taken. Any other step, or any difference, leaves the
pipeline's own transform in charge."""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from services.serving.schema import ModelSchema

log = logging.getLogger("kaizen.serving")
Columns = dict[str, np.ndarray]
Step = Callable[[Columns], Columns]
UNSEEN = "\x00kaizen-unseen\x00"  # a category no training has


class Unsupported(Exception):
    """A step this road does not know: the pipeline's own transform is used."""


@dataclass(frozen=True)
class Road:
    """The preprocessing as array steps, and the encoded columns the model takes."""

    steps: list[Step]
    names: list[str]
    # The memory order of PyCaret's encoded matrix: a linear model's dot product sums in
    # another order on the other layout, and its probabilities differ in the last bit.
    fortran: bool = False

    def encode(self, columns: Columns) -> pd.DataFrame:
        """The encoded frame the model takes, as PyCaret's transform makes it."""
        for step in self.steps:
            columns = step(dict(columns))
        matrix = _matrix(columns, self.names)
        if self.fortran:
            matrix = np.asfortranarray(matrix)
        return pd.DataFrame(matrix, columns=self.names, copy=False)


def compile_road(pipeline: Any) -> Road | None:
    """The pipeline's preprocessing as array steps; None if a step is not one known here."""
    iterate = getattr(pipeline, "_iter", None)
    if iterate is None:
        return None
    try:
        steps = [_step(transformer) for _, _, transformer in iterate(with_final=False)]
    except (Unsupported, AttributeError, TypeError, ValueError) as error:
        log.info("fast transform not available: %s", error)
        return None
    names = getattr(pipeline.steps[-1][1], "feature_names_in_", None)
    if names is None:
        return None
    return Road([s for s in steps if s is not None], [str(n) for n in names])


def _matrix(columns: Columns, names: list[str]) -> np.ndarray:
    """The columns side by side in their common float type, as scikit-learn's check_array
    makes a frame's matrix (float32 stays float32; anything else becomes float64)."""
    arrays = [np.asarray(columns[n]) for n in names]
    common = np.result_type(*(a.dtype for a in arrays)) if arrays else np.dtype(np.float64)
    dtype = common if common in (np.float32, np.float64) else np.dtype(np.float64)
    return np.column_stack([a.astype(dtype, copy=False) for a in arrays])


def _step(wrapper: Any) -> Step | None:
    transformer = getattr(wrapper, "transformer", None)
    kind = type(transformer).__name__
    if transformer is None:
        raise Unsupported(type(wrapper).__name__)
    if kind == "LabelEncoder":  # the target's: predict does not touch the rows
        return None
    if getattr(wrapper, "_include", None) == []:  # PyCaret skips a step with no columns
        return None
    include = list(getattr(wrapper, "_include", None) or [])
    if getattr(wrapper, "_exclude", None):
        raise Unsupported(f"{kind} with excluded columns")
    if kind == "SimpleImputer":
        return _imputer(transformer, include)
    if kind == "OrdinalEncoder" and type(transformer).__module__.startswith("category_encoders"):
        return _ordinal(transformer)
    if kind == "OneHotEncoder" and type(transformer).__module__.startswith("category_encoders"):
        return _one_hot(transformer)
    if kind == "StandardScaler":
        return _scaler(transformer, include)
    if kind == "CleanColumnNames":
        pattern = re.compile(transformer.match)
        return lambda c: {pattern.sub("", str(k)): v for k, v in c.items()}
    raise Unsupported(kind)


def _imputer(imputer: Any, include: list[str]) -> Step:
    """SimpleImputer: NaN (only NaN, as scikit-learn masks it) becomes the fitted statistic."""
    statistics = list(imputer.statistics_)
    if imputer.add_indicator or len(statistics) != len(include):
        raise Unsupported("SimpleImputer with indicators or dropped columns")
    if not (isinstance(imputer.missing_values, float) and np.isnan(imputer.missing_values)):
        raise Unsupported("SimpleImputer of other missing values")

    def impute(columns: Columns) -> Columns:
        arrays = [np.asarray(columns[n]) for n in include]
        if any(a.dtype.kind == "O" for a in arrays):  # scikit-learn's NaN test for objects
            for name, values, statistic in zip(include, arrays, statistics, strict=True):
                values = values.astype(object)
                values[values != values] = statistic
                columns[name] = values
            return columns
        matrix = _matrix(columns, include)  # one matrix of one type, as check_array makes it
        for i, (name, statistic) in enumerate(zip(include, statistics, strict=True)):
            values = matrix[:, i]
            columns[name] = np.where(np.isnan(values), matrix.dtype.type(statistic), values)
        return columns

    return impute


def _codes(encoder: Any) -> Callable[[Columns], Columns]:
    """category_encoders' ordinal codes: None and NaN are missing, an unseen value -1."""
    if encoder.handle_unknown != "value" or getattr(encoder, "drop_invariant", False):
        raise Unsupported("OrdinalEncoder settings")
    tables = []
    for item in encoder.mapping:
        mapping: dict[Any, Any] = dict(item["mapping"].items())
        known = {k: float(v) for k, v in mapping.items() if not _missing(k)}
        missing = [float(v) for k, v in mapping.items() if _missing(k)]
        tables.append((item["col"], known, missing[0] if missing else -1.0))
    return_nan = encoder.handle_missing == "return_nan"

    def encode(columns: Columns) -> Columns:
        for name, known, missing in tables:
            codes = np.array(
                [missing if v is None or v != v else known.get(v, -1.0) for v in columns[name]],
                dtype=np.float64,
            )
            if return_nan:
                codes[codes == -2] = np.nan
            columns[name] = codes
        return columns

    return encode


def _missing(value: Any) -> bool:
    return value is None or value != value


def _ordinal(encoder: Any) -> Step:
    return _codes(encoder)


def _one_hot(encoder: Any) -> Step:
    """category_encoders' one-hot: the ordinal codes, then each code's row of indicators."""
    if encoder.handle_unknown not in ("value", "indicator") or encoder.drop_invariant:
        raise Unsupported("OneHotEncoder settings")
    codes = _codes(encoder.ordinal_encoder)
    tables = []
    for item in encoder.mapping:
        table: pd.DataFrame = item["mapping"]
        rows = {float(str(code)): row.to_numpy(np.float64) for code, row in table.iterrows()}
        tables.append((item["col"], [str(c) for c in table.columns], rows))

    def expand(columns: Columns) -> Columns:
        columns = codes(columns)
        for name, names, rows in tables:
            filler = np.full(len(names), np.nan)
            coded = columns.pop(name)
            block = np.array([rows.get(-2.0 if c != c else c, filler) for c in coded])
            block = block.reshape(len(coded), len(names))
            columns.update({n: block[:, i] for i, n in enumerate(names)})
        return columns

    return expand


def _scaler(scaler: Any, include: list[str]) -> Step:
    """StandardScaler: minus the mean, over the scale, as scikit-learn does."""
    mean = scaler.mean_ if scaler.with_mean else None
    scale = scaler.scale_ if scaler.with_std else None

    def standardize(columns: Columns) -> Columns:
        matrix = _matrix(columns, include)
        # scikit-learn subtracts and divides in place: float64 arithmetic, stored in the
        # matrix's own type after each operation.
        if mean is not None:
            matrix = (matrix - mean).astype(matrix.dtype, copy=False)
        if scale is not None:
            matrix = (matrix / scale).astype(matrix.dtype, copy=False)
        columns.update({n: matrix[:, i] for i, n in enumerate(include)})
        return columns

    return standardize


def probe_rows(schema: ModelSchema, sample: pd.DataFrame | None) -> pd.DataFrame:
    """Rows to compare the two roads on: the sample, and the typical row varied one column at a
    time through every category, an unseen one, the range ends and a missing value."""
    typical = schema.example_row()
    rows = [typical]
    for column in schema.columns:
        values: list[Any] = [*column.categories, UNSEEN] if column.categories else []
        values += [v for v in (column.minimum, column.maximum) if v is not None]
        if column.kind == "integer":
            values = [round(v) if isinstance(v, float) else v for v in values]
        values += [None] if not column.required else []
        rows += [typical | {column.name: v} for v in values]
    probes = pd.DataFrame(rows, columns=[c.name for c in schema.columns])
    if sample is not None:
        probes = pd.concat([sample[probes.columns], probes], ignore_index=True)
    return probes
