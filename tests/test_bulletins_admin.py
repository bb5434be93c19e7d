"""The admin side of bulletins over real HTTP: write one with a recording and a picture, preview, see the
reach, send, watch it arrive on the fake Telegram; bad recordings, hostile titles, scoping, pausing and
cancelling; marking prestigious persons and inviting them with a one-time code."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.accounts.models import Role
from bot.audio import ffmpeg
from bot.bulletins import service as bulletins
from bot.bulletins.models import BulletinStatus
from bot.db import Database
from bot.people import service as people
from bot.people.models import PersonRole
from tests import factories
from tests.drivers import TelegramDriver
from tests.factories import wait_done
from tests.fakes.gtts_api import FakeGoogleTTS
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.test_admin import csrf, login, make_admin
from tests.test_bulletins import MUONG_TE, PHONG_THO, bulletin_settings, google, settings, telegram_person
from tests.test_translations import approve_content, signed_in

__all__ = ["google", "settings"]  # fixtures this module shares with test_bulletins
pytestmark = pytest.mark.skipif(not ffmpeg.available(), reason="needs ffmpeg (make system-deps)")


def create(
    client: httpx.Client, data: dict[str, str], files: dict[str, tuple[str, bytes, str]]
) -> httpx.Response:
    """Post the new-bulletin form with its CSRF token; no place ticked: the official chose "Toàn tỉnh"."""
    token = csrf(client.get("/admin/bulletins/new"))
    places = {"provinces", "communes", "villages", "everyone"} & set(data)
    chosen = {} if places else {"everyone": "yes"}
    return client.post("/admin/bulletins/new", data={"csrf_token": token, **chosen, **data}, files=files)


def send(client: httpx.Client, url: str, people: int | None = None, **choice: str) -> httpx.Response:
    """Send a draft as an official does: the first press asks "Gửi cho N người?", the second confirms."""
    asked = client.post(f"{url}/send", data={"csrf_token": csrf(client.get(url)), "when": "now", **choice})
    if asked.status_code != 200:
        return asked
    match = re.search(r"Gửi cho ([\d.]+) người\?", asked.text)
    assert match, "the official is asked to confirm how many people it goes to"
    if people is not None:
        assert match.group(1) == f"{people:,}".replace(",", ".")
    confirm = match.group(1).replace(".", "")
    data = {"csrf_token": csrf(asked), "when": "now", **choice, "confirm": confirm}
    return client.post(f"{url}/send", data=data)


def wait_audio(client: httpx.Client, url: str, timeout: float = 30) -> str:
    """The bulletin page once no version's audio is still being made."""
    deadline = time.monotonic() + timeout
    while True:
        page = client.get(url).text
        if "Đang tạo âm thanh" not in page:
            return page
        assert time.monotonic() < deadline, "audio was never made"
        time.sleep(0.2)


def test_an_admin_writes_previews_and_sends_a_bulletin_with_a_recording_and_a_picture(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, tmp_path: Path, live: LiveServer
) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    hmong = telegram_person(db, language="hmn")
    kinh = telegram_person(db, language="vi")
    made = create(
        client,
        {
            "title": "Tiêm vắc xin",
            "text_vi": "Thứ Hai tiêm vắc xin tại trạm y tế.",
            "text_hmn": "Hnub Ib txhaj tshuaj.",
            "communes": str(PHONG_THO),
        },
        {
            "audio_hmn": ("elder.wav", factories.tone(tmp_path / "elder.wav"), "audio/wav"),
            "images": ("poster.png", factories.PNG, "image/png"),
        },
    )
    assert made.status_code == 303
    url = made.headers["location"]
    page = wait_audio(client, url)
    assert page.count("<audio controls") == 2 and "Tải MP3 cho đài truyền thanh" in page
    assert "Sẽ đến 2 người" in page and "Ghi âm của cán bộ, " in page
    assert re.search(r"Giọng đọc máy của Google \(Tiếng Việt\), \d+ giây", page)
    assert "recording" not in page and "gtts:" not in page, "what made the audio is said in words, not codes"
    assert re.search(
        r"Nguồn tin để đài truyền thanh xã tự nhận bản tin \(RSS\): <a [^>]+>Xã Phong Thổ</a>", page
    )
    assert "Nếu gửi ngay bây giờ:" in page and "bà con:" in page
    assert "người có uy tín:" not in page, "no prestigious person in this audience: nobody waits for a lead"
    bulletin_id = int(url.rsplit("/", 1)[1])
    # The H'Mông typed on the form is tinh's draft: a second person approves it in the workbench.
    make_admin(db, "duyet", Role.editor)
    assert approve_content(signed_in(live, "duyet"), "hmn", "bulletin", bulletin_id).status_code == 303

    sent = send(client, url, people=2)
    assert sent.status_code == 303
    wait_done(db, bulletin_id)
    done = client.get(url).text
    assert "Tạm dừng</button>" not in done and "Hủy gửi</button>" not in done, "nothing left to steer"
    [hm_voice, hm_photo] = fake_telegram.sent(hmong)
    assert "Hnub Ib txhaj tshuaj." in hm_voice.params["caption"] and hm_photo.method == "sendPhoto"
    [vi_voice, _photo] = fake_telegram.sent(kinh)
    assert "trạm y tế" in vi_voice.params["caption"]
    assert hm_voice.files["voice"] != vi_voice.files["voice"], "each language has its own audio"
    fragment = client.get(f"{url}/progress").text
    assert "Đã gửi xong" in fragment and "hx-get" not in fragment, "polling stops when done"


