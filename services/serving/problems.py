"""Error bodies in plain words: a 422 names the row and column and says what is wrong with the
value; a 500 says only where to look (no traceback ever reaches a client)."""

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

INTERNAL = {"detail": "internal error; see the server log"}
SHOWN_INPUT = 40  # characters of an offending value repeated in the answer

_EXPECTED = {
    "float_type": "a number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "int_parsing": "a whole number",
    "string_type": "text (a JSON string)",
    "bool_type": "true or false",
    "datetime_type": "a date and time like 2024-05-31T14:30:00",
    "datetime_parsing": "a date and time like 2024-05-31T14:30:00",
    "datetime_from_date_parsing": "a date and time like 2024-05-31T14:30:00",
    "model_type": "an object of column names and values",
    "model_attributes_type": "an object of column names and values",
    "dict_type": "an object of column names and values",
    "list_type": "a list",
    "bool_parsing": "true or false",
}


class ColumnProblem(BaseModel):
    """One thing wrong with a request: where (row, column) and what."""

    column: str | None = None  # the column, or None for the request as a whole
    row: int | None = None  # 0-based position in `rows`
    problem: str


class ValidationProblems(BaseModel):
    """A 422 answer."""

    detail: list[ColumnProblem]


class Problem(BaseModel):
    """Any other error answer."""

    detail: str


def column_problems(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """pydantic's errors as {"column", "row", "problem"} in words."""
    return [_problem(dict(error)) for error in errors]


def _problem(error: dict[str, Any]) -> dict[str, Any]:
    loc = list(error.get("loc", ()))
    # FastAPI prefixes where the value was; a model validated directly has no prefix.
    where, rest = (loc[0], loc[1:]) if loc[:1] in (["body"], ["query"], ["path"]) else ("body", loc)
    row = rest[1] if len(rest) >= 2 and rest[0] == "rows" and isinstance(rest[1], int) else None
    column = str(rest[2]) if row is not None and len(rest) >= 3 else None
    if where != "body":  # a query or path parameter
        column = None
        words = f"the {where} parameter '{'.'.join(map(str, rest))}': {_words(error, None)}"
    elif row is None and rest[:1] == ["rows"]:
        words = f"rows: {_words(error, 'rows')}"
    elif row is None and column is None and len(rest) == 1:
        words = f"'{rest[0]}': {_words(error, 'field')}"
    else:
        words = _words(error, "column" if column is not None else "row")
    return {"column": column, "row": row, "problem": words}


def _words(error: dict[str, Any], what: str | None) -> str:
    kind, value = error.get("type", ""), error.get("input")
    context = error.get("ctx") or {}
    if kind == "missing":
        if what == "column":
            return "is missing; the model needs a value here"
        return 'is missing; send a JSON body {"rows": [{column: value, ...}]}'
    if kind == "extra_forbidden":
        return "is not a column of this model" if what == "column" else "is not expected"
    if kind == "finite_number":
        return "must be a finite number (NaN and infinity are not values the model can use)"
    if kind == "less_than_equal":
        return f"must be at most {context.get('le'):.4g}; no model takes a larger number"
    if kind == "greater_than_equal":
        return f"must be at least {context.get('ge'):.4g}; no model takes a smaller number"
    if kind == "too_long":
        return f"at most {context.get('max_length')} rows in one request; send fewer"
    if kind == "too_short":
        return "send at least one row"
    if kind == "json_invalid":
        return f"the body is not valid JSON ({context.get('error', 'cannot be parsed')})"
    if kind in _EXPECTED:
        if value is None and what == "column":
            return "must not be null; the model had no missing values here in training"
        return f"must be {_EXPECTED[kind]}, not {_shown(value)}"
    return str(error.get("msg", "is not valid"))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN_INPUT else text[: SHOWN_INPUT - 3] + "..."
