"""Conversation flows a villager goes through, run once over Telegram, Zalo and the web chat."""

from __future__ import annotations

import itertools

import httpx
import pytest
from sqlalchemy import func, select

from bot.areas import villages as village_service
from bot.db import Database
from bot.i18n import KNOWN_LANGUAGES
from bot.messages.models import Message
from bot.people import service as people
from bot.people.models import Person
from tests.drivers import Driver, on_channel, onboard
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZalo

_chat_ids = itertools.count(5_000_001)
LAI_CHAU = 12
PHONG_THO = 3549


@pytest.fixture(params=["telegram", "zalo", "web"])
def person(
    request: pytest.FixtureRequest,
    client: httpx.Client,
    fake_telegram: FakeBotAPI,
    fake_zalo: FakeZalo,
    db: Database,
) -> Driver:
    """A new person on one channel."""
    return on_channel(request.param, client, fake_telegram, db, next(_chat_ids), fake_zalo)


def stored_person(db: Database, urn: str) -> Person | None:
    """The person as the database has them now."""
    with db.transaction() as session:
        return people.get_by_urn(session, urn)


def test_onboarding_with_buttons_and_typing_without_diacritics(person: Driver, db: Database) -> None:
    first = person.send("/start")
    languages = [label for label, _ in first[-1].buttons]
    assert languages[:2] == ["Tiếng Việt", "English"]
    assert "Lus Hmoob" in languages

    provinces = person.tap("lang:vi")
    assert "tỉnh" in provinces[-1].text
    assert ("Lai Châu", f"prov:{LAI_CHAU}") in provinces[-1].buttons or any(
        p.startswith("provp:") for _, p in provinces[-1].buttons
    )

    communes = person.send("lai chau")  # no diacritics
    assert "Lai Châu" in communes[-1].text
    consent = person.send("phong tho")  # one match: chosen at once; no villages there yet
    assert "đồng ý" in consent[-1].text
    done = person.tap("consent:yes")
    assert "Cảm ơn" in done[0].text
    assert done[0].text.endswith("\nBạn ở: xã Phong Thổ, tỉnh Lai Châu."), "the chosen place, confirmed"
    menu_labels = [label for label, _ in done[-1].buttons]
    assert menu_labels == [
        "📻 Bản tin",
        "📝 Góp ý – Phản ánh",
        "📋 Phản ánh của tôi",
        "⚙️ Cài đặt",
        "❓ Hướng dẫn",
    ]

    stored = stored_person(db, person.urn)
    assert stored is not None
    assert (stored.language, stored.province_code, stored.commune_code) == ("vi", LAI_CHAU, PHONG_THO)
    assert stored.onboarded and stored.subscribed


def test_commune_search_pages_and_village_choice(person: Driver, db: Database) -> None:
    with db.transaction() as session:
        village = village_service.create(session, commune_code=PHONG_THO, name="Bản Pa Pe")
        village_id = village.id
    person.send("/start")
    person.tap("lang:vi")
    page1 = person.send("lai chau")
    assert any(p == "comp:1" for _, p in page1[-1].buttons)
    page2 = person.tap("comp:1")
    assert any(p == "comp:0" for _, p in page2[-1].buttons)
    several = person.send("xa")  # many communes match: shown as buttons
    assert len(several[-1].buttons) > 2
    mistyped = person.send("phong thoo")  # no commune contains it: the nearest names are offered
    assert "«phong thoo»" in mistyped[-1].text and ("Phong Thổ", f"com:{PHONG_THO}") in mistyped[-1].buttons
    villages = person.send("phong tho")  # one match: its villages follow
    assert ("Bản Pa Pe", f"vil:{village_id}") in villages[-1].buttons
    unknown = person.send("Nậm Cười")  # no such village: said, and the list shown
    assert "Không tìm thấy thôn, bản nào tên «Nậm Cười»" in unknown[0].text
    assert ("Bản Pa Pe", f"vil:{village_id}") in unknown[-1].buttons
    near = person.send("ban pa pee")
    assert "«ban pa pee»" in near[-1].text and near[-1].buttons[0] == ("Bản Pa Pe", f"vil:{village_id}")
    person.tap(f"vil:{village_id}")
    done = person.tap("consent:yes")
    assert "Bạn ở: Bản Pa Pe, xã Phong Thổ, tỉnh Lai Châu." in done[0].text
    stored = stored_person(db, person.urn)
    assert stored is not None and stored.village_id == village_id


# How the province question begins in each language whose catalog is translated.
TRANSLATED = {"en": "Which province", "zh": "您住在哪个省", "km": "អ្នករស់នៅខេត្ត"}


@pytest.mark.parametrize("language", ["en", "hmn", "tyz", "blt", "ium", "nut", "km", "zh"])
def test_onboarding_in_every_catalog_language(person: Driver, db: Database, language: str) -> None:
    first = person.send("/start")
    after = person.tap(first[-1].payload(KNOWN_LANGUAGES[language].endonym))
    if language in TRANSLATED:  # English, and the team's Chinese and Khmer (awaiting a native reviewer)
        assert after[-1].text.startswith(TRANSLATED[language])
        assert not any("bản dịch" in r.text for r in after)
    else:
        notice = [r for r in after if "chưa có bản dịch đầy đủ" in r.text]
        assert len(notice) == 1 and KNOWN_LANGUAGES[language].vietnamese_name in notice[0].text
        assert after[-1].text.startswith("Bạn ở tỉnh")
    person.send("lai chau")
    person.send("phong tho")
    done = person.tap("consent:yes")
    assert done[-1].buttons
    person.tap("settings")
    again = person.tap("set:lang")
    back = person.tap(f"lang:{language}")
    assert not any("chưa có bản dịch đầy đủ" in r.text for r in again + back), "the notice is said once"
    stored = stored_person(db, person.urn)
    assert stored is not None and stored.language == language


