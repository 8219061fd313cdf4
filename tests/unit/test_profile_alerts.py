"""The data quality rules on small, hand-made column facts and values."""

import time

import numpy as np
import pyarrow as pa
import pytest

from services.models import ColumnKind, ColumnRole
from services.profiling import alerts
from services.profiling.summary import ClassShare, ColumnSummary, TopValue


def summary(
    name: str = "col",
    *,
    kind: ColumnKind = ColumnKind.category,
    missing: int = 0,
    rows: int = 1_000,
    distinct: int = 5,
    top: list[TopValue] | None = None,
    role: ColumnRole = ColumnRole.feature,
    mean_length: float | None = None,
) -> ColumnSummary:
    return ColumnSummary(
        name=name,
        kind=kind,
        dtype="string",
        role=role,
        missing=missing,
        missing_pct=round(100 * missing / rows, 2),
        distinct=distinct,
        top_values=top if top is not None else [{"value": "a", "count": 300}],
        mean_length=mean_length,
    )


def codes(found: list[alerts.Alert]) -> list[tuple[str, str | None, str]]:
    return [(a.code, a.column, a.severity) for a in found]


def test_an_ordinary_column_has_no_alert() -> None:
    assert alerts.column_alerts(summary(), rows=1_000, is_target=False) == []


def test_a_column_without_values_is_all_missing_and_nothing_else() -> None:
    empty = summary("empty", missing=1_000, distinct=0, top=[])
    found = alerts.column_alerts(empty, rows=1_000, is_target=False)
    assert codes(found) == [("all_missing", "empty", "warning")]
    assert found[0].message == (
        "'empty' has no values at all. It can't help predict anything; ignore it."
    )


def test_one_value_everywhere_is_constant() -> None:
    same = summary("country", distinct=1, top=[{"value": "NL", "count": 1_000}])
    found = alerts.column_alerts(same, rows=1_000, is_target=False)
    assert codes(found) == [("constant", "country", "warning")]
    assert found[0].message == (
        "Every filled-in row of 'country' holds the same value ('NL'). A column that never "
        "changes can't help predict anything; ignore it."
    )


def test_a_constant_target_says_there_is_nothing_to_predict() -> None:
    same = summary("churned", distinct=1, top=[{"value": "no", "count": 1_000}])
    found = alerts.column_alerts(same, rows=1_000, is_target=True)
    assert codes(found) == [("constant", "churned", "warning")]
    assert "There is nothing to predict" in found[0].message


def test_a_single_row_is_not_called_constant() -> None:
    one = summary(distinct=1, top=[{"value": "x", "count": 1}], rows=1)
    assert alerts.column_alerts(one, rows=1, is_target=False) == []


@pytest.mark.parametrize(("top_count", "expected"), [(980, ["near_constant"]), (979, [])])
def test_near_constant_from_98_percent_of_filled_in_rows(top_count: int, expected: list) -> None:
    column = summary("flag", distinct=2, top=[{"value": "no", "count": top_count}])
    found = alerts.column_alerts(column, rows=1_000, is_target=False)
    assert [a.code for a in found] == expected


def test_near_constant_counts_only_filled_in_rows() -> None:
    column = summary("flag", missing=500, distinct=2, top=[{"value": "no", "count": 495}])
    found = alerts.column_alerts(column, rows=1_000, is_target=False)
    assert codes(found) == [("high_missing", "flag", "warning"), ("near_constant", "flag", "info")]
    assert found[1].message.startswith("99.0% of the filled-in rows of 'flag' hold the same value")


def test_a_rare_target_class_is_not_near_constant() -> None:
    target = summary("fraud", distinct=2, top=[{"value": "no", "count": 995}])
    assert alerts.column_alerts(target, rows=1_000, is_target=True) == []


@pytest.mark.parametrize("kind", [ColumnKind.integer, ColumnKind.text, ColumnKind.category])
def test_a_different_value_in_every_row_is_id_like(kind: ColumnKind) -> None:
    ids = summary("customer_id", kind=kind, distinct=1_000, top=[], mean_length=8)
    found = alerts.column_alerts(ids, rows=1_000, is_target=False)
    assert codes(found) == [("id_like", "customer_id", "warning")]
    assert found[0].message == (
        "'customer_id' has a different value in every row, like an ID. IDs don't help predict "
        "anything; mark it as an id column."
    )


