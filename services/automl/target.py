"""The table made ready to train on: the target checked and its task inferred, unusable
columns set aside, each decision stated in words, each problem refused with a clear message."""

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from services.automl.options import Task, TrainingOptions
from services.errors import InvalidInput
from services.models import ColumnInfo, ColumnRole

HOLDOUT_FRACTION = 0.2
MAX_CLASSES = 100
MAX_INFERRED_CLASS_NUMBERS = 10  # a whole-number target with more values is a quantity
MIN_ROWS = 20
ID_LIKE_MIN_ROWS = 50  # below this, all-distinct values prove nothing
_ID_NAME = re.compile(r"(^|[^a-z])(id|key|index|rownames?|row|no)$|id$", re.IGNORECASE)
_NUMBER_TEXT = re.compile(r"^[\s$€£¥]*[-+]?[\d,]*\.?\d+(?:[eE][-+]?\d+)?\s*%?\s*$")


@dataclass
class Prepared:
    """The rows and columns training uses, and what was decided on the way."""

    frame: pd.DataFrame
    task: Task
    features: list[str]
    excluded: dict[str, str]  # column -> why it is left out
    classes: dict[str, int] = field(default_factory=dict)  # class -> rows, for classification
    notes: list[str] = field(default_factory=list)


def prepare(frame: pd.DataFrame, columns: list[ColumnInfo], options: TrainingOptions) -> Prepared:
    """Checks and cleans `frame` for training on `options.target`, or says what to fix."""
    target = options.target
    if target not in frame.columns:
        raise InvalidInput(f"There is no column '{target}' in this dataset; choose another target.")
    notes: list[str] = []
    frame = _without_infinities(frame, notes)
    y = frame[target]
    if y.notna().sum() == 0:
        raise InvalidInput(
            f"The target '{target}' has no values: it is empty in every row. Choose another column."
        )
    y, task = _target_and_task(y, options.task, target, notes)
    frame = frame.assign(**{target: y})
    missing = int(y.isna().sum())
    if missing:
        frame = frame[y.notna()].reset_index(drop=True)
        notes.append(f"{missing:,} rows without a target value are left out.")
    prepared = Prepared(frame=frame, task=task, features=[], excluded={}, notes=notes)
    if task.is_classification:
        prepared.classes = _checked_classes(frame[target], task, target, options.fold_count)
    _choose_features(prepared, columns, target)
    _check_shape(prepared)
    prepared.frame = prepared.frame[[*prepared.features, target]]
    return prepared


