"""Codes written with leading zeros (zip codes, account numbers) keep their zeros."""

from pathlib import Path

import pyarrow.parquet as pq
from sqlmodel import Session

from services.config import Settings
from services.datasets import add_dataset, parquet_path
from services.models import Dataset


def test_leading_zero_codes_stay_text(session: Session, settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "accounts.csv"
    source.write_text("zip,account,amount\n01234,0042,10\n98765,1234,20\n")
    outcome = add_dataset(session=session, settings=settings, source=source, filename=source.name)
    stored = pq.read_table(parquet_path(settings, session.get(Dataset, outcome.dataset.id)))
    assert stored.column("zip").to_pylist() == ["01234", "98765"]
    assert stored.column("account").to_pylist() == ["0042", "1234"]
    assert stored.column("amount").to_pylist() == [10, 20]
    assert [c.kind.value for c in outcome.dataset.column_infos] == ["text", "text", "integer"]
