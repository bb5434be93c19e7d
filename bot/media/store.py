"""Where stored files live, by key ('ab/abcd….ogg', 'exports/….json', 'incoming/…'): a folder on this
machine (the default), or S3-compatible object storage (`LOABAN_MEDIA_URL=s3://bucket/prefix`) that every
process on every machine reaches. Rows keep keys, never paths, so any process can send, serve or delete any
file. Faults come out as OSError (a missing file as FileNotFoundError), as a full disk always did."""

from __future__ import annotations

import os
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from bot.config import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CHUNK = 64 * 1024  # bytes streamed at a time to a browser or a temporary file
# What S3 answers a conditional PUT it did not make: an object is there (or is being written), or the
# condition is not supported; all are told apart from other faults by the code in StoreError's text.
CONDITION_REFUSED = (
    "PreconditionFailed",
    "ConditionalRequestConflict",
    "NotImplemented",
    "412",
    "409",
    "501",
)


class StoreError(OSError):
    """The store refused or could not be reached (S3 down, credentials wrong): a fault like a full disk."""


def checked(key: str) -> str:
    """A key as the store accepts it: relative, forward slashes, never climbing out of the store."""
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or "\\" in key or any(p in ("..", ".") for p in parts):
        raise ValueError(f"not a media key: {key!r}")
    return key


class MediaStore(ABC):
    """Files by key; every method may raise OSError, and `get`/`open` FileNotFoundError for a missing key."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Keep `data` under `key` whole or not at all (a reader never sees half a file)."""

    @abstractmethod
    def renew(self, key: str, data: bytes) -> bool:
        """`put`, in the same one request or rename, also saying whether a file was under `key` already (a
        stray copy of the same bytes that the sweep may be about to delete: see sweep.sweep); True when the
        store cannot tell, which only costs the caller a check."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The bytes kept under `key`."""

    @abstractmethod
    def open(self, key: str) -> Iterator[bytes]:
        """The file in chunks, to stream it without holding it whole; a missing key raises here, at once."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether a file is kept under `key`."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the file (nothing to do when it is already gone); raises when it may remain."""

    @abstractmethod
    def written(self, key: str) -> datetime | None:
        """When the file under `key` was last written (UTC), None when there is none."""

    @abstractmethod
    def listing(self) -> Iterator[tuple[str, datetime]]:
        """Every key in the store, with the time its file was last written (UTC)."""

    def local_path(self, key: str) -> Path | None:
        """The file on this machine's disk when the store is a folder (served with ranges), else None."""
        return None

    @contextmanager
    def as_file(self, key: str) -> Iterator[Path]:
        """A file on disk with the key's content, for a tool that reads files (ffmpeg): the stored file
        itself in a folder store, else a temporary copy removed afterwards."""
        local = self.local_path(key)
        if local is not None:
            if not local.exists():
                raise FileNotFoundError(key)
            yield local
            return
        chunks = self.open(key)
        with tempfile.NamedTemporaryFile(suffix=PurePosixPath(key).suffix) as copy:
            for chunk in chunks:
                copy.write(chunk)
            copy.flush()
            yield Path(copy.name)


class FolderStore(MediaStore):
    """Files under one folder, laid out by key (`LOABAN_MEDIA_DIR`): one machine, or a shared mount."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        """The key's file under the folder."""
        return self.root / checked(key)

    def put(self, key: str, data: bytes) -> None:
        """Write beside the target, then rename over it, so a reader never sees half a file."""
        target = self._path(key)
        self._partial(target, data).replace(target)

    def _partial(self, target: Path, data: bytes) -> Path:
        """The bytes written beside the target, under a name no reader takes for a file (`*.part`)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.part")
        partial.write_bytes(data)
        return partial

    def renew(self, key: str, data: bytes) -> bool:
        """Link the written file in only where none is (atomic), else rename it over the old one, which
        makes that one new again: no more system calls than `put`. A folder that cannot link (some shared
        mounts) cannot tell, and says a copy was there."""
        target = self._path(key)
        partial = self._partial(target, data)
        try:
            os.link(partial, target)
        except OSError:  # FileExistsError, or no hard links here
            partial.replace(target)
            return True
        partial.unlink()
        return False

    def get(self, key: str) -> bytes:
        """Read the file."""
        return self._path(key).read_bytes()

    def open(self, key: str) -> Iterator[bytes]:
        """Open now (so a missing file raises here), then read it in chunks."""
        handle = self._path(key).open("rb")

        def chunks() -> Iterator[bytes]:
            with handle:
                while chunk := handle.read(CHUNK):
                    yield chunk

        return chunks()

    def exists(self, key: str) -> bool:
        """Whether the file is there."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Unlink the file."""
        self._path(key).unlink(missing_ok=True)

    def written(self, key: str) -> datetime | None:
        """The file's modification time."""
        try:
            return datetime.fromtimestamp(self._path(key).stat().st_mtime, UTC)
        except FileNotFoundError:
            return None

    def listing(self) -> Iterator[tuple[str, datetime]]:
        """Walk the folder (a file being written, `*.part`, is not one yet)."""
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.endswith(".part"):
                yield (
                    path.relative_to(self.root).as_posix(),
                    datetime.fromtimestamp(path.stat().st_mtime, UTC),
                )

    def local_path(self, key: str) -> Path | None:
        """The file itself."""
        return self._path(key)