def _without_infinities(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    numeric = frame.select_dtypes(include="number").columns
    counts = {c: int(np.isinf(_floats(frame[c])).sum()) for c in numeric}
    infinite = {c: n for c, n in counts.items() if n}
    if not infinite:
        return frame
    named = ", ".join(f"'{c}' ({n:,})" for c, n in infinite.items())
    notes.append(f"Infinite values are treated as missing: {named}.")
    return frame.assign(**{c: frame[c].replace([np.inf, -np.inf], np.nan) for c in infinite})


def _target_and_task(
    y: pd.Series, asked: Task | None, target: str, notes: list[str]
) -> tuple[pd.Series, Task]:
    if not _is_numeric(y) and asked in (None, Task.regression):
        numbers = _numbers_from_text(y)
        read = numbers.notna().sum() / max(1, y.notna().sum())
        many = numbers.nunique() > MAX_INFERRED_CLASS_NUMBERS
        if read >= 0.95 and (asked is Task.regression or many):
            example = str(y.dropna().iloc[0])
            notes.append(
                f"The target '{target}' holds numbers stored as text (e.g. '{example}'); "
                "they are read as numbers."
            )
            y = numbers
    if asked is Task.regression and not _is_numeric(y):
        example = str(y.dropna().iloc[0])
        raise InvalidInput(
            f"The target '{target}' is text (e.g. '{example}'), so it cannot be predicted as a "
            "number. Choose classification, or a numeric target."
        )
    task = asked or _inferred_task(y)
    if task is Task.regression and y.dtype == bool:
        raise InvalidInput(f"The target '{target}' is yes/no; choose classification for it.")
    return y, task


def _inferred_task(y: pd.Series) -> Task:
    values = y.dropna()
    distinct = values.nunique()
    if _is_numeric(y) and y.dtype != bool:
        whole = bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
        if not whole or distinct > MAX_INFERRED_CLASS_NUMBERS:
            return Task.regression
    return Task.binary if distinct <= 2 else Task.multiclass


def _checked_classes(y: pd.Series, task: Task, target: str, folds: int) -> dict[str, int]:
    counts = y.astype(str).value_counts()
    if len(counts) < 2:
        raise InvalidInput(
            f"The target '{target}' has only one value ('{counts.index[0]}'), so there is "
            "nothing to tell apart. Choose a target with at least two values."
        )
    if len(counts) > MAX_CLASSES:
        raise InvalidInput(
            f"The target '{target}' has {len(counts):,} distinct values: too many to treat as "
            f"classes (at most {MAX_CLASSES}). If it is a quantity, choose regression."
        )
    if task is Task.binary and len(counts) > 2:
        raise InvalidInput(
            f"The target '{target}' has {len(counts)} values, not two; choose multiclass."
        )
    # The holdout takes a fifth of each class; every fold of the rest needs each class.
    needed = max(2, math.ceil(folds / (1 - HOLDOUT_FRACTION)))
    rare = counts[counts < needed]
    if len(rare):
        named = ", ".join(f"'{c}' ({n})" for c, n in rare.head(5).items())
        raise InvalidInput(
            f"Some classes of '{target}' have too few rows: {named}. With {folds}-fold "
            f"cross-validation every class needs at least {needed} rows. Remove or merge the "
            "rare classes (save a new version of the dataset), or choose fewer folds."
        )
    return {str(c): int(n) for c, n in counts.items()}


def _choose_features(prepared: Prepared, columns: list[ColumnInfo], target: str) -> None:
    frame = prepared.frame
    roles = {c.name: c.role for c in columns}
    for name in frame.columns:
        if name == target:
            continue
        reason = _reason_to_leave_out(frame[name], roles.get(name, ColumnRole.feature))
        if reason:
            prepared.excluded[name] = reason
        else:
            prepared.features.append(name)
    if not prepared.features:
        raise InvalidInput(
            "Nothing to learn from: every column other than the target is left out ("
            + "; ".join(f"'{c}': {why}" for c, why in list(prepared.excluded.items())[:5])
            + "). Add columns that describe each row, or mark columns as features on the "
            "Datasets page."
        )


def _reason_to_leave_out(values: pd.Series, role: ColumnRole) -> str | None:
    if role in (ColumnRole.id, ColumnRole.ignore):
        return f"marked {role.value}"
    present = values.dropna()
    if present.empty:
        return "empty in every row"
    distinct = present.nunique()
    if distinct == 1:
        return "the same value in every row"
    if len(present) >= ID_LIKE_MIN_ROWS and distinct == len(present) and _id_like(present):
        return "a different value in every row, like an ID"
    return None


def _id_like(present: pd.Series) -> bool:
    """All-distinct text is an ID; all-distinct whole numbers only when named like one or
    counting rows (a measurement such as income may be all-distinct too)."""
    if not _is_numeric(present):
        return True
    if not pd.api.types.is_integer_dtype(present):
        return False
    named = bool(_ID_NAME.search(str(present.name)))
    return named or int(present.max()) - int(present.min()) == len(present) - 1


def _check_shape(prepared: Prepared) -> None:
    rows, width = len(prepared.frame), len(prepared.features)
    if rows < MIN_ROWS:
        raise InvalidInput(
            f"Only {rows} rows have a target value; training needs at least {MIN_ROWS}."
        )
    if width >= rows:
        raise InvalidInput(
            f"The table has {width:,} feature columns but only {rows:,} rows to learn from. "
            "Models need more rows than columns: add rows, or mark columns as ignore."
        )


def _is_numeric(y: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(y))


def _numbers_from_text(y: pd.Series) -> pd.Series:
    text = y.astype("string").str.strip()
    usable = text.str.match(_NUMBER_TEXT).fillna(False).astype(bool)
    cleaned = text.where(usable).str.replace(r"[\s$€£¥,%]", "", regex=True)
    return pd.to_numeric(cleaned, errors="coerce")


def _floats(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=float, na_value=np.nan)
