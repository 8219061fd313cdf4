"""The registry aliases an installation uses: read as a JSON list, and only names MLflow takes."""

import pytest
from pydantic import ValidationError

from services.config import Settings


def test_the_default_aliases_and_a_configured_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAIZEN_MODEL_ALIASES", raising=False)
    assert Settings(_env_file=None).model_aliases == [
        "production",
        "staging",
        "champion",
        "challenger",
    ]
    monkeypatch.setenv("KAIZEN_MODEL_ALIASES", '["production", "qa-2"]')
    assert Settings(_env_file=None).model_aliases == ["production", "qa-2"]


@pytest.mark.parametrize("aliases", ['["latest"]', '["V3"]', '["a b"]', "[]", '["x", "x"]'])
def test_names_mlflow_refuses_or_repeats_are_refused(
    monkeypatch: pytest.MonkeyPatch, aliases: str
) -> None:
    monkeypatch.setenv("KAIZEN_MODEL_ALIASES", aliases)
    with pytest.raises(ValidationError, match="model aliases must be distinct names"):
        Settings(_env_file=None)
