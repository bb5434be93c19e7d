"""Privacy that does what it says, over Telegram, Zalo and the web chat: erasing deletes what is the
person's (files on disk too) and keeps, linked to nobody, what officials must count; 'my data' shows all of
it and hands it over as JSON behind a private, expiring link; consent is kept with its time and the version
of the notice, and asked again when the notice changes. Consent before storage and replays after erasure
are in tests/security/test_consent_storage.py, logs in tests/security/test_log_redaction.py."""

from __future__ import annotations

import itertools
import json
import os
import re
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from bot.accounts.models import Role
from bot.bulletins import service as bulletins
from bot.bulletins.models import Delivery, DeliveryStatus
from bot.config import Settings
from bot.db import Base, Database, utcnow
from bot.feedback.models import Attachment as TicketFile
from bot.feedback.models import Ticket, TicketEvent
from bot.jobs import service as jobs
from bot.jobs.models import Job, JobStatus
from bot.media import service as media
from bot.media import store
from bot.media.models import Media
from bot.messages.models import Message
from bot.people import service as people
from bot.people.models import Identity, Person
from bot.people.windows import reply_windows
from bot.privacy import copies, notice
from bot.privacy.models import Export
from tests import factories
from tests.conftest import webhook_settings
from tests.drivers import (
    Driver,
    Seen,
    TelegramDriver,
    WebDriver,
    on_channel,
    onboard,
    wait_for_text,
)
from tests.factories import PNG
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo
from tests.test_admin import csrf, login, make_admin
from tests.test_feedback import send_named

PHONG_THO, LAI_CHAU = 3549, 12
PHONE = "0912 345 678"
REFLECTION = f"Cầu treo bản Nậm Xe gãy một nhịp. Gọi cho tôi: {PHONE}"
QUESTION = "Con trâu nhà tôi bị lạc ở rừng Pa Pe thì báo ai?"
BULLETIN_TEXT = "Thứ Hai tuần sau xã tiêm phòng lở mồm long móng cho trâu bò."
_chat_ids = itertools.count(9_300_001)
NOTICE_DAY = date.fromisoformat(notice.NOTICE_DATE).strftime("%d/%m/%Y")  # as a Vietnamese reader sees it


@pytest.fixture
def settings(database_url: str, fake_telegram: FakeBotAPI, fake_zalo: FakeZalo, tmp_path: Path) -> Settings:
    """A webhook deployment with files under the test's folder, bulletins at any hour, lexical Q&A."""
    return webhook_settings(
        database_url,
        fake_telegram,
        fake_zalo,
        media_dir=tmp_path / "media",
        quiet_hours="",
        qa_semantic=False,
    )


@pytest.fixture(params=["telegram", "zalo", "web"])
def person(
    request: pytest.FixtureRequest,
    client: httpx.Client,
    fake_telegram: FakeBotAPI,
    fake_zalo: FakeZalo,
    db: Database,
) -> Driver:
    """A new person on each channel."""
    return on_channel(request.param, client, fake_telegram, db, next(_chat_ids), fake_zalo)


def stored(db: Database, urn: str) -> Person | None:
    """The person as the database has them now."""
    with db.transaction() as session:
        return people.get_by_urn(session, urn)


def send_bulletin(db: Database, settings: Settings) -> int:
    """A bulletin with a picture for Phong Thổ, sent now to its one person; its id once the sender has
    finished it."""
    png = media.upload(db, store.of(settings), PNG, kind="image", mime="image/png")
    with db.transaction() as session:
        picture = media.record(session, store.of(settings), png)
        bulletin = bulletins.create(
            session,
            title="Tiêm phòng cho trâu bò",
            versions=[("vi", BULLETIN_TEXT, None)],
            audience=bulletins.Audience(communes=(PHONG_THO,)),
            image_ids=[picture.id],
        )
        bulletins.send(session, bulletin, lead=timedelta(0), windows=reply_windows(settings))
        bulletin_id = bulletin.id
    assert factories.wait_done(db, bulletin_id).sent == 1
    return bulletin_id


def file_reflection(person: Driver, *files: tuple[bytes, str, str]) -> None:
    """'Góp ý – Phản ánh' with a text, files (data, kind, mime) and a location, sent with the name."""
    road = person.tap("fb")[-1].payload("Đường sá")
    person.tap(road)
    person.send(REFLECTION)
    for data, kind, mime in files:
        person.send_file(data, kind, mime)
    person.send_location(22.6301, 103.3504)
    person.tap("fb_done")
    done = send_named(person)
    assert "Mã phản ánh: PA-" in done[0].text


