"""Zalo Official Account Open API: the access token (rotated with a single-use refresh token shared by
every process through the database), paced calls, and Zalo's error codes as SendErrors."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.exc import IntegrityError

from bot import logs
from bot.channels.base import SendError
from bot.channels.models import ChannelToken
from bot.channels.rate import Pace, shared_bucket
from bot.config import Settings
from bot.db import Database, utcnow

log = logging.getLogger(__name__)
CHANNEL = "zalo"
REFRESH_MARGIN = timedelta(hours=1)  # refresh this long before the access token (about 25 h) expires
TOKEN_ERRORS = {-216, -220, -124}  # invalid, expired or removed access token
WINDOW_ERRORS = {-230, -232}  # the person has not written for too long (or never)
UNFOLLOWED = {-213}  # the person does not follow the OA (any more)
RATE_LIMITED = {-32}
OUT_OF_QUOTA = {-211}
INVALID = {-201, -210, -233}  # the message itself is wrong: sending it again cannot help


class ZaloAuthError(Exception):
    """The refresh token was refused: an OA admin must authorise the app again."""


@dataclass(frozen=True)
class Token:
    """An access token and when it stops working."""

    value: str
    expires_at: datetime


class Tokens:
    """The current access token, refreshed before it expires or when Zalo says it has. The refresh token
    works once, so refreshing happens under a database row lock: of several processes, one refreshes and
    the others read the new token."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self._token: Token | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        """A token with at least REFRESH_MARGIN left."""
        token = self._token
        if token is not None and token.expires_at - utcnow() > REFRESH_MARGIN:
            return token.value
        return await self.refresh(stale=None)

    async def refresh(self, stale: str | None) -> str:
        """A new token unless another call or process already replaced `stale` (None: the cached one)."""
        async with self._lock:
            current = self._token
            if (
                current is not None
                and current.value != stale
                and current.expires_at - utcnow() > REFRESH_MARGIN
            ):
                return current.value
            self._token = await asyncio.to_thread(self._refresh_shared, stale)
            return self._token.value

    def _refresh_shared(self, stale: str | None) -> Token:
        """Take the stored token if it is fresh and not the stale one, else refresh it, all under a lock."""
        with self.db.transaction() as session:
            row = session.get(ChannelToken, CHANNEL, with_for_update=True)
            if row is None:
                try:
                    with session.begin_nested():
                        session.add(
                            ChannelToken(
                                channel=CHANNEL,
                                access_token="",
                                refresh_token=self.settings.zalo_refresh_token or "",
                                expires_at=utcnow(),
                            )
                        )
                except IntegrityError:
                    pass  # another process made it first
                row = session.get(ChannelToken, CHANNEL, with_for_update=True, populate_existing=True)
                assert row is not None
            fresh = row.expires_at - utcnow() > REFRESH_MARGIN
            if row.access_token and row.access_token != stale and fresh:
                logs.hide(row.access_token, row.refresh_token)
                return Token(row.access_token, row.expires_at)
            access, refresh, lifetime = self._exchange(row.refresh_token)
            logs.hide(access, refresh)
            row.access_token, row.refresh_token = access, refresh
            row.expires_at = utcnow() + timedelta(seconds=lifetime)
            log.info("Zalo access token refreshed; valid for %d s", lifetime)
            return Token(row.access_token, row.expires_at)

    def _exchange(self, refresh_token: str) -> tuple[str, str, int]:
        """POST the refresh token to Zalo's OAuth server: (access token, new refresh token, seconds)."""
        response = httpx.post(
            self.settings.zalo_oauth_url.rstrip("/") + "/v4/oa/access_token",
            headers={"secret_key": self.settings.zalo_app_secret or ""},
            data={
                "refresh_token": refresh_token,
                "app_id": self.settings.zalo_app_id or "",
                "grant_type": "refresh_token",
            },
            timeout=10,
        )
        body = response.json() if response.content else {}
        if response.status_code != 200 or "access_token" not in body:
            raise ZaloAuthError(
                f"Zalo refused the refresh token: {body.get('error')} {body.get('error_name')}"
            )
        return str(body["access_token"]), str(body["refresh_token"]), int(body.get("expires_in", 90000))


class ZaloAPI:
    """Calls to the OA API with the current token; one retry after a token refresh."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.settings = settings
        self.tokens = Tokens(db, settings)
        self.bucket = shared_bucket(settings, db)  # Zalo answers -32 beyond its limit, counted per OA
        self.pacer = Pace(self.bucket, f"zalo:{settings.zalo_app_id}", settings.zalo_max_messages_per_second)
        self.http = httpx.AsyncClient(base_url=settings.zalo_api_url.rstrip("/"), timeout=20)

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()
        await self.bucket.close()

    async def call(
        self,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """POST to the API (GET with `params`) and return `data`, or raise SendError with what Zalo's
        error code means."""
        token = await self._token()
        method = "GET" if params is not None else "POST"
        for attempt in (1, 2):
            await self.pacer.wait()
            try:
                response = await self.http.request(
                    method, path, json=json, files=files, params=params, headers={"access_token": token}
                )
                body = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise SendError(f"Zalo unreachable: {type(exc).__name__}: {exc}") from exc
            code = int(body.get("error", 0) or 0)
            if code == 0:
                data: dict[str, Any] = body.get("data") or {}
                return data
            if code in TOKEN_ERRORS and attempt == 1:
                token = await self._token(stale=token)
                continue
            raise _send_error(code, str(body.get("message", "")), self.settings)
        raise AssertionError("unreachable")

    async def _token(self, stale: str | None = None) -> str:
        """The access token, refreshed first when `stale` was refused; an auth failure stops sending."""
        try:
            return await (self.tokens.refresh(stale) if stale else self.tokens.get())
        except (ZaloAuthError, httpx.HTTPError) as exc:
            raise SendError(f"Zalo token: {exc}") from exc


def _send_error(code: int, message: str, settings: Settings) -> SendError:
    """What a Zalo error code means for the message: wait, give up, or the person is out of reach."""
    reason = f"Zalo {code}: {message}"
    if code in WINDOW_ERRORS:
        return SendError(reason, unreachable=True)
    if code in UNFOLLOWED:
        return SendError(reason, blocked=True)
    if code in RATE_LIMITED:
        return SendError(reason, retry_after=1.0)
    if code in OUT_OF_QUOTA:
        return SendError(
            f"{reason} (hết hạn mức tin chủ động)", retry_after=settings.zalo_quota_retry_minutes * 60
        )
    return SendError(reason, permanent=code in INVALID)
