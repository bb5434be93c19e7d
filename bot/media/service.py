"""Keep files under the media folder by content hash and find them again."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db import after
from bot.media.models import Media

EXTENSIONS = {
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/aac": "aac",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/webm": "webm",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "application/pdf": "pdf",
}


def digest(data: bytes) -> str:
    """The content key of a file."""
    return hashlib.sha256(data).hexdigest()


def store(
    session: Session,
    root: Path,
    data: bytes,
    *,
    kind: str,
    mime: str,
    duration: float | None = None,
    key: str | None = None,
) -> Media:
    """Write a file (atomically) and its row, or return the row already stored under the same key."""
    key = key or digest(data)
    found = session.scalar(select(Media).where(Media.key == key))
    if found is not None and (root / found.path).exists():
        return found
    relative = relative_path(key, mime)
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + f".{os.getpid()}.part")
    partial.write_bytes(data)
    partial.replace(target)
    if found is not None:
        return found
    media = Media(key=key, kind=kind, mime=mime, path=relative, size=len(data), duration=duration)
    session.add(media)
    session.flush()
    return media


def delete(session: Session, root: Path, media: Media) -> None:
    """Forget a stored file: the row now, the file once the transaction commits. Files are shared by
    content, so the caller first makes sure nothing else uses this one."""
    path = root / media.path
    session.delete(media)
    after(session, "commit", lambda: path.unlink(missing_ok=True))


def incoming(root: Path) -> Path:
    """Where files wait, outside any transaction, until whatever handles them stores what it keeps."""
    return root / "incoming"


def park(root: Path, data: bytes, suffix: str = "") -> Path:
    """Write a file that arrived (a person's photo, an admin's recording) under a random name."""
    folder = incoming(root)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(12)}{suffix}"
    path.write_bytes(data)
    return path


def relative_path(key: str, mime: str) -> str:
    """Where under the media folder a file with this key and type is kept."""
    return f"{key[:2]}/{key}.{EXTENSIONS[mime]}"


def get(session: Session, media_id: int) -> Media | None:
    """A stored file by id."""
    return session.get(Media, media_id)


def by_key(session: Session, key: str) -> Media | None:
    """A stored file by its content key (cache look-ups, public URLs)."""
    return session.scalar(select(Media).where(Media.key == key))


def remember_platform_id(session: Session, media_id: int, platform: str, file_id: str) -> None:
    """Cache the id a platform gave an uploaded file, so the next send re-uses it."""
    media = session.get(Media, media_id, with_for_update=True)
    if media is None:
        return
    ids = {**media.platform_ids, platform: file_id}
    session.execute(update(Media).where(Media.id == media_id).values(platform_ids=ids))


def url(media: Media) -> str:
    """Where browsers fetch a file; served to anyone only while a bulletin uses it (see views.media_file),
    since a hash is no secret once a file has been shared."""
    return f"/media/{media.key}.{EXTENSIONS[media.mime]}"


def _signature(path: str, expires: int, secret: str) -> str:
    """The HMAC that lets a link to one file work until a time."""
    return hmac.new(secret.encode(), f"{path}|{expires}".encode(), hashlib.sha256).hexdigest()


def signed_url(path: str, secret: str, expires: int) -> str:
    """A link to a private file (a URL from `url`) for a platform that can only show links (Zalo): it
    works until `expires` (Unix time) without any login, and nobody can make one for another file."""
    return f"{path}?expires={expires}&sig={_signature(path, expires, secret)}"


def signature_holds(path: str, expires: int, signature: str, secret: str, now: float) -> bool:
    """Whether a signed link is genuine and not yet expired."""
    return now < expires and hmac.compare_digest(signature, _signature(path, expires, secret))


def image_type(data: bytes) -> str | None:
    """'image/jpeg' or 'image/png' by the file's magic bytes; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None
