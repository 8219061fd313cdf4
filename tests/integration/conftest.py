"""Fixtures several integration test files share."""

import pytest

from tests.support.registry import TrainedHome, build


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainedHome:
    """Really trained, registered models (about a minute, once per test session)."""
    return build(tmp_path_factory.mktemp("registry"))
