"""Polls and bulletins in the workbench (issue 18): a translator drafts a poll's or a bulletin's text, a
second person approves it, and only then do people of that language receive it in their language, over
Telegram and the web chat; before, they get the Vietnamese with a one-line note. A translation typed on
the poll's or the bulletin's own page is its writer's draft, and a bulletin, once sent, keeps the
translations it was sent with."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.accounts.models import AuditEntry, Role
from bot.bulletins import service as bulletins
from bot.db import Database
from tests import factories
from tests.drivers import Driver, Seen, onboard, wait_for_text
from tests.factories import add_person, wait_done
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.test_admin import csrf, login, make_admin
from tests.test_bulletins import LAI_CHAU, PHONG_THO, google, settings, telegram_person
from tests.test_bulletins import send as send_now
from tests.test_bulletins_admin import create, wait_audio
from tests.test_conversation import person  # noqa: F401  (a new person on each channel)
from tests.test_translations import add_admin, approve_content, signed_in

__all__ = ["google", "settings"]  # fixtures this module shares with test_bulletins

NOTE = "chưa được dịch sang tiếng của bạn"
POLL = {
    "title": "Nước sạch ở bản",
    "everyone": "yes",
    "intro_vi": "Xã muốn biết nhà bà con dùng nước thế nào.",
    "q0_kind": "single",
    "q0_text_vi": "Nhà bạn có nước sạch không?",
    "q0_choices_vi": "Có\nKhông",
    # Typed by the poll's writer on its form, for the first question only: half a translation.
    "q0_text_hmn": "[hmn] Koj tsev puas muaj dej huv?",
    "q0_choices_hmn": "[hmn] Muaj\n[hmn] Tsis muaj",
    "q1_kind": "number",
    "q1_text_vi": "Nhà bạn có mấy người?",
}
HMONG: dict[str, str | list[str]] = {
    "title": "[hmn] Dej huv hauv zos",
    "intro": "[hmn] Lub zos xav paub koj tsev siv dej li cas.",
    "poll_question": ["[hmn] Koj tsev puas muaj dej huv?", "[hmn] Koj tsev muaj pes tsawg tus neeg?"],
    "choice": ["[hmn] Muaj", "[hmn] Tsis muaj"],
}


def post(browser: httpx.Client, action: str, kind: str, key: int, **form: str | list[str]) -> httpx.Response:
    """Submit the content workbench's H'Mông form for a poll or a bulletin."""
    token = csrf(browser.get("/admin/password"))
    return browser.post(
        f"/admin/translations/hmn/content/{action}",
        data={"csrf_token": token, "kind": kind, "entry_id": str(key), **form},
    )


def _asked(replies: list[Seen]) -> Seen:
    """The reply asking the poll's first question."""
    return next(r for r in replies if "1/2" in r.text)


def _from_menu(driver: Driver) -> list[Seen]:
    """The person opens the menu and taps the poll's entry (a poll resumes where it was left)."""
    driver.send("menu")
    return driver.tap("polls")


def _said(replies: list[Seen]) -> str:
    """Everything a person read in some replies, buttons included."""
    return "\n".join([r.text for r in replies] + [label for r in replies for label, _ in r.buttons])


def _poll_officials(driver: Driver, live: LiveServer, db: Database) -> tuple[httpx.Client, httpx.Client]:
    """A province admin who writes polls and a H'Mông translator, signed in (Telegram and the web chat
    cover the paths; Zalo reads the same conversation)."""
    if driver.urn.startswith("zalo:"):
        pytest.skip("Telegram and the web chat cover the paths; Zalo reads the same conversation")
    make_admin(db, "tinh")
    add_admin(db, "dich-hmn", Role.translator, ("hmn",))
    return signed_in(live, "tinh"), signed_in(live, "dich-hmn")


