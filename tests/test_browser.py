"""The admin and the web chat in a real headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from bot.accounts.models import Role
from bot.config import PROJECT_ROOT
from bot.db import Database
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.test_admin import PASSWORD, add_person, make_admin

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (make system-deps)"
)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def page(request: pytest.FixtureRequest) -> Iterator[sync_api.Page]:
    """A fresh browser page; a screenshot is saved when the test fails."""
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                "--use-fake-ui-for-media-stream",  # a fake microphone for the in-browser voice answer
                "--use-fake-device-for-media-stream",
            ],
        )
        context = browser.new_context(viewport={"width": 412, "height": 860}, locale="vi-VN")
        pg = context.new_page()
        yield pg
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        browser.close()


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


def test_web_chat_in_a_real_browser(page: sync_api.Page, live: LiveServer) -> None:
    onboard_in_chat(page, live)
    page.reload()
    page.wait_for_selector("text=Bạn cần gì? Bấm vào một nút:")  # the conversation survives a reload
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-chat.png"))


def test_a_hostile_reflection_is_shown_never_run(page: sync_api.Page, live: LiveServer, db: Database) -> None:
    """Filed through the web chat in the browser, read by an official in the browser: shown as text."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    onboard_in_chat(page, live)
    page.get_by_role("button", name="📝 Góp ý – Phản ánh").click()
    page.get_by_role("button", name="Đường sá, cầu cống").click()
    page.fill("#t", '<img src=x onerror="alert(1)"><script>alert(2)</script> cầu gãy')
    page.press("#t", "Enter")
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
        ticket = feedback.file_ticket(
            session,
            person,
            f"telegram:{chat}",
            feedback.Filing(1, "Mất nước."),
            datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")),
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
    "/admin/feedback",
    "/admin/qa",
    "/admin/questions",
    "/admin/villages",
    "/admin/admins",
    "/admin/audit",
]


def test_the_admin_fits_a_phone_at_360_px(page: sync_api.Page, live: LiveServer, db: Database) -> None:
    """On a cheap phone the menu folds away and no page scrolls sideways (wide tables scroll in their box)."""
    for n in range(3):
        add_person(db, f"Người dân số {n} có một cái tên rất dài để thử", 3549)
    make_admin(db, "tinh", Role.province_admin)
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, f"{live.url}/admin")
    page.wait_for_url(f"{live.url}/admin")
    assert not page.is_visible("header nav"), "the menu is folded on a phone"
    page.click("label.nav-button")
    assert page.is_visible("header nav a[href='/admin/qa']")
    ARTIFACTS.mkdir(exist_ok=True)
    for path in ADMIN_PAGES:
        page.goto(f"{live.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(ARTIFACTS / f"admin-360{path.replace('/', '-')}.png"), full_page=True)
        assert width <= 360, f"{path} is {width} px wide on a 360 px phone"


def test_a_reply_template_goes_into_the_answer_box_in_one_click(
    page: sync_api.Page, live: LiveServer, db: Database
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.accounts import service as accounts
    from bot.feedback import service as feedback
    from bot.people import service as people
    from tests.factories import add_person

    add_person(db, "telegram:9900002", commune=3549, province=12)
    make_admin(db, "xa", Role.commune_officer, communes=(3549,))
    with db.transaction() as session:
        person = people.get_by_urn(session, "telegram:9900002")
        officer = accounts.get_by_username(session, "xa")
        assert person is not None and officer is not None
        ticket = feedback.file_ticket(
            session,
            person,
            "telegram:9900002",
            feedback.Filing(1, "Mất nước."),
            datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")),
        )
        feedback.create_template(
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
