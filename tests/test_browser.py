"""The admin and the web chat in a real headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

from playwright import sync_api

from bot.accounts.models import Role
from bot.db import Database
from tests.browser import ARTIFACTS, look
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.test_admin import PASSWORD, add_person, make_admin


def sign_in(page: sync_api.Page, url: str, username: str = "tinh") -> None:
    """Open an admin page and log in through its form, as an official would."""
    page.goto(url)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_admin_in_a_real_browser(page: sync_api.Page, live: LiveServer, db: Database) -> None:
    add_person(db, "<script>alert(1)</script>", 3549)
    add_person(db, "Lò Văn Páo", 3549)
    make_admin(db, "tinh", Role.province_admin, must_change=True)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    sign_in(page, f"{live.url}/admin")
    page.wait_for_url("**/admin/password")
    page.fill("input[name=current]", PASSWORD)
    page.fill("input[name=new]", "mật khẩu mới thật dài")
    page.fill("input[name=repeat]", "mật khẩu mới thật dài")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live.url}/admin")
    assert page.inner_text("#total-people") == "2"

    page.click("label.nav-button")  # a 412 px phone: the menu is folded
    page.click("text=Người dân")
    page.wait_for_url("**/admin/people")
    assert page.locator("#people-rows tbody tr").count() == 2
    page.fill("input[name=q]", "Páo")  # htmx live search replaces only the rows
    # Playwright's expect, not wait_for_function: the admin's policy forbids the eval that polling uses.
    sync_api.expect(page.locator("#people-rows tbody tr")).to_have_count(1)
    assert "Lò Văn Páo" in page.inner_text("#people-rows")
    page.fill("input[name=q]", "script")
    sync_api.expect(page.locator("#people-rows")).to_contain_text("<script>")
    page.click("#people-rows a")
    page.wait_for_url("**/admin/people/*")
    assert "<script>alert(1)</script>" in page.inner_text("h1")
    assert dialogs == [], "hostile text was shown, never run"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-person.png"))


def onboard_in_chat(page: sync_api.Page, live: LiveServer) -> None:
    """Go through the web chat's onboarding to the main menu, as a person does."""
    page.goto(f"{live.url}/chat")
    page.get_by_role("button", name="Tiếng Việt").click()
    page.wait_for_selector("text=Bạn ở tỉnh hay thành phố nào?")
    page.fill("#t", "lai chau")
    page.press("#t", "Enter")
    page.wait_for_selector("text=Bạn ở xã, phường nào của Lai Châu?")
    page.fill("#t", "phong tho")
    page.press("#t", "Enter")
    page.get_by_role("button", name="✅ Tôi đồng ý").click()
    page.wait_for_selector("text=Bạn cần gì? Bấm vào một nút:")


def wait_for_answer(page: sync_api.Page) -> None:
    """Wait until the bot has answered the person's latest message, so what follows sees the answer."""
    page.locator(
        "xpath=//div[@id='log']/*[contains(@class,'me')][last()]/following-sibling::*[contains(@class,'bot')]"
    ).first.wait_for(state="attached")


def test_web_chat_in_a_real_browser(page: sync_api.Page, live: LiveServer) -> None:
    """The conversation survives a reload as it was: both sides in order, the newest in view, only the
    latest message's buttons live, and never a '/start' the person did not type."""
    page.goto(f"{live.url}/chat")
    page.get_by_role("button", name="Tiếng Việt").wait_for()
    assert page.locator(".msg.me").count() == 0, "the page starts the conversation without a typed command"
    onboard_in_chat(page, live)
    page.get_by_role("button", name="⚙️ Cài đặt").click()
    page.wait_for_selector("text=Cài đặt")
    page.get_by_role("button", name="☰ Menu chính").last.click()
    # Locators, not wait_for_function: the chat's policy, like the admin's, forbids the eval polling uses.
    page.locator(".msg.me").nth(4).wait_for(state="attached")
    wait_for_answer(page)
    page.fill("#t", "hôm nay có họp thôn không")
    page.press("#t", "Enter")
    wait_for_answer(page)
    before = page.eval_on_selector_all(".msg", "ms => ms.map(m => [m.className, m.firstChild.textContent])")

    page.reload()
    page.locator(".msg").nth(len(before) - 9).wait_for(state="attached")
    page.wait_for_timeout(300)
    after = page.eval_on_selector_all(".msg", "ms => ms.map(m => [m.className, m.firstChild.textContent])")
    mine = [text for cls, text in after if cls == "msg me"]
    assert mine[-4:] == ["✅ Tôi đồng ý", "⚙️ Cài đặt", "☰ Menu chính", "hôm nay có họp thôn không"]
    assert "/start" not in mine
    assert after[-3:] == before[-3:], "the end of the conversation is as it was"
    live_buttons = page.eval_on_selector_all(
        ".msg", "ms => ms.map(m => [...m.querySelectorAll('.btns button')].some(b => !b.disabled))"
    )
    assert live_buttons[:-1] == [False] * (len(live_buttons) - 1), "old buttons are disabled"
    at_bottom = page.evaluate(
        "(l => l.scrollTop + l.clientHeight >= l.scrollHeight - 2)(document.querySelector('#log'))"
    )
    assert at_bottom, "the newest messages are in view"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-chat.png"))


