"""How a classifier did on the holdout: metrics, a plain reading, curves, confusion matrix."""

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel
from sklearn.metrics import (
    cohen_kappa_score,
    f1_score,
    matthews_corrcoef,
    precision_score,
    recall_score,
)

from services.errors import InvalidInput
from services.insights.classes import Labelled, labelled
from services.insights.curves import (
    Calibration,
    Curve,
    Gains,
    calibration,
    gains,
    precision_recall,
    roc,
)
from services.insights.numbers import maybe, per_hundred, sampled_rows, sig, sigs

MAX_CLASSES_SHOWN = 10  # one-vs-rest curves drawn; more would be unreadable
DEFAULT_THRESHOLD = 0.5


class Confusion(BaseModel):
    """Rows by actual class (down) and predicted class (across), with what they add up to."""

    labels: list[str]
    counts: list[list[int]]
    threshold: float | None  # binary: the probability from which a row is called positive
    accuracy: float
    precision: float | None  # binary: of the positive class; multiclass: weighted by class size
    recall: float | None  # None when nothing is predicted (or present) to measure it on
    reading: str
    sampled_from: int | None = None  # counted on a sample of this many holdout rows


class ClassificationDiagnostics(BaseModel):
    """Everything the Models page shows of a classifier's holdout, computed once by a job."""

    kind: Literal["classification"] = "classification"
    classes: list[str]  # in the column order of the probabilities
    positive: str | None  # binary: the class of interest; None for multiclass
    rows: int  # holdout rows every metric and curve is computed on
    metrics: dict[str, float | None]  # PyCaret's names, plus "Log loss" and (binary) "Brier"
    averaging: str | None  # multiclass: how per-class AUC/Recall/Prec./F1 are averaged
    reading: str
    confusion: Confusion  # at threshold 0.5 (binary) or of the most probable class
    roc: list[Curve]  # binary: of the positive class; multiclass: one-vs-rest per class shown
    pr: list[Curve]
    classes_not_shown: list[str]  # multiclass: classes without curves (rare or absent)
    calibration: Calibration  # binary: the positive class; multiclass: the most frequent
    gains: Gains  # of the same class as the calibration
    actual: list[int]  # per kept row: its class, as an index into `classes`
    scores: list[float] | None  # binary: per kept row, the positive class's probability
    predicted: list[int] | None  # multiclass: per kept row, the most probable class's index
    sampled_from: int | None  # the per-row lists are a seeded sample of this many rows

    @property
    def binary(self) -> bool:
        return len(self.classes) == 2


def classification_diagnostics(
    *, y_true: Sequence, probabilities: np.ndarray, classes: list[str], positive: str | None
) -> ClassificationDiagnostics:
    """The holdout diagnostics of a classifier from its class probabilities."""
    data = labelled(y_true=y_true, probabilities=probabilities, classes=classes)
    if len(classes) == 2:
        return _binary(data, _positive_index(data.classes, positive))
    return _multiclass(data)


def confusion_at(diagnostics: ClassificationDiagnostics, threshold: float) -> Confusion:
    """The confusion matrix of the kept rows at `threshold` (multiclass: always the argmax)."""
    actual = np.asarray(diagnostics.actual, dtype=int)
    if diagnostics.scores is None or diagnostics.positive is None:
        predicted = np.asarray(diagnostics.predicted or [], dtype=int)
        found = _multiclass_confusion(diagnostics.classes, actual, predicted)
    else:
        if not 0.0 <= threshold <= 1.0:
            raise InvalidInput(f"The threshold must be between 0 and 1, not {threshold}.")
        scores = np.asarray(diagnostics.scores, dtype=float)
        positive = diagnostics.classes.index(diagnostics.positive)
        found = _binary_confusion(diagnostics.classes, positive, actual, scores, threshold)
    return found.model_copy(update={"sampled_from": diagnostics.sampled_from})


