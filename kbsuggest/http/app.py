"""The HTTP service: ``create_app(settings)``. Every KB's routes live under ``/v1/kbs/{kb}/``; the same
routes under ``/v1/`` are the default KB's, so single-KB clients keep working."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from pydantic.json_schema import models_json_schema

from kbsuggest import __version__
from kbsuggest.config import Settings
from kbsuggest.errors import UnknownKBError
from kbsuggest.events.schema import EventBatch
from kbsuggest.http import errors
from kbsuggest.http.cors import KBCors
from kbsuggest.http.deps import kb_path
from kbsuggest.http.limits import add_limits
from kbsuggest.http.routes import admin, articles, dashboard, events, ops, suggest
from kbsuggest.kbs.admin import Indexer, KBAdmin
from kbsuggest.kbs.registry import Registry
from kbsuggest.kbs.watch import IndexWatcher
from kbsuggest.store import Store, open_store

log = logging.getLogger("kbsuggest")


def create_app(settings: Settings | None = None, registry: Registry | None = None, *,
               indexer: Indexer | None = None, store: Store | None = None) -> FastAPI:
    """The app. ``indexer`` (offline code, injected by the CLI) turns the admin API on."""
    settings = settings or Settings()
    store = store or (registry.store if registry and registry.store else open_store(settings))
    registry = registry or Registry(settings, store=store, serving=True)
    if registry.store is None:
        registry.store = store

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        watcher = app.state.watcher = IndexWatcher(registry, store, settings.index_poll_seconds)
        watcher.fetch()  # with KBSUGGEST_INDEX_URL: the published versions, before recovery rolls writes forward
        if app.state.admin is not None:
            app.state.admin.recover_all()  # finish or undo admin writes a crash interrupted
        registry.start()  # the default KB now, the others on their first query
        watcher.start()  # versions published by any replica (or `kbsuggest index`) are served here too
        yield
        watcher.stop()
        store.close()

    app = FastAPI(title="kbsuggest", version=__version__, lifespan=lifespan,
                  description="Suggests help-centre articles while a customer types a ticket title or a chat message, "
                              "for one or many knowledge bases.")
    app.state.settings = settings
    app.state.registry = registry
    app.state.store = store
    app.state.admin = KBAdmin(registry, indexer) if indexer is not None else None
    errors.install(app)
    add_limits(app, settings)
    app.add_middleware(KBCors, origins_of=lambda kb: _origins(registry, kb))

    for prefix, dependencies in (("/v1", []), ("/v1/kbs/{kb}", [Depends(kb_path)])):
        app.include_router(suggest.build(settings), prefix=prefix, dependencies=dependencies)
        app.include_router(articles.build(settings), prefix=prefix, dependencies=dependencies)
        app.include_router(events.build(settings), prefix=prefix, dependencies=dependencies)
        app.include_router(admin.build(), prefix=prefix, dependencies=dependencies)
        app.include_router(dashboard.build(settings), prefix=prefix, dependencies=dependencies)
    app.include_router(ops.build())
    app.include_router(dashboard.page_router())
    _document_event_schema(app)
    return app


def _origins(registry: Registry, kb: str) -> list[str]:
    try:
        return registry.config(kb).cors_origins
    except UnknownKBError:
        return []


def _document_event_schema(app: FastAPI) -> None:
    """The events body is read by hand (sendBeacon sends text/plain), so its schema and the models it refers
    to are added to the spec's components, where its ``$ref``s point."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            _, defs = models_json_schema([(EventBatch, "validation")], ref_template="#/components/schemas/{model}")
            schema.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
        return app.openapi_schema

    app.openapi = openapi
