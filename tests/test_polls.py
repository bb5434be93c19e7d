"""Polls ("Thăm dò ý kiến") end to end: an official writes and opens a poll in the admin, people answer it in
the web chat, over Telegram and over Zalo, one question at a time; the results page counts them by commune
and language; once per person, never after the close, resumed where left; officers see only their own."""

from __future__ import annotations

import io
import itertools
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from bot.accounts.models import Role
from bot.audio import ffmpeg
from bot.bulletins.service import Audience
from bot.config import Settings
from bot.db import Database, utcnow
from bot.media import store
from bot.people import service as people_service
from bot.people.models import Person
from bot.polls import service as polls
from bot.polls.models import Poll, PollAnswer, PollResponse, PollStatus, QuestionKind
from bot.privacy import service as privacy
from tests import factories
from tests.drivers import Seen, TelegramDriver, WebDriver, ZaloDriver, onboard, wait_for_text
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo
from tests.test_admin import MUONG_TE, PHONG_THO, csrf, login, make_admin
from tests.test_translations import approve_content, signed_in

LAI_CHAU = 12
MENU = "📊 Thăm dò ý kiến"
_chat_ids = itertools.count(9_700_001)
EVERYONE = Audience()


def _form(token: str, **fields: str | list[str]) -> dict[str, str | list[str]]:
    """A poll form as a browser posts it: a title, everyone in the province, and the given fields."""
    return {"csrf_token": token, "title": "Nước sạch ở bản", "everyone": "yes", **fields}


WATER = {
    "title_en": "Clean water in the village",
    "intro_vi": "Xã muốn biết nhà bà con dùng nước thế nào.",
    "intro_en": "The commune would like to know how your home gets its water.",
    "q0_kind": "single",
    "q0_text_vi": "Nhà bạn có nước sạch không?",
    "q0_choices_vi": "Có\nKhông",
    "q0_text_en": "Does your home have clean water?",
    "q0_choices_en": "Yes\nNo",
    "q1_kind": "multiple",
    "q1_text_vi": "Bạn lấy nước ở đâu?",
    "q1_choices_vi": "Giếng\nSuối\nNước máy",
    "q1_text_en": "Where do you get water?",
    "q1_choices_en": "Well\nStream\nTap",
    "q2_kind": "number",
    "q2_text_vi": "Nhà bạn có mấy người?",
    "q2_text_en": "How many people live in your home?",
}


def _open_water_poll(client: httpx.Client) -> int:
    """The water poll written and opened by a province admin through the admin pages."""
    token = csrf(client.get("/admin/polls/new"))
    created = client.post("/admin/polls/new", data=_form(token, **WATER))
    assert created.status_code == 303, created.text
    poll_id = int(created.headers["location"].rsplit("/", 1)[1])
    opened = client.post(f"/admin/polls/{poll_id}/open", data={"csrf_token": token})
    assert opened.status_code == 303
    return poll_id


def _answers(db: Database) -> int:
    """How many answers are stored."""
    with db.transaction() as session:
        return session.scalar(select(func.count(PollAnswer.id))) or 0


def _question(replies: list[Seen], fragment: str) -> Seen:
    """The reply asking a question."""
    found = [r for r in replies if fragment in r.text]
    assert found, f"{fragment!r} not in {[r.text for r in replies]}"
    return found[-1]