def _positive_index(classes: list[str], positive: str | None) -> int:
    """The positive class's column; by default the second, as scikit-learn orders them."""
    if positive is None:
        return 1
    if positive not in classes:
        raise InvalidInput(f"The positive class '{positive}' is not one of {classes}.")
    return classes.index(positive)


def _binary(data: Labelled, positive: int) -> ClassificationDiagnostics:
    label = data.classes[positive]
    hits = data.actual == positive
    scores = data.probabilities[:, positive]
    confusion = _binary_confusion(data.classes, positive, data.actual, scores, DEFAULT_THRESHOLD)
    predicted = np.where(scores >= DEFAULT_THRESHOLD, positive, 1 - positive)
    roc_curve = roc(label, hits, scores)
    metrics = _label_metrics(data, predicted, average="binary", positive=positive)
    metrics["AUC"] = roc_curve.area
    metrics["Brier"] = maybe(float(np.mean((scores - hits) ** 2)))
    keep, sampled_from = sampled_rows(len(hits))
    return ClassificationDiagnostics(
        classes=data.classes,
        positive=label,
        rows=len(hits),
        metrics=metrics,
        averaging=None,
        reading=confusion.reading,
        confusion=confusion,
        roc=[roc_curve],
        pr=[precision_recall(label, hits, scores)],
        classes_not_shown=[],
        calibration=calibration(label, hits, scores),
        gains=gains(label, hits, scores),
        actual=data.actual[keep].tolist(),
        scores=sigs(scores[keep]),
        predicted=None,
        sampled_from=sampled_from,
    )


def _multiclass(data: Labelled) -> ClassificationDiagnostics:
    predicted = data.probabilities.argmax(axis=1)
    support = np.bincount(data.actual, minlength=len(data.classes))
    shown = [c for c in np.argsort(-support, kind="stable")[:MAX_CLASSES_SHOWN] if support[c]]
    shown.sort()
    curves = {c: (data.classes[c], data.actual == c, data.probabilities[:, c]) for c in shown}
    roc_curves = [roc(*curve) for curve in curves.values()]
    metrics = _label_metrics(data, predicted, average="weighted", positive=None)
    metrics["AUC"] = _weighted_auc(data, support)
    top = int(support.argmax())
    top_curve = (data.classes[top], data.actual == top, data.probabilities[:, top])
    confusion = _multiclass_confusion(data.classes, data.actual, predicted)
    keep, sampled_from = sampled_rows(len(predicted))
    return ClassificationDiagnostics(
        classes=data.classes,
        positive=None,
        rows=len(predicted),
        metrics=metrics,
        averaging="weighted",
        reading=confusion.reading,
        confusion=confusion,
        roc=roc_curves,
        pr=[precision_recall(*curve) for curve in curves.values()],
        classes_not_shown=[name for c, name in enumerate(data.classes) if c not in curves],
        calibration=calibration(*top_curve),
        gains=gains(*top_curve),
        actual=data.actual[keep].tolist(),
        scores=None,
        predicted=predicted[keep].tolist(),
        sampled_from=sampled_from,
    )


def _label_metrics(
    data: Labelled, predicted: np.ndarray, *, average: str, positive: int | None
) -> dict[str, float | None]:
    """The metrics of the predicted labels, averaged as PyCaret averages them."""
    actual = data.actual
    options: dict = {"average": average, "zero_division": 0}
    if positive is None:
        options["labels"] = list(range(len(data.classes)))
    else:
        options["pos_label"] = positive
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a degenerate kappa or MCC is reported as None
        return {
            "Accuracy": maybe(float(np.mean(actual == predicted))),
            "AUC": None,
            "Recall": maybe(float(recall_score(actual, predicted, **options))),
            "Prec.": maybe(float(precision_score(actual, predicted, **options))),
            "F1": maybe(float(f1_score(actual, predicted, **options))),
            "Kappa": maybe(float(cohen_kappa_score(actual, predicted))),
            "MCC": maybe(float(matthews_corrcoef(actual, predicted))),
            "Log loss": maybe(_log_loss(data)),
        }


