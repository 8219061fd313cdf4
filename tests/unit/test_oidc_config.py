"""The [auth] settings and the identity provider are checked before anyone can sign in: each
problem gets a message that names what to fix."""

import json
import socket
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from services import oidc
from services.errors import Misconfigured

SECRET = "x" * 40
DEFAULT: dict[str, Any] = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": SECRET,
    "client_id": "kaizen-studio",
    "client_secret": "s3cret",
    "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
    "client_kwargs": {"scope": "openid profile email groups"},
}
DISCOVERY = {
    "issuer": "http://127.0.0.1",
    "authorization_endpoint": "http://127.0.0.1/auth",
    "token_endpoint": "http://127.0.0.1/token",
    "jwks_uri": "http://127.0.0.1/jwks",
}


def without(key: str, section: dict[str, Any] = DEFAULT) -> dict[str, Any]:
    return {k: v for k, v in section.items() if k != key}


def refused(section: dict[str, Any]) -> str:
    with pytest.raises(Misconfigured) as caught:
        oidc.check_config(section)
    return str(caught.value)


def test_a_complete_default_provider_passes() -> None:
    oidc.check_config(DEFAULT)
    [provider] = oidc.providers(DEFAULT)
    assert provider.name is None
    assert provider.label == "single sign-on"
    assert provider.server_metadata_url == DEFAULT["server_metadata_url"]


def test_display_name_labels_the_button() -> None:
    [provider] = oidc.providers({**DEFAULT, "display_name": "Okta"})
    assert provider.label == "Okta"


def test_missing_cookie_secret_says_how_to_make_one() -> None:
    message = refused(without("cookie_secret"))
    assert "has no cookie_secret" in message
    assert "[auth] section of .streamlit/secrets.toml" in message
    assert "secrets.token_urlsafe" in message


@pytest.mark.parametrize("secret", ["short", "x" * 31, "   "])
def test_short_cookie_secret_is_refused(secret: str) -> None:
    message = refused({**DEFAULT, "cookie_secret": secret})
    if secret.strip():
        assert f"too short ({len(secret)} characters)" in message
        assert "at least 32 characters" in message
    else:
        assert "has no cookie_secret" in message


def test_a_32_character_secret_is_enough() -> None:
    oidc.check_config({**DEFAULT, "cookie_secret": "y" * 32})


def test_missing_redirect_uri() -> None:
    message = refused(without("redirect_uri"))
    assert "has no redirect_uri" in message
    assert "/oauth2callback" in message


def test_redirect_uri_must_end_with_the_callback() -> None:
    message = refused({**DEFAULT, "redirect_uri": "http://localhost:8501/"})
    assert "redirect_uri" in message and "/oauth2callback" in message
    assert "'http://localhost:8501/'" in message


@pytest.mark.parametrize("key", ["client_id", "client_secret", "server_metadata_url"])
def test_each_missing_provider_key_is_named(key: str) -> None:
    message = refused(without(key))
    assert f"has no {key}." in message
    assert "[auth] section of .streamlit/secrets.toml" in message
    assert "[auth.NAME]" in message


def test_several_missing_keys_are_all_named() -> None:
    section = {k: DEFAULT[k] for k in ("redirect_uri", "cookie_secret")}
    message = refused(section)
    assert "has no client_id, client_secret and server_metadata_url" in message


def test_server_metadata_url_must_be_http() -> None:
    message = refused({**DEFAULT, "server_metadata_url": "idp.example.com"})
    assert "server_metadata_url" in message and "http(s) URL" in message


def test_named_providers_need_the_same_keys() -> None:
    shared = {k: DEFAULT[k] for k in ("redirect_uri", "cookie_secret")}
    okta = {k: DEFAULT[k] for k in oidc.PROVIDER_KEYS}
    providers = oidc.providers({**shared, "okta": okta, "corp": {**okta, "display_name": "Corp"}})
    assert [(p.name, p.label) for p in providers] == [("okta", "Okta"), ("corp", "Corp")]

    message = refused({**shared, "okta": without("client_secret", okta)})
    assert "[auth.okta] in .streamlit/secrets.toml has no client_secret" in message
    assert "a named provider [auth.NAME] needs the same keys" in message


