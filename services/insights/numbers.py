"""Shared helpers of the diagnostics: compact rounding, downsampling, row caps, plain numbers."""

import math
from collections.abc import Iterable, Sequence

import numpy as np

from services.errors import InvalidInput

MAX_ROWS = 20_000  # per-row arrays kept for the page; metrics always use every row
MAX_POINTS = 200  # points kept of any curve
SEED = 0  # the same holdout rows are sampled every time


def sig(value: float, digits: int = 5) -> float:
    """`value` rounded to `digits` significant digits (the shortest JSON for it)."""
    return float(f"{float(value):.{digits}g}")


def sigs(values: Iterable[float], digits: int = 5) -> list[float]:
    """Every value rounded to `digits` significant digits."""
    return [float(f"{v:.{digits}g}") for v in np.asarray(list(values), dtype=float).tolist()]


def maybe(value: float | None, digits: int = 5) -> float | None:
    """A rounded metric, or None when it is not defined (None, NaN or infinite)."""
    if value is None or not math.isfinite(value):
        return None
    return sig(value, digits)


def thin(count: int, limit: int = MAX_POINTS) -> np.ndarray:
    """At most `limit` evenly spread positions of `count`, first and last included."""
    if count <= limit:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, limit).round().astype(int))


def sampled_rows(count: int, limit: int = MAX_ROWS) -> tuple[np.ndarray, int | None]:
    """The rows kept (in order) and, when they are a sample, how many there were."""
    if count <= limit:
        return np.arange(count), None
    chosen = np.random.default_rng(SEED).choice(count, size=limit, replace=False)
    return np.sort(chosen), count


def finite_numbers(values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    """`values` as a float array, refused unless every one is a finite number."""
    try:
        array = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"The {what} must be numbers: {error}.") from error
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise InvalidInput(
            f"The {what} hold {bad.size} missing or infinite value(s) (first at row {bad[0]}); "
            "diagnostics need a number for every holdout row."
        )
    return array


def amount(value: float) -> str:
    """A number as a person reads it: three significant digits, thousands separated."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    digits = 3 - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, digits)
    if digits <= 0:
        return f"{int(rounded):,}"
    return f"{rounded:,.{digits}f}".rstrip("0").rstrip(".")


def per_hundred(share: float) -> int:
    """A share as a count out of 100, as the readings say it."""
    return round(100 * share)
