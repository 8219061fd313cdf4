"""A served model's schema from its training sample, the request model generated from it, the
frame built from validated rows, and the warnings: on a small table with every column kind."""

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from services.serving.loaded import rows_frame, warnings
from services.serving.problems import column_problems
from services.serving.schema import ModelSchema, build_schema, request_model

ROWS = 200


@pytest.fixture
def sample() -> pd.DataFrame:
    """Every kind of column; `income` has gaps; the target last, as training logs it."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 90, ROWS),
            "income": rng.normal(50_000, 10_000, ROWS),
            "plan": rng.choice(["basic", "plus", "pro"], ROWS, p=[0.6, 0.3, 0.1]),
            "city": [f"city {i}" for i in rng.integers(0, 120, ROWS)],
            "member": rng.integers(0, 2, ROWS).astype(bool),
            "joined": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, ROWS), "D"),
            "churn": rng.choice(["no", "yes"], ROWS),
        }
    )
    frame.loc[::10, "income"] = np.nan
    return frame


@pytest.fixture
def schema(sample: pd.DataFrame) -> ModelSchema:
    pipeline = SimpleNamespace(
        feature_names_in_=np.array(list(sample.columns)), classes_=np.array(["no", "yes"])
    )
    return build_schema(pipeline, sample, "churn", "churn-model", 3)


def test_columns_have_their_kind_requirement_range_and_a_typical_example(
    schema: ModelSchema, sample: pd.DataFrame
) -> None:
    kinds = {c.name: (c.kind, c.required) for c in schema.columns}
    assert kinds == {
        "age": ("integer", True),
        "income": ("number", False),  # gaps in training: the pipeline imputes them
        "plan": ("category", True),
        "city": ("text", True),  # more values than a list helps with
        "member": ("boolean", True),
        "joined": ("datetime", True),
    }
    assert (schema.task, schema.target, schema.classes) == ("binary", "churn", ["no", "yes"])
    plan = next(c for c in schema.columns if c.name == "plan")
    assert plan.categories[0] == "basic" and plan.example == "basic"  # the most frequent
    income = next(c for c in schema.columns if c.name == "income")
    assert income.example == pytest.approx(sample["income"].median(), rel=1e-6)
    assert income.minimum == pytest.approx(sample["income"].quantile(0.01), rel=1e-6)
    assert ModelSchema.model_validate_json(schema.model_dump_json()) == schema


def test_the_request_model_takes_typed_rows_and_refuses_the_rest(schema: ModelSchema) -> None:
    body = request_model(schema, max_rows=2, unknown_columns="reject")
    typical = schema.example_row()
    assert body.model_validate({"rows": [typical, typical | {"income": None}]})
    without_income = {k: v for k, v in typical.items() if k != "income"}
    assert body.model_validate({"rows": [without_income]})

    def problems(rows: object) -> list[tuple[str | None, int | None]]:
        with pytest.raises(ValidationError) as raised:
            body.model_validate({"rows": rows})
        return [(p["column"], p["row"]) for p in column_problems(raised.value.errors())]

    assert problems([typical | {"age": None}]) == [("age", 0)]  # required: no null
    assert problems([typical | {"income": math.inf}]) == [("income", 0)]
    assert problems([typical | {"income": "50000"}]) == [("income", 0)]  # strict types
    assert problems([typical | {"age": 30.5}]) == [("age", 0)]
    assert problems([typical | {"member": "yes"}]) == [("member", 0)]
    assert problems([typical | {"colour": "red"}]) == [("colour", 0)]
    assert problems([typical] * 3) == [(None, None)]
    ignoring = request_model(schema, max_rows=2, unknown_columns="ignore")
    assert ignoring.model_validate({"rows": [typical | {"colour": "red"}]})


def test_rows_become_the_training_dtypes_and_unusual_values_warn(
    schema: ModelSchema, sample: pd.DataFrame
) -> None:
    body = request_model(schema, max_rows=10, unknown_columns="reject")
    typical = schema.example_row()
    odd = typical | {
        "income": None,
        "plan": "enterprise",
        "age": 150,
        "joined": "2021-03-04T05:06:07+02:00",
    }
    frame = rows_frame(schema, body.model_validate({"rows": [typical, odd]}).rows)  # type: ignore[attr-defined]
    features = sample.drop(columns="churn")
    assert list(frame.columns) == list(features.columns)
    assert dict(frame.dtypes) == dict(features.dtypes)
    assert math.isnan(frame["income"][1]) and frame["joined"][1] == pd.Timestamp(
        "2021-03-04 03:06:07"
    )
    assert [(w["column"], w["rows"]) for w in warnings(schema, frame)] == [
        ("age", [1]),
        ("plan", [1]),
    ]
