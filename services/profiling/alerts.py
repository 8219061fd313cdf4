"""Data quality alerts in words a business user understands: what was found and what to do."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from services.models import ColumnKind, ColumnRole
from services.profiling.models import Alert, AlertCode, ClassShare, ColumnSummary, Severity

NEAR_CONSTANT = 0.98  # share of filled-in rows holding the most common value
ID_MIN_ROWS = 20  # in smaller tables every column may happen to be unique
ID_MAX_LENGTH = 40  # unique text longer than this on average is free text, not an identifier
HIGH_CARDINALITY = 100  # distinct values, when they are also over 5% of the filled-in rows
HIGH_MISSING, VERY_HIGH_MISSING = 0.2, 0.5
MIXED_SHARE, DATE_SHARE = 0.6, 0.8  # share of values that are numbers or dates
LEAK_PURITY, LEAK_CORRELATION = 0.99, 0.98
LEAK_MIN_GROUP = 10  # rows a feature value needs before its purity counts
LEAK_COVERAGE = 0.8  # share of rows that must fall in such values
LEAK_MIN_ROWS = 30
LEAK_ERRORS_LEFT = 0.2  # a leak leaves under a fifth of the errors of always guessing one class
IMBALANCE = 0.2  # the rarest class holds under a fifth of an equal share
LABEL_CHARS = 40
_ID_KINDS = {ColumnKind.integer, ColumnKind.text, ColumnKind.category}
_NUMBER = r"^\s*[-+]?[$€£]?\s*(\d{1,3}(,\d{3})+|\d+)?([.,]\d+)?([eE][-+]?\d+)?\s*%?\s*$"
_DATE_HINT = (
    r"\d{1,4}[-/. ]\d{1,2}[-/. ,]+\d{1,4}|[A-Za-z]{3,9}\.? \d{1,2},? \d{4}|\d{1,2} [A-Za-z]"
)
DATE_FORMATS = [
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d.%m.%Y %H:%M",
]


def column_alerts(summary: ColumnSummary, *, rows: int, is_target: bool) -> list[Alert]:
    """What is wrong with one column on its own: empty, constant, ID-like, many values, gaps."""
    if summary.role in (ColumnRole.id, ColumnRole.ignore):
        return []  # the user has already set it aside
    name, present = summary.name, rows - summary.missing
    if present == 0:
        message = f"'{name}' has no values at all. It can't help predict anything; ignore it."
        return [_alert("all_missing", name, "warning", "Empty column", message)]
    found = [_missing_alert(summary, rows)] if summary.missing_pct >= 100 * HIGH_MISSING else []
    if present == 1:  # a single value says nothing about how a column varies
        return found
    top = summary.top_values[0] if summary.top_values else None
    if summary.distinct == 1 and top is not None:
        found.append(_constant_alert(name, top["value"], is_target))
    elif top is not None and not is_target and top["count"] >= NEAR_CONSTANT * present:
        message = (
            f"{top['count'] / present:.1%} of the filled-in rows of '{name}' hold the same value "
            f"({_label(top['value'])}). It carries very little information; ignore it unless "
            "the rare values matter."
        )
        found.append(_alert("near_constant", name, "info", "Almost always the same", message))
    elif not is_target:
        found += _uniqueness_alerts(summary, present)
    return found


def _missing_alert(summary: ColumnSummary, rows: int) -> Alert:
    very = summary.missing_pct >= 100 * VERY_HIGH_MISSING
    message = (
        f"{summary.missing_pct:.1f}% of the rows ({summary.missing:,} of {rows:,}) have no value "
        f"for '{summary.name}'. Models fill the gaps with guesses, which can mislead; find out why "
        "the values are missing, or ignore the column."
    )
    severity: Severity = "warning" if very else "info"
    return _alert("high_missing", summary.name, severity, "Many missing values", message)


def _constant_alert(name: str, value: object, is_target: bool) -> Alert:
    if is_target:
        advice = "There is nothing to predict; choose another target or upload more varied data."
    else:
        advice = "A column that never changes can't help predict anything; ignore it."
    message = f"Every filled-in row of '{name}' holds the same value ({_label(value)}). {advice}"
    return _alert("constant", name, "warning", "Same value everywhere", message)


def _uniqueness_alerts(summary: ColumnSummary, present: int) -> list[Alert]:
    name, distinct = summary.name, summary.distinct or 0
    short = summary.mean_length is None or summary.mean_length <= ID_MAX_LENGTH
    if distinct == present >= ID_MIN_ROWS and summary.kind in _ID_KINDS and short:
        message = (
            f"'{name}' has a different value in every row, like an ID. IDs don't help predict "
            "anything; mark it as an id column."
        )
        return [_alert("id_like", name, "warning", "Looks like an ID", message)]
    text = summary.kind in (ColumnKind.text, ColumnKind.category)
    if text and distinct > HIGH_CARDINALITY and distinct > 0.05 * present:
        message = (
            f"'{name}' has {distinct:,} different values, so most of them appear only a few "
            "times and a model can learn little from each. Group rare values into broader ones, "
            "or ignore the column if it is free text or a code."
        )
        return [_alert("high_cardinality", name, "info", "Many different values", message)]
    return []


def duplicate_alert(duplicates: int, rows: int) -> Alert | None:
    """Rows that repeat another row exactly."""
    if duplicates == 0:
        return None
    share = duplicates / rows
    message = (
        f"{duplicates:,} rows ({share:.1%}) are exact copies of another row. Copies can make a "
        "model look better than it is; remove them unless they are real repeated events."
    )
    severity: Severity = "warning" if share >= 0.01 else "info"
    return _alert("duplicate_rows", None, severity, "Duplicate rows", message)


def imbalance_alert(target: str, balance: list[ClassShare]) -> Alert | None:
    """A target class so rare that models tend to overlook it."""
    if len(balance) < 2:
        return None
    rarest = min(balance, key=lambda share: share["count"])
    if rarest["share"] >= IMBALANCE / len(balance):
        return None
    total = sum(share["count"] for share in balance)
    message = (
        f"Only {rarest['share']:.1%} of the rows have '{target}' = {_label(rarest['value'])} "
        f"({rarest['count']:,} of {total:,}). Models tend to overlook rare outcomes; judge them "
        "by how well they find this outcome (recall, balanced accuracy), not by plain accuracy."
    )
    return _alert("class_imbalance", target, "warning", "Rare outcome", message)


def text_alerts(name: str, values: pa.Array) -> list[Alert]:
    """Text columns that hold numbers or dates: mixed with other values, or dates kept as text."""
    values = pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(values.drop_null()), 0, 64)
    if len(values) == 0:
        return []
    numbers = np.asarray(
        pc.and_(pc.match_substring_regex(values, _NUMBER), pc.match_substring_regex(values, r"\d"))
    )
    dates = _date_matches(values)
    number_share, date_share = _share(numbers), _share(dates)
    found = []
    if date_share >= DATE_SHARE:
        example = _label(values[int(np.argmax(dates))].as_py())
        message = (
            f"'{name}' holds dates written as text (like {example}). As real dates they give "
            "useful features such as month or weekday; store them as dates (YYYY-MM-DD) and "
            "upload again."
        )
        found.append(_alert("date_as_text", name, "info", "Dates stored as text", message))
    kind, matches = ("dates", dates) if date_share > number_share else ("numbers", numbers)
    if MIXED_SHARE <= max(number_share, date_share) < 1:
        found.append(_mixed_alert(name, kind, values.filter(pa.array(~matches))))
    return found


def _date_matches(values: pa.Array) -> np.ndarray:
    """Which values are dates in the one format that reads the most of them."""
    hinted = pc.match_substring_regex(values, _DATE_HINT)
    if _share(hinted) < MIXED_SHARE:
        return np.zeros(len(values), dtype=bool)
    texts = pd.Series(values.to_pylist(), dtype=object)
    best = np.zeros(len(values), dtype=bool)
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(texts, format=fmt, errors="coerce").notna().to_numpy()
        if parsed.sum() > best.sum():
            best = parsed
    return best


def _mixed_alert(name: str, kind: str, others: pa.Array) -> Alert:
    counts = pc.value_counts(others).to_pylist()
    common = sorted(counts, key=lambda c: -c["counts"])[:3]
    examples = ", ".join(_label(c["values"]) for c in common)
    message = (
        f"Most values of '{name}' are {kind}, but not all (for example {examples}). The column "
        f"is treated as text; correct or clear those values so it can be used as {kind}."
    )
    return _alert("mixed_types", name, "warning", "Mixed kinds of values", message)


def leakage_alert(
    *, feature: str, target: str, feature_codes: np.ndarray, target_codes: np.ndarray
) -> Alert | None:
    """A feature whose values each go with one target class (codes; -1 marks missing)."""
    purity = leak_purity(feature_codes, target_codes)
    if purity is None:
        return None
    return _leak_alert(feature, target, f"gives the right '{target}' in {purity:.1%} of rows")


def correlation_leak_alert(*, feature: str, target: str, correlation: float) -> Alert | None:
    """A numeric feature that moves almost exactly with a numeric target."""
    if not abs(correlation) >= LEAK_CORRELATION:
        return None
    return _leak_alert(feature, target, f"moves almost exactly with '{target}' ({correlation:.3f})")


def _leak_alert(feature: str, target: str, evidence: str) -> Alert:
    message = (
        f"'{feature}' {evidence}. It might be known only after the outcome, so a model would "
        "look excellent in testing and fail in real use. Check when this value becomes known; "
        "if it is after the outcome, ignore the column."
    )
    return _alert("target_leakage", feature, "warning", "Possible target leakage", message)


def leak_purity(feature_codes: np.ndarray, target_codes: np.ndarray) -> float | None:
    """Share of rows whose feature value goes with their target class, if a leak; else None."""
    # Codes are small whole numbers, -1 for missing. A leak must also beat always guessing the
    # commonest class: under a fifth of its errors left.
    keep = (feature_codes >= 0) & (target_codes >= 0)
    if keep.sum() < LEAK_MIN_ROWS:
        return None
    feature, target = feature_codes[keep], target_codes[keep]
    sizes = np.bincount(feature)
    frequent = sizes >= LEAK_MIN_GROUP
    covered, groups, classes = sizes[frequent].sum(), int(frequent.sum()), int(target.max()) + 1
    # Rare values are left out: a value seen once always "predicts" its own row.
    if groups < 2 or covered < LEAK_COVERAGE * len(feature):
        return None
    rows = frequent[feature]
    group = (np.cumsum(frequent) - 1)[feature[rows]]
    table = np.bincount(group * classes + target[rows], minlength=groups * classes)
    table = table.reshape(groups, classes)
    guessed = table.sum(axis=0).max()
    if covered - guessed < LEAK_MIN_GROUP:  # too few rows outside the commonest class
        return None
    purity = table.max(axis=1).sum() / covered
    needed = max(LEAK_PURITY, 1 - LEAK_ERRORS_LEFT * (1 - guessed / covered))
    return float(purity) if purity >= needed else None


def bin_codes(numbers: np.ndarray, bins: int) -> np.ndarray:
    """Quantile bins of a numeric sample (-1 for missing), so purity can be judged on ranges."""
    finite = np.isfinite(numbers)
    codes = np.full(len(numbers), -1, dtype=np.int64)
    if finite.any():
        present = numbers[finite]
        # Quantiles (without interpolation) of at most 10,000 of the values are edges enough.
        ordered = np.sort(present[:: max(1, len(present) // 10_000)])
        at = np.arange(bins + 1) * (len(ordered) - 1) // bins
        edges = np.unique(ordered[at])
        codes[finite] = np.searchsorted(edges, numbers[finite], side="left")
    return codes


def _share(mask: pa.Array | np.ndarray) -> float:
    flags = np.asarray(mask, dtype=bool)
    return float(flags.mean()) if len(flags) else 0.0


def _label(value: object) -> str:
    text = str(value)
    return f"'{text[:LABEL_CHARS]}…'" if len(text) > LABEL_CHARS else f"'{text}'"


def _alert(code: AlertCode, column: str | None, severity: Severity, title: str, text: str) -> Alert:
    return Alert(code=code, column=column, severity=severity, title=title, message=text)
