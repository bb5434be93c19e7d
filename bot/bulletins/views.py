"""Public routes: stored media files, and a podcast feed per commune and language for loudspeaker
stations (any podcast app or a station's automation can subscribe to it)."""

from __future__ import annotations

import asyncio
import re
import time
from email.utils import format_datetime
from typing import Annotated
from xml.sax.saxutils import escape

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from bot.areas import service as areas
from bot.bulletins import service as bulletins
from bot.bulletins.models import Bulletin, BulletinVersion
from bot.i18n import KNOWN_LANGUAGES
from bot.media import service as media
from bot.media import store
from bot.media.responses import stored_file
from bot.runtime import runtime_of
from bot.translations import content as content_translations

router = APIRouter()
MEDIA_NAME = re.compile(r"^([0-9a-f]{64})\.([a-z0-9]{2,4})$")


@router.get("/media/{name}", include_in_schema=False)
async def media_file(
    request: Request, name: str, expires: int = 0, sig: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    """A bulletin's file, to anyone and cacheable for ever since the name is its content; any other file
    (a person's photo, an official's answer) only through a signed, unexpired link, never cached."""
    match = MEDIA_NAME.match(name)
    if match is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    runtime = runtime_of(request)
    signed = bool(sig) and media.signature_holds(
        f"/media/{name}", expires, sig, runtime.settings.secret_key, time.time()
    )

    def find() -> Response | None:
        with runtime.db.transaction() as session:
            found = media.by_key(session, match.group(1))
            if found is None:
                return None
            public = bulletins.uses_media(session, found.id)
            if not (public or signed):
                return None
            key, mime = found.path, found.mime
        cache = "public, max-age=31536000, immutable" if public else "private, no-store"
        return stored_file(store.of(runtime.settings), key, mime, {"Cache-Control": cache})

    found = await asyncio.to_thread(find)
    return found if found is not None else JSONResponse({"error": "not found"}, status_code=404)


@router.get("/feeds/{commune_code}/{language}.xml", include_in_schema=False)
async def station_feed(request: Request, commune_code: int, language: str) -> Response:
    """RSS 2.0 with MP3 enclosures: the bulletins sent to a commune that have audio in a language."""
    commune = areas.get_commune(commune_code)
    if commune is None or language not in KNOWN_LANGUAGES:
        return JSONResponse({"error": "unknown commune or language"}, status_code=404)
    runtime = runtime_of(request)
    base = (runtime.settings.public_url or str(request.base_url)).rstrip("/")

    def items() -> list[str]:
        with runtime.db.transaction() as session:
            return [
                _item(base, b, v)
                for b, v in bulletins.station_items(session, commune_code, language)
                if content_translations.bulletin_reads_in(session, b, language)  # never a draft on air
            ]

    entries = await asyncio.to_thread(items)
    name = KNOWN_LANGUAGES[language].vietnamese_name
    title = escape(f"Loa Bản — {commune.name} — {name}")
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>'
        f"<title>{title}</title><link>{escape(base)}/feeds/{commune_code}/{language}.xml</link>"
        f"<description>{title}</description><language>{escape(language)}</language>"
        + "".join(entries)
        + "</channel></rss>"
    )
    return Response(body, media_type="application/rss+xml; charset=utf-8")


def _item(base: str, bulletin: Bulletin, version: BulletinVersion) -> str:
    """One feed item: the bulletin's text and its station MP3 as the enclosure."""
    mp3 = version.mp3
    assert mp3 is not None
    enclosure = f'<enclosure url="{escape(base + media.url(mp3))}" length="{mp3.size}" type="audio/mpeg"/>'
    return (
        f"<item><title>{escape(bulletin.title)}</title><description>{escape(version.text)}</description>"
        f'<guid isPermaLink="false">loaban-{bulletin.id}-{version.language}</guid>'
        f"<pubDate>{format_datetime(bulletin.send_at or bulletin.created_at)}</pubDate>{enclosure}"
        f"<itunes:duration>{round(mp3.duration or 0)}</itunes:duration></item>"
    )