def test_named_provider_with_an_underscore_is_refused() -> None:
    shared = {k: DEFAULT[k] for k in ("redirect_uri", "cookie_secret")}
    okta = {k: DEFAULT[k] for k in oidc.PROVIDER_KEYS}
    message = refused({**shared, "my_idp": okta})
    assert "underscore" in message and "[auth.my-idp]" in message


def test_client_kwargs_is_not_taken_for_a_named_provider() -> None:
    # client_kwargs is a table of the default provider; it must not look like [auth.client_kwargs]
    assert [p.name for p in oidc.providers(DEFAULT)] == [None]


def test_expose_tokens_only_id_and_access() -> None:
    oidc.check_config({**DEFAULT, "expose_tokens": ["id", "access"]})
    oidc.check_config({**DEFAULT, "expose_tokens": "id"})
    assert "expose_tokens" in refused({**DEFAULT, "expose_tokens": ["refresh"]})


# --- the provider's discovery document -------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    answers: ClassVar[dict[str, tuple[int, bytes]]] = {}

    def do_GET(self) -> None:
        status, body = self.answers.get(self.path, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def idp() -> Iterator[str]:
    _Handler.answers = {
        "/.well-known/openid-configuration": (200, json.dumps(DISCOVERY).encode()),
        "/partial": (200, json.dumps({"issuer": "x", "jwks_uri": "y"}).encode()),
        "/html": (200, b"<html>a login page</html>"),
        "/list": (200, b"[1, 2]"),
        "/broken": (500, b"oops"),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def provider_refused(url: str, timeout: float = 5) -> str:
    with pytest.raises(Misconfigured) as caught:
        oidc.check_provider(url, timeout=timeout)
    return str(caught.value)


def test_a_provider_that_answers_passes(idp: str) -> None:
    document = oidc.check_provider(f"{idp}/.well-known/openid-configuration")
    assert document["issuer"] == DISCOVERY["issuer"]


def test_a_stopped_provider_is_named_with_what_to_check() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    message = provider_refused(url)
    assert message.startswith(f"The identity provider at {url} did not answer (")
    assert "connection refused" in message
    assert "Check server_metadata_url" in message
    assert "or that the provider is running." in message


def test_a_provider_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/.well-known/openid-configuration"
        message = provider_refused(url, timeout=0.5)
    assert "did not answer (" in message
    assert "no answer" in message


def test_an_unknown_host_is_named() -> None:
    message = provider_refused("http://idp.invalid/.well-known/openid-configuration", timeout=2)
    assert "did not answer (" in message and "idp.invalid" in message


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/missing", "HTTP 404"), ("/broken", "HTTP 500")],
)
def test_http_errors(idp: str, path: str, reason: str) -> None:
    message = provider_refused(f"{idp}{path}")
    assert f"did not answer ({reason}" in message


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/html", "its answer is not JSON"),
        ("/list", "not a JSON object"),
        ("/partial", "it has no authorization_endpoint and token_endpoint"),
    ],
)
def test_an_answer_that_is_not_a_discovery_document(idp: str, path: str, reason: str) -> None:
    message = provider_refused(f"{idp}{path}")
    assert message.startswith(f"The identity provider at {idp}{path} did not answer with an")
    assert reason in message
    assert "/.well-known/openid-configuration" in message


def test_the_example_secrets_file_documents_every_key_and_is_refused_until_filled_in() -> None:
    example = Path(__file__).parents[2] / ".streamlit" / "secrets.toml.example"
    section = tomllib.loads(example.read_text())["auth"]
    assert {"redirect_uri", "cookie_secret", *oidc.PROVIDER_KEYS} <= section.keys()
    assert "groups" in section["client_kwargs"]["scope"]
    assert "too short" in refused(section)  # the placeholder secret is never accepted
    oidc.check_config({**section, "cookie_secret": SECRET})
