"""Signed passes for share links, made with a key kept in $KAIZEN_HOME (the app and `kaizen
serve` both read it): the cookie that lets a browser into a demo once it opened a link, and the
short-lived pass the app gives a signed-in person for a link that asks for a Kaizen sign-in.
A pass names only its link and its end; the link itself is checked on every use."""

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from services.config import Settings

SIGN_IN_PASS_SECONDS = 120  # from the app's "Open the demo" button to the server
KEY_BYTES = 32
_KEYS: dict[Path, bytes] = {}  # by key file: one process may serve several homes (tests)


def grant(settings: Settings, link_id: int, seconds: float) -> str:
    """The cookie value letting a browser into link `link_id`'s demo for `seconds`."""
    return _signed(settings, "grant", link_id, seconds)


def granted_link(settings: Settings, value: str) -> int | None:
    """The link a grant cookie is for, if it is ours and not past its end; else None."""
    return _verified(settings, "grant", value)


def sign_in_pass(settings: Settings, link_id: int) -> str:
    """A pass for link `link_id`, valid for two minutes (it travels in a URL)."""
    return _signed(settings, "sign-in", link_id, SIGN_IN_PASS_SECONDS)


def sign_in_passed(settings: Settings, link_id: int, value: str) -> bool:
    """True if `value` is a live sign-in pass for link `link_id`."""
    return _verified(settings, "sign-in", f"{link_id}.{value}") == link_id


def _signed(settings: Settings, purpose: str, link_id: int, seconds: float) -> str:
    ends = int(time.time() + seconds)
    signature = _signature(settings, purpose, link_id, ends)
    return f"{link_id}.{ends}.{signature}" if purpose == "grant" else f"{ends}.{signature}"


def _verified(settings: Settings, purpose: str, value: str) -> int | None:
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(value) > 200:
        return None
    link_id, ends = int(parts[0]), int(parts[1])
    expected = _signature(settings, purpose, link_id, ends)
    if not hmac.compare_digest(expected, parts[2]) or ends < time.time():
        return None
    return link_id


def _signature(settings: Settings, purpose: str, link_id: int, ends: int) -> str:
    message = f"{purpose}:{link_id}:{ends}".encode()
    digest = hmac.new(_key(settings), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _key(settings: Settings) -> bytes:
    """The installation's signing key, made on first use (readable by its owner only); kept
    in memory once read (it never changes: every request under /demo/ checks a signature)."""
    path = settings.home.resolve() / "secrets" / "share-links.key"
    if path not in _KEYS:
        try:
            _KEYS[path] = bytes.fromhex(path.read_text().strip())
        except FileNotFoundError:
            _KEYS[path] = _new_key(path)
    return _KEYS[path]


def _new_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    staging = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    handle = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "w") as file:
        file.write(key.hex())
    try:  # a hard link appears whole or not at all: of two processes, one key wins
        os.link(staging, path)
    except FileExistsError:
        key = bytes.fromhex(path.read_text().strip())
    finally:
        staging.unlink()
    return key