def test_a_poll_is_asked_in_hmong_only_once_approved_whole_and_never_half(
    person: Driver,  # noqa: F811  (the fixture imported above)
    live: LiveServer,
    db: Database,
) -> None:
    writer, translator = _poll_officials(person, live, db)
    token = csrf(writer.get("/admin/polls/new"))
    created = writer.post("/admin/polls/new", data={"csrf_token": token, **POLL})
    assert created.status_code == 303, created.text
    poll_id = int(created.headers["location"].rsplit("/", 1)[1])
    assert writer.post(f"/admin/polls/{poll_id}/open", data={"csrf_token": token}).status_code == 303

    page = translator.get("/admin/translations/hmn/content", params={"kind": "poll"}).text
    assert "Nhà bạn có nước sạch không?" in page and "[hmn] Koj tsev puas muaj dej huv?" in page
    assert (
        'href="/admin/translations/hmn/content?kind=poll"' in translator.get("/admin/translations/hmn").text
    )
    own = post(writer, "approve", "poll", poll_id)
    assert own.status_code == 400 and "người thứ hai" in own.text, "typed on its page: the writer's draft"
    half = post(translator, "approve", "poll", poll_id)
    assert half.status_code == 400 and "Cần dịch đủ" in half.text, "never half a poll in H'Mông"

    onboard(person, "hmn")
    drafted = _from_menu(person)
    assert "Xã muốn biết" in _said(drafted) and NOTE in _said(drafted), "Vietnamese, and why"
    assert "Nhà bạn có nước sạch không?" in _asked(drafted).text and "[hmn" not in _said(drafted)

    short = post(translator, "save", "poll", poll_id, **HMONG | {"choice": ["[hmn] Muaj"]})
    assert short.status_code == 400 and "Cần dịch đủ" in short.text, "every choice the Vietnamese has"
    assert "[hmn] Koj tsev muaj pes tsawg tus neeg?" in short.text, "the refused text stays in the form"
    assert post(translator, "save", "poll", poll_id, **HMONG).status_code == 303
    again = _from_menu(person)
    assert "Nhà bạn có nước sạch không?" in _asked(again).text and "[hmn" not in _said(again), "a draft"
    mine = post(translator, "approve", "poll", poll_id)
    assert mine.status_code == 400 and "người thứ hai" in mine.text
    assert post(writer, "approve", "poll", poll_id).status_code == 303

    approved = _asked(_from_menu(person))
    assert "[hmn] Koj tsev puas muaj dej huv?" in approved.text and "nước sạch" not in approved.text
    assert [label for label, _ in approved.buttons][:2] == ["[hmn] Muaj", "[hmn] Tsis muaj"]
    second = person.tap(approved.payload("[hmn] Muaj"))
    assert "[hmn] Koj tsev muaj pes tsawg tus neeg?" in _said(second), "the whole poll in one language"
    assert "mấy người" not in _said(second)
    person.send("5")

    with db.transaction() as session:
        actions = [
            (a.username, a.action, a.target)
            for a in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.like("content_translation_%"))
                .order_by(AuditEntry.id)
            )
        ]
    assert actions == [
        ("dich-hmn", "content_translation_saved", f"poll:{poll_id}"),
        ("tinh", "content_translation_approved", f"poll:{poll_id}"),
    ]


def _opened(writer: httpx.Client, form: dict[str, str], *, open_now: bool = True) -> int:
    """A poll the writer creates on its form (and opens, unless it stays a draft); its id."""
    token = csrf(writer.get("/admin/polls/new"))
    created = writer.post("/admin/polls/new", data={"csrf_token": token, **form})
    assert created.status_code == 303, created.text
    poll_id = int(created.headers["location"].rsplit("/", 1)[1])
    if open_now:
        assert writer.post(f"/admin/polls/{poll_id}/open", data={"csrf_token": token}).status_code == 303
    return poll_id


def _titles(driver: Driver) -> list[str]:
    """The poll buttons a person is offered from the menu when several polls are open."""
    return [label for r in _from_menu(driver) for label, _ in r.buttons if label.startswith("📊")]