def test_three_people_on_three_apps_answer_once_and_the_results_count_them(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, fake_zalo: FakeZalo, live: LiveServer
) -> None:
    make_admin(db, "tinh")
    make_admin(db, "duyet", Role.editor)
    login(client, "tinh")
    poll_id = _open_water_poll(client)
    # The English typed on the poll's form is tinh's draft: a second person approves it in the workbench.
    assert approve_content(client, "en", "poll", poll_id).status_code == 400, "not by its own writer"
    assert approve_content(signed_in(live, "duyet"), "en", "poll", poll_id).status_code == 303

    # In the web chat, in Vietnamese, in Phong Thổ: the menu offers the poll; three answers, then thanks.
    web = WebDriver(client)
    onboard(web)
    menu = web.send("menu")[-1]
    first = web.tap(menu.payload(MENU))
    assert any("Xã muốn biết" in r.text for r in first), "the introduction comes first"
    asked = _question(first, "Câu 1/3: Nhà bạn có nước sạch không?")
    second = _question(web.tap(asked.payload("Có")), "Câu 2/3: Bạn lấy nước ở đâu?")
    second = _question(web.tap(second.payload("Giếng")), "Câu 2/3")
    assert any(label.startswith("✅") and "Giếng" in label for label, _ in second.buttons), "ticked"
    second = _question(web.tap(second.payload("Suối")), "Câu 2/3")
    third = _question(web.tap(second.payload("Xong")), "Câu 3/3: Nhà bạn có mấy người?")
    assert third.buttons == [("☰ Menu chính", "menu")]
    assert "Bạn hãy gõ một con số" in web.send("năm")[0].text, "a number is asked for again"
    assert "Cảm ơn bạn đã trả lời" in web.send("5")[-1].text

    # A second attempt is refused politely; nothing changes.
    again = web.tap("polls")
    assert "Bạn đã trả lời thăm dò này rồi" in again[-1].text
    assert web.tap(asked.payload("Không"))[0].text.startswith("Bạn đã trả lời thăm dò này rồi")
    assert _answers(db) == 3

    # Over Telegram, in English, in Phong Thổ; an update Telegram delivers twice counts once.
    chat = next(_chat_ids)
    factories.add_person(db, f"telegram:{chat}", commune=PHONG_THO, province=LAI_CHAU, language="en")
    telegram = TelegramDriver(client, fake_telegram, db, chat)
    asked = _question(telegram.tap("polls"), "Question 1/3: Does your home have clean water?")
    assert [label for label, _ in asked.buttons][:2] == ["Yes", "No"]
    update_ = factories.callback_update(chat, asked.payload("No"), telegram.message_with(asked.payload("No")))
    second = _question(telegram.deliver(update_), "Question 2/3: Where do you get water?")
    assert telegram.post(update_).status_code == 200  # the same update again
    telegram.wait_settled(str(update_["update_id"]))
    assert _answers(db) == 4, "a redelivered answer counts once"
    second = _question(telegram.tap(second.payload("Tap")), "Question 2/3")
    assert "(Pick one or more, then tap “Done”.)" in second.text
    assert "(Type a number.)" in _question(telegram.tap(second.payload("Done")), "Question 3/3").text
    assert "Thank you" in telegram.send("4")[-1].text

    # Over Zalo, in Vietnamese, in Mường Tè: interrupted after the first answer, resumed at the second.
    user = str(next(_chat_ids))
    factories.add_person(db, f"zalo:{user}", commune=MUONG_TE, province=LAI_CHAU)
    zalo = ZaloDriver(client, fake_zalo, db, user)
    zalo.send("menu")
    asked = _question(zalo.tap("polls"), "Câu 1/3")
    _question(zalo.tap(asked.payload("Có")), "Câu 2/3")
    zalo.tap("menu")
    resumed = zalo.tap("polls")
    assert any("tiếp tục" in r.text for r in resumed)
    second = _question(resumed, "Câu 2/3")
    second = _question(zalo.tap(second.payload("Nước máy")), "Câu 2/3")
    _question(zalo.tap(second.payload("Xong")), "Câu 3/3")
    assert "Cảm ơn bạn đã trả lời" in zalo.send("3")[-1].text
    assert _answers(db) == 9

    # The results page: by commune, Phong Thổ 1 yes and 1 no (50 % each), Mường Tè 1 yes (100 %).
    page = client.get(f"/admin/polls/{poll_id}").text
    assert "3 người đã bắt đầu, 3 người trả lời hết các câu." in page
    first_table = page[page.index("Câu 1") :].split("</table>")[0]
    rows = {
        m[0]: m[1:]
        for m in re.findall(
            r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td><td class=\"num\">(\d+) \((\d+)%\)</td>"
            r"<td class=\"num\">(\d+) \((\d+)%\)</td></tr>",
            first_table,
        )
    }
    assert rows == {"Xã Phong Thổ": ("2", "1", "50", "1", "50"), "Xã Mường Tè": ("1", "1", "100", "0", "0")}
    by_language = client.get(f"/admin/polls/{poll_id}", params={"by": "language"}).text
    english = by_language[by_language.index("Câu 1") :].split("</table>")[0]
    assert re.search(r"<td>Tiếng Anh</td><td class=\"num\">1</td><td class=\"num\">0 \(0%\)</td>", english)
    numbers = by_language[by_language.index("Câu 3") :].split("</table>")[0]
    assert re.search(
        r"<strong>Tất cả</strong></td><td class=\"num\">3</td>\s*<td class=\"num\">4.0</td>", numbers
    )
    assert (
        'data-chart="{&#34;labels&#34;: [&#34;Có&#34;, &#34;Không&#34;], &#34;counts&#34;: [2, 1]}"' in page
    )
    assert '<script src="/static/admin/vendor/chart.umd.min.js" defer></script>' in page
    assert client.get("/static/admin/vendor/chart.umd.min.js").status_code == 200, "served by Loa Bản"
    dashboard = client.get("/admin").text
    activity = dashboard[dashboard.index('id="polls"') :].split("</section>")[0]
    linked = rf'<a href="/admin/polls/{poll_id}">3</a>'
    assert re.search(
        rf'Nước sạch ở bản</a></td><td class="num">{linked}</td><td class="num">{linked}</td>', activity
    )


