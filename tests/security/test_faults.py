"""Faults an operator meets: a database that went missing is never silently replaced by an empty one and
the health check says so; a media folder that cannot be written gives the person and the official a
clear answer, and a bulletin's audio ends in an error with a way to make it again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.audio import ffmpeg
from bot.config import Settings
from bot.db import Database
from bot.migrations import migrated
from tests.conftest import PROJECT_ROOT
from tests.drivers import WebDriver, onboard
from tests.factories import PNG
from tests.test_admin import csrf, login, make_admin
from tests.test_bulletins import google, settings
from tests.test_bulletins_admin import create, wait_audio
from tests.test_feedback import file_reflection

__all__ = ["google", "settings"]  # fixtures shared with test_bulletins


def loaban(command: str, database: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run a `loaban` command on a SQLite database, as `make run` does."""
    env = os.environ | {
        "LOABAN_DATABASE_URL": f"sqlite:///{database}",
        "LOABAN_MEDIA_DIR": str(tmp_path / "media"),
        "LOABAN_PORT": "1",  # never reached: serve stops before it listens
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", command],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_refuses_a_missing_database_that_migrate_would_create(tmp_path: Path) -> None:
    database = tmp_path / "gone.db"
    refused = loaban("serve", database, tmp_path)
    assert refused.returncode == 2 and "loaban migrate" in refused.stderr
    assert not database.exists(), "no empty database was made in place of the lost one"
    assert loaban("migrate", database, tmp_path).returncode == 0
    assert migrated(f"sqlite:///{database}"), "after `loaban migrate`, serve starts (make run)"


def test_health_fails_once_the_database_file_is_deleted_or_replaced(
    client: httpx.Client, database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("a file database")
    assert client.get("/healthz").status_code == 200
    path = tmp_path / "loaban.db"
    spare = tmp_path / "spare.db"
    shutil.copy(path, spare)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    gone = client.get("/healthz")
    assert gone.status_code == 503 and gone.json()["status"] == "error"
    shutil.copy(spare, path)  # another database put in its place
    assert client.get("/healthz").status_code == 503


def break_media(settings: Settings) -> Path:
    """The media folder can no longer be written (as when it is read-only or its disk failed)."""
    folder = Path(settings.media_dir)
    shutil.rmtree(folder, ignore_errors=True)
    folder.write_bytes(b"")
    return folder


def test_a_person_is_told_plainly_when_their_file_cannot_be_kept(
    client: httpx.Client, db: Database, settings: Settings
) -> None:
    person = WebDriver(client)
    onboard(person)
    file_reflection(person, text="Đường sạt lở.")
    break_media(settings)
    answer = person.send_file(PNG, "photo", "image/png")
    assert "chưa lưu được tệp này" in answer[-1].text and "gửi lại sau" in answer[-1].text


@pytest.mark.skipif(not ffmpeg.available(), reason="needs ffmpeg (make system-deps)")
def test_bulletin_audio_that_cannot_be_saved_fails_clearly_and_is_made_again(
    client: httpx.Client, db: Database, settings: Settings, tmp_path: Path
) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    folder = break_media(settings)
    refused = create(
        client, {"title": "Họp thôn", "text_vi": "Tối nay họp thôn."}, {"images": ("a.png", PNG, "image/png")}
    )
    assert refused.status_code == 503 and "Máy chủ không lưu được tệp" in refused.text, "not a bare 500"
    made = create(client, {"title": "Họp thôn", "text_vi": "Tối nay họp thôn."}, {})
    url = made.headers["location"]
    page = wait_audio(client, url)
    assert "Máy chủ không lưu được âm thanh" in page and "Tạo lại âm thanh" in page
    folder.unlink()
    folder.mkdir()
    again = client.post(f"{url}/audio", data={"csrf_token": csrf(client.get(url))})
    assert again.status_code == 303
    deadline = time.monotonic() + 30
    while "<audio controls" not in (page := wait_audio(client, url)):
        assert time.monotonic() < deadline, "the audio was made again"
        time.sleep(0.2)
    assert "Máy chủ không lưu được âm thanh" not in page
