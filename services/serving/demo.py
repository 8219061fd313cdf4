"""A served model's Gradio demo, shaped like Gradio's own demo apps: one input per column, a few
holdout rows as examples, the prediction (every class's probability for a classifier) and, when
the training rows are at hand, the row's top reasons in a sentence and a chart. A row goes
through the REST API's own path (its request model, row_columns, predict), so the demo and the
API give the same answer for the same row. The caller mounts it; it is never launched here."""

import logging
import os
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from services.insights.reasons import reasons_sentence, shown_value
from services.serving.demo_inputs import demo_examples, demo_inputs, has_time
from services.serving.loaded import LoadedModel, frame_of, predict, row_columns, warnings
from services.serving.problems import column_problems
from services.serving.schema import ColumnSchema, ModelSchema

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no internet: no usage pings
import gradio as gr
import plotly.graph_objects as go

__all__ = ["build_demo", "demo_inputs", "demo_predict"]

log = logging.getLogger("kaizen.serving")
FAILED = "The model could not answer this row; the server log has details."
NO_REASONS = "The reasons for this prediction could not be worked out; the server log has details."
TOP_CONTRIBUTIONS = 8  # bars in the reasons chart
SHOWN_CLASSES = 10  # named in the description
RAISES, LOWERS = "#d6336c", "#1c7ed6"  # red up, blue down: as views/_shap_charts.py draws


def build_demo(model: LoadedModel) -> gr.Interface:
    """The model's demo: inputs, examples, the prediction and (with training rows) its reasons."""

    def predict_row(*values: Any) -> tuple[Any, ...]:
        """The model's prediction for one row."""
        return demo_predict(model, *values)

    return gr.Interface(
        predict_row,
        demo_inputs(model),
        _outputs(model),
        examples=_valid_examples(model) or None,
        title=model.name,
        description=_description(model),
        article=_article(model),
        flagging_mode="never",
        api_name="predict",
        analytics_enabled=False,
        cache_examples=False,
        # Gradio answers one request per event at a time by default: one per core instead,
        # so several visitors are not queued behind one another on a multi-core server.
        concurrency_limit=os.cpu_count() or 1,
    )


def demo_predict(model: LoadedModel, *values: Any) -> tuple[Any, ...]:
    """The prediction for the row of input values, then the reasons (markdown: the sentence and
    any warnings) and their chart; without training rows, the prediction and the warnings."""
    row = _validated(model, values)
    try:
        columns = row_columns(model.schema, [row])
        predictions, probabilities = predict(model, columns)
    except Exception as error:
        raise gr.Error(_failure(model, row, error), print_exception=False) from None
    answer, notes = _answer(model.schema, predictions[0], probabilities)
    notes += [_note(found) for found in warnings(model.schema, columns)]
    if model.background is None:
        return answer, "\n\n".join(notes)
    sentence, figure = _reasons(model, columns, predictions[0])
    return answer, "\n\n".join([sentence, *notes]), figure


def _outputs(model: LoadedModel) -> list[gr.components.Component]:
    schema = model.schema
    if schema.classes is None:
        answer: gr.components.Component = gr.Number(label=f"Predicted {schema.target}")
    else:
        answer = gr.Label(num_top_classes=len(schema.classes), label=f"Predicted {schema.target}")
    if model.background is None:
        return [answer, gr.Markdown(label="Notes")]
    return [answer, gr.Markdown(label="Why"), gr.Plot(label="Top reasons")]


def _validated(model: LoadedModel, values: tuple[Any, ...]) -> Any:
    """The row as the REST API validates it (the model's own request model), or gr.Error
    naming each column that is wrong and what to do."""
    schema = model.schema
    if len(values) != len(schema.columns):
        expected, got = len(schema.columns), len(values)
        message = f"The model takes {expected} values, one per column, not {got}."
        raise gr.Error(message, print_exception=False)
    row = {c.name: _plain(c, v) for c, v in zip(schema.columns, values, strict=True)}
    try:
        return model.body.model_validate({"rows": [row]}).rows[0]  # type: ignore[attr-defined]
    except ValidationError as error:
        found = [_problem(model, e) for e in error.errors(include_url=False)]
        raise gr.Error(" ".join(found), print_exception=False) from None