def test_unique_measurements_and_tiny_tables_are_not_ids() -> None:
    floats = summary("income", kind=ColumnKind.float, distinct=1_000, top=[])
    assert alerts.column_alerts(floats, rows=1_000, is_target=False) == []
    few = summary("code", kind=ColumnKind.text, distinct=19, top=[], rows=19)
    assert alerts.column_alerts(few, rows=19, is_target=False) == []


def test_unique_long_text_is_high_cardinality_not_an_id() -> None:
    comments = summary("comment", kind=ColumnKind.text, distinct=1_000, top=[], mean_length=80)
    found = alerts.column_alerts(comments, rows=1_000, is_target=False)
    assert codes(found) == [("high_cardinality", "comment", "info")]
    assert found[0].message.startswith("'comment' has 1,000 different values")


@pytest.mark.parametrize(
    ("distinct", "rows", "expected"),
    [(150, 1_000, ["high_cardinality"]), (100, 1_000, []), (150, 10_000, [])],
)
def test_high_cardinality_needs_over_100_values_and_over_5_percent(
    distinct: int, rows: int, expected: list
) -> None:
    column = summary("code", kind=ColumnKind.text, distinct=distinct, rows=rows)
    assert [a.code for a in alerts.column_alerts(column, rows=rows, is_target=False)] == expected


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        (199, []),
        (200, [("high_missing", "notes", "info")]),
        (500, [("high_missing", "notes", "warning")]),
    ],
)
def test_high_missing_is_info_from_20_and_a_warning_from_50_percent(
    missing: int, expected: list
) -> None:
    column = summary("notes", missing=missing, top=[{"value": "a", "count": 100}])
    assert codes(alerts.column_alerts(column, rows=1_000, is_target=False)) == expected


def test_missing_message_gives_share_and_counts() -> None:
    column = summary("notes", missing=600, top=[{"value": "a", "count": 100}])
    (found,) = alerts.column_alerts(column, rows=1_000, is_target=False)
    assert found.message.startswith("60.0% of the rows (600 of 1,000) have no value for 'notes'.")


@pytest.mark.parametrize("role", [ColumnRole.id, ColumnRole.ignore])
def test_columns_set_aside_get_no_column_alerts(role: ColumnRole) -> None:
    ids = summary("customer_id", kind=ColumnKind.integer, distinct=1_000, top=[], role=role)
    assert alerts.column_alerts(ids, rows=1_000, is_target=False) == []


def test_duplicate_rows() -> None:
    assert alerts.duplicate_alert(0, 1_000) is None
    small = alerts.duplicate_alert(9, 1_000)
    assert small is not None and (small.code, small.column, small.severity) == (
        "duplicate_rows",
        None,
        "info",
    )
    big = alerts.duplicate_alert(10, 1_000)
    assert big is not None and big.severity == "warning"
    assert big.message.startswith("10 rows (1.0%) are exact copies of another row.")


def shares(*counts: int) -> list[ClassShare]:
    total = sum(counts)
    return [{"value": f"c{i}", "count": n, "share": n / total} for i, n in enumerate(counts)]


def test_class_imbalance_like_credit_defaults() -> None:
    balance: list[ClassShare] = [
        {"value": "No", "count": 9_667, "share": 0.9667},
        {"value": "Yes", "count": 333, "share": 0.0333},
    ]
    found = alerts.imbalance_alert("default", balance)
    assert found is not None
    assert (found.code, found.column, found.severity) == ("class_imbalance", "default", "warning")
    assert found.message.startswith(
        "Only 3.3% of the rows have 'default' = 'Yes' (333 of 10,000). Models tend to overlook"
    )


@pytest.mark.parametrize(
    ("counts", "alerted"),
    [((901, 99), True), ((900, 100), False), ((500, 500), False), ((480, 455, 65), True)],
)
def test_imbalance_when_the_rarest_class_has_under_a_fifth_of_a_fair_share(
    counts: tuple[int, ...], alerted: bool
) -> None:
    assert (alerts.imbalance_alert("y", shares(*counts)) is not None) is alerted


def test_one_class_is_not_imbalance() -> None:
    assert alerts.imbalance_alert("y", shares(100)) is None


def test_numbers_mixed_with_words_are_mixed_types() -> None:
    values = pa.array(["12", "13", "n/a", "1,200.50", " 7 ", "unknown", "15", "-3.5", "16", "9"])
    found = alerts.text_alerts("amount", values)
    assert codes(found) == [("mixed_types", "amount", "warning")]
    assert found[0].message == (
        "Most values of 'amount' are numbers, but not all (for example 'n/a', 'unknown'). The "
        "column is treated as text; correct or clear those values so it can be used as numbers."
    )


