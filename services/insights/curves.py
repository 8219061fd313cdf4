"""Curves of one class's probabilities: ROC, precision-recall, calibration, gain and lift."""

import numpy as np
from pydantic import BaseModel
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

from services.insights.numbers import maybe, sig, sigs, thin

CALIBRATION_BINS = 10
GAIN_GROUPS = 10


class Curve(BaseModel):
    """One class's curve, at most ~200 points, with the decision threshold at each point."""

    label: str  # the class it is drawn for
    x: list[float]
    y: list[float]
    thresholds: list[float]  # a row counts as the class when its probability is >= this
    area: float | None  # ROC: the AUC; precision-recall: the average precision
    baseline: float  # what guessing scores: AUC 0.5, or the class's share of rows for PR


class Calibration(BaseModel):
    """Rows cut into equal-sized bins by predicted probability: predicted vs observed share."""

    label: str
    predicted: list[float]  # mean predicted probability of the class in each bin
    observed: list[float]  # share of the bin's rows that really are the class
    counts: list[int]


class Gains(BaseModel):
    """Rows ranked by probability, best first, in ten groups: how much of the class each finds."""

    label: str
    share_of_rows: list[float]  # cumulative share of rows taken, top-ranked first
    gain: list[float]  # cumulative share of the class's rows found among them
    lift: list[float]  # gain / share_of_rows: how many times better than picking at random
    group_lift: list[float]  # each group's own rate of the class over the overall rate
    base_rate: float  # the class's share of all rows


def roc(label: str, hits: np.ndarray, scores: np.ndarray) -> Curve:
    """The ROC curve (false positive rate, true positive rate) and its AUC."""
    fpr, tpr, thresholds = roc_curve(hits, scores)
    keep = thin(len(fpr))
    area = float(auc(fpr, tpr))  # of the full curve, not the thinned one
    return Curve(
        label=label,
        x=sigs(fpr[keep]),
        y=sigs(tpr[keep]),
        thresholds=sigs(np.minimum(thresholds[keep], 1.0)),  # the first one is +inf
        area=maybe(area),
        baseline=0.5,
    )


def precision_recall(label: str, hits: np.ndarray, scores: np.ndarray) -> Curve:
    """The precision-recall curve (recall, precision) and its average precision."""
    precision, recall, thresholds = precision_recall_curve(hits, scores)
    thresholds = np.append(thresholds, 1.0)  # the last point (recall 0) has none of its own
    keep = thin(len(recall))
    return Curve(
        label=label,
        x=sigs(recall[keep]),
        y=sigs(precision[keep]),
        thresholds=sigs(thresholds[keep]),
        area=maybe(float(average_precision_score(hits, scores))),
        baseline=sig(float(hits.mean())),
    )


def calibration(label: str, hits: np.ndarray, scores: np.ndarray) -> Calibration:
    """Ten quantile bins, cut as sklearn's calibration_curve(strategy="quantile") cuts them."""
    edges = np.percentile(scores, np.linspace(0, 100, CALIBRATION_BINS + 1))
    bins = np.searchsorted(edges[1:-1], scores)
    counts = np.bincount(bins, minlength=len(edges))
    predicted = np.bincount(bins, weights=scores, minlength=len(edges))
    observed = np.bincount(bins, weights=hits.astype(float), minlength=len(edges))
    used = counts > 0  # equal edges (many tied probabilities) leave bins empty
    return Calibration(
        label=label,
        predicted=sigs(predicted[used] / counts[used]),
        observed=sigs(observed[used] / counts[used]),
        counts=[int(c) for c in counts[used]],
    )


def gains(label: str, hits: np.ndarray, scores: np.ndarray) -> Gains:
    """Cumulative gain and lift by tenth of the rows; tied probabilities share their hits."""
    rows = len(scores)
    taken = np.unique(np.round(np.arange(1, GAIN_GROUPS + 1) * rows / GAIN_GROUPS).astype(int))
    taken = taken[taken > 0]
    ranked = np.sort(scores)[::-1]
    found = np.array([_hits_in_top(hits, scores, ranked[m - 1], m) for m in taken])
    total = float(hits.sum())
    share = taken / rows
    gain = found / total
    group_rate = np.diff(found, prepend=0.0) / np.diff(taken, prepend=0)
    base = total / rows
    return Gains(
        label=label,
        share_of_rows=sigs(share),
        gain=sigs(gain),
        lift=sigs(gain / share),
        group_lift=sigs(group_rate / base),
        base_rate=sig(base),
    )


def _hits_in_top(hits: np.ndarray, scores: np.ndarray, cutoff: float, taken: int) -> float:
    """Expected hits among the `taken` best-scored rows (the last at `cutoff`), ties at random."""
    above = scores > cutoff
    tied = scores == cutoff
    from_tied = (taken - above.sum()) / tied.sum()
    return float(hits[above].sum() + hits[tied].sum() * from_tied)