class S3Store(MediaStore):
    """Objects in one bucket under a prefix, on AWS S3 or anything that speaks its API (MinIO, Ceph, a
    provider's object storage), so every machine of a deployment reads what any other wrote."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")

    def _name(self, key: str) -> str:
        """The object's name in the bucket."""
        return f"{self.prefix}/{checked(key)}" if self.prefix else checked(key)

    def _call(self, key: str, action: str, **kwargs: Any) -> Any:
        """One S3 call, its faults as OSError: a missing object as FileNotFoundError, anything else as
        StoreError (naming neither the bucket's credentials nor the file's content)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, action)(Bucket=self.bucket, Key=self._name(key), **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(key) from exc
            raise StoreError(f"S3 {action} refused: {code}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"S3 {action} failed: {type(exc).__name__}") from exc

    def put(self, key: str, data: bytes) -> None:
        """One PUT: S3 shows an object only once it is whole."""
        self._call(key, "put_object", Body=data)

    def renew(self, key: str, data: bytes) -> bool:
        """One PUT made only where no object is (`If-None-Match: *`, as AWS, MinIO and Ceph honour it);
        refused, it is made again unconditionally (the old object is new again). A store that ignores the
        condition answers "none was there": as unprotected as `put`, never worse."""
        try:
            self._call(key, "put_object", Body=data, IfNoneMatch="*")
        except StoreError as exc:
            if not str(exc).endswith(CONDITION_REFUSED):
                raise
            self.put(key, data)
            return True
        return False

    def get(self, key: str) -> bytes:
        """One GET, read whole."""
        return b"".join(self.open(key))

    def open(self, key: str) -> Iterator[bytes]:
        """GET now (a missing object raises here), then read the body in chunks."""
        body = self._call(key, "get_object")["Body"]

        def chunks() -> Iterator[bytes]:
            with body:
                yield from body.iter_chunks(CHUNK)

        return chunks()

    def exists(self, key: str) -> bool:
        """One HEAD."""
        try:
            self._call(key, "head_object")
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        """One DELETE: S3 answers it only once the object is gone (and also when there was none)."""
        self._call(key, "delete_object")

    def written(self, key: str) -> datetime | None:
        """One HEAD: the object's LastModified."""
        try:
            found: datetime = self._call(key, "head_object")["LastModified"]
        except FileNotFoundError:
            return None
        return found

    def listing(self) -> Iterator[tuple[str, datetime]]:
        """The objects under the prefix, a page of up to 1,000 per LIST."""
        from botocore.exceptions import BotoCoreError, ClientError

        prefix = f"{self.prefix}/" if self.prefix else ""
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            ):
                for item in page.get("Contents", []):
                    yield item["Key"].removeprefix(prefix), item["LastModified"]
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(f"S3 list_objects_v2 failed: {type(exc).__name__}") from exc


def of(settings: Settings) -> MediaStore:
    """The store a deployment's settings name: S3 when `media_url` is s3://bucket/prefix, else the
    media folder. One per configuration in a process (an S3 client is costly to make, and thread-safe)."""
    return _made(
        settings.media_url,
        settings.media_dir,
        settings.s3_endpoint_url,
        settings.s3_region,
        settings.s3_access_key_id,
        settings.s3_secret_access_key,
    )


@lru_cache(maxsize=32)
def _made(
    url: str,
    folder: Path,
    endpoint: str | None,
    region: str | None,
    key_id: str | None,
    secret: str | None,
) -> MediaStore:
    """Build a store once per distinct configuration."""
    if not url:
        return FolderStore(folder)
    if not url.startswith("s3://"):
        raise ValueError("LOABAN_MEDIA_URL must be s3://bucket/prefix (or unset for the media folder)")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=region or None,
        aws_access_key_id=key_id or None,
        aws_secret_access_key=secret or None,
        config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}),
    )
    return S3Store(client, bucket, prefix)
