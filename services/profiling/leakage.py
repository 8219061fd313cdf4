"""The target-leakage check over scanned columns: features that give the target away."""

import numpy as np

from services.models import ColumnRole
from services.profiling import alerts
from services.profiling.columns import ScannedColumn
from services.profiling.models import Alert

FEW_VALUES = 10  # a numeric target with at most this many values is treated as classes
MAX_CLASSES = 100  # beyond this many target classes the leakage check is skipped
MANY_FEATURE_VALUES = 50  # a numeric feature with more values is judged by ranges


def holds_classes(target: ScannedColumn) -> bool:
    """Whether the target holds classes (else it is a number to predict)."""
    distinct = target.summary.distinct or 0
    return target.codes is not None and (target.numbers is None or distinct <= FEW_VALUES)


def leak_alerts(columns: list[ScannedColumn], target: ScannedColumn) -> list[Alert]:
    """Features that predict the target almost perfectly (on the sampled rows)."""
    classes = holds_classes(target) and (target.summary.distinct or 0) <= MAX_CLASSES
    found = [
        _leak_alert(c, target, classes)
        for c in columns
        if c is not target
        and c.summary.role == ColumnRole.feature
        and (c.summary.distinct or 0) > 1
    ]
    return [alert for alert in found if alert is not None]


def _leak_alert(feature: ScannedColumn, target: ScannedColumn, classes: bool) -> Alert | None:
    """A leak alert for one feature: by purity for a class target, else by correlation."""
    names = {"feature": feature.summary.name, "target": target.summary.name}
    if not classes:
        if feature.numbers is None or target.numbers is None:
            return None
        r = _pearson(feature.numbers, target.numbers)
        return None if r is None else alerts.correlation_leak_alert(**names, correlation=r)
    codes = feature.codes
    many = (feature.summary.distinct or 0) > MANY_FEATURE_VALUES
    if feature.numbers is not None and (codes is None or many):
        # Numbers with many values are judged by ranges: 100 quantile bins of 20+ rows each.
        codes = alerts.bin_codes(feature.numbers, bins=max(2, min(100, len(feature.numbers) // 20)))
    if codes is None or target.codes is None:
        return None
    return alerts.leakage_alert(**names, feature_codes=codes, target_codes=target.codes)


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    """Correlation over the rows where both are finite; None with too few or constant values."""
    both = np.isfinite(a) & np.isfinite(b)
    if both.sum() < alerts.LEAK_MIN_ROWS or a[both].std() == 0 or b[both].std() == 0:
        return None
    return float(np.corrcoef(a[both], b[both])[0, 1])
