"""Keep files in the media store by content hash and find them again."""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass, field, replace

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import Database
from bot.media.models import Media
from bot.media.store import MediaStore

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
# Types whose files share one container, so their first bytes cannot tell them apart.
CONTAINERS = {
    "video/mp4": ("video/mp4", "video/quicktime", "audio/mp4", "audio/x-m4a"),
    "video/webm": ("video/webm", "audio/webm"),
    "audio/wav": ("audio/wav", "audio/x-wav"),
}
INCOMING = "incoming"  # files that arrived and wait to be handled
KEY_LOCKS = 1296385097  # the class of PostgreSQL advisory locks on store keys ("MEDI" in ASCII)
MAX_PIXELS = 40_000_000  # a picture larger than this is a decompression bomb, not a phone's photo


def digest(data: bytes) -> str:
    """The content key of a file."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Upload:
    """A file already written to the store under its content key, waiting for its row (`record`)."""

    key: str
    kind: str
    mime: str
    path: str
    data: bytes = field(repr=False)
    duration: float | None = None
    written: bool = False  # by this upload; else a row named the file, and it was there
    revived: bool = False  # written over a copy no row named: one the sweep may be deleting (see record)


def _placed(
    session: Session, data: bytes, kind: str, mime: str, duration: float | None, key: str | None
) -> tuple[Upload, bool]:
    """Where a file goes, and whether a row already names it: under its key, or under a key of its own
    when the same bytes are stored under another type (an MP4 sent as audio, then as video)."""
    key = key or digest(data)
    found = by_key(session, key)
    if found is not None and found.mime != mime:
        key = digest(mime.encode() + b"\0" + data)
        found = by_key(session, key)
    path = found.path if found is not None else relative_path(key, mime)
    return Upload(key, kind, mime, path, data, duration), found is not None


def _write(files: MediaStore, upload: Upload, known: bool) -> Upload:
    """Write the file unless a row names it and it is there: a file lost from the store since is
    written again (whole or not at all); one no row names is written saying whether a copy was there."""
    if known:
        if files.exists(upload.path):
            return upload
        files.put(upload.path, upload.data)
        return replace(upload, written=True)
    return replace(upload, written=True, revived=files.renew(upload.path, upload.data))


def upload(
    db: Database,
    files: MediaStore,
    data: bytes,
    *,
    kind: str,
    mime: str,
    duration: float | None = None,
    key: str | None = None,
) -> Upload:
    """Write a file to the store before any transaction of the caller's opens (an S3 PUT may take seconds,
    and a transaction held open that long holds up everyone waiting on its locks): a look-up of its own
    picks the key, then the write runs with no transaction open. The key comes from the bytes and their
    type, so writing again is harmless, and a file whose row never comes is only a stray copy."""
    with db.transaction() as session:
        placed, known = _placed(session, data, kind, mime, duration, key)
    return _write(files, placed, known)


def record(session: Session, files: MediaStore, upload: Upload) -> Media:
    """The row of an uploaded file, in the caller's transaction: the one already under its key, else a new
    one; a row another process inserted meanwhile under the same key is taken instead (a savepoint keeps
    the unique violation from spoiling the transaction)."""
    if upload.revived:
        _kept_from_sweep(session, files, upload)
    found = by_key(session, upload.key)
    if found is None and upload.written:
        media = Media(
            key=upload.key,
            kind=upload.kind,
            mime=upload.mime,
            path=upload.path,
            size=len(upload.data),
            duration=upload.duration,
        )
        try:
            with session.begin_nested():
                session.add(media)
        except IntegrityError:
            found = by_key(session, upload.key)
        else:
            return media
    if found is not None and found.mime == upload.mime:
        return found
    # Rare races with another process since `upload` looked: the row it found was deleted (and its file
    # with it), or these very bytes were stored under another type (their key is now taken). The file is
    # then written here, inside the transaction, under the key it now gets.
    return _written_within(session, files, upload)


def _kept_from_sweep(session: Session, files: MediaStore, upload: Upload) -> None:
    """Make sure the old copy an upload wrote over is still there once its row is recorded: the sweep
    may have looked at that copy (old, no row) just before the upload made it new, and deleted it just
    after. Under the key's lock, held to the commit (the sweep holds it from its last look to its delete),
    the copy is written again if it is gone; a sweep coming later sees the row. Only an upload that found
    such a copy pays this (a stray of the very same bytes, a day old), never the usual new file."""
    hold(session, upload.path, shared=True)
    if not files.exists(upload.path):
        files.put(upload.path, upload.data)


def hold(session: Session, path: str, *, shared: bool) -> None:
    """Lock a store key until the transaction ends, against the sweep: PostgreSQL's advisory lock on it
    (shared for writers, exclusive for the sweep); SQLite's transactions already run one at a time."""
    if session.get_bind().dialect.name == "postgresql":
        how = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        session.execute(text(f"SELECT {how}({KEY_LOCKS}, hashtext(:path))"), {"path": path})


