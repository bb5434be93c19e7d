"""Baseline for bench/zalo.py: the least a Zalo OA bot can do behind the same web server (FastAPI under
uvicorn): check the event's signature, answer 200, and echo the text back through the OA API afterwards,
storing nothing and refreshing its token once."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import secrets
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


def build(api_url: str, app_id: str, app_secret: str, oa_secret: str, refresh_token: str) -> FastAPI:
    """The echo bot as an ASGI app."""
    app = FastAPI()
    http = httpx.AsyncClient(base_url=api_url, timeout=30)
    token: dict[str, str] = {}
    tasks: set[asyncio.Task[None]] = set()
    refreshing = asyncio.Lock()  # the refresh token works once

    async def access_token() -> str:
        async with refreshing:
            if "value" in token:
                return token["value"]
            form = {"refresh_token": refresh_token, "app_id": app_id, "grant_type": "refresh_token"}
            answer = await http.post("/v4/oa/access_token", data=form, headers={"secret_key": app_secret})
            token["value"] = answer.json()["access_token"]
        return token["value"]

    async def echo(event: dict[str, Any]) -> None:
        user = (event.get("sender") or event.get("follower") or {}).get("id")
        text = (event.get("message") or {}).get("text") or "ok"
        body = {"recipient": {"user_id": user}, "message": {"text": text}}
        await http.post("/v3.0/oa/message/cs", json=body, headers={"access_token": await access_token()})

    @app.post("/webhooks/zalo")
    async def webhook(request: Request) -> Response:
        raw = await request.body()
        event = json.loads(raw)
        mac = hashlib.sha256(app_id.encode() + raw + str(event["timestamp"]).encode() + oa_secret.encode())
        if not secrets.compare_digest(
            request.headers.get("X-ZEvent-Signature", ""), "mac=" + mac.hexdigest()
        ):
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        task = asyncio.create_task(echo(event))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return JSONResponse({"error": 0})

    @app.get("/healthz")
    async def healthz() -> Response:
        return JSONResponse({"status": "ok"})

    return app


def main() -> None:
    """Serve the echo bot on a loopback port."""
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("--api-url", "--app-id", "--app-secret", "--oa-secret", "--refresh-token"):
        parser.add_argument(name, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = build(args.api_url, args.app_id, args.app_secret, args.oa_secret, args.refresh_token)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
