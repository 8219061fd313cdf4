"""The REST API of the published models (`kaizen serve`): health and readiness, the models and
their schemas, a typed predict route per model (so /docs shows each model's real fields and an
example row), admin reload, API-key auth and plain-words errors; for an installation, each model's
Gradio demo too, behind share links (services.serving.demos, share_gate)."""

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.config import Settings
from services.serving import ServingSettings
from services.serving.auth import Keys
from services.serving.loaded import LoadedModel, Models
from services.serving.prediction_log import PredictionLog
from services.serving.problems import INTERNAL, column_problems
from services.serving.routes import add_fixed_routes, model_routes, openapi_with_bodies
from services.serving.sources import InstallationSource, Planned, Source

if TYPE_CHECKING:
    from services.serving.demos import Demos

log = logging.getLogger("kaizen.serving")
RELOAD_SOON_SECONDS = 30.0


class Server:
    """The state behind one app: the models served, the keys seen, the prediction log."""

    def __init__(self, source: Source, settings: Settings, serving: ServingSettings) -> None:
        self.source, self.serving = source, serving
        self.models = Models()
        self.keys = Keys(source.verify_key, serving.key_cache_seconds)
        self.log = PredictionLog(settings.home / "predictions") if serving.log_predictions else None
        self.loading = True  # until the first load has ended
        self.app: FastAPI | None = None
        self.demos: Demos | None = None  # the installation's demos (a bundle has none)
        self.last_reload_soon = -RELOAD_SOON_SECONDS
        self.soon = threading.Lock()

    def reload(self) -> dict[str, Any]:
        """Loads what the source plans now; a model whose file is unchanged is kept, a new one
        replaces the old only once it is loaded, and one that fails leaves the old serving."""
        with self.models.reloading:
            current = self.models.state.loaded
            loaded: dict[str, LoadedModel] = {}
            failed: dict[str, str] = {}
            for planned in self.source.plan():
                kept = current.get(planned.name)
                if kept is not None and _same(kept, planned):
                    loaded[planned.name] = kept
                    continue
                try:
                    model = planned.load()
                    loaded[model.name] = model
                except Exception as error:  # reported by /ready, logged in full
                    log.exception("cannot load %s v%s", planned.name, planned.version)
                    failed[planned.name] = _reason(error)
                    if kept is not None:
                        loaded[planned.name] = kept
            changed = [n for n, m in sorted(loaded.items()) if current.get(n) is not m]
            changed += sorted(set(current) - set(loaded))
            self.models.replace(loaded, failed)
            if self.app is not None:
                self._install_routes(self.app)
                if self.demos is not None:
                    self.demos.install(self.app, loaded)
            self.keys.clear()  # revoked keys stop at once
            self.loading = False
        log.info("serving %s; not loaded: %s", sorted(loaded), sorted(failed))
        return {"changed": changed, "not_loaded": failed}

    def reload_soon(self) -> None:
        """A reload in the background, unless one was asked for this way lately (a share link
        to a model published since the last load: its demo appears without an admin's reload)."""
        with self.soon:
            now = time.monotonic()
            if now - self.last_reload_soon < RELOAD_SOON_SECONDS:
                return
            self.last_reload_soon = now
        threading.Thread(target=_reload_logged, args=(self,), daemon=True).start()

    def _install_routes(self, app: FastAPI) -> None:
        """The models' predict routes replace the previous ones, in one swap of the route list,
        before the catch-all routes; other routes (mounted demos) stay where they are."""
        ours = getattr(app.state, "model_routes", [])
        fresh, schemas = model_routes(self, list(self.models.state.loaded.values()))
        others = [r for r in app.router.routes if not any(r is o for o in ours)]
        position = others.index(app.state.catch_all)
        app.state.body_schemas = schemas
        app.router.routes = others[:position] + fresh + others[position:]
        app.state.model_routes = fresh
        app.openapi_schema = None  # /docs and /openapi.json show the new models


def _same(model: LoadedModel, planned: Planned) -> bool:
    return (
        planned.digest is not None
        and model.digest == planned.digest
        and model.version == planned.version
    )


def _reason(error: Exception) -> str:
    from services.errors import KaizenError

    if isinstance(error, KaizenError):
        return str(error)
    return f"{type(error).__name__}: see the server log"


def create_app(
    source: Source, settings: Settings, serving: ServingSettings | None = None
) -> FastAPI:
    """The ASGI app serving `source`'s models; they load in the background at startup
    (/health answers at once, /ready once they are loaded)."""
    server = Server(source, settings, serving or ServingSettings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        demo_loop = await server.demos.started() if server.demos is not None else None
        first = loop.run_in_executor(None, _load_first, server)
        hangup = _on_hangup(loop, server)
        try:
            yield
        finally:
            if hangup:
                loop.remove_signal_handler(signal.SIGHUP)
            await asyncio.wait_for(asyncio.shield(first), timeout=None)
            if server.log is not None:
                server.log.close()
            if server.demos is not None:
                server.demos.stopped(demo_loop)

    app = FastAPI(
        title="Kaizen Studio models",
        description=(
            "Predictions of the published models. Send `Authorization: Bearer <api key>` "
            "(`kaizen api-keys create`). Each model's predict route lists its columns."
        ),
        version="1",
        lifespan=lifespan,
    )
    server.app = app
    app.state.server = server
    add_fixed_routes(app, server)
    if isinstance(source, InstallationSource):
        _add_demos(app, server, source)
    openapi_with_bodies(app)
    _add_handlers(app)
    server._install_routes(app)
    return app


def _add_demos(app: FastAPI, server: Server, source: InstallationSource) -> None:
    """The models' demos under /demo/<model>, reached through share links at /s/<token>."""
    from services.serving.demos import Demos
    from services.serving.share_gate import DemoGate, ShareDesk, add_share_routes

    server.demos = Demos(source.settings, server.serving)
    desk = ShareDesk(source.settings, source.engine, server.serving)
    add_share_routes(app, desk, server)
    app.add_middleware(DemoGate, desk=desk)


def _load_first(server: Server) -> None:
    try:
        server.reload()
    except Exception:  # the server stays up; /ready says nothing is loaded
        log.exception("the first load failed")
        server.loading = False


def _reload_logged(server: Server) -> None:
    """A reload nobody waits for (SIGHUP): a failure is logged, the old models keep serving."""
    try:
        server.reload()
    except Exception:
        log.exception("the reload failed; the models loaded before keep serving")


def _on_hangup(loop: asyncio.AbstractEventLoop, server: Server) -> bool:
    """SIGHUP reloads (uvicorn's single process does not handle it); main thread only."""
    if threading.current_thread() is not threading.main_thread():
        return False

    def reload() -> None:
        log.info("SIGHUP: reloading the published models")
        loop.run_in_executor(None, _reload_logged, server)

    try:
        loop.add_signal_handler(signal.SIGHUP, reload)
    except (NotImplementedError, RuntimeError, ValueError):
        return False
    return True


def _add_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": column_problems(error.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": error.detail}, status_code=error.status_code, headers=error.headers
        )

    @app.exception_handler(Exception)
    async def internal(request: Request, _error: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return JSONResponse(INTERNAL, status_code=500)
