"""The served models' Gradio demos, mounted on `kaizen serve`'s app under /demo/<model> with
`gr.mount_gradio_app` (never `launch()`): one per loaded model, so a demo shows exactly the
version its publication serves; rebuilt when a reload loads another version, removed when the
model stops being served. Gradio serves no files of ours (nothing allowed, the home blocked) and
takes no upload above a small bound."""

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from services.config import Settings
from services.serving import ServingSettings
from services.serving.loaded import LoadedModel
from services.serving.share_gate import demo_path

log = logging.getLogger("kaizen.serving")
START_SECONDS = 60.0


@dataclass(frozen=True)
class Mounted:
    model: LoadedModel
    blocks: Any  # gr.Interface
    route: Any  # the Mount in the app's routes


class Demos:
    """The demos mounted on one app, kept in step with the models it serves."""

    def __init__(self, settings: Settings, serving: ServingSettings) -> None:
        self.settings, self.serving = settings, serving
        self.mounted: dict[str, Mounted] = {}
        self.loop: asyncio.AbstractEventLoop | None = None  # the server's, once it runs
        self.waiting: list[Any] = []  # built before the server ran: started when it does

    def served(self, name: str) -> bool:
        """True if `name`'s demo is up."""
        return name in self.mounted

    def install(self, app: FastAPI, models: dict[str, LoadedModel]) -> None:
        """Mounts a demo for each model not mounted at this very version; unmounts the rest.
        A demo that cannot be built is logged and left out; the API serves on."""
        for name, model in sorted(models.items()):
            current = self.mounted.get(name)
            if current is not None and current.model is model:
                continue
            try:
                self._mount(app, model)
            except Exception:
                log.exception("cannot build the demo of %s v%s", name, model.version)
                if current is not None:
                    self._unmount(app, name)
        for name in sorted(set(self.mounted) - set(models)):
            self._unmount(app, name)

    async def started(self) -> asyncio.AbstractEventLoop | None:
        """Called from the server's lifespan: demos start on its loop from now on, and those
        built before it ran start now. Returns the loop in use before (a test may run the
        same app under a second server for a while)."""
        previous, self.loop = self.loop, asyncio.get_running_loop()
        waiting, self.waiting = self.waiting, []
        for blocks in waiting:
            await _start(blocks)
        return previous

    def stopped(self, previous: asyncio.AbstractEventLoop | None) -> None:
        """The server is stopping: its demos' queues stop, unless an earlier server runs on."""
        self.loop = previous
        if previous is None:
            for mounted in self.mounted.values():
                mounted.blocks._queue.close()

    def _mount(self, app: FastAPI, model: LoadedModel) -> None:
        import gradio as gr

        from services.serving.demo import build_demo

        blocks = build_demo(model)
        lifespan, before = app.router.lifespan_context, list(app.router.routes)
        gr.mount_gradio_app(
            app,
            blocks,
            path=demo_path(model.name),
            allowed_paths=[],
            blocked_paths=[str(self.settings.home.resolve())],
            max_file_size=self.serving.demo_max_file_size,
            show_error=False,  # a failure's details stay in the server log
            ssr_mode=False,  # no Node server
        )
        # The app is running already (demos follow the models, which load after startup):
        # the demo's startup is run here, not in a wrapped lifespan that would never run.
        app.router.lifespan_context = lifespan
        route = next(r for r in app.router.routes if not any(r is b for b in before))
        if model.name in self.mounted:
            self._unmount(app, model.name)
        self.mounted[model.name] = Mounted(model, blocks, route)
        self._start(blocks)
        log.info("demo of %s v%s at %s/", model.name, model.version, demo_path(model.name))

    def _unmount(self, app: FastAPI, name: str) -> None:
        gone = self.mounted.pop(name)
        app.router.routes = [r for r in app.router.routes if r is not gone.route]
        gone.blocks._queue.close()

    def _start(self, blocks: Any) -> None:
        """Starts a demo's queue on the server's event loop (reloads run in worker threads)."""
        if self.loop is None:
            self.waiting.append(blocks)
            return
        asyncio.run_coroutine_threadsafe(_start(blocks), self.loop).result(START_SECONDS)


async def _start(blocks: Any) -> None:
    blocks.run_startup_events()
    await blocks.run_extra_startup_events()
