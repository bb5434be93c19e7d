"""A stored file as an HTTP answer, streamed from the media store whichever machine wrote it."""

from __future__ import annotations

from fastapi.responses import FileResponse, Response, StreamingResponse

from bot.media.store import MediaStore


def stored_file(
    files: MediaStore, key: str, mime: str, headers: dict[str, str], filename: str | None = None
) -> Response | None:
    """The file's answer, or None when the store has no such file. A folder store's file is sent by the
    server itself (with byte ranges, which audio players seek with); any other store's is streamed in
    chunks, never held whole. Blocking (it opens the file): call it on a thread."""
    local = files.local_path(key)
    if local is not None:
        if not local.is_file():
            return None
        return FileResponse(local, media_type=mime, filename=filename, headers=headers)
    try:
        chunks = files.open(key)
    except FileNotFoundError:
        return None
    if filename is not None:
        headers = {**headers, "Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(chunks, media_type=mime, headers=headers)
