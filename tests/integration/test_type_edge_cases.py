"""Values that are easy to get wrong: codes with leading zeros, types that change midway."""

from pathlib import Path

import pyarrow.parquet as pq
from sqlmodel import Session

from services.config import Settings
from services.datasets import parquet_path
from services.models import Dataset
from tests.support.actors import add_file


def test_leading_zero_codes_stay_text(session: Session, settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "accounts.csv"
    source.write_text("zip,account,amount\n01234,0042,10\n98765,1234,20\n")
    outcome = add_file(session, settings, source)
    stored = pq.read_table(parquet_path(settings, session.get(Dataset, outcome.dataset.id)))
    assert stored.column("zip").to_pylist() == ["01234", "98765"]
    assert stored.column("account").to_pylist() == ["0042", "1234"]
    assert stored.column("amount").to_pylist() == [10, 20]
    assert [c.kind.value for c in outcome.dataset.column_infos] == ["text", "text", "integer"]


def test_json_lines_whose_types_change_keep_the_column_as_text(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "mixed.jsonl"
    source.write_text('{"a": 1, "b": "x"}\n{"a": "two", "b": "y"}\n{"a": 3.5, "b": null}\n')
    outcome = add_file(session, settings, source)
    stored = pq.read_table(parquet_path(settings, session.get(Dataset, outcome.dataset.id)))
    assert stored.column("a").to_pylist() == ["1", "two", "3.5"]
    assert stored.column("b").to_pylist() == ["x", "y", None]


def test_very_long_text_cells_are_kept(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "notes.csv"
    long_note = "word " * 60_000  # 300,000 characters, past the csv module's default limit
    source.write_text(f'id,note\n1,"{long_note}"\n2,short\n')
    outcome = add_file(session, settings, source)
    stored = pq.read_table(parquet_path(settings, session.get(Dataset, outcome.dataset.id)))
    assert stored.column("note").to_pylist() == [long_note, "short"]