def _written_within(session: Session, files: MediaStore, upload: Upload) -> Media:
    """Place and write a file inside the caller's transaction, then record its row: only for the races
    `record` lost."""
    placed, known = _placed(session, upload.data, upload.kind, upload.mime, upload.duration, upload.key)
    return record(session, files, _write(files, placed, known))


def delete(session: Session, files: MediaStore, media: Media) -> None:
    """Forget a stored file: the file now, so nobody is told it is gone while it remains (raises OSError
    when the store refuses), and the row with the transaction. Files are shared by content, so the caller
    first makes sure nothing else uses this one."""
    files.delete(media.path)
    session.delete(media)


def park(files: MediaStore, data: bytes, suffix: str = "") -> str:
    """Keep a file that arrived (a person's photo, an admin's recording) under a random key until whatever
    handles it (maybe another process, on another machine) stores what it keeps; returns the key."""
    key = f"{INCOMING}/{secrets.token_hex(12)}{suffix}"
    files.put(key, data)
    return key


def relative_path(key: str, mime: str) -> str:
    """The store key of a file with this content key and type (its place under the media folder)."""
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
    """'image/jpeg' or 'image/png' (what a bulletin may show) by the file's magic bytes; None otherwise."""
    found = sniff(data)
    return found if found in ("image/jpeg", "image/png") else None


def sniff(data: bytes) -> str | None:
    """What a file is by its magic bytes, among the types the store keeps (one type per container);
    None for anything else — a program, HTML or SVG whatever it was declared as."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF":
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav"}.get(head[8:12])
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return "video/mp4"
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # an MPEG audio frame's sync word
        return "audio/aac" if head[1] & 0x06 == 0 else "audio/mpeg"  # layer bits 00: AAC (ADTS)
    return None


def checked_type(data: bytes, declared: str) -> str | None:
    """The type to keep a file under: the declared one when the content is that (or shares its
    container), the content's own when it is another of the same kind (a PNG sent as JPEG); None when
    the content is not what was declared, or nothing the store keeps."""
    found = sniff(data)
    if found is None:
        return None
    candidates = CONTAINERS.get(found, (found,))
    if declared in candidates:
        return declared
    kind = declared.split("/", 1)[0]
    return next((c for c in candidates if c.split("/", 1)[0] == kind), None)


def accepted(data: bytes, declared: str) -> tuple[bytes, str] | None:
    """What the store keeps of a file a person sent: its content checked against its declared type, and
    a picture drawn again from its pixels (so nothing hidden in it survives, nor the EXIF GPS of where
    the photo was taken); None when it is not what it claims to be."""
    mime = checked_type(data, declared)
    if mime is None or not mime.startswith("image/"):
        return None if mime is None else (data, mime)
    redrawn = redraw(data, mime)
    return None if redrawn is None else (redrawn, mime)


def redraw(data: bytes, mime: str) -> bytes | None:
    """A picture re-encoded from its pixels alone, turned upright as its EXIF said; no metadata kept."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                return None
            picture = ImageOps.exif_transpose(opened)
            picture.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    picture.info = {k: v for k, v in picture.info.items() if k == "transparency"}
    if mime == "image/jpeg" and picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")
    out = io.BytesIO()
    picture.save(out, format=EXTENSIONS[mime].replace("jpg", "jpeg").upper(), quality=90)
    return out.getvalue()
