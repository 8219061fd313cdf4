"""Checks of the OIDC sign-in settings (the [auth] section of `.streamlit/secrets.toml`) and of
the identity provider they name: a half-configured installation refuses to open, with a
message that says what to fix, instead of opening without sign-in."""

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.errors import Misconfigured

WHERE = "the [auth] section of .streamlit/secrets.toml"
MIN_COOKIE_SECRET_LENGTH = 32
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
DISCOVERY_KEYS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
HOW_TO_GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
# Tables inside [auth] that belong to the default provider, not named providers.
_DEFAULT_PROVIDER_TABLES = {"client_kwargs"}


@dataclass(frozen=True)
class Provider:
    """One identity provider users can sign in with."""

    name: str | None  # None: the default provider (keys directly in [auth]); else [auth.NAME]
    label: str  # shown on the sign-in button: "Sign in with <label>"
    server_metadata_url: str


def check_config(auth_section: Mapping[str, Any]) -> None:
    """Raises Misconfigured, naming the key to fix, unless sign-in can work with these settings."""
    providers(auth_section)


def providers(auth_section: Mapping[str, Any]) -> list[Provider]:
    """The providers configured in [auth], checked: the shared keys (cookie_secret,
    redirect_uri) and, for the default provider and each named [auth.NAME] one, client_id,
    client_secret and server_metadata_url."""
    _check_cookie_secret(auth_section.get("cookie_secret"))
    _check_redirect_uri(auth_section.get("redirect_uri"))
    _check_expose_tokens(auth_section.get("expose_tokens"))
    found: list[Provider] = []
    named = {
        key: value
        for key, value in auth_section.items()
        if isinstance(value, Mapping) and key not in _DEFAULT_PROVIDER_TABLES
    }
    if any(key in auth_section for key in PROVIDER_KEYS) or not named:
        found.append(_provider(None, auth_section))
    for name, section in named.items():
        found.append(_provider(name, section))
    return found


def check_provider(server_metadata_url: str, timeout: float = 5) -> dict[str, Any]:
    """The provider's discovery document; Misconfigured if it does not answer with one."""
    try:
        document = _fetch_json(server_metadata_url, timeout)
    except _NoAnswer as problem:
        raise Misconfigured(_no_answer(server_metadata_url, str(problem))) from None
    except _NotDiscovery as problem:
        raise Misconfigured(_not_discovery(server_metadata_url, str(problem))) from None
    missing = [key for key in DISCOVERY_KEYS if not document.get(key)]
    if missing:
        reason = f"it has no {_listed(missing)}"
        raise Misconfigured(_not_discovery(server_metadata_url, reason))
    return document


def _provider(name: str | None, section: Mapping[str, Any]) -> Provider:
    where = WHERE if name is None else f"[auth.{name}] in .streamlit/secrets.toml"
    if name is not None and "_" in name:
        raise Misconfigured(
            f"The provider name '{name}' in [auth.{name}] contains an underscore, which "
            "Streamlit's sign-in does not allow: rename the section, e.g. "
            f"[auth.{name.replace('_', '-')}]."
        )
    missing = [key for key in PROVIDER_KEYS if not _text(section.get(key))]
    if missing:
        named_note = (
            " (a named provider [auth.NAME] needs the same keys as the default one)"
            if name is not None
            else " (or put them in a named provider section [auth.NAME], with the same keys)"
        )
        raise Misconfigured(
            f"Sign-in is not configured completely: {where} has no {_listed(missing)}. "
            f"Add {'it' if len(missing) == 1 else 'them'} with the values your identity "
            f"provider gave for this app{named_note}."
        )
    url = str(section["server_metadata_url"]).strip()
    if not url.startswith(("http://", "https://")):
        raise Misconfigured(
            f"server_metadata_url in {where} must be an http(s) URL, like "
            "https://idp.example.com/.well-known/openid-configuration; it is "
            f"'{url}'."
        )
    kwargs = section.get("client_kwargs")
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise Misconfigured(
            f"client_kwargs in {where} must be a table, e.g. "
            'client_kwargs = { scope = "openid profile email groups" }.'
        )
    label = _text(section.get("display_name")) or (name.capitalize() if name else "single sign-on")
    return Provider(name=name, label=label, server_metadata_url=url)


def _check_cookie_secret(value: Any) -> None:
    secret = _text(value)
    if not secret:
        raise Misconfigured(
            f"Sign-in is not configured completely: {WHERE} has no cookie_secret. Add one: a "
            f"random string of at least {MIN_COOKIE_SECRET_LENGTH} characters, e.g. the "
            f"output of {HOW_TO_GENERATE}."
        )
    if len(secret) < MIN_COOKIE_SECRET_LENGTH:
        raise Misconfigured(
            f"The cookie_secret in {WHERE} is too short ({len(secret)} characters): anyone "
            "who guesses it can forge a signed-in user. Use a random string of at least "
            f"{MIN_COOKIE_SECRET_LENGTH} characters, e.g. the output of {HOW_TO_GENERATE}."
        )


def _check_redirect_uri(value: Any) -> None:
    uri = _text(value)
    if not uri:
        raise Misconfigured(
            f"Sign-in is not configured completely: {WHERE} has no redirect_uri. Add the "
            "app's own address followed by /oauth2callback, e.g. "
            'redirect_uri = "http://localhost:8501/oauth2callback", and register the same '
            "URL with your identity provider."
        )
    if not uri.startswith(("http://", "https://")) or not uri.endswith("/oauth2callback"):
        raise Misconfigured(
            f"The redirect_uri in {WHERE} must be the app's absolute address followed by "
            f"/oauth2callback, e.g. \"https://kaizen.example.com/oauth2callback\"; it is '{uri}'."
        )


def _check_expose_tokens(value: Any) -> None:
    if value is None:
        return
    tokens = [value] if isinstance(value, str) else value
    if not isinstance(tokens, list) or not set(map(str, tokens)) <= {"id", "access"}:
        raise Misconfigured(
            f'expose_tokens in {WHERE} may only name "id" and "access" (or be left out).'
        )


class _NoAnswer(Exception):
    """Nothing usable came back: no connection, an HTTP error, a time-out."""


class _NotDiscovery(Exception):
    """Something answered, but not with a JSON document."""


def _fetch_json(url: str, timeout: float) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise _NoAnswer("not an http(s) URL")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            body = answer.read(1_000_000)
    except urllib.error.HTTPError as error:
        raise _NoAnswer(f"HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise _NoAnswer(_reason(error.reason)) from None
    except TimeoutError:
        raise _NoAnswer(f"no answer within {timeout:g} s") from None
    except (OSError, ValueError) as error:
        raise _NoAnswer(_reason(error)) from None
    try:
        document = json.loads(body)
    except ValueError:
        raise _NotDiscovery("its answer is not JSON") from None
    if not isinstance(document, dict):
        raise _NotDiscovery("its answer is not a JSON object")
    return document


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "no answer in time"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "unknown host name"
    if isinstance(reason, OSError) and reason.strerror:
        return str(reason.strerror)
    return str(reason) or type(reason).__name__


def _no_answer(url: str, reason: str) -> str:
    return (
        f"The identity provider at {url} did not answer ({reason}). Check server_metadata_url "
        "in .streamlit/secrets.toml, or that the provider is running."
    )


def _not_discovery(url: str, reason: str) -> str:
    return (
        f"The identity provider at {url} did not answer with an OpenID configuration "
        f"({reason}). Check server_metadata_url in .streamlit/secrets.toml: it usually ends "
        "with /.well-known/openid-configuration."
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _listed(keys: list[str]) -> str:
    return keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + " and " + keys[-1]