def test_the_confirmation_says_when_the_quiet_hours_and_the_lead_let_the_bulletin_arrive(
    database_url: str, db: Database, fake_telegram: FakeBotAPI, tmp_path: Path, google: FakeGoogleTTS
) -> None:
    """'Gửi cho 2 người?' alone hides that villagers get a late-evening bulletin only next morning."""
    from bot.server import create_app

    settings = bulletin_settings(
        database_url,
        fake_telegram,
        tmp_path / "media",
        google,
        quiet_hours="21:00-06:00",
        relay_lead_minutes=60,
    )
    elder = telegram_person(db)
    telegram_person(db)
    with db.transaction() as session:
        found = people.get_by_urn(session, f"telegram:{elder}")
        assert found is not None
        found.role = PersonRole.prestigious
    server = LiveServer(create_app(settings)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=20) as client:
            make_admin(db, "tinh")
            login(client, "tinh")
            made = create(
                client, {"title": "Họp dân", "text_vi": "Tối mai họp dân.", "communes": str(PHONG_THO)}, {}
            )
            url = made.headers["location"]
            wait_audio(client, url)
            day = datetime.now(ZoneInfo(settings.timezone)).date() + timedelta(days=1)
            choice = {"csrf_token": csrf(client.get(url)), "when": "at", "at": f"{day:%Y-%m-%d}T20:30"}
            asked = " ".join(client.post(f"{url}/send", data=choice).text.split())
            later = day + timedelta(days=1)
            assert "Gửi cho 2 người?" in asked
            assert (
                f"Tin sẽ đến: người có uy tín: 20:30 {day:%d/%m} · "
                f"bà con: 06:00 {later:%d/%m} vì giờ yên tĩnh"
            ) in asked
            at_once = " ".join(
                client.post(f"{url}/send", data={**choice, "all_at_once": "true"}).text.split()
            )
            assert f"Tin sẽ đến: bà con: 20:30 {day:%d/%m}" in at_once and "người có uy tín:" not in at_once
    finally:
        server.stop()


def test_a_corrupt_recording_is_a_clear_error_and_nothing_is_sent(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    telegram_person(db)
    made = create(
        client,
        {"title": "Họp thôn", "text_vi": "Họp thôn tối nay.", "communes": str(PHONG_THO)},
        {"audio_vi": ("hop.mp3", b"ID3\x03\x00" + bytes(4000), "audio/mpeg")},
    )
    url = made.headers["location"]
    page = wait_audio(client, url)
    assert "Không dùng được tệp âm thanh" in page
    refused = send(client, url)
    assert refused.status_code == 409 and "Âm thanh chưa sẵn sàng hoặc bị lỗi" in refused.text
    time.sleep(0.5)
    assert fake_telegram.sent() == []


def test_hostile_titles_are_escaped_and_officers_stay_in_their_communes(
    client: httpx.Client, db: Database
) -> None:
    make_admin(db, "tinh")
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "tinh")
    province_wide = create(client, {"title": "<script>alert(1)</script>", "text_vi": "Nội dung."}, {})
    listing = client.get("/admin/bulletins").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing and "<script>alert(1)" not in listing
    url = province_wide.headers["location"]

    client.cookies.clear()
    login(client, "xa")
    outside = create(client, {"title": "Tin", "text_vi": "Nội dung.", "communes": str(MUONG_TE)}, {})
    assert outside.status_code == 400 and "chỉ gửi được bản tin cho các xã của mình" in outside.text
    refused = send(client, url)
    assert refused.status_code == 403
    mine = create(client, {"title": "Tin xã", "text_vi": "Nội dung.", "communes": str(PHONG_THO)}, {})
    assert mine.status_code == 303


