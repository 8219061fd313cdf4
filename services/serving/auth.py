"""Who may call the API: `Authorization: Bearer <api key>`, checked against the source's keys
(the database, or a bundle's key hashes), remembered for a few seconds so the hot path does not
ask the database on every request; 401 without a valid key, 403 outside its scope."""

import hashlib
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import HTTPException, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from services.serving.keys import key_allows

MAX_REMEMBERED = 10_000  # keys remembered at once; more and the memory starts afresh
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="kaizen"'}
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="api_key",
    description="An API key from `kaizen api-keys create` (or the Publish page).",
)


class Keys:
    """Verified keys by their secret's SHA-256 (never the secret), each for a short while."""

    def __init__(self, verify: Callable[[str], Any | None], seconds: float) -> None:
        self.verify, self.seconds = verify, seconds
        self.known: dict[str, tuple[float, Any]] = {}
        self.lock = threading.Lock()

    def remembered(self, secret: str) -> Any | None:
        """The key, if it was verified less than `seconds` ago."""
        found = self.known.get(_digest(secret))
        return found[1] if found is not None and found[0] > time.monotonic() else None

    def check(self, secret: str) -> Any | None:
        """Asks the source, and remembers a valid key (an unknown one is asked every time)."""
        key = self.verify(secret)
        if key is not None and self.seconds > 0:
            with self.lock:
                if len(self.known) >= MAX_REMEMBERED:
                    self.known = {}
                self.known[_digest(secret)] = (time.monotonic() + self.seconds, key)
        return key

    def clear(self) -> None:
        """Forgets every key (a reload: a revoked key stops at once)."""
        with self.lock:
            self.known = {}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def requires_key(
    keys: Keys, model: str | None = None, admin: bool = False
) -> Callable[..., Awaitable[Any]]:
    """A dependency: the caller's key, allowed to call `model` (any model if None), and an
    admin's if `admin`; 401 or 403 otherwise."""

    async def caller(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> Any:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "Send an API key: Authorization: Bearer <key>.", CHALLENGE)
        secret = credentials.credentials
        key = keys.remembered(secret)
        if key is None:  # the database is asked off the event loop
            key = await run_in_threadpool(keys.check, secret)
        if key is None:
            raise HTTPException(401, "This API key is unknown or revoked.", CHALLENGE)
        if admin and not key.admin:
            raise HTTPException(403, "Only an admin key may do this.")
        if model is not None and not key_allows(key, model):
            raise HTTPException(403, f"This API key may not call the model '{model}'.")
        return key

    return caller
