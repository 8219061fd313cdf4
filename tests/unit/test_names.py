"""Column names: usable ones pass, blank and repeated ones get suggestions."""

import pytest

from services.errors import ColumnNamesNeedFixing
from services.ingest.names import MAX_NAME_LENGTH, suggest_names, usable_names

LONG = "x" * (MAX_NAME_LENGTH + 10)


@pytest.mark.parametrize(
    "names",
    [
        ["a"],
        ["id", "age", "plan"],
        ["顧客名", "🎉 score", "città"],
        ["<script>alert(1)</script>", "<b>bold</b>"],
        ["A", "a"],  # names differ by case: both kept
        ["a_2", "a"],
        ["x" * MAX_NAME_LENGTH],
    ],
)
def test_usable_names_are_kept(names: list[str]) -> None:
    assert usable_names(names, filename="f.csv", rename=False) == names
    assert usable_names(names, filename="f.csv", rename=True) == names
    assert suggest_names(names) == names


@pytest.mark.parametrize(
    ("names", "suggested"),
    [
        ([""], ["column_1"]),
        (["id", "", "  "], ["id", "column_2", "column_3"]),
        (["a", "a"], ["a", "a_2"]),
        (["a", "a", "a"], ["a", "a_2", "a_3"]),
        (["a", "a", "a_2"], ["a", "a_3", "a_2"]),  # a suffix never takes an existing name
        (["", "column_1"], ["column_1", "column_1_2"]),
        (["b", "a", "b", "a"], ["b", "a", "b_2", "a_2"]),
        ([LONG], ["x" * MAX_NAME_LENGTH]),
    ],
)
def test_suggestions(names: list[str], suggested: list[str]) -> None:
    assert suggest_names(names) == suggested
    assert usable_names(names, filename="f.csv", rename=True) == suggested
    with pytest.raises(ColumnNamesNeedFixing) as raised:
        usable_names(names, filename="f.csv", rename=False)
    assert raised.value.suggested == suggested


@pytest.mark.parametrize(
    ("names", "fragments"),
    [
        (["id", ""], ["column 2 has no name"]),
        (["", "", "x"], ["columns 1, 2 have no name"]),
        (["a", "a"], ["'a' appears more than once"]),
        (["a", "a", "b", "b"], ["'a', 'b' appear more than once"]),
        (["", "a", "a"], ["column 1 has no name", "'a' appears more than once"]),
        ([LONG], [f"longer than {MAX_NAME_LENGTH} characters"]),
    ],
)
def test_the_message_names_each_problem(names: list[str], fragments: list[str]) -> None:
    with pytest.raises(ColumnNamesNeedFixing) as raised:
        usable_names(names, filename="f.csv", rename=False)
    message = str(raised.value)
    assert message.startswith("The column names in 'f.csv' need fixing: ")
    for fragment in fragments:
        assert fragment in message
    assert "Accept the suggested names" in message


@pytest.mark.parametrize(
    ("names", "cleaned"),
    [
        (["Name ", "age"], ["Name", "age"]),
        ([" id", "\tplan\t"], ["id", "plan"]),
    ],
)
def test_surrounding_whitespace_is_trimmed_without_asking(
    names: list[str], cleaned: list[str]
) -> None:
    """Excel, Parquet and JSON headers with a stray space are fine, as CSV headers are."""
    assert usable_names(names, filename="f.csv", rename=False) == cleaned


def test_every_suggestion_is_unique_and_nonblank() -> None:
    names = ["", "a", "a", "a_2", "", "column_1", "a_3", " "]
    suggested = suggest_names(names)
    assert len(set(suggested)) == len(suggested) == len(names)
    assert all(name.strip() for name in suggested)
