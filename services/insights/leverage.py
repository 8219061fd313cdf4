"""Leverage (the hat matrix's diagonal) and Cook's distance of a model's holdout rows."""

from dataclasses import dataclass

import numpy as np
from scipy import linalg

MAX_COLUMNS = 300  # ~1.5 s for 20,000 rows; a wider design takes long and says little


@dataclass(frozen=True)
class Influence:
    """Per row: leverage, internally studentized residual and Cook's distance; p: the rank."""

    leverage: np.ndarray
    standardized: np.ndarray
    cooks: np.ndarray
    rank: int


def hat_diagonal(design: np.ndarray) -> tuple[np.ndarray, int]:
    """diag(X (X'X)^-1 X') via pivoted QR (exact when X is rank-deficient), and the rank."""
    x = np.asarray(design, dtype=float)
    # The models fit an intercept: add its column unless X has a constant one already.
    if not _has_constant(x):
        x = np.column_stack([np.ones(len(x)), x])
    norms = np.linalg.norm(x, axis=0)
    x = x[:, norms > 0] / norms[norms > 0]  # equal column scales make the rank test fair
    q, r, _ = linalg.qr(x, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    tolerance = max(x.shape) * np.finfo(float).eps * (diagonal[0] if diagonal.size else 0.0)
    rank = int((diagonal > tolerance).sum())
    return np.einsum("ij,ij->i", q[:, :rank], q[:, :rank]), rank


def influence(residuals: np.ndarray, design: np.ndarray) -> Influence:
    """Cook's distance D = r^2 / (p s^2) * h / (1 - h)^2, s^2 = RSS / (n - p), as for OLS."""
    leverage, rank = hat_diagonal(design)
    # A row with leverage 1 is fit exactly by OLS; for another model, keep it finite.
    room = np.clip(1.0 - leverage, 1e-12, None)
    scale = _scale(residuals, len(residuals) - rank)
    standardized = residuals / (scale * np.sqrt(room)) if scale > 0 else np.zeros_like(residuals)
    cooks = standardized**2 / rank * leverage / room
    return Influence(leverage=leverage, standardized=standardized, cooks=cooks, rank=rank)


def numeric_design(design: np.ndarray | None) -> np.ndarray | None:
    """`design` as floats, or None when it is missing or not numbers."""
    try:
        return None if design is None else np.asarray(design, dtype=float)
    except (TypeError, ValueError):
        return None


def leverage_problem(design: np.ndarray | None, rows: int) -> str | None:
    """Why leverage cannot be computed for `design`, or None when it can."""
    if design is None:
        return "Leverage needs the model's numeric inputs, which were not available."
    if design.ndim != 2 or design.shape[0] != rows:
        return f"The model's inputs have shape {design.shape}, not {rows} rows: no leverage."
    columns = design.shape[1]
    if columns > rows / 2:
        return (
            f"The model has {columns} inputs for {rows} holdout rows: leverage needs at least "
            "twice as many rows as inputs."
        )
    if columns > MAX_COLUMNS:
        return f"The model has {columns} inputs: leverage is computed up to {MAX_COLUMNS}."
    if not np.isfinite(design).all():
        return "The model's numeric inputs have missing values: no leverage."
    return None


def residual_scale(residuals: np.ndarray) -> float:
    """The residuals' standard error without a design: s^2 = RSS / (n - 1)."""
    return _scale(residuals, len(residuals) - 1)


def _scale(residuals: np.ndarray, freedom: int) -> float:
    return float(np.sqrt(np.sum(residuals**2) / max(freedom, 1)))


def _has_constant(x: np.ndarray) -> bool:
    """Whether a column holds one non-zero value on every row (an intercept already)."""
    if x.shape[0] == 0 or x.shape[1] == 0:
        return False
    first = x[0]
    return bool(np.any((first != 0) & np.all(x == first, axis=0)))