def _poll(
    db: Database, *, audience: Audience = EVERYONE, title: str = "Ý kiến về chợ phiên", **texts: str
) -> int:
    """An open poll of one single-choice question and one free-text question, straight in the database."""
    draft = polls.PollDraft(
        title=title,
        intro={},
        questions=(
            polls.QuestionDraft(
                QuestionKind.single,
                {"vi": texts.get("single", "Chợ phiên nên họp ngày nào?")},
                ({"vi": "Thứ bảy"}, {"vi": "Chủ nhật"}),
            ),
            polls.QuestionDraft(QuestionKind.text, {"vi": texts.get("text", "Bạn muốn chợ có thêm gì?")}),
        ),
        audience=audience,
    )
    with db.transaction() as session:
        poll = polls.write(session, None, draft)
        polls.open_poll(poll)
        return poll.id


def test_an_answer_after_the_close_is_refused_and_not_counted(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, live: object
) -> None:
    poll_id = _poll(db)
    chat = next(_chat_ids)
    factories.add_person(db, f"telegram:{chat}", commune=PHONG_THO, province=LAI_CHAU)
    person = TelegramDriver(client, fake_telegram, db, chat)
    asked = _question(person.tap("polls"), "Câu 1/2")
    with db.transaction() as session:  # the end of the period passes while the person thinks
        session.execute(
            update(Poll).where(Poll.id == poll_id).values(closes_at=utcnow() - timedelta(minutes=1))
        )
    late = person.tap(asked.payload("Chủ nhật"))
    assert "thăm dò này đã kết thúc nên câu trả lời không được tính" in late[-1].text
    assert _answers(db) == 0
    assert MENU not in [label for label, _ in person.send("menu")[-1].buttons], "gone from the menu"


def test_one_answer_per_question_even_when_stored_twice(db: Database) -> None:
    poll_id = _poll(db)
    person_id = factories.add_person(db, "web:" + "a" * 40, commune=PHONG_THO, province=LAI_CHAU)
    with db.transaction() as session:
        poll = polls.get(session, poll_id=poll_id)
        assert poll is not None
        person = session.get(Person, person_id)
        assert person is not None
        response = polls.start(session, poll, person, "web")
        question = poll.questions[0]
        assert polls.answer(session, response, question, choice_ids=[question.choices[0].id])
        assert not polls.answer(session, response, question, choice_ids=[question.choices[1].id])
        assert polls.start(session, poll, person, "telegram").id == response.id, "one response per person"
    with db.transaction() as session:
        [stored] = session.scalars(select(PollAnswer)).all()
        assert stored.choice_ids == [question.choices[0].id]
        duplicate = PollAnswer(response_id=stored.response_id, question_id=stored.question_id)
        session.add(duplicate)
        with pytest.raises(Exception, match=r"(?i)unique"):
            session.flush()


