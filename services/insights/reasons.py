"""One row's explanation in a sentence a business user can read: the prediction, the average
it starts from, and the three features that moved it most, with by how much and which way."""

import math
from typing import Any

from services.insights.shap_result import ShapExplanation


def reasons_sentence(explanation: ShapExplanation, *, output: str, row: int, top: int = 3) -> str:
    """E.g. "Predicted 72% chance of 'yes' (average 31%), mostly because tenure = 2 (raises
    it by 18 points), contract = 'month_to_month' (+12) and monthly_charges = 95.2 (+6).\""""
    kind = explanation.output_kind
    reasons = [c for c in explanation.contributions(output, row)[:top] if c[2] != 0]
    headline = _headline(explanation, output, row)
    if not reasons:
        return f"{headline}; no feature moves it away from the average."
    parts = [
        f"{name} = {shown_value(value)} ({_effect(kind, effect, first=n == 0)})"
        for n, (name, value, effect) in enumerate(reasons)
    ]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{headline}, mostly because {listed}."


def _headline(explanation: ShapExplanation, output: str, row: int) -> str:
    kind = explanation.output_kind
    index = explanation.output_index(output)
    predicted = explanation.prediction(output, row)
    base = explanation.base_values[index]
    if kind == "probability":
        return f"Predicted {_percent(predicted)} chance of '{output}' (average {_percent(base)})"
    if kind == "log-odds":
        if len(explanation.outputs) == 1:  # binary: the logistic function gives the chance
            chance, usual = _logistic(predicted), _logistic(base)
        else:  # several classes: the softmax of every class's score
            scores = [explanation.prediction(o, row) for o in explanation.outputs]
            chance = _softmax(scores)[index]
            usual = _softmax(list(explanation.base_values))[index]
        return f"Predicted {_percent(chance)} chance of '{output}' (baseline {_percent(usual)})"
    name = explanation.target or "value"
    return f"Predicted {name} of {number(predicted)} (average {number(base)})"


def _effect(kind: str, effect: float, *, first: bool) -> str:
    if kind == "probability":
        points = _magnitude(abs(effect) * 100)
        unit = "point" if points == "1" else "points"
        if first:
            way = "raises" if effect > 0 else "lowers"
            return f"{way} it by {points} {unit}"
        return f"{'+' if effect > 0 else '-'}{points}"
    if kind == "log-odds":
        factor = f"×{_magnitude(math.exp(effect))}"  # noqa: RUF001 - the times sign
        if first:
            return f"{'raises' if effect > 0 else 'lowers'} the odds {factor}"
        return f"odds {factor}"
    amount = number(abs(effect))
    if first:
        return f"{'raises' if effect > 0 else 'lowers'} it by {amount}"
    return f"{'+' if effect > 0 else '-'}{amount}"


def shown_value(value: Any) -> str:
    """A raw value as a sentence shows it: numbers plainly, text quoted, None as missing."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return number(float(value))
    return f"'{value}'"


def number(value: float) -> str:
    """A number for people: whole numbers with separators, else four significant digits."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _magnitude(value: float) -> str:
    """Two significant digits, whole numbers from 10 up: 18, 5.3, 0.42."""
    return f"{value:.0f}" if value >= 9.5 else f"{value:.2g}"


def _percent(probability: float) -> str:
    return f"{_magnitude(probability * 100)}%"


def _logistic(score: float) -> float:
    return 1 / (1 + math.exp(-score)) if score >= 0 else math.exp(score) / (1 + math.exp(score))


def _softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    return [w / sum(weights) for w in weights]
