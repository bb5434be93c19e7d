"""The link to a person's copy of their data: opened with its token only, before it expires; a copy made in
the web chat only with the session that asked."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, PlainTextResponse, Response

from bot.channels.web import well_formed
from bot.i18n import mark
from bot.privacy import service as privacy
from bot.runtime import runtime_of

router = APIRouter()
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


@router.get("/privacy/export/{token}", include_in_schema=False)
async def export_file(request: Request, token: str, session: str = "") -> Response:
    """The JSON file, never cached; anything else gets one plain answer, whether the token is wrong,
    expired or asked for from another session, so nothing is learnt by trying."""
    runtime = runtime_of(request)
    root = Path(runtime.settings.media_dir)
    urn = f"web:{session}" if well_formed(session) else None

    def find() -> Path | None:
        with runtime.db.transaction() as db:
            found = privacy.get_export(db, root, token, urn) if TOKEN_RE.match(token) else None
            return root / found.path if found is not None else None

    path = await asyncio.to_thread(find)
    if path is None or not path.exists():
        gettext = runtime.catalogs.gettext(runtime.settings.admin_language)
        refused = mark(
            "Liên kết này không mở được hoặc đã hết hạn. Bạn vào ⚙️ Cài đặt → «📄 Dữ liệu của tôi» "
            "để nhận tệp mới."
        )
        return PlainTextResponse(gettext(refused), status_code=404)
    return FileResponse(
        path,
        media_type="application/json",
        filename=privacy.EXPORT_NAME,
        headers={"Cache-Control": "private, no-store"},
    )