def test_an_officer_of_another_commune_gets_nothing_of_a_poll(client: httpx.Client, db: Database) -> None:
    theirs = _poll(db, audience=Audience(communes=(MUONG_TE,)), title="Riêng xã Mường Tè")
    province = _poll(db, title="Chung toàn tỉnh")
    person_id = factories.add_person(db, "web:" + "m" * 40, commune=MUONG_TE, province=LAI_CHAU)
    with db.transaction() as session:
        poll = polls.get(session, poll_id=province)
        person = session.get(Person, person_id)
        assert poll is not None and person is not None
        response = polls.start(session, poll, person, "web")
        polls.answer(session, response, poll.questions[1], text="Chỉ người Mường Tè viết điều này")
    make_admin(db, "xa", Role.commune_officer, communes=(PHONG_THO,))
    login(client, "xa")
    token = csrf(client.get("/admin/polls"))
    assert "Riêng xã Mường Tè" not in client.get("/admin/polls").text
    assert "Riêng xã Mường Tè" not in client.get("/admin").text
    for url in (
        f"/admin/polls/{theirs}",
        f"/admin/polls/{theirs}/edit",
        f"/admin/polls/{theirs}/export.xlsx",
        f"/admin/polls/{theirs}/answers/1/voice",
        f"/admin/polls/{theirs}/results",
    ):
        assert client.get(url).status_code == 404, url
    for action in ("edit", "open", "close", "publish"):
        url = f"/admin/polls/{theirs}/{action}"
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    # A poll for the whole province: readable, without other communes' answers, and not theirs to run.
    shared = client.get(f"/admin/polls/{province}")
    assert shared.status_code == 200 and "Chỉ người Mường Tè" not in shared.text
    assert "0 người đã bắt đầu" in shared.text
    assert client.post(f"/admin/polls/{province}/close", data={"csrf_token": token}).status_code == 403
    book = load_workbook(io.BytesIO(client.get(f"/admin/polls/{province}/export.xlsx").content))
    assert book.active.max_row == 1, "only the header: no answer from their communes"
    # Their own poll they may write, and only for their communes.
    form = _form(token, everyone="no", communes=[str(PHONG_THO)], **WATER)
    assert client.post("/admin/polls/new", data=form).status_code == 303
    outside = client.post("/admin/polls/new", data=_form(token, communes=[str(MUONG_TE)], **WATER))
    assert outside.status_code == 400


def test_a_viewer_reads_but_runs_nothing(client: httpx.Client, db: Database) -> None:
    poll_id = _poll(db)
    make_admin(db, "xem", Role.viewer)
    login(client, "xem")
    token = csrf(client.get("/admin/polls"))
    assert client.get(f"/admin/polls/{poll_id}").status_code == 200
    assert client.get("/admin/polls/new").status_code == 403
    assert client.post(f"/admin/polls/{poll_id}/close", data={"csrf_token": token}).status_code == 403
    with db.transaction() as session:
        assert session.get(Poll, poll_id).status == PollStatus.open  # type: ignore[union-attr]