def _plain(column: ColumnSchema, value: Any) -> Any:
    """A Gradio value as the API's JSON would carry it: empty is None (missing), a whole
    slider number in an integer column an int, an optional boolean's choice a bool."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if column.kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if column.kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if column.kind == "boolean" and value in ("True", "False"):
        return value == "True"
    return value


def _problem(model: LoadedModel, error: Any) -> str:
    """One pydantic error in plain words, e.g. "age: a value is required — fill it in."."""
    where = [str(part) for part in error.get("loc", ())[2:3]]
    name = where[0] if where else "the row"
    kind, value = error.get("type", ""), error.get("input")
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    if value is None and kind.endswith("_type"):
        words = "a value is required — fill it in."
    elif kind.startswith("datetime"):
        words = f"{shown} is not a date — use {_date_pattern(model, name)}."
    elif kind in ("int_type", "int_from_float", "int_parsing"):
        words = f"{shown} is not a whole number — use a whole number."
    elif kind in ("float_type", "float_parsing", "finite_number"):
        words = f"{shown} is not a number — type a number."
    elif kind == "string_type":
        words = f"{shown} is not text — type the value as text."
    elif kind in ("bool_type", "bool_parsing"):
        words = f"{shown} is not true or false — tick the box or leave it empty."
    elif kind in ("less_than_equal", "greater_than_equal"):
        way = "large" if kind == "less_than_equal" else "small"
        words = f"{shown} is too {way} for any model — check the value and its unit."
    else:
        words = column_problems([error])[0]["problem"].rstrip(".") + "."
    return f"{name}: {words}"


def _date_pattern(model: LoadedModel, name: str) -> str:
    column = next((c for c in model.schema.columns if c.name == name), None)
    timed = column is not None and has_time(model, column)
    return "YYYY-MM-DD or YYYY-MM-DD HH:MM:SS" if timed else "YYYY-MM-DD"


def _failure(model: LoadedModel, row: dict[str, Any], error: Exception) -> str:
    """What to tell of a failed prediction: a value the arithmetic cannot take, named, or
    only where to look (the details go to the log, never to the user)."""
    from services.serving.routes import OVERFLOW  # scikit-learn's words for it

    if isinstance(error, pd.errors.OutOfBoundsDatetime):
        dates = [c.name for c in model.schema.columns if c.kind == "datetime"]
        return f"{', '.join(dates)}: a date outside 1678 to 2261 — check the year."
    if isinstance(error, ValueError) and OVERFLOW in str(error):
        found = warnings(model.schema, row_columns(model.schema, [row]))
        where = ", ".join(sorted({f["column"] for f in found})) or "a value"
        return (
            f"{where}: so far outside the training range that the model's arithmetic "
            "overflows — check the value and its unit."
        )
    log.exception("the demo of %s v%s failed on a row", model.name, model.version)
    return FAILED


def _answer(
    schema: ModelSchema, predicted: Any, probabilities: np.ndarray | None
) -> tuple[Any, list[str]]:
    """What the output shows: the predicted number, or each class's probability with the
    predicted class first (the Label's heading is the most probable, first on a tie)."""
    if schema.classes is None:
        return float(predicted), []
    label = str(schema.classes[class_index(schema, predicted)])
    if probabilities is None:  # a classifier without probabilities: the class alone
        return label, []
    chances = {str(c): float(p) for c, p in zip(schema.classes, probabilities[0], strict=True)}
    answer = {label: chances.pop(label, 0.0), **chances}
    top = max(answer, key=lambda c: answer[c])
    if answer[top] > answer[label]:  # e.g. an SVM's Platt-scaled probabilities
        return answer, [f"Note: the model predicts '{label}', though '{top}' is more probable."]
    return answer, []


def class_index(schema: ModelSchema, predicted: Any) -> int:
    """The predicted label's place among the schema's classes (1.0 is the class 1)."""
    value = predicted.item() if isinstance(predicted, np.generic) else predicted
    classes = schema.classes or []
    return next((n for n, c in enumerate(classes) if c == value), 0)


def _note(found: dict[str, Any]) -> str:
    problem = str(found["problem"]).replace(" in 1 row(s)", "")
    return f"Note: {found['column']}: {problem}."


def _reasons(model: LoadedModel, columns: dict[str, Any], predicted: Any) -> tuple[str, Any]:
    """The reasons sentence and the chart of the top contributions; a failed explanation is
    logged and said, and the prediction still shows."""
    try:
        explanation = model.explainer.explain(frame_of(columns))
        if model.schema.task == "binary":
            output = explanation.positive_class or explanation.outputs[0]
        elif model.schema.task == "multiclass":
            output = explanation.outputs[class_index(model.schema, predicted)]
        else:
            output = explanation.outputs[0]
        sentence = reasons_sentence(explanation, output=output, row=0)
        return sentence, reasons_figure(explanation, output)
    except Exception:
        log.exception("explaining a row of %s v%s failed", model.name, model.version)
        return NO_REASONS, None


def reasons_figure(explanation: Any, output: str, top: int = TOP_CONTRIBUTIONS) -> go.Figure:
    """The row's largest contributions as horizontal bars (name = value), red raising the
    prediction and blue lowering it, the largest on top."""
    shown = explanation.contributions(output, 0)[:top]
    effects = [float(effect) for _, _, effect in shown]
    figure = go.Figure(
        go.Bar(
            x=effects,
            y=[f"{name} = {shown_value(value)}" for name, value, _ in shown],
            orientation="h",
            marker_color=[RAISES if effect > 0 else LOWERS for effect in effects],
            hovertemplate="%{y}: %{x:+.4g}<extra></extra>",
        )
    )
    figure.add_vline(x=0, line_width=1, line_color="#868e96")
    figure.update_yaxes(autorange="reversed", type="category")
    figure.update_xaxes(title_text=f"effect on the {explanation.space(output)}")
    height = max(250, min(600, 90 + 30 * len(shown)))
    figure.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10}, height=height)
    return figure