def test_a_session_the_server_did_not_issue_is_replaced(page: sync_api.Page, live: LiveServer) -> None:
    """A made-up id in the browser's storage reads nobody's messages: the page is given a new session."""
    page.goto(f"{live.url}/chat")
    page.get_by_role("button", name="Tiếng Việt").wait_for()
    page.evaluate("localStorage.setItem('loaban.session', 'a'.repeat(42))")
    page.reload()
    page.get_by_role("button", name="Tiếng Việt").wait_for()
    session = page.evaluate("localStorage.getItem('loaban.session')")
    assert session != "a" * 42 and len(session) == 42
    assert page.locator(".msg.me").count() == 0


def test_a_hostile_reflection_is_shown_never_run(page: sync_api.Page, live: LiveServer, db: Database) -> None:
    """Filed through the web chat in the browser, read by an official in the browser: shown as text."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    onboard_in_chat(page, live)
    page.get_by_role("button", name="📝 Góp ý – Phản ánh").click()
    page.get_by_role("button", name="Đường sá, cầu cống").click()
    page.wait_for_selector("text=Gửi xong thì bấm «Xong, gửi đi»")
    page.fill("#t", '<img src=x onerror="alert(1)"><script>alert(2)</script> cầu gãy')
    page.press("#t", "Enter")
    wait_for_answer(page)  # the newest «Xong, gửi đi» is the one under the answer to the text
    page.get_by_role("button", name="✅ Xong, gửi đi").last.click()
    page.get_by_role("button", name="👤 Gửi kèm tên").click()
    page.wait_for_selector("text=Bạn tên là gì?")  # the web chat never knows a name: asked once
    page.fill("#t", "Lò Thị Mai")
    page.press("#t", "Enter")
    page.get_by_role("button", name="⏭ Không để số").click()
    page.wait_for_selector("text=Mã phản ánh: PA-")

    make_admin(db, "tinh", Role.province_admin)
    sign_in(page, f"{live.url}/admin/login")
    page.goto(f"{live.url}/admin/feedback")
    page.click("table a")
    page.wait_for_url("**/admin/feedback/*")
    assert "<script>alert(2)</script> cầu gãy" in page.inner_text("main")
    assert "Lò Thị Mai" in page.inner_text("main"), "the name typed in the chat"
    assert dialogs == [], "hostile text was shown, never run"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-ticket.png"), full_page=True)


def test_an_official_records_a_voice_answer_in_the_browser(
    page: sync_api.Page, live: LiveServer, db: Database, fake_telegram: FakeBotAPI
) -> None:
    """The reply form's recorder (MediaRecorder, Chromium's fake microphone) fills the voice field; the
    answer reaches the person as a voice note."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.feedback import service as feedback
    from bot.people import service as people
    from tests.factories import add_person

    chat = 9_900_001
    add_person(db, f"telegram:{chat}", commune=3549, province=12)
    with db.transaction() as session:
        person = people.get_by_urn(session, f"telegram:{chat}")
        assert person is not None
        ticket = feedback.create(
            session,
            person=person,
            urn=f"telegram:{chat}",
            filing=feedback.Filing(1, "Mất nước."),
            now=datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")),
        )
        ticket_id = ticket.id
    make_admin(db, "tinh", Role.province_admin)
    sign_in(page, f"{live.url}/admin/login")
    page.goto(f"{live.url}/admin/feedback/{ticket_id}")
    page.click("#record")
    page.wait_for_selector("text=Đang ghi")
    page.wait_for_timeout(1500)
    page.click("#record")
    page.wait_for_selector("text=Đã ghi xong.")
    page.fill("#reply-form textarea[name=text]", "Chiều nay có xe nước.")
    page.click("#reply-form button[type=submit]")
    page.wait_for_url(f"**/admin/feedback/{ticket_id}")
    fake_telegram.wait_for(lambda: len(fake_telegram.sent(chat, "sendVoice")) == 1)
    [voice] = fake_telegram.sent(chat, "sendVoice")
    assert "Chiều nay có xe nước." in voice.params["caption"] and voice.files["voice"].startswith(b"OggS")


