"""Baseline for bench/updates.py: a bare python-telegram-bot echo bot behind the same web server
(FastAPI under uvicorn, Application with updater(None)), storing nothing."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer every update with one message, the least a bot can do."""
    chat = update.effective_chat
    if chat is None:
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    text = (update.effective_message.text if update.effective_message else None) or "ok"
    await update.get_bot().send_message(chat.id, text)


def build(token: str, api_url: str, concurrency: int) -> FastAPI:
    """The echo bot as an ASGI app."""
    application = (
        Application.builder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .updater(None)
        .concurrent_updates(concurrency)
        .build()
    )
    application.add_handler(TypeHandler(Update, echo))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with application:
            await application.start()
            yield
            await application.stop()

    app = FastAPI(lifespan=lifespan)

    @app.post("/webhooks/telegram")
    async def webhook(request: Request) -> Response:
        update = Update.de_json(await request.json(), application.bot)
        if update is not None:
            await application.update_queue.put(update)
        return JSONResponse({})

    return app


def main() -> None:
    """Serve the echo bot on a loopback port."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    app = build(args.token, args.api_url, args.concurrency)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