def test_a_polls_title_is_translated_with_the_poll_and_lapses_with_its_vietnamese(
    person: Driver,  # noqa: F811  (the fixture imported above)
    live: LiveServer,
    db: Database,
) -> None:
    writer, translator = _poll_officials(person, live, db)
    _opened(
        writer,
        {"title": "Đường vào bản", "everyone": "yes", "q0_kind": "text", "q0_text_vi": "Đường ra sao?"},
    )
    # Everything but the title typed in H'Mông on the poll's own form, while it is a draft.
    typed = POLL | {"intro_hmn": str(HMONG["intro"]), "q1_text_hmn": str(HMONG["poll_question"][1])}
    poll_id = _opened(writer, typed, open_now=False)
    untitled = post(translator, "approve", "poll", poll_id)
    assert untitled.status_code == 400 and "Cần dịch đủ" in untitled.text, (
        "no H'Mông poll under a Vietnamese title"
    )
    page = translator.get("/admin/translations/hmn/content", params={"kind": "poll", "q": str(poll_id)}).text
    assert 'name="title"' in page and "Nước sạch ở bản" in page
    assert post(translator, "save", "poll", poll_id, **HMONG).status_code == 303
    assert post(writer, "approve", "poll", poll_id).status_code == 303
    assert 'value="[hmn] Dej huv hauv zos"' in writer.get(f"/admin/polls/{poll_id}/edit").text

    token = csrf(writer.get(f"/admin/polls/{poll_id}/edit"))
    retitled = typed | {"title": "Nước sạch ở bản Pa So", "title_hmn": str(HMONG["title"])}
    edited = writer.post(f"/admin/polls/{poll_id}/edit", data={"csrf_token": token, **retitled})
    assert edited.status_code == 303, edited.text
    assert writer.post(f"/admin/polls/{poll_id}/open", data={"csrf_token": token}).status_code == 303
    assert "Nước sạch ở bản Pa So" in writer.get(f"/admin/polls/{poll_id}").text, "officials read Vietnamese"

    onboard(person, "hmn")
    assert _titles(person) == ["📊 Đường vào bản", "📊 Nước sạch ở bản Pa So"], (
        "checked against other Vietnamese"
    )
    assert post(writer, "approve", "poll", poll_id).status_code == 303
    assert _titles(person) == ["📊 Đường vào bản", "📊 [hmn] Dej huv hauv zos"], "approved again: H'Mông"

    asked = _asked(person.tap(f"poll:{poll_id}"))
    assert "[hmn] Koj tsev puas muaj dej huv?" in asked.text
    person.tap(asked.payload("[hmn] Muaj"))
    person.send("5")
    token = csrf(writer.get(f"/admin/polls/{poll_id}"))
    assert writer.post(f"/admin/polls/{poll_id}/close", data={"csrf_token": token}).status_code == 303
    assert writer.post(f"/admin/polls/{poll_id}/publish", data={"csrf_token": token}).status_code == 303
    results = wait_for_text(person, "«[hmn] Dej huv hauv zos»")
    assert "[hmn] Muaj: 100%" in results.text and "Pa So" not in results.text


BULLETIN_VI = "Thứ Hai tiêm vắc xin cho trẻ em tại trạm y tế xã, từ 7 giờ."
BULLETIN_HMN = "[hmn] Hnub Ib txhaj tshuaj rau menyuam ntawm tsev kho mob, thaum 7 teev."


def _bulletin(
    client: httpx.Client, title: str, files: dict[str, tuple[str, bytes, str]] | None = None, **texts: str
) -> tuple[int, str]:
    """A draft bulletin written on its page for Phong Thổ, once its audio is made: its id and page."""
    data = {"title": title, "communes": str(PHONG_THO), "text_vi": BULLETIN_VI, **texts}
    made = create(client, data, files or {})
    assert made.status_code == 303, made.text
    url = made.headers["location"]
    wait_audio(client, url)
    return int(url.rsplit("/", 1)[1]), url


def _caption(fake: FakeBotAPI, chat: int) -> str:
    """The text of the last bulletin a Telegram person received (a voice note's caption)."""
    last = fake.sent(chat)[-1]
    return str(last.params.get("caption") or last.params.get("text") or "")


