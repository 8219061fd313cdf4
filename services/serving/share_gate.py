"""Share links on `kaizen serve`: `/s/<token>` checks the link (and its password or the Kaizen
sign-in it asks for), counts the view and gives the browser a signed cookie for that model's demo;
`DemoGate` lets a request into `/demo/<model>/` only with a cookie of a link still active for that
model, and limits each link's demo requests per minute. Expired and revoked links answer a plain
page, never a Gradio error."""

import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from services.config import Settings
from services.serving import ServingSettings, share_pages, share_passes
from services.serving_models import Publication

if TYPE_CHECKING:
    from services.serving.app import Server
    from services.serving_models import ShareLinkPublic

COOKIE = "kaizen_demo"
DEMO_PREFIX = "/demo/"


@dataclass
class RateLimit:
    """A token bucket per link: `per_minute` requests, refilled evenly."""

    per_minute: int
    buckets: dict[int, tuple[float, float]] = field(default_factory=dict)  # id -> tokens, at
    lock: threading.Lock = field(default_factory=threading.Lock)

    def allows(self, link_id: int) -> bool:
        """Takes one request from the link's bucket, if there is one left."""
        now = time.monotonic()
        with self.lock:
            tokens, at = self.buckets.get(link_id, (float(self.per_minute), now))
            tokens = min(self.per_minute, tokens + (now - at) * self.per_minute / 60)
            allowed = tokens >= 1
            self.buckets[link_id] = (tokens - 1 if allowed else tokens, now)
            return allowed


class ShareDesk:
    """What the share routes and the gate need: the database, the limits, a short cache of
    links' states (a revoked link stops within `key_cache_seconds`, at once for new opens)."""

    def __init__(self, settings: Settings, engine: Engine, serving: ServingSettings) -> None:
        self.settings, self.engine, self.serving = settings, engine, serving
        self.limit = RateLimit(serving.demo_requests_per_minute)
        self.cache: dict[int, tuple[float, ShareLinkPublic | None]] = {}

    def cached(self, link_id: int) -> "tuple[bool, ShareLinkPublic | None]":
        """(True, the link) if it was read in the last few seconds, else (False, None)."""
        found = self.cache.get(link_id)
        if found is not None and time.monotonic() - found[0] < self.serving.key_cache_seconds:
            return True, found[1]
        return False, None

    def link(self, link_id: int) -> "ShareLinkPublic | None":
        """The link by id, read now (and cached)."""
        from services.sharing import link_by_id

        with Session(self.engine) as session:
            found = link_by_id(session, link_id)
        self.cache[link_id] = (time.monotonic(), found)
        return found

    def grant_seconds(self, link: "ShareLinkPublic") -> int:
        """How long the demo cookie lasts: the serving setting, or less if the link ends first."""
        seconds = self.serving.demo_session_hours * 3600
        if link.expires_at is not None:
            seconds = min(seconds, link.expires_at.timestamp() - time.time())
        return max(1, int(seconds))


def add_share_routes(app: FastAPI, desk: ShareDesk, server: "Server") -> None:
    """GET and POST /s/<token>, for the demos `server` mounts."""

    @app.get("/s/{token}", include_in_schema=False)
    def open_link(request: Request, token: str) -> Response:
        return _open(desk, server, request, token, password=None)

    @app.post("/s/{token}", include_in_schema=False)
    async def open_with_password(request: Request, token: str) -> Response:
        form = await request.form()
        password = form.get("password")
        given = password if isinstance(password, str) else ""
        return await run_in_threadpool(_open, desk, server, request, token, password=given)


def _open(
    desk: ShareDesk, server: "Server", request: Request, token: str, password: str | None
) -> Any:
    from services.sharing import count_view, find_link, password_opens

    with Session(desk.engine) as session:
        link = find_link(session, token)
        refused = _refusal(desk, server, session, link)
        if refused is not None or link is None:
            return refused or share_pages.not_found()
        if link.access == "password":
            if password is None:
                return share_pages.password_form(link.model_name)
            if not password_opens(session, link.id, password):
                return share_pages.password_form(link.model_name, wrong=True)
        if link.access == "signed_in":
            given = request.query_params.get("pass", "")
            if not share_passes.sign_in_passed(desk.settings, link.id, given):
                url = f"{desk.settings.app_url.rstrip('/')}/?share={quote(token)}"
                return share_pages.sign_in_needed(link.model_name, url)
        count_view(session, link.id)
    return _into_demo(desk, request, link)


