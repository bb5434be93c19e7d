"""Voice in the web chat, in a real headless Chromium on a 360 px touch screen with a fake microphone: a
person holds 🎤 to speak, sees a running timer, can slide off to cancel, and files a reflection whose voice
note officials get as a playable OGG/Opus file."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api
from sqlalchemy import select

from bot.config import Settings
from bot.db import Database
from bot.feedback.models import Attachment, Ticket
from bot.media.models import Media
from tests.browser import ARTIFACTS, Chromium
from tests.fakes.server import LiveServer
from tests.test_browser import onboard_in_chat


@pytest.fixture
def phone(request: pytest.FixtureRequest, chromium: Chromium) -> Iterator[sync_api.Page]:
    """A 360 px Android-like page (touch, mobile) whose microphone is Chromium's fake one."""
    with chromium.page(
        request, viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True
    ) as page:
        yield page


def hold(page: sync_api.Page, seconds: float, *, release_at: tuple[float, float] | None = None) -> None:
    """Press 🎤 with a finger, keep it down, and lift it on the button (or where `release_at` says)."""
    box = page.locator("#mic").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    sync_api.expect(page.locator("#rec")).to_be_visible()
    time.sleep(seconds)
    end_x, end_y = release_at or (x, y)
    if release_at is not None:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": end_x, "y": end_y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def probe(path: Path) -> dict[str, object]:
    """What ffprobe says of a stored file: its container and first stream."""
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "format=format_name,duration:stream=codec_name,channels",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        check=True,
    ).stdout
    info = json.loads(out)
    return {
        "format": info["format"]["format_name"],
        "seconds": float(info["format"]["duration"]),
        **info["streams"][0],
    }


def test_a_person_records_a_reflection_by_holding_the_microphone(
    phone: sync_api.Page, live: LiveServer, db: Database, settings: Settings
) -> None:
    onboard_in_chat(phone, live)
    phone.get_by_role("button", name="📝 Góp ý – Phản ánh").click()
    phone.get_by_role("button", name="Đường sá, cầu cống").click()
    phone.wait_for_selector("text=Gửi xong thì bấm «Xong, gửi đi»")

    hold(phone, 1.5, release_at=(20, 80))  # slid off the button: cancelled, nothing sent
    sync_api.expect(phone.locator("#rec")).to_be_hidden()
    assert phone.locator(".msg.me", has_text="🎤").count() == 0

    hold(phone, 2.5)
    sync_api.expect(phone.locator(".msg.bot", has_text="Đã nhận: 1 ghi âm")).to_be_visible(timeout=15_000)
    mine = phone.locator(".msg.me", has_text="🎤")
    assert mine.count() == 1 and "0:0" in mine.inner_text(), "the length the timer showed"
    assert mine.locator("audio").count() == 1, "the person can play back what they sent"
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "web-chat-voice-360.png"))

    phone.get_by_role("button", name="✅ Xong, gửi đi").last.click()
    phone.get_by_role("button", name="🙈 Gửi ẩn danh").click()
    phone.wait_for_selector("text=Mã phản ánh: PA-")
    with db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        kept = session.scalars(
            select(Media)
            .join(Attachment, Attachment.media_id == Media.id)
            .where(Attachment.ticket_id == ticket.id)
        ).one()
        assert (kept.kind, kept.mime) == ("voice", "audio/ogg")
        path = Path(settings.media_dir) / kept.path
    heard = probe(path)
    assert heard["format"] == "ogg" and heard["codec_name"] == "opus" and heard["channels"] == 1
    assert 1.5 <= float(str(heard["seconds"])) <= 5


def test_a_short_tap_keeps_recording_until_send_and_cancel_sends_nothing(
    phone: sync_api.Page, live: LiveServer
) -> None:
    """Someone who cannot hold (or a desktop mouse click) taps once: recording goes on, with ✔ Gửi and
    🗑 Xóa; the timer runs while it records."""
    onboard_in_chat(phone, live)
    phone.get_by_role("button", name="📝 Góp ý – Phản ánh").click()
    phone.get_by_role("button", name="Đường sá, cầu cống").click()
    phone.wait_for_selector("text=Gửi xong thì bấm «Xong, gửi đi»")
    phone.locator("#mic").tap()
    sync_api.expect(phone.get_by_role("button", name="✔ Gửi")).to_be_visible()
    sync_api.expect(phone.locator("#rec-time")).to_have_text("0:01", timeout=5_000)
    phone.get_by_role("button", name="🗑 Xóa").click()
    sync_api.expect(phone.locator("#rec")).to_be_hidden()
    phone.locator("#mic").tap()
    sync_api.expect(phone.locator("#rec-time")).to_have_text("0:02", timeout=5_000)
    phone.get_by_role("button", name="✔ Gửi").click()
    sync_api.expect(phone.locator(".msg.bot", has_text="Đã nhận: 1 ghi âm")).to_be_visible(timeout=15_000)
    assert phone.locator(".msg.me", has_text="🎤").count() == 1