def every_row(db: Database) -> dict[str, list[str]]:
    """Every row of every table, as text, to look for anything left of a person."""
    with db.transaction() as session:
        return {
            table.name: [repr(tuple(row)) for row in session.execute(select(table))]
            for table in Base.metadata.sorted_tables
        }


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for something that follows a reply (the outbox records sends in batches)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def _addressed(db: Database, urn: str) -> int:
    """Messages that still name a chat address."""
    with db.transaction() as session:
        return session.scalar(select(func.count()).where(Message.urn == urn)) or 0


def files_under(root: Path) -> set[Path]:
    """The files kept under the media folder."""
    return {p for p in root.rglob("*") if p.is_file()}


def linked_official(client: httpx.Client, fake: FakeBotAPI, db: Database) -> TelegramDriver:
    """The commune officer 'xa', signed in, whose own Telegram chat is told of each new reflection."""
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "xa")
    made = client.post("/admin/feedback/link", data={"csrf_token": csrf(client.get("/admin/feedback"))})
    code = client.get(made.headers["location"]).text.split("Gửi «/link ", 1)[1].split("»", 1)[0]
    official = TelegramDriver(client, fake, db, next(_chat_ids))
    assert "Đã liên kết" in official.send(f"/link {code}")[0].text
    return official


def test_erasing_deletes_what_is_mine_and_keeps_what_officials_count(
    person: Driver, client: httpx.Client, db: Database, settings: Settings, fake_telegram: FakeBotAPI
) -> None:
    onboard(person)
    official = linked_official(client, fake_telegram, db)
    bulletin_id = send_bulletin(db, settings)
    person.send("xin chào")
    offered = person.send(QUESTION)
    assert any(p == "qa_send" for _l, p in offered[-1].buttons)
    person.tap("qa_send")
    voice, own_photo = b"OggS" + os.urandom(256), factories.photo()
    file_reflection(
        person,
        (voice, "voice", "audio/ogg"),
        (own_photo, "photo", "image/jpeg"),
        (PNG, "photo", "image/png"),  # the very picture of the bulletin: one file, shared
    )
    root = Path(settings.media_dir)
    with db.transaction() as session:
        found = people.get_by_urn(session, person.urn)
        assert found is not None
        person_id, name = found.id, found.display_name
        ticket = session.scalars(select(Ticket).where(Ticket.person_id == person_id)).one()
        ticket_id, code = ticket.id, ticket.code
        kept_facts = (ticket.category_id, ticket.commune_code, ticket.created_at, ticket.due_on)
        own_files = {root / a.media.path for a in ticket.attachments if a.media.key != media.digest(PNG)}
        shared = session.scalars(select(Media).where(Media.key == media.digest(PNG))).one()
        shared_path, sent_at = root / shared.path, session.scalars(select(Delivery.sent_at)).one()
    assert len(own_files) == 2 and all(p.exists() for p in own_files)
    assert REFLECTION in wait_for_text(official, code).text, "officials are told, the text quoted"
    page = client.get(f"/admin/feedback/{ticket_id}")
    client.post(
        f"/admin/feedback/{ticket_id}/status", data={"csrf_token": csrf(page), "status": "in_progress"}
    )
    client.post(f"/admin/feedback/{ticket_id}/note", data={"csrf_token": csrf(page), "text": f"Gọi {PHONE}"})
    client.post(f"/admin/feedback/{ticket_id}/reply", data={"csrf_token": csrf(page), "text": "Sẽ sửa cầu."})
    wait_for_text(person, "Sẽ sửa cầu.")
    person.tap("settings")
    person.tap("my_data")
    wait_for_text(person, READY)
    with db.transaction() as session:
        export_file = root / session.scalars(select(Export.path)).one()
    assert export_file.exists()

    person.tap("settings")
    asked = person.tap("erase")
    assert "Sẽ xóa: tên, ngôn ngữ, nơi ở, địa chỉ trò chuyện, tin nhắn, câu hỏi" in asked[-1].text
    assert "Nghị định 13/2023/NĐ-CP cho bạn quyền yêu cầu xóa" in asked[-1].text
    assert "theo quy định" not in asked[-1].text, "the decree does not require the statistics kept"
    assert "không thể hoàn tác" in asked[-1].text and "chờ trả lời" not in asked[-1].text, "it was answered"
    done = person.tap("erase_yes")
    said = done[0].text
    assert said.startswith(
        "Đã xóa: tên, ngôn ngữ, nơi ở, địa chỉ trò chuyện, tin nhắn, câu hỏi, nội dung phản ánh, ghi âm, ảnh"
    )
    assert (
        "Loa Bản giữ lại, không gắn với bạn: loại phản ánh, xã, trạng thái và ngày gửi của 1 phản ánh" in said
    )
    assert "cán bộ thống kê công việc" in said and "Nghị định" not in said
    assert "Các bản tin đã gửi đến bạn vẫn được đếm, không kèm tên bạn" in said
    assert said.endswith("Muốn dùng lại, bạn chỉ cần nhắn một tin bất kỳ.") and "/start" not in said

    # Table by table: nothing of the person is left but the counted rows (the farewell goes once sent).
    eventually(lambda: _addressed(db, person.urn) == 0)
    address = person.urn.split(":", 1)[1]
    left = every_row(db)
    for table, rows in left.items():
        for row in rows:
            for trace in (
                address,
                REFLECTION,
                PHONE,
                QUESTION,
                "Sẽ sửa cầu.",
                "xin chào",
                *([name] if name else []),
            ):
                assert trace not in row, f"{trace!r} left in {table}: {row}"
    assert left["qa_questions"] == [] and left["ticket_attachments"] == [] and left["data_exports"] == []
    with db.transaction() as session:
        assert session.get(Person, person_id) is None
        assert session.scalars(select(Identity.urn)).all() == [official.urn]
        remains = session.scalars(select(Message).where(Message.urn != official.urn)).all()
        assert remains and all(m.text == "" and m.payload == {} and m.person_id is None for m in remains)
        assert all(m.external_id and m.external_id.startswith("#") for m in remains), "a digest, not the id"
        notices = session.scalars(select(Message.text).where(Message.urn == official.urn)).all()
        assert "" in notices, "the officials' notice quoting the reflection is blanked"
        erased = session.get(Ticket, ticket_id)
        assert erased is not None and erased.erased_at is not None and erased.code == code
        assert (erased.person_id, erased.urn, erased.text, erased.latitude, erased.longitude) == (
            None,
            "",
            "",
            None,
            None,
        )
        assert (erased.category_id, erased.commune_code, erased.created_at, erased.due_on) == kept_facts
        events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)).all()
        assert {e.kind for e in events} >= {"note", "reply", "status"}
        assert all(e.text == "" for e in events if e.kind in ("note", "reply"))
        assert [e.text for e in events if e.kind == "status"] == ["in_progress"], "how it moved is kept"
        delivery = session.scalars(select(Delivery)).one()
        assert (delivery.person_id, delivery.urn, delivery.status) == (None, "", DeliveryStatus.sent)
        assert delivery.sent_at == sent_at
        progress = bulletins.progress(session, bulletin_id)
        assert (progress.sent, progress.total) == (1, 1), "'Đã gửi xong 1 / 1' stays true"
        assert session.scalar(select(func.count()).select_from(TicketFile)) == 0
        assert session.get(Media, shared.id) is not None, "the bulletin's picture is the bulletin's"
    assert not any(p.exists() for p in own_files), "the person's files are gone from the media folder"
    assert shared_path.exists() and not export_file.exists()
    assert files_under(root) == {shared_path}

    # The officials' side: the ticket says so, and cannot be answered.
    page = client.get(f"/admin/feedback/{ticket_id}")
    assert "Người gửi đã xóa dữ liệu" in page.text and "Gửi trả lời" not in page.text
    assert REFLECTION not in page.text and PHONE not in page.text
    refused = client.post(
        f"/admin/feedback/{ticket_id}/reply", data={"csrf_token": csrf(page), "text": "Còn ai không?"}
    )
    assert refused.status_code == 400 and "không còn ai để nhận câu trả lời" in refused.text
    bulletin_page = client.get(f"/admin/bulletins/{bulletin_id}").text
    assert "Đã gửi xong" in bulletin_page