def _web(client: httpx.Client, session: str) -> str:
    """The text of the last bulletin the web chat person received (a voice note's caption)."""
    replies = client.get("/chat/api/messages", params={"session": session}).json()["replies"]
    return str(replies[-1]["text"])


def test_a_bulletin_reaches_hmong_people_in_hmong_only_once_approved_and_stays_as_sent(
    client: httpx.Client, live: LiveServer, db: Database, fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    chat = telegram_person(db, language="hmn")
    kinh = telegram_person(db)
    web = client.post("/chat/api/sessions").json()["session"]
    add_person(db, f"web:{web}", commune=PHONG_THO, province=LAI_CHAU, language="hmn")
    make_admin(db, "tinh")
    add_admin(db, "dich-hmn", Role.translator, ("hmn",))
    login(client, "tinh")
    translator = signed_in(live, "dich-hmn")

    # Typed (and recorded) on the bulletin's page by its writer, who cannot approve it; sent before
    # anyone did: neither its text nor its recording reaches H'Mông people, nor their station's feed.
    recording = ("hmn.wav", factories.tone(tmp_path / "hmn.wav"), "audio/wav")
    typed, _url = _bulletin(client, "Tiêm vắc xin", {"audio_hmn": recording}, text_hmn=BULLETIN_HMN)
    own = post(client, "approve", "bulletin", typed)
    assert own.status_code == 400 and "người thứ hai" in own.text
    send_now(db, typed)
    wait_done(db, typed)
    caption, seen = _caption(fake_telegram, chat), _web(client, web)
    for received in (caption, seen):
        assert BULLETIN_VI in received and "đây là bản tiếng Việt" in received and "[hmn" not in received
    with db.transaction() as session:
        bulletin = bulletins.get(session, bulletin_id=typed)
        assert bulletin is not None
        spoken = {v.language: v.voice.path for v in bulletin.versions if v.voice is not None}
    assert set(spoken) == {"vi", "hmn"}, "the writer's recording was made into a voice note"
    heard = fake_telegram.sent(method="sendVoice")
    assert {c.chat_id for c in heard} == {chat, kinh} and len([c for c in heard if c.files]) == 1, (
        "one voice note uploaded once: the Vietnamese one, to both"
    )
    assert "<item>" not in client.get(f"/feeds/{PHONG_THO}/hmn.xml").text, "nor on the station's air"
    late = post(translator, "approve", "bulletin", typed)
    assert late.status_code == 400 and "không đổi được nữa" in late.text, "a sent bulletin stays as sent"
    listed = translator.get("/admin/translations/hmn/content", params={"kind": "bulletin"}).text
    assert f'id="e-{typed}"' not in listed, "the workbench lists only bulletins still being written"

    # Translated in the workbench, approved by a second person: H'Mông people read it in H'Mông.
    translated, _url = _bulletin(client, "Tiêm vắc xin đợt 2")
    listed = translator.get("/admin/translations/hmn/content", params={"kind": "bulletin"}).text
    assert f'id="e-{translated}"' in listed and BULLETIN_VI in listed
    lost = post(translator, "save", "bulletin", translated, bulletin_text="[hmn] Hnub Ib txhaj tshuaj.")
    assert lost.status_code == 400 and "7" in lost.text, "the hour is kept"
    assert post(translator, "save", "bulletin", translated, bulletin_text=BULLETIN_HMN).status_code == 303
    assert post(translator, "approve", "bulletin", translated).status_code == 400
    assert approve_content(client, "hmn", "bulletin", translated).status_code == 303
    wait_audio(client, f"/admin/bulletins/{translated}")
    send_now(db, translated)
    wait_done(db, translated)
    caption, seen = _caption(fake_telegram, chat), _web(client, web)
    for received in (caption, seen):
        assert BULLETIN_HMN in received and BULLETIN_VI not in received and "đây là bản" not in received
        assert "Bản ghi âm bằng tiếng Việt" in received, "no H'Mông voice: the Vietnamese one, said so"
    assert BULLETIN_VI in _caption(fake_telegram, kinh), "Vietnamese people read the Vietnamese"
