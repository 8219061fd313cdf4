"""Who the page tests sign in as."""

import pytest
from sqlmodel import Session

from services.access import Actor
from services.config import Settings
from services.models import Role
from tests.support.signin import first_admin, local_user


@pytest.fixture
def people(session: Session, settings: Settings) -> dict[str, Actor]:
    """Two admins; two analysts and a viewer of the first project (every new user's)."""
    boss = first_admin(session, settings, "boss")
    return {
        "boss": boss,
        "carol": local_user(session, settings, boss, "carol", Role.admin),
        "ana": local_user(session, settings, boss, "ana", Role.analyst),
        "bob": local_user(session, settings, boss, "bob", Role.analyst),
        "vic": local_user(session, settings, boss, "vic", Role.viewer),
    }
