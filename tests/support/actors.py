"""Who the tests act as: the operator (an admin, as at the command line) in the first project."""

from services.access import Actor
from services.models import DEFAULT_PROJECT_ID, Role

OPERATOR = Actor(username="tester", role=Role.admin)
PROJECT = DEFAULT_PROJECT_ID