def test_codes_that_are_all_digits_are_not_mixed() -> None:
    assert alerts.text_alerts("zip", pa.array(["01234", "98765", "00042", None])) == []


def test_words_are_neither_numbers_nor_dates() -> None:
    assert alerts.text_alerts("city", pa.array(["Paris", "Lyon", "12 rue Victor Hugo"])) == []


@pytest.mark.parametrize(
    "values",
    [
        ["03/15/2021", "12/31/2020", "01/02/2022"],
        ["15.03.2021", "31.12.2020", "02.01.2022"],
        ["Mar 15, 2021", "Dec 31, 2020", "Jan 2, 2022"],
        ["2021/03/15", "2020/12/31", "2022/01/02"],
    ],
)
def test_dates_written_as_text(values: list[str]) -> None:
    found = alerts.text_alerts("signup", pa.array(values))
    assert codes(found) == [("date_as_text", "signup", "info")]
    assert found[0].message.startswith(f"'signup' holds dates written as text (like '{values[0]}')")


def test_dates_with_a_few_words_are_dates_as_text_and_mixed() -> None:
    values = pa.array(["03/15/2021"] * 9 + ["unknown"])
    found = alerts.text_alerts("signup", values)
    assert [a.code for a in found] == ["date_as_text", "mixed_types"]
    assert "Most values of 'signup' are dates, but not all (for example 'unknown')" in (
        found[1].message
    )


def test_long_text_cells_are_checked_quickly() -> None:
    values = pa.array(["word " * 200_000] * 20 + [None])
    start = time.perf_counter()
    assert alerts.text_alerts("essay", values) == []
    assert time.perf_counter() - start < 1


def test_a_feature_that_maps_to_one_class_each_leaks() -> None:
    target = np.array([0, 1] * 500)
    feature = target * 3 + 7  # any coding of the same split
    assert alerts.leak_purity(feature, target) == 1.0
    found = alerts.leakage_alert(
        feature="collections", target="default", feature_codes=feature, target_codes=target
    )
    assert found is not None
    assert (found.code, found.column, found.severity) == (
        "target_leakage",
        "collections",
        "warning",
    )
    assert "might be known only after the outcome" in found.message
    assert "gives the right 'default' in 100.0% of rows" in found.message


def test_leakage_tolerates_a_few_exceptions_but_not_many() -> None:
    target = np.array([0, 1] * 500)
    feature = target.copy()
    feature[:5] = 1 - feature[:5]  # 99.5% agree
    assert alerts.leak_purity(feature, target) == pytest.approx(0.995)
    feature[:20] = 1 - target[:20]  # 98% agree
    assert alerts.leak_purity(feature, target) is None


def test_values_seen_once_never_count_as_leakage() -> None:
    target = np.array([0, 1] * 500)
    assert alerts.leak_purity(np.arange(1_000), target) is None


def test_leakage_must_beat_guessing_the_common_class() -> None:
    rng = np.random.default_rng(0)
    target = (rng.random(10_000) < 0.005).astype(np.int64)  # 99.5% zeros
    noise = rng.integers(0, 3, 10_000)
    assert alerts.leak_purity(noise, target) is None


def test_leakage_ignores_missing_codes() -> None:
    target = np.array([0, 1] * 500)
    feature = target.copy()
    feature[::3] = -1
    target_missing = target.copy()
    target_missing[1::5] = -1
    assert alerts.leak_purity(feature, target_missing) == 1.0


def test_bins_split_numbers_at_quantiles_and_keep_missing_apart() -> None:
    numbers = np.array([0.0] * 50 + list(np.linspace(1, 100, 50)) + [np.nan])
    binned = alerts.bin_codes(numbers, bins=4)
    assert binned[-1] == -1
    assert set(binned[:50]) == {0}  # the zeros sit alone in the first bin
    assert 0 not in set(binned[50:100])


def test_a_number_moving_with_a_numeric_target_leaks() -> None:
    assert alerts.correlation_leak_alert(feature="a", target="y", correlation=0.97) is None
    found = alerts.correlation_leak_alert(feature="a", target="y", correlation=-0.99)
    assert found is not None and found.code == "target_leakage"
    assert "'a' moves almost exactly with 'y' (-0.990)" in found.message