def test_settings_change_language_and_place(person: Driver, db: Database) -> None:
    onboard(person)
    settings = person.tap("settings")
    assert "Cài đặt" in settings[-1].text
    english = person.tap("set:lang")
    result = person.tap("lang:en")
    assert [(r.text, r.buttons) for r in result] == [("Language changed.", [("☰ Main menu", "menu")])], (
        "one line and a menu button, not the whole menu again"
    )
    person.tap("settings")
    person.tap("set:place")
    person.send("tuyen quang")
    saved = person.send("chiem hoa")
    assert saved[0].text == "Your place is saved.\nYou are in: xã Chiêm Hóa, tỉnh Tuyên Quang."
    stored = stored_person(db, person.urn)
    assert stored is not None and stored.commune_code == 2287 and stored.language == "en"
    assert english


def test_stop_and_start_again(person: Driver, db: Database) -> None:
    onboard(person)
    stopped = person.send("/stop")
    assert "không nhận bản tin nữa" in stopped[0].text and "/start" not in stopped[0].text
    assert (
        "«🔔 Nhận bản tin trở lại»" in stopped[0].text
        and ("🔔 Nhận bản tin trở lại", "resume") in stopped[0].buttons
    )
    stored = stored_person(db, person.urn)
    assert stored is not None and not stored.subscribed
    back = person.send("/start")
    assert "quay lại" in back[0].text
    stored = stored_person(db, person.urn)
    assert stored is not None and stored.subscribed


def test_help_unknown_command_and_long_text(person: Driver) -> None:
    onboard(person)
    helped = person.send("/help")
    assert "/" not in helped[0].text and "bấm nút" in helped[0].text, "plain words, no commands to learn"
    assert ("☰ Menu chính", "menu") in helped[0].buttons and ("⚙️ Cài đặt", "settings") in helped[0].buttons
    unknown = person.send("/abracadabra")
    assert "không hiểu lệnh này" in unknown[0].text and "/help" not in unknown[0].text
    assert unknown[-1].buttons, "the buttons to press follow"
    long_reply = person.send("a" * 5000)
    assert "dài quá" in long_reply[0].text


def test_an_action_ends_with_a_menu_button_not_the_whole_menu(person: Driver) -> None:
    onboard(person)
    person.tap("settings")
    person.tap("stop")
    resumed = person.tap("resume")
    assert [(r.text, r.buttons) for r in resumed] == [
        ("Bạn sẽ nhận lại bản tin.", [("☰ Menu chính", "menu")])
    ]
    menu = person.tap("menu")
    assert menu[-1].text == "Bạn cần gì? Bấm vào một nút:" and len(menu[-1].buttons) >= 5


def test_menu_features_wait_for_onboarding(person: Driver) -> None:
    person.send("/start")
    person.tap("settings")
    assert person.screen().buttons[0] == ("Tiếng Việt", "lang:vi"), "settings before consent: the step stays"
    person.tap("nonsense:1")
    assert person.screen().buttons[0] == ("Tiếng Việt", "lang:vi")


def test_free_text_after_onboarding_gets_the_menu(person: Driver) -> None:
    onboard(person)
    replies = person.send("xin chào")
    assert replies[-1].buttons and replies[-1].text.startswith("Bạn cần gì")


def test_words_for_the_menu_open_it_wherever_the_person_is(person: Driver) -> None:
    onboard(person)
    for typed in ("menu", "Menu", "mở menu", "Quay lại", "trở về", "☰"):
        replies = person.send(typed)
        assert replies[-1].text == "Bạn cần gì? Bấm vào một nút:", typed
        assert not any("chưa có thông tin" in r.text for r in replies), typed
    person.tap("fb")
    person.send("quay lai")  # in the middle of a reflection, without diacritics
    assert person.screen().text == "Bạn cần gì? Bấm vào một nút:"


CHANNELS = ("telegram", "zalo", "web")


def test_a_link_code_sent_alone_joins_a_new_app_to_the_same_person(
    person: Driver,
    client: httpx.Client,
    fake_telegram: FakeBotAPI,
    fake_zalo: FakeZalo,
    db: Database,
) -> None:
    other = next(c for c in CHANNELS if c != person.urn.split(":")[0])
    elsewhere = on_channel(other, client, fake_telegram, db, next(_chat_ids), fake_zalo)
    onboard(elsewhere)
    elsewhere.tap("settings")
    offered = elsewhere.tap("link_me")[0].text
    assert "/" not in offered and "ứng dụng kia" not in offered, "no command, no 'the other app'"
    assert "gửi mã này cho Loa Bản" in offered
    code = next(word for word in offered.split() if word.startswith("LB-"))
    linked = person.send(code.lower().replace("-", " "))  # the very first message, typed loosely
    assert "Đã nối" in linked[0].text
    with db.transaction() as session:
        joined = people.get_by_urn(session, person.urn)
        assert joined is not None and joined.commune_code == PHONG_THO
        assert sorted(people.urns_of(session, joined)) == sorted([person.urn, elsewhere.urn])
    person.tap("fb")  # an onboarded person at a step: a code is still a code, not the reflection's text
    failed = person.send(code)
    assert "Mã liên kết không đúng" in failed[0].text and "/" not in failed[0].text, "a code works once"


def test_every_message_in_and_out_is_stored(person: Driver, db: Database) -> None:
    onboard(person)
    with db.transaction() as session:
        rows = session.execute(
            select(Message.direction, func.count())
            .where(Message.urn == person.urn)
            .group_by(Message.direction)
        ).all()
    counts = {str(d): n for d, n in rows}
    assert counts["in"] == 5  # /start, language, province, commune, consent
    assert counts["out"] >= 6
