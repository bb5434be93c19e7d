"""The ASGI application: health, web chat, Telegram and Zalo webhooks and admin, wired to one runtime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.middleware.sessions import SessionMiddleware

import admin
from admin import accounts as accounts_admin
from admin import audit as audit_admin
from admin import bulletins as bulletins_admin
from admin import content_translations as content_translations_admin
from admin import contests as contests_admin
from admin import dashboard as dashboard_admin
from admin import feedback as feedback_admin
from admin import people as people_admin
from admin import polls as polls_admin
from admin import prompt_clips as prompt_clips_admin
from admin import qa as qa_admin
from admin import reports as reports_admin
from admin import translations as translations_admin
from admin import villages as villages_admin
from admin.common import install_handlers
from admin.deps import SignedInGate
from bot import security
from bot.bulletins import outbox
from bot.bulletins import views as bulletin_views
from bot.bulletins.worker import Sender
from bot.channels import telegram, web, zalo  # noqa: F401  (importing a channel module registers its type)
from bot.channels.base import CHANNEL_TYPES, Hub
from bot.config import Settings
from bot.conversation import build_router
from bot.conversation.engine import Conversation
from bot.db import Database
from bot.i18n import SOURCE_LANGUAGE, Catalogs
from bot.jobs.runner import JobRunner
from bot.privacy import views as privacy_views
from bot.qa.engine import load_embedder
from bot.qa.knowledge import Knowledge
from bot.reports import reminders
from bot.runtime import Runtime, runtime_of
from bot.templating import make_templates

log = logging.getLogger(__name__)
ADMIN_DIR = Path(admin.__file__).parent


def build_runtime(settings: Settings, *, polling: bool = False) -> Runtime:
    """Everything one process needs, built once, with every registered channel its settings turn on."""
    db = Database(settings.database_url)
    catalogs = Catalogs(settings.locales_dir, settings.languages)
    knowledge = Knowledge(
        db,
        settings.timezone,
        embedder=load_embedder() if settings.qa_semantic else None,
        poll_seconds=settings.qa_poll_seconds,
    )
    conversation = Conversation(settings, catalogs, build_router(), knowledge)
    hub = Hub(db, conversation)
    return Runtime(
        settings=settings,
        db=db,
        catalogs=catalogs,
        conversation=conversation,
        hub=hub,
        chat_templates=make_templates(web.TEMPLATES_DIR, catalogs, SOURCE_LANGUAGE, settings.timezone),
        admin_templates=make_templates(ADMIN_DIR / "templates", catalogs, SOURCE_LANGUAGE, settings.timezone),
        channels={
            code: kind.build(settings, hub, polling=polling)
            for code, kind in CHANNEL_TYPES.items()
            if kind.configured(settings)
        },
    )


@asynccontextmanager
async def running(runtime: Runtime, *, sender: bool, receive: bool = True) -> AsyncIterator[None]:
    """Start what a process runs (the Q&A index and channels when it receives, the bulletin sender if
    asked, always the job runner) and stop it all cleanly."""
    knowledge = runtime.conversation.knowledge if receive else None
    if knowledge is not None:
        await asyncio.to_thread(knowledge.warm)
    for service in runtime.channels.values():
        await service.start(receive=receive)
    jobs = JobRunner(runtime.db, runtime.settings, runtime.hub.deliver_from(asyncio.get_running_loop()))
    jobs.start()
    task: asyncio.Task[None] | None = None
    builder = outbox.Builder(runtime.db, runtime.settings) if sender else None
    building = asyncio.create_task(builder.run()) if builder else None
    if sender:
        runtime.sender = Sender(runtime.db, runtime.hub, runtime.settings, runtime.catalogs)
        task = asyncio.create_task(runtime.sender.run())
    settings = runtime.settings
    resending = asyncio.create_task(
        runtime.hub.keep_resending(
            [code for code, service in runtime.channels.items() if service.resends],
            settings.resend_every_seconds,
            timedelta(seconds=settings.resend_after_seconds),
        )
    )
    reminding = asyncio.create_task(
        reminders.keep_reminding(runtime.db, settings, runtime.catalogs, runtime.hub.deliver)
    )
    try:
        yield
    finally:
        resending.cancel()
        reminding.cancel()
        await asyncio.wait([resending, reminding])
        if builder is not None and building is not None:
            builder.stop()
            await building
        if runtime.sender is not None and task is not None:
            await runtime.sender.stop()
            await task
        await asyncio.to_thread(jobs.stop)
        for service in runtime.channels.values():
            await service.stop()
        if knowledge is not None:
            await asyncio.to_thread(knowledge.stop)
        await runtime.hub.close()
        runtime.db.dispose()


def create_app(settings: Settings, *, polling: bool = False) -> FastAPI:
    """The app for `loaban serve` and for tests; the lifespan starts and stops the channels."""
    runtime = build_runtime(settings, polling=polling)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with running(runtime, sender=settings.run_worker):
            yield

    app = FastAPI(title="Loa Bản", lifespan=lifespan, docs_url=None, redoc_url=None, redirect_slashes=False)
    app.state.runtime = runtime
    app.add_middleware(SignedInGate)  # inside the session middleware: it reads the session
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="loaban_admin",
        same_site="strict",
        https_only=settings.secure_cookies,
        max_age=12 * 3600,
    )
    security.install(app, settings, runtime.catalogs.gettext(settings.admin_language))
    app.mount("/static/admin", StaticFiles(directory=ADMIN_DIR / "static"), name="admin-static")
    app.mount("/static/chat", StaticFiles(directory=web.STATIC_DIR), name="chat-static")
    for code in runtime.channels:
        app.include_router(CHANNEL_TYPES[code].routes)
    app.include_router(bulletin_views.router)
    app.include_router(privacy_views.router)
    for module in (
        accounts_admin,
        dashboard_admin,
        people_admin,
        villages_admin,
        audit_admin,
        bulletins_admin,
        qa_admin,
        feedback_admin,
        polls_admin,
        reports_admin,
        translations_admin,
        prompt_clips_admin,
        content_translations_admin,
        contests_admin,
    ):
        app.include_router(module.router)
    install_handlers(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request) -> Response:
        """Liveness and database reachability, for load balancers and `make run` checks: the database
        must still be the migrated one this process opened (not deleted, replaced or emptied)."""
        db = runtime_of(request).db
        if not db.still_opened():
            log.error("health check failed: the database file was deleted or replaced while running")
            return JSONResponse({"status": "error", "database": "replaced"}, status_code=503)
        try:
            with db.transaction() as session:
                session.execute(text("SELECT version_num FROM alembic_version"))
        except Exception as exc:
            log.error("health check failed: %s", exc)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        """The bare address opens the web chat, what most visitors want."""
        return RedirectResponse("/chat")

    return app