ADMIN_PAGES = [
    "/admin",
    "/admin/people",
    "/admin/bulletins",
    "/admin/bulletins/new",
    "/admin/polls",
    "/admin/polls/new",
    "/admin/feedback",
    "/admin/qa",
    "/admin/questions",
    "/admin/villages",
    "/admin/admins",
    "/admin/audit",
    "/admin/translations",
    "/admin/translations/hmn",
]


def test_the_admin_fits_a_phone_at_360_px_and_a_tablet(
    page: sync_api.Page, live: LiveServer, db: Database
) -> None:
    """On a cheap phone the menu folds away and no page scrolls sideways (wide tables scroll in their box),
    the detail pages of a ticket, a person and a bulletin included; nor on a 768 px tablet."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.bulletins import service as bulletins
    from bot.feedback import service as feedback
    from bot.people import service as people
    from bot.polls import service as polls
    from bot.polls.models import QuestionKind
    from tests import factories

    for n in range(3):
        person_id = add_person(db, f"Người dân số {n} có một cái tên rất dài để thử", 3549)
    factories.add_person(db, "telegram:9900003", commune=3549, province=12)
    with db.transaction() as session:
        sender = people.get_by_urn(session, "telegram:9900003")
        assert sender is not None
        long_text = "Đường vào bản Nậm Xe sạt lở sau mưa lớn, xe máy không qua được, " * 6
        ticket = feedback.create(
            session,
            person=sender,
            urn="telegram:9900003",
            filing=feedback.Filing(1, long_text),
            now=datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")),
        )
        bulletin = bulletins.create(
            session,
            title="Thông báo lịch tiêm chủng mở rộng cho trẻ em dưới năm tuổi tại trạm y tế xã",
            versions=[("vi", long_text, None)],
            audience=bulletins.Audience(communes=(3549,)),
        )
        polls.write(
            session,
            None,
            polls.PollDraft(
                title="Nước sạch ở các bản vùng cao của xã trong mùa khô năm nay",
                intro={"vi": long_text},
                questions=(
                    polls.QuestionDraft(
                        QuestionKind.single,
                        {"vi": "Nhà bạn lấy nước sinh hoạt ở đâu trong những tháng mùa khô?"},
                        ({"vi": "Giếng đào hoặc giếng khoan của gia đình"}, {"vi": "Suối"}),
                    ),
                ),
                audience=bulletins.Audience(communes=(3549,)),
            ),
        )
        details = [
            f"/admin/feedback/{ticket.id}",
            f"/admin/people/{person_id}",
            f"/admin/bulletins/{bulletin.id}",
            "/admin/translations/hmn/content?kind=poll",  # the workbench beside the Vietnamese (issue 18)
            "/admin/translations/hmn/content?kind=bulletin",
        ]
    make_admin(db, "tinh", Role.province_admin)
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, f"{live.url}/admin")
    page.wait_for_url(f"{live.url}/admin")
    assert not page.is_visible("header nav"), "the menu is folded on a phone"
    page.click("label.nav-button")
    assert page.is_visible("header nav a[href='/admin/qa']")
    for screen in (360, 768):
        page.set_viewport_size({"width": screen, "height": 740 if screen == 360 else 1024})
        for path in [*ADMIN_PAGES, *details]:
            page.goto(f"{live.url}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            look(page, db, f"admin-{screen}{path.replace('/', '-')}.png")
            assert width <= screen, f"{path} is {width} px wide on a {screen} px screen"


def test_a_reply_template_goes_into_the_answer_box_in_one_click(
    page: sync_api.Page, live: LiveServer, db: Database
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.accounts import service as accounts
    from bot.feedback import reply_templates as template_service
    from bot.feedback import service as feedback
    from bot.people import service as people
    from tests.factories import add_person

    add_person(db, "telegram:9900002", commune=3549, province=12)
    make_admin(db, "xa", Role.commune_officer, communes=(3549,))
    with db.transaction() as session:
        person = people.get_by_urn(session, "telegram:9900002")
        officer = accounts.get_by_username(session, "xa")
        assert person is not None and officer is not None
        ticket = feedback.create(
            session,
            person=person,
            urn="telegram:9900002",
            filing=feedback.Filing(1, "Mất nước."),
            now=datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")),
        )
        template_service.create(
            session,
            owner_id=officer.id,
            title="Đã nhận",
            text="Xã đã nhận <b>phản ánh</b>.",
            commune_code=None,
        )
        ticket_id = ticket.id
    sign_in(page, f"{live.url}/admin/login", "xa")
    page.goto(f"{live.url}/admin/feedback/{ticket_id}")
    page.fill("#reply-text", "Chào bác.")
    page.click("a.use-template")
    assert page.input_value("#reply-text") == "Chào bác.\nXã đã nhận <b>phản ánh</b>."
    assert page.url == f"{live.url}/admin/feedback/{ticket_id}", "in place, what was typed is kept"
