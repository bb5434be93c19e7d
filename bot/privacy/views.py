"""The link to a person's copy of their data: opened with its token only, before it expires; a copy made in
the web chat only with the session that asked."""

from __future__ import annotations

import asyncio
import re

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from bot.channels.web import well_formed
from bot.i18n import mark
from bot.media import store
from bot.media.responses import stored_file
from bot.privacy import service as privacy
from bot.runtime import runtime_of

router = APIRouter()
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


@router.get("/privacy/export/{token}", include_in_schema=False)
async def export_file(request: Request, token: str, session: str = "") -> Response:
    """The JSON file, never cached; anything else gets one plain answer, whether the token is wrong,
    expired or asked for from another session, so nothing is learnt by trying."""
    runtime = runtime_of(request)
    files = store.of(runtime.settings)
    urn = f"web:{session}" if well_formed(session) else None

    def find() -> Response | None:
        with runtime.db.transaction() as db:
            found = privacy.get_export(db, files, token, urn) if TOKEN_RE.match(token) else None
            if found is None:
                return None
            key = found.path
        private = {"Cache-Control": "private, no-store"}
        return stored_file(files, key, "application/json", private, filename=privacy.EXPORT_NAME)

    found = await asyncio.to_thread(find)
    if found is None:
        gettext = runtime.catalogs.gettext(runtime.settings.admin_language)
        refused = mark(
            "Liên kết này không mở được hoặc đã hết hạn. Bạn vào ⚙️ Cài đặt → «📄 Dữ liệu của tôi» "
            "để nhận tệp mới."
        )
        return PlainTextResponse(gettext(refused), status_code=404)
    return found