def test_hostile_text_is_shown_escaped_and_exported_as_text(client: httpx.Client, db: Database) -> None:
    poll_id = _poll(db, single="<script>alert('q')</script> Chợ?")
    hostile = ['=HYPERLINK("http://evil.example","bấm")', "<img src=x onerror=alert(1)>"]
    for index, text in enumerate(hostile):
        person_id = factories.add_person(db, f"web:{index}" + "h" * 40, commune=PHONG_THO, province=LAI_CHAU)
        with db.transaction() as session:
            poll = polls.get(session, poll_id=poll_id)
            person = session.get(Person, person_id)
            assert poll is not None and person is not None
            response = polls.start(session, poll, person, "web")
            polls.answer(session, response, poll.questions[1], text=text)
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get(f"/admin/polls/{poll_id}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;q&#39;)&lt;/script&gt; Chợ?" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    book = load_workbook(io.BytesIO(client.get(f"/admin/polls/{poll_id}/export.xlsx").content))
    cells = [
        c for row in book.active.iter_rows(min_row=2) for c in row if c.value and "HYPERLINK" in str(c.value)
    ]
    assert cells and all(c.data_type == "s" for c in cells), "a formula-looking answer stays text"


def test_erasure_keeps_the_counts_and_drops_what_the_person_typed(db: Database, settings: Settings) -> None:
    poll_id = _poll(db)
    person_id = factories.add_person(db, "web:" + "e" * 40, commune=PHONG_THO, province=LAI_CHAU)
    with db.transaction() as session:
        poll = polls.get(session, poll_id=poll_id)
        person = session.get(Person, person_id)
        assert poll is not None and person is not None
        response = polls.start(session, poll, person, "web")
        polls.answer(session, response, poll.questions[0], choice_ids=[poll.questions[0].choices[1].id])
        polls.answer(session, response, poll.questions[1], text="Nhà tôi ở cạnh suối Nậm Na")
        copy = privacy.document(session, person)["poll_answers"]
        assert [(a["choices"], a["text"]) for a in copy] == [
            ("Chủ nhật", None),
            (None, "Nhà tôi ở cạnh suối Nậm Na"),
        ], "the person's copy of their data has their answers"
        privacy.erase(session, store.of(settings), person)
    with db.transaction() as session:
        poll = polls.get(session, poll_id=poll_id)
        assert poll is not None
        results = polls.results(session, poll, by="commune")
        sunday = poll.questions[0].choices[1].id
        assert results.started == 1 and results.questions[0].total.choices == {sunday: 1}
        assert session.scalars(select(PollResponse.person_id)).all() == [None]
        assert session.scalars(select(PollAnswer.text)).all() == ["", ""]


@pytest.mark.skipif(not ffmpeg.available(), reason="needs ffmpeg (make system-deps)")
def test_a_voice_answer_is_kept_heard_by_officials_of_the_commune_and_erased_with_its_sender(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, settings: Settings, tmp_path: Path
) -> None:
    draft = polls.PollDraft(
        title="Đường vào bản",
        intro={},
        questions=(polls.QuestionDraft(QuestionKind.voice, {"vi": "Đường vào bản bạn thế nào?"}),),
        audience=EVERYONE,
    )
    with db.transaction() as session:
        poll = polls.write(session, None, draft)
        polls.open_poll(poll)
        poll_id = poll.id
    note = factories.tone(tmp_path / "note.ogg", codec="libopus")
    web = WebDriver(client)
    onboard(web)
    asked = _question(web.tap("polls"), "Câu 1/1: Đường vào bản bạn thế nào?")
    assert "Bấm 📎 để gửi một tệp ghi âm" in asked.text, "the web chat has no voice button"
    assert "Cảm ơn bạn đã trả lời" in web.send_file(note, "voice", "audio/ogg")[-1].text
    chat = next(_chat_ids)
    factories.add_person(db, f"telegram:{chat}", commune=PHONG_THO, province=LAI_CHAU)
    telegram = TelegramDriver(client, fake_telegram, db, chat)
    assert "Gửi một tin nhắn thoại" in _question(telegram.tap("polls"), "Câu 1/1").text
    assert "Cảm ơn bạn đã trả lời" in telegram.send_file(tone_again(tmp_path), "voice", "audio/ogg")[-1].text

    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get(f"/admin/polls/{poll_id}").text
    voices = re.findall(rf'src="(/admin/polls/{poll_id}/answers/\d+/voice)"', page)
    assert len(voices) == 2
    heard = client.get(voices[1])
    assert heard.status_code == 200 and heard.headers["content-type"].startswith("audio/")
    make_admin(db, "xakhac", Role.commune_officer, communes=(MUONG_TE,))
    with httpx.Client(base_url=str(client.base_url)) as other:
        login(other, "xakhac")
        assert other.get(voices[1]).status_code == 404, "not for an officer of another commune"

    with db.transaction() as session:
        leaver = people_service.get_by_urn(session, f"telegram:{chat}")
        assert leaver is not None
        privacy.erase(session, store.of(settings), leaver)
    assert client.get(voices[1]).status_code == 404, "the recording went with its sender"
    assert client.get(voices[0]).status_code == 200, "the other stays"
    assert "2 người đã bắt đầu" in client.get(f"/admin/polls/{poll_id}").text, "still counted"


def tone_again(tmp_path: Path) -> bytes:
    """A second, different recording (the same bytes would be one stored file)."""
    return factories.tone(tmp_path / "other.ogg", seconds=3, codec="libopus")


def test_each_commune_gets_its_own_results_once_the_poll_is_over(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI, live: object
) -> None:
    poll_id = _poll(db, title="Chợ phiên")
    choices = {"Thứ bảy": 0, "Chủ nhật": 1}
    answered = [(PHONG_THO, "vi", "Thứ bảy"), (PHONG_THO, "en", "Chủ nhật"), (MUONG_TE, "vi", "Chủ nhật")]
    chats = []
    for commune, language, choice in [*answered, (MUONG_TE, "vi", "")]:
        chat = next(_chat_ids)
        person_id = factories.add_person(
            db, f"telegram:{chat}", commune=commune, province=LAI_CHAU, language=language
        )
        with db.transaction() as session:
            poll = polls.get(session, poll_id=poll_id)
            person = session.get(Person, person_id)
            assert poll is not None and person is not None
            response = polls.start(session, poll, person, "telegram")
            if choice:  # the last one never finishes: told nothing
                picked = poll.questions[0].choices[choices[choice]].id
                polls.answer(session, response, poll.questions[0], choice_ids=[picked])
                polls.answer(session, response, poll.questions[1], text="Thêm hàng rau")
                polls.finish(response)
        chats.append(TelegramDriver(client, fake_telegram, db, chat))
    make_admin(db, "tinh")
    login(client, "tinh")
    token = csrf(client.get(f"/admin/polls/{poll_id}"))
    assert client.post(f"/admin/polls/{poll_id}/publish", data={"csrf_token": token}).status_code == 409
    assert client.post(f"/admin/polls/{poll_id}/close", data={"csrf_token": token}).status_code == 303
    assert client.post(f"/admin/polls/{poll_id}/publish", data={"csrf_token": token}).status_code == 303
    told = wait_for_text(chats[0], "Kết quả thăm dò «Chợ phiên» ở Xã Phong Thổ: 2 người trả lời.")
    assert "Thứ bảy: 50%, Chủ nhật: 50%" in told.text and "Thêm hàng rau" not in told.text
    in_english = wait_for_text(chats[1], "Poll results «Chợ phiên» in Xã Phong Thổ: 2 people answered.")
    assert "Thứ bảy: 50%, Chủ nhật: 50%" in in_english.text
    muong_te = wait_for_text(chats[2], "ở Xã Mường Tè: 1 người trả lời.")
    assert "Thứ bảy: 0%, Chủ nhật: 100%" in muong_te.text
    assert client.post(f"/admin/polls/{poll_id}/publish", data={"csrf_token": token}).status_code == 409
    assert not any("Kết quả" in c.params.get("text", "") for c in fake_telegram.sent(chats[3].chat_id))


def test_a_draft_is_checked_edited_and_frozen_once_opened(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    token = csrf(client.get("/admin/polls/new"))
    untranslatable = client.post("/admin/polls/new", data=_form(token, **(WATER | {"q0_choices_en": "Yes"})))
    assert untranslatable.status_code == 400
    assert "Câu 1: bản Tiếng Anh cần đúng 2 lựa chọn như bản tiếng Việt." in untranslatable.text
    assert "Does your home have clean water?" in untranslatable.text, "what was typed is kept"
    one_choice = _form(token, **(WATER | {"q0_choices_vi": "Có", "q0_choices_en": ""}))
    one_choice_page = client.post("/admin/polls/new", data=one_choice)
    assert "Câu 1 cần từ 2 đến 10 lựa chọn." in one_choice_page.text
    backwards = _form(token, opens_at="2030-01-02T08:00", closes_at="2030-01-01T08:00", **WATER)
    assert (
        "Thời điểm kết thúc phải sau thời điểm bắt đầu."
        in client.post("/admin/polls/new", data=backwards).text
    )

    created = client.post("/admin/polls/new", data=_form(token, opens_at="2030-01-01T07:30", **WATER))
    poll_id = int(created.headers["location"].rsplit("/", 1)[1])
    form = client.get(f"/admin/polls/{poll_id}/edit").text
    assert "Yes\nNo</textarea>" in form and 'value="2030-01-01T07:30"' in form, "local time, as typed"
    renamed = _form(token, title="Nước sạch 2030", opens_at="2030-01-01T07:30", **WATER)
    edited = client.post(f"/admin/polls/{poll_id}/edit", data=renamed)
    assert edited.status_code == 303
    assert "<h1>Nước sạch 2030</h1>" in client.get(f"/admin/polls/{poll_id}").text
    assert client.post(f"/admin/polls/{poll_id}/open", data={"csrf_token": token}).status_code == 303
    assert client.get(f"/admin/polls/{poll_id}/edit").status_code == 409
    assert client.post(f"/admin/polls/{poll_id}/edit", data=_form(token, **WATER)).status_code == 400
    assert "Chờ mở" in client.get("/admin/polls").text, "opened, waiting for its start"