def test_an_erased_senders_overdue_ticket_is_closed_and_no_longer_counted(
    client: httpx.Client, db: Database
) -> None:
    person = WebDriver(client)
    onboard(person)
    file_reflection(person)
    with db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        ticket.due_on = ticket.created_at.date() - timedelta(days=3)  # nobody answered in time
        ticket_id, code = ticket.id, ticket.code
    make_admin(db, "tinh")
    login(client, "tinh")
    assert "1 phản ánh quá hạn" in client.get("/admin").text
    assert code in client.get("/admin/feedback", params={"overdue": "true"}).text

    person.tap("settings")
    person.tap("erase")
    person.tap("erase_yes")
    assert "phản ánh quá hạn" not in client.get("/admin").text, "nobody is left to answer: not overdue"
    assert code not in client.get("/admin/feedback", params={"overdue": "true"}).text
    page = client.get(f"/admin/feedback/{ticket_id}").text
    assert "Người gửi đã xóa dữ liệu" in page and "Đã xóa dữ liệu, phản ánh tự đóng" in page
    assert "Đã đóng" in page and "Gửi trả lời" not in page


READY = "Toàn bộ dữ liệu của bạn, trong một tệp JSON"


def my_data_file(person: Driver, client: httpx.Client, fake_telegram: FakeBotAPI) -> tuple[Seen, Any]:
    """Tap '📄 Dữ liệu của tôi' in settings: the summary, and the JSON file as the person receives it,
    once it is made (a job writes it, then sends it)."""
    person.tap("settings")
    if isinstance(person, WebDriver):
        answer = client.post("/chat/api/messages", json={"session": person.session, "button": "my_data"})
        [summary] = answer.json()["replies"]
        assert "tin nhắn riêng khi đã làm xong" in summary["text"] and summary["file_url"] is None
        wait_for_text(person, READY)
        polled = client.get("/chat/api/messages", params={"session": person.session}).json()["replies"]
        [document] = [r for r in polled if r["file_url"]]
        assert document["file_name"] == "loaban-du-lieu-cua-toi.json"
        assert client.get(document["file_url"]).status_code == 404, "not without the session that asked"
        other = uuid.uuid4().hex
        assert client.get(document["file_url"], params={"session": other}).status_code == 404
        got = client.get(document["file_url"], params={"session": person.session})
        assert got.status_code == 200 and got.headers["cache-control"] == "private, no-store"
        return Seen(summary["text"], []), got.json()
    replies = person.tap("my_data")
    assert "tin nhắn riêng khi đã làm xong" in replies[0].text, "told it comes on its own"
    ready = wait_for_text(person, READY)
    if isinstance(person, TelegramDriver):
        [sent] = fake_telegram.sent(person.chat_id, "sendDocument")
        assert sent.files["document"].filename == "loaban-du-lieu-cua-toi.json"  # type: ignore[attr-defined]
        assert "tệp JSON" in sent.params["caption"]
        return replies[0], json.loads(sent.files["document"])
    link = ready.text.split("📄 https://loaban.example.org", 1)[1].split()[0]
    assert link.startswith("/privacy/export/") and len(link) > len("/privacy/export/") + 40
    got = client.get(link)
    assert got.status_code == 200
    return replies[0], got.json()