def test_a_scheduled_bulletin_can_be_paused_resumed_and_cancelled(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    for _ in range(3):
        telegram_person(db)
    url = create(
        client, {"title": "Lịch cúp điện", "text_vi": "Cúp điện chủ nhật.", "communes": str(PHONG_THO)}, {}
    ).headers["location"]
    wait_audio(client, url)
    later = send(client, url, when="at", at="2099-01-01T08:00")
    assert later.status_code == 303 and "Đã hẹn giờ" in client.get(url).text
    factories.wait_built(db, int(url.rsplit("/", 1)[1]))  # the builder queues the three in the background
    for action, label in [("pause", "Tạm dừng"), ("resume", "Đang gửi"), ("cancel", "Đã hủy")]:
        done = client.post(f"{url}/{action}", data={"csrf_token": csrf(client.get(url))})
        assert done.status_code == 303 and label in client.get(url + "/progress").text
    bulletin_id = int(url.rsplit("/", 1)[1])
    with db.transaction() as session:
        assert bulletins.progress(session, bulletin_id).cancelled == 3
        bulletin = bulletins.get(session, bulletin_id=bulletin_id)
        assert bulletin is not None and bulletin.status == BulletinStatus.cancelled
    again = client.post(f"{url}/cancel", data={"csrf_token": csrf(client.get(url))})
    assert again.status_code == 409


def progress_section(client: httpx.Client, url: str) -> tuple[str, str]:
    """The progress section as the page first shows it, and as htmx refreshes it while the page stays open."""
    page = client.get(url).text
    return page.split('id="progress"', 1)[1].split("</section>", 1)[0], client.get(f"{url}/progress").text


def test_the_progress_section_shows_the_end_and_offers_steering_only_while_sending(
    client: httpx.Client, db: Database
) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    for _ in range(3):
        telegram_person(db)
    url = create(
        client, {"title": "Lịch cúp điện", "text_vi": "Cúp điện chủ nhật.", "communes": str(PHONG_THO)}, {}
    ).headers["location"]
    wait_audio(client, url)
    assert send(client, url, when="at", at="2099-01-01T08:00").status_code == 303
    for section in progress_section(client, url):
        assert "Dự kiến gửi xong lúc 08:00 01/01" in section
        assert "Tạm dừng</button>" in section and "Hủy gửi</button>" in section
    client.post(f"{url}/pause", data={"csrf_token": csrf(client.get(url))})
    for section in progress_section(client, url):
        assert "Gửi tiếp</button>" in section
        assert "Tạm dừng</button>" not in section and "Dự kiến gửi xong" not in section

    now = create(client, {"title": "Họp thôn", "text_vi": "Họp tối nay.", "communes": str(PHONG_THO)}, {})
    url = now.headers["location"]
    wait_audio(client, url)
    assert send(client, url).status_code == 303
    wait_done(db, int(url.rsplit("/", 1)[1]))
    for section in progress_section(client, url):
        assert "Đã gửi xong" in section and "Dự kiến gửi xong" not in section
        assert "Tạm dừng</button>" not in section and "Hủy gửi</button>" not in section, "nothing to steer"


def test_an_official_marks_or_invites_prestigious_persons(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "xa")
    marked_chat, invited_chat = telegram_person(db), telegram_person(db)
    with db.transaction() as session:
        marked = people.get_by_urn(session, f"telegram:{marked_chat}")
        assert marked is not None
        marked_id = marked.id
    page = client.get(f"/admin/people/{marked_id}")
    assert (
        client.post(
            f"/admin/people/{marked_id}/role", data={"csrf_token": csrf(page), "role": "prestigious"}
        ).status_code
        == 303
    )
    listing = client.get("/admin/prestigious")
    made = client.post(
        "/admin/prestigious/invites", data={"csrf_token": csrf(listing), "commune": str(PHONG_THO)}
    )
    shown = client.get(made.headers["location"]).text
    code = re.search(r"Mã mời mới: (UT-[A-Z0-9]{5}-[A-Z0-9]{5})", shown)
    assert code is not None

    person = TelegramDriver(client, fake_telegram, db, invited_chat)
    person.tap("settings")
    person.tap("invite")
    wrong = person.send("UT-AAAAAA")
    assert "Mã không đúng" in wrong[0].text
    right = person.send(code.group(1).lower().replace("-", " "))
    assert "người có uy tín" in right[0].text
    reused = TelegramDriver(client, fake_telegram, db, marked_chat)
    reused.tap("settings")
    reused.tap("invite")
    assert "Mã không đúng" in reused.send(code.group(1))[0].text, "a code works once"
    with db.transaction() as session:
        roles = {people.get_by_urn(session, f"telegram:{c}").role for c in (marked_chat, invited_chat)}  # type: ignore[union-attr]
    assert roles == {PersonRole.prestigious}
    assert client.get("/admin/prestigious").text.count("/admin/people/") == 2


def test_a_bulletin_for_one_village_reaches_only_that_village(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    from bot.areas import villages as village_service

    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "xa")
    with db.transaction() as session:
        upper = village_service.create(session, commune_code=PHONG_THO, name="Bản Trên").id
        village_service.create(session, commune_code=PHONG_THO, name="Bản Dưới")
    inside, outside = telegram_person(db), telegram_person(db)
    with db.transaction() as session:
        person = people.get_by_urn(session, f"telegram:{inside}")
        assert person is not None
        person.village_id = upper
    form = client.get("/admin/bulletins/new").text
    assert "Bản Trên" in form and "Bản Dưới" in form
    made = create(client, {"title": "Sửa đường bản", "text_vi": "Mai sửa đường.", "villages": str(upper)}, {})
    url = made.headers["location"]
    page = wait_audio(client, url)
    assert "Sẽ đến 1 người" in page and "Bản Trên (Xã Phong Thổ)" in page
    send(client, url, people=1)
    wait_done(db, int(url.rsplit("/", 1)[1]))
    assert len(fake_telegram.sent(inside)) == 1 and fake_telegram.sent(outside) == []


def test_an_audience_with_prestigious_persons_gets_the_lead_unless_sent_to_all_at_once(
    client: httpx.Client, db: Database
) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    elder = telegram_person(db)
    telegram_person(db)
    with db.transaction() as session:
        found = people.get_by_urn(session, f"telegram:{elder}")
        assert found is not None
        found.role = PersonRole.prestigious
    made = create(client, {"title": "Họp dân", "text_vi": "Tối mai họp dân.", "communes": str(PHONG_THO)}, {})
    url = made.headers["location"]
    page = wait_audio(client, url)
    assert "người có uy tín:" in page and "gửi ngay cho tất cả:" in page
    asked = client.post(f"{url}/send", data={"csrf_token": csrf(client.get(url)), "when": "now"})
    assert "Gửi cho 2 người?" in asked.text, "nothing is sent before the official confirms"
    with db.transaction() as session:
        draft = bulletins.get(session, bulletin_id=int(url.rsplit("/", 1)[1]))
        assert draft is not None and draft.status == BulletinStatus.draft
    assert send(client, url, people=2, all_at_once="true").status_code == 303
    with db.transaction() as session:
        sent = bulletins.get(session, bulletin_id=int(url.rsplit("/", 1)[1]))
        assert sent is not None and sent.lead_minutes == 0


def test_the_audience_is_chosen_by_names_and_everyone_only_on_purpose(
    client: httpx.Client, db: Database
) -> None:
    make_admin(db, "tinh")
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "tinh")
    form = client.get("/admin/bulletins/new").text
    assert "Toàn tỉnh" in form and "Lai Châu" in form and "Mã xã" not in form
    picks = client.get("/admin/communes", params={"commune_q": "phong tho"}).text
    assert f'value="{PHONG_THO}"' in picks and "Xã Phong Thổ" in picks
    nowhere = create(client, {"title": "Tin", "text_vi": "Nội dung.", "everyone": "no"}, {})
    assert nowhere.status_code == 400 and "Hãy chọn nơi nhận" in nowhere.text
    assert 'value="Tin"' in nowhere.text, "what the official typed is kept"
    client.cookies.clear()
    login(client, "xa")
    own = client.get("/admin/bulletins/new").text
    assert f'name="communes" value="{PHONG_THO}" checked' in own and "Xã Phong Thổ" in own