def _log_loss(data: Labelled) -> float:
    """Mean negative log of the probability given to each row's actual class."""
    given = data.probabilities[np.arange(len(data.actual)), data.actual]
    return float(-np.mean(np.log(np.clip(given, 1e-15, 1.0))))


def _weighted_auc(data: Labelled, support: np.ndarray) -> float | None:
    """One-vs-rest AUC per class present, weighted by class size (sklearn's "weighted" ovr)."""
    present = [c for c in range(len(data.classes)) if support[c]]
    areas = [roc("", data.actual == c, data.probabilities[:, c]).area for c in present]
    weights = support[present] / support[present].sum()
    return maybe(float(sum(w * (a or 0.0) for w, a in zip(weights, areas, strict=True))))


def _binary_confusion(
    classes: list[str], positive: int, actual: np.ndarray, scores: np.ndarray, threshold: float
) -> Confusion:
    called = scores >= threshold
    predicted = np.where(called, positive, 1 - positive)
    counts = _counts(actual, predicted, 2)
    hits = actual == positive
    caught = int((called & hits).sum())
    precision = caught / called.sum() if called.any() else None
    recall = caught / hits.sum() if hits.any() else None
    return Confusion(
        labels=classes,
        counts=counts,
        threshold=sig(threshold),
        accuracy=sig(float(np.mean(actual == predicted))),
        precision=maybe(precision),
        recall=maybe(recall),
        reading=_binary_reading(classes[positive], precision, recall),
    )


def _binary_reading(label: str, precision: float | None, recall: float | None) -> str:
    """The confusion matrix in one sentence a business user reads."""
    if precision is None:
        return f"No row is predicted '{label}' at this threshold, so it finds none of them."
    right = f"Out of 100 rows predicted '{label}', {per_hundred(precision)} really were '{label}'"
    if recall is None:
        return f"{right}; there are no real '{label}' rows to find."
    return f"{right}; it finds {per_hundred(recall)} of every 100 real '{label}'."


def _multiclass_confusion(
    classes: list[str], actual: np.ndarray, predicted: np.ndarray
) -> Confusion:
    counts = np.asarray(_counts(actual, predicted, len(classes)))
    support = counts.sum(axis=1)
    called = counts.sum(axis=0)
    right = np.diag(counts)
    weights = support / max(int(support.sum()), 1)
    recall = np.divide(right, support, out=np.zeros(len(classes)), where=support > 0)
    precision = np.divide(right, called, out=np.zeros(len(classes)), where=called > 0)
    accuracy = float(right.sum() / max(int(support.sum()), 1))
    return Confusion(
        labels=classes,
        counts=counts.tolist(),
        threshold=None,
        accuracy=sig(accuracy),
        precision=maybe(float(weights @ precision)),
        recall=maybe(float(weights @ recall)),
        reading=_multiclass_reading(classes, accuracy, recall, support),
    )


def _multiclass_reading(
    classes: list[str], accuracy: float, recall: np.ndarray, support: np.ndarray
) -> str:
    """Overall accuracy, then the class it finds best and the one it finds worst."""
    text = f"It names the right class for {per_hundred(accuracy)} of every 100 rows"
    present = np.flatnonzero(support)
    best, worst = present[recall[present].argmax()], present[recall[present].argmin()]
    if recall[best] == recall[worst]:
        return f"{text}."
    return (
        f"{text}; it finds {per_hundred(recall[best])} of every 100 real '{classes[best]}' "
        f"but only {per_hundred(recall[worst])} of every 100 real '{classes[worst]}'."
    )


def _counts(actual: np.ndarray, predicted: np.ndarray, k: int) -> list[list[int]]:
    """A k x k matrix of row counts: actual class down, predicted class across."""
    flat = np.bincount(actual * k + predicted, minlength=k * k)
    return flat.reshape(k, k).tolist()