def test_my_data_is_summed_up_and_handed_over_whole(
    person: Driver, client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, settings: Settings
) -> None:
    onboard(person)
    file_reflection(person)
    summary, data = my_data_file(person, client, fake_telegram)
    with db.transaction() as session:
        found = people.get_by_urn(session, person.urn)
        assert found is not None
        code = session.scalars(select(Ticket.code)).one()
        name = found.display_name
    text = summary.text
    assert text.startswith("Loa Bản đang giữ về bạn:")
    assert f"Tên: {name or 'không có'}" in text and "Ngôn ngữ: Tiếng Việt" in text
    assert "Nơi ở: Xã Phong Thổ, Lai Châu" in text and "Vai trò: người dân" in text
    assert f"(thông báo bản ngày {NOTICE_DAY})" in text and "Đồng ý lưu dữ liệu lúc" in text
    assert notice.PRIVACY_VERSION not in text, "a date, not the raw version"
    assert f"Phản ánh: 1 ({code})" in text and "Câu hỏi gửi cán bộ: 0" in text
    assert data["person"]["name"] == name and data["person"]["commune"] == "Xã Phong Thổ"
    assert data["person"]["consent_version"] == notice.PRIVACY_VERSION and data["person"]["consented_at"]
    assert [a["address"] for a in data["chat_addresses"]] == [person.urn]
    assert any(m["text"] == REFLECTION and m["direction"] == "from_you" for m in data["messages"])
    [reflection] = data["reflections"]
    assert (reflection["code"], reflection["text"], reflection["location"]) == (
        code,
        REFLECTION,
        [22.6301, 103.3504],
    )
    assert data["privacy_notice_in_force"] == notice.PRIVACY_VERSION

    with db.transaction() as session:  # the link works for its hours only, then the file is gone
        export = session.scalars(select(Export)).one()
        token, path = export.token, Path(settings.media_dir) / export.path
        session.execute(update(Export).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert path.exists()
    expired = client.get(f"/privacy/export/{token}", params={"session": getattr(person, "session", "")})
    assert expired.status_code == 404 and "hết hạn" in expired.text
    assert not path.exists()
    assert client.get("/privacy/export/" + "x" * 43).status_code == 404


def test_a_person_who_said_no_is_told_the_same_true_thing_everywhere(person: Driver, db: Database) -> None:
    person.send("/start")
    person.tap("lang:vi")
    person.send("lai chau")
    if any(p == "vil:0" for _l, p in person.send("phong tho")[-1].buttons):
        person.tap("vil:0")
    said = person.tap("consent:no")[0].text
    assert "tin nhắn bạn gửi không được giữ lại" not in said, "the rows are kept, only their text goes"
    assert "Nội dung tin nhắn không được giữ lại" in said and "chỉ ghi là đã có một tin nhắn" in said
    assert "⚙️ Cài đặt → «✅ Đồng ý lưu dữ liệu»" in said
    assert ("✅ Đồng ý lưu dữ liệu", "consent_ask") in person.tap("settings")[-1].buttons, "named as told"

    road = person.tap("fb")[-1].payload("Đường sá")
    person.tap(road)
    person.send(REFLECTION)
    asked = person.tap("fb_done")[-1]
    assert "hay ẩn danh?" not in asked.text, "no choice is offered where there is none"
    assert "sẽ được gửi ẩn danh" in asked.text and "chưa đồng ý cho Loa Bản lưu dữ liệu" in asked.text
    assert asked.buttons == [("🙈 Gửi ẩn danh", "fb_send:anon")]
    assert "Mã phản ánh: PA-" in person.tap("fb_send:anon")[0].text

    person.tap("settings")
    summary = person.tap("my_data")[0].text
    counted = re.search(
        r"Tin nhắn: (\d+) bạn gửi, (\d+) Loa Bản gửi; nội dung của (\d+) tin không được giữ", summary
    )
    assert counted is not None, summary
    received, sent, unkept = map(int, counted.groups())
    assert 0 < unkept <= received + sent, "the rows are counted, their content said to be gone"
    assert "chỉ ghi là đã có tin nhắn, để đếm" in summary
    assert "Không đồng ý lưu dữ liệu lúc" in summary and f"(thông báo bản ngày {NOTICE_DAY})" in summary
    assert notice.PRIVACY_VERSION not in summary


def test_erasing_says_which_reflections_close_unanswered(person: Driver, db: Database) -> None:
    onboard(person)
    file_reflection(person)
    with db.transaction() as session:
        code = session.scalars(select(Ticket.code)).one()
    person.tap("settings")
    asked = person.tap("erase")[-1].text
    assert f"1 phản ánh đang chờ trả lời ({code}) sẽ được đóng lại và không có câu trả lời" in asked
    said = person.tap("erase_yes")[0].text
    assert f"Đã đóng 1 phản ánh chưa được trả lời ({code})." in said
    with db.transaction() as session:
        assert session.scalars(select(Ticket.status)).one() == "closed"


def test_the_notice_is_asked_again_when_it_changes(person: Driver, db: Database) -> None:
    onboard(person)
    before = stored(db, person.urn)
    assert before is not None and before.consented_at is not None
    assert before.consent_version == notice.PRIVACY_VERSION and notice.PRIVACY_VERSION.startswith(
        notice.NOTICE_DATE
    )
    assert notice.version(notice.NOTICE + " ", notice.NOTICE_DATE) != notice.PRIVACY_VERSION
    with db.transaction() as session:  # as if they had agreed to an earlier text
        session.execute(update(Person).values(consent_version="2026-01-01.0badc0de"))
    asked = person.send("xin chào")
    assert asked[-1].text.startswith("Loa Bản đã thay đổi thông báo về việc lưu dữ liệu của bạn.")
    assert [p for _l, p in asked[-1].buttons] == ["consent:yes", "consent:no"]
    assert "ngừng nhận tin hoặc xóa dữ liệu" in asked[-1].text and "/stop" not in asked[-1].text
    again = person.tap("fb")
    assert "đã thay đổi thông báo" in again[-1].text, "nothing else before the answer"
    agreed = person.tap("consent:yes")
    assert agreed[0].text == "Cảm ơn bạn đã đồng ý." and ("⚙️ Cài đặt", "settings") in agreed[-1].buttons
    after = stored(db, person.urn)
    assert after is not None and after.consent_version == notice.PRIVACY_VERSION
    assert after.consented_at is not None and after.consented_at > before.consented_at


class FailsOnce(store.FolderStore):
    """The deployment's media folder, whose first write is refused (the disk was full for a moment)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.refused = 0

    def put(self, key: str, data: bytes) -> None:
        """Refuse the first write, then write."""
        if not self.refused:
            self.refused += 1
            raise OSError(28, "No space left on device")
        super().put(key, data)


def test_a_copy_the_store_refused_is_made_again_and_its_link_sent_only_then(
    client: httpx.Client, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy's file cannot be written at first: the person is told it is being made, never "ready"
    nor a link, until the job, retried, has written it; then the link they get opens."""
    files = FailsOnce(settings.media_dir)
    monkeypatch.setattr(store, "of", lambda _settings: files)
    person = WebDriver(client)
    onboard(person)
    person.tap("settings")
    making = person.tap("my_data")[-1].text
    assert "tin nhắn riêng khi đã làm xong" in making and READY not in making
    deadline = time.monotonic() + 10
    while not (failed := _copy_job(db)) or not failed.error:
        assert time.monotonic() < deadline, "the copy's job never ran"
        time.sleep(0.05)
    assert failed.status == JobStatus.pending and "No space left" in failed.error, "to be retried"
    polled = client.get("/chat/api/messages", params={"session": person.session}).json()["replies"]
    assert not any(r["file_url"] or READY in r["text"] for r in polled), "no link to a file that is not there"
    wait_for_text(person, READY, timeout=40)
    polled = client.get("/chat/api/messages", params={"session": person.session}).json()["replies"]
    [document] = [r for r in polled if r["file_url"]]
    got = client.get(document["file_url"], params={"session": person.session})
    assert got.status_code == 200 and got.json()["chat_addresses"][0]["address"] == person.urn
    assert files.refused == 1


def _copy_job(db: Database) -> Job | None:
    """The job making a person's copy, as the database has it now."""
    with db.transaction() as session:
        found = session.scalars(select(Job).where(Job.kind == copies.COPY_JOB)).one_or_none()
        if found is not None:
            session.expunge(found)
        return found


class Refuses(store.FolderStore):
    """The deployment's media folder, refusing every write (the disk stays full)."""

    def put(self, key: str, data: bytes) -> None:
        """Refuse."""
        raise OSError(28, "No space left on device")


def test_a_copy_that_cannot_be_made_is_said_so_plainly(
    client: httpx.Client, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the store refuses until the job's last attempt, the copy is forgotten and the person told in
    plain words that it could not be made and how to ask again; nothing ever said it was ready."""
    monkeypatch.setattr(store, "of", lambda _settings: Refuses(settings.media_dir))
    person = WebDriver(client)
    onboard(person)
    person.tap("settings")
    person.tap("my_data")
    deadline = time.monotonic() + 10
    while not (failed := _copy_job(db)) or not failed.error:
        assert time.monotonic() < deadline, "the copy's job never ran"
        time.sleep(0.05)
    with db.transaction() as session:  # the retries' waits pass: the next attempt is the last
        last = settings.jobs_max_attempts - 1
        session.execute(update(Job).where(Job.id == failed.id).values(attempts=last, due_at=utcnow()))
    jobs.wake()
    told = wait_for_text(person, "chưa làm được tệp dữ liệu", timeout=30)
    assert "«📄 Dữ liệu của tôi»" in told.text and "yêu cầu lại" in told.text
    polled = client.get("/chat/api/messages", params={"session": person.session}).json()["replies"]
    assert not any(r["file_url"] or READY in r["text"] for r in polled), "never told it was ready"
    with db.transaction() as session:
        assert session.scalars(select(Export)).all() == [], "no copy is kept that was never made"
    told_job = _copy_job(db)
    assert told_job is not None and told_job.status == JobStatus.done, "the person was told: nothing to retry"