def _valid_examples(model: LoadedModel) -> list[list[Any]]:
    """The example rows the model takes (a holdout row with a value missing where training
    had none would only show an error)."""
    kept = []
    for example in demo_examples(model):
        row = {c.name: _plain(c, v) for c, v in zip(model.schema.columns, example, strict=True)}
        try:
            model.body.model_validate({"rows": [row]})
        except ValidationError:
            continue
        kept.append(example)
    return kept


def _description(model: LoadedModel) -> str:
    schema = model.schema
    count = len(schema.columns)
    shows = [] if schema.classes is None else ["each class's probability"]
    shows += ["the reasons behind each prediction"] if model.background is not None else []
    showing = f", showing {' and '.join(shows)}" if shows else ""
    if schema.classes is None:
        kind = "a number: regression"
    else:
        names = ", ".join(str(c) for c in schema.classes[:SHOWN_CLASSES])
        more = len(schema.classes) - SHOWN_CLASSES
        kind = f"{schema.task} classification: {names}" + (f" and {more} more" if more > 0 else "")
    columns = f"{count} input column{'s' if count != 1 else ''}"
    return f"Predicts {schema.target} ({kind}) from {columns}{showing}."


def _article(model: LoadedModel) -> str:
    following = f" (following alias {model.alias})" if model.alias else ""
    return f"Model {model.name}, version {model.version}{following}"
