"""A classifier's holdout checked and put in one shape: class indices and probabilities."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.errors import InvalidInput

PROBABILITY_SLACK = 1e-3  # rows may miss summing to one by float noise, not by more


@dataclass(frozen=True)
class Labelled:
    """The holdout: each row's actual class (index into `classes`) and the class probabilities."""

    classes: list[str]
    actual: np.ndarray  # n ints
    probabilities: np.ndarray  # n x k, each row summing to one


def labelled(*, y_true: Sequence, probabilities: np.ndarray, classes: list[str]) -> Labelled:
    """The holdout as indices and probabilities, or InvalidInput saying what is unusable."""
    names = [str(c) for c in classes]
    if len(names) < 2 or len(set(names)) != len(names):
        raise InvalidInput(f"A classifier needs two or more distinct classes, not {names}.")
    actual = _indices(y_true, names)
    table = _probabilities(probabilities, rows=len(actual), classes=len(names))
    present = np.unique(actual)
    if present.size < 2:
        raise InvalidInput(
            f"Every holdout row is '{names[present[0]]}': curves and AUC need rows of at least "
            "two classes. Train on more rows, or with a larger share of the rarer class."
        )
    return Labelled(classes=names, actual=actual, probabilities=table)


def _indices(y_true: Sequence, names: list[str]) -> np.ndarray:
    """Each actual value's class index; integral floats match their integer label ("1.0" -> "1")."""
    index = {name: i for i, name in enumerate(names)}
    found: list[int] = []
    unknown: set[str] = set()
    for value in list(y_true):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise InvalidInput("The holdout's actual classes have missing values.")
        key = str(value)
        if key not in index and isinstance(value, float | np.floating) and value.is_integer():
            key = str(int(value))  # a label column with gaps reads as floats
        if key not in index:
            unknown.add(key)
            continue
        found.append(index[key])
    if unknown:
        raise InvalidInput(f"Actual classes {sorted(unknown)[:5]} are not among {names}.")
    if not found:
        raise InvalidInput("The holdout has no rows.")
    return np.asarray(found, dtype=int)


def _probabilities(values: np.ndarray, *, rows: int, classes: int) -> np.ndarray:
    """The n x k probabilities, refused when missing, out of [0, 1] or not summing to one."""
    table = np.asarray(values, dtype=float)
    if table.shape != (rows, classes):
        raise InvalidInput(
            f"Expected probabilities for {rows} rows x {classes} classes, got shape {table.shape}."
        )
    if not np.isfinite(table).all():
        raise InvalidInput(
            "The model gave missing (NaN) or infinite probabilities for "
            f"{int((~np.isfinite(table)).any(axis=1).sum())} holdout row(s); it cannot be assessed."
        )
    sums = table.sum(axis=1)
    if table.min() < -PROBABILITY_SLACK or np.abs(sums - 1).max() > PROBABILITY_SLACK:
        raise InvalidInput(
            "The model's scores are not probabilities (each row's must be in [0, 1] and sum to 1)."
        )
    return np.clip(table, 0.0, None) / sums[:, None]