def _refusal(
    desk: ShareDesk, server: "Server", session: Session, link: "ShareLinkPublic | None"
) -> Response | None:
    """A page instead of the demo: no such link, revoked, expired, not served, too busy."""
    if link is None:
        return share_pages.not_found()
    if link.state == "revoked":
        return share_pages.revoked()
    if link.state == "expired" and link.expires_at is not None:
        return share_pages.expired(f"{link.expires_at:%d %B %Y at %H:%M} UTC")
    if server.demos is None or not server.demos.served(link.model_name):
        return _not_served(server, session, link.model_name)
    if not desk.limit.allows(link.id):
        return share_pages.too_many()
    return None


def _not_served(server: "Server", session: Session, name: str) -> Response:
    """The page for a demo that is not up: starting, if the model was published since the
    server last loaded (it reloads now, so a link made right after publishing works), else
    not available (unpublished, or failing to load)."""
    published = session.exec(select(Publication).where(Publication.model_name == name)).first()
    if published is None or name in server.models.state.failed:
        return share_pages.unavailable(name)
    if not server.loading:
        server.reload_soon()
    return share_pages.starting(name)


def _into_demo(desk: ShareDesk, request: Request, link: "ShareLinkPublic") -> Response:
    """A redirect to the demo, with the cookie that lets this browser in (the token stays out
    of the demo's URL, its history and its Referer)."""
    path = demo_path(link.model_name)
    seconds = desk.grant_seconds(link)
    response = RedirectResponse(f"{path}/", status_code=303)
    response.set_cookie(
        COOKIE,
        share_passes.grant(desk.settings, link.id, seconds),
        max_age=seconds,
        path=path,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def demo_path(name: str) -> str:
    """Where a model's demo is mounted."""
    return DEMO_PREFIX + quote(name, safe="")


class DemoGate:
    """ASGI middleware: requests under /demo/ pass only with a grant of an active link for that
    model; a link's POSTs (predictions, uploads) are rate-limited. Other paths pass untouched,
    and the demo's streamed answers too (a pure ASGI wrapper, no response buffering)."""

    def __init__(self, app: ASGIApp, desk: ShareDesk) -> None:
        self.app, self.desk = app, desk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or not path.startswith(DEMO_PREFIX):
            await self.app(scope, receive, send)
            return
        name = unquote(path[len(DEMO_PREFIX) :].split("/", 1)[0])
        link_id = share_passes.granted_link(self.desk.settings, _cookie(scope) or "")
        refused = _closed(name, await self._link(link_id))
        if refused is None and link_id is not None and scope.get("method") == "POST":
            refused = None if self.desk.limit.allows(link_id) else share_pages.too_many()
        if refused is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await refused(scope, receive, send)
        else:  # a websocket: closed, with the reason's status
            await send({"type": "websocket.close", "code": 1008})

    async def _link(self, link_id: int | None) -> "ShareLinkPublic | None":
        """The granted link: from the cache on the event loop (most requests: a page's assets),
        else read from the database in a worker thread."""
        if link_id is None:
            return None
        hit, link = self.desk.cached(link_id)
        return link if hit else await run_in_threadpool(self.desk.link, link_id)


def _closed(name: str, link: "ShareLinkPublic | None") -> Response | None:
    """Why the demo `name` is closed to a request granted `link`, as a page; None if open."""
    from services.sharing import state_of

    if link is None or link.model_name != name:
        return share_pages.demo_closed(
            "This page opens only from a share link, in the browser that opened it.", 401
        )
    state = state_of(link)  # now: a cached link may have expired since it was read
    if state == "revoked":
        return share_pages.demo_closed("The share link that opened it was revoked.", 410)
    if state == "expired":
        return share_pages.demo_closed("The share link that opened it has expired.", 410)
    return None


def _cookie(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header: as if there were none
                return None
            if COOKIE in jar:
                return jar[COOKIE].value
    return None
