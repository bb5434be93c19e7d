"""The admin as officials use it: login and its guards, scope by commune, escaping, accounts, villages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import httpx
import pytest

from admin import audit as audit_view
from bot.accounts import service as accounts
from bot.accounts.models import Role
from bot.db import Database, utcnow
from bot.people import service as people
from tests.drivers import WebDriver, on_channel, onboard
from tests.fakes.telegram_api import FakeBotAPI

PASSWORD = "correct horse battery"
PHONG_THO, MUONG_TE = 3549, 3445


def make_admin(
    db: Database,
    username: str,
    role: Role = Role.province_admin,
    communes: tuple[int, ...] = (),
    must_change: bool = False,
) -> None:
    """An admin account straight in the database."""
    with db.transaction() as session:
        accounts.create(
            session,
            username=username,
            password=PASSWORD,
            role=role,
            commune_codes=communes,
            must_change_password=must_change,
        )


def csrf(page: httpx.Response) -> str:
    """The CSRF token a page carries in its forms."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "page has a CSRF token"
    return match.group(1)


def login(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    """Log in through the form, as a browser would."""
    token = csrf(client.get("/admin/login"))
    return client.post("/admin/login", data={"username": username, "password": password, "csrf_token": token})


def add_person(db: Database, name: str, commune: int, language: str = "vi") -> int:
    """A person who finished onboarding in a commune."""
    with db.transaction() as session:
        person, _ = people.get_or_create_by_urn(session, f"web:{name.encode().hex()[:40]}xx")
        person.commune_code, person.language, person.display_name = commune, language, name
        person.consented_at = utcnow()  # what finishing onboarding records
        return person.id


def test_anonymous_is_sent_to_login(client: httpx.Client) -> None:
    response = client.get("/admin/people")
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"


def test_login_and_dashboard(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    onboard(WebDriver(client))
    response = login(client, "tinh")
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    dashboard = client.get("/admin")
    assert dashboard.status_code == 200
    assert 'id="total-people" href="/admin/people?standing=onboarded">1</a>' in dashboard.text
    assert "Xã Phong Thổ" in dashboard.text and "Tiếng Việt" in dashboard.text


def test_wrong_password_then_lockout(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    wrong = login(client, "tinh", "not the password")
    assert wrong.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in wrong.text
    for _ in range(4):
        login(client, "tinh", "still wrong")
    slowed = login(client, "tinh")
    assert slowed.status_code == 429 and "Hãy đợi 1 giây rồi thử lại" in slowed.text
    assert slowed.headers["retry-after"] == "1"
    assert client.get("/admin").status_code == 303


def test_post_without_csrf_token_is_refused(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    refused = client.post("/admin/villages", data={"commune": PHONG_THO, "name": "Bản Mới"})
    assert refused.status_code == 403
    forged = client.post(
        "/admin/villages", data={"commune": PHONG_THO, "name": "Bản Mới", "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    no_token_login = client.post("/admin/login", data={"username": "tinh", "password": PASSWORD})
    assert no_token_login.status_code == 403


def test_one_time_password_must_be_changed(client: httpx.Client, db: Database) -> None:
    make_admin(db, "moi", must_change=True)
    login(client, "moi")
    forced = client.get("/admin/people")
    assert forced.status_code == 303 and forced.headers["location"] == "/admin/password"
    page = client.get("/admin/password")
    assert "mật khẩu một lần" in page.text
    short = client.post(
        "/admin/password",
        data={"current": PASSWORD, "new": "short", "repeat": "short", "csrf_token": csrf(page)},
    )
    assert short.status_code == 400 and "ít nhất 10 ký tự" in short.text
    changed = client.post(
        "/admin/password",
        data={
            "current": PASSWORD,
            "new": "a new long password",
            "repeat": "a new long password",
            "csrf_token": csrf(page),
        },
    )
    assert changed.status_code == 303
    assert client.get("/admin/people").status_code == 200


def test_commune_officer_sees_only_their_communes(client: httpx.Client, db: Database) -> None:
    mine = add_person(db, "Người Phong Thổ", PHONG_THO)
    other = add_person(db, "Người Mường Tè", MUONG_TE)
    make_admin(db, "xa", Role.commune_officer, (PHONG_THO,))
    login(client, "xa")
    listing = client.get("/admin/people")
    assert "Người Phong Thổ" in listing.text and "Người Mường Tè" not in listing.text
    assert client.get(f"/admin/people/{mine}").status_code == 200
    refused = client.get(f"/admin/people/{other}", headers={"Accept": "text/html"})
    assert refused.status_code == 404 and "Người Mường Tè" not in refused.text
    assert "phạm vi của bạn" in refused.text
    assert client.get("/admin/admins").status_code == 403
    assert client.get(f"/admin/villages?commune={MUONG_TE}").status_code == 404


def test_hostile_name_is_shown_escaped(client: httpx.Client, db: Database) -> None:
    hostile = "<script>alert(1)</script>"
    person_id = add_person(db, hostile, PHONG_THO)
    make_admin(db, "tinh")
    login(client, "tinh")
    for page in (client.get("/admin/people"), client.get(f"/admin/people/{person_id}")):
        assert hostile not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_people_search_and_pagination(client: httpx.Client, db: Database) -> None:
    for i in range(30):
        add_person(db, f"Người số {i:02d}", PHONG_THO, "hmn" if i % 3 == 0 else "vi")
    make_admin(db, "tinh")
    login(client, "tinh")
    first = client.get("/admin/people")
    assert "Tìm thấy 30 người" in first.text and "Trang 1 / 2" in first.text
    second = client.get("/admin/people", params={"page": 2})
    assert second.text.count('href="/admin/people/') == 5
    found = client.get("/admin/people", params={"q": "số 07"})
    assert "Tìm thấy 1 người" in found.text and "Người số 07" in found.text
    hmong = client.get("/admin/people", params={"lang": "hmn"})
    assert "Tìm thấy 10 người" in hmong.text
    partial = client.get("/admin/people", params={"q": "số 1"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "Tìm thấy 10 người" in partial.text


def test_accounts_are_managed_and_audited(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    form = client.get("/admin/admins/new")
    created = client.post(
        "/admin/admins/new",
        data={
            "username": "canbo",
            "role": "commune_officer",
            "communes": f"{PHONG_THO}",
            "csrf_token": csrf(form),
        },
    )
    assert created.status_code == 200
    one_time = re.search(r'id="one-time-password">([^<]+)<', created.text)
    assert one_time
    bad = client.post(
        "/admin/admins/new", data={"username": "canbo", "role": "viewer", "csrf_token": csrf(form)}
    )
    assert bad.status_code == 400 and "đã có" in bad.text
    bad_code = client.post(
        "/admin/admins/new",
        data={"username": "x2", "role": "viewer", "communes": "99999999", "csrf_token": csrf(form)},
    )
    assert bad_code.status_code == 400 and "không tồn tại" in bad_code.text
    listing = client.get("/admin/admins")
    assert "canbo" in listing.text and "Xã Phong Thổ" in listing.text
    audit = client.get("/admin/audit")
    assert "Tạo tài khoản" in audit.text and "Đăng nhập" in audit.text and "vai trò: Cán bộ xã" in audit.text
    assert "admin_created" not in audit.text and "\\u" not in audit.text, "words, not codes or JSON escapes"
    with httpx.Client(base_url=str(client.base_url)) as other:
        assert login(other, "canbo", one_time.group(1)).status_code == 303


def test_viewer_reads_but_cannot_change(client: httpx.Client, db: Database) -> None:
    make_admin(db, "xem", Role.viewer)
    login(client, "xem")
    page = client.get("/admin/villages", params={"commune": PHONG_THO})
    assert page.status_code == 200 and "Thêm" not in page.text
    refused = client.post(
        "/admin/villages", data={"commune": PHONG_THO, "name": "Bản X", "csrf_token": csrf(page)}
    )
    assert refused.status_code == 403


def test_villages_added_by_an_officer_appear_in_onboarding(client: httpx.Client, db: Database) -> None:
    make_admin(db, "xa", Role.commune_officer, (PHONG_THO,))
    login(client, "xa")
    page = client.get("/admin/villages", params={"commune": PHONG_THO})
    added = client.post(
        "/admin/villages", data={"commune": PHONG_THO, "name": "Bản Sin Chải", "csrf_token": csrf(page)}
    )
    assert added.status_code == 303
    outside = client.post(
        "/admin/villages", data={"commune": MUONG_TE, "name": "Bản Y", "csrf_token": csrf(page)}
    )
    assert outside.status_code == 404
    person = WebDriver(client)
    person.send("/start")
    person.tap("lang:vi")
    person.send("lai chau")
    villages = person.send("phong tho")
    assert "Bản Sin Chải" in [label for label, _ in villages[-1].buttons]
    listing = client.get("/admin/villages", params={"commune": PHONG_THO})
    village_id = re.search(r'action="/admin/villages/(\d+)"', listing.text)
    assert village_id
    renamed = client.post(
        f"/admin/villages/{village_id.group(1)}", data={"name": "Bản Sin Chải 1", "csrf_token": csrf(page)}
    )
    assert renamed.status_code == 303
    deleted = client.post(f"/admin/villages/{village_id.group(1)}/delete", data={"csrf_token": csrf(page)})
    assert deleted.status_code == 303
    assert "Xã này chưa có thôn" in client.get("/admin/villages", params={"commune": PHONG_THO}).text


def test_commune_search_for_province_admin(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get("/admin/villages", params={"q": "phong tho"})
    assert f'href="/admin/villages?commune={PHONG_THO}"' in page.text


@pytest.mark.parametrize("role", list(Role))
def test_logout_ends_the_session(client: httpx.Client, db: Database, role: Role) -> None:
    make_admin(db, "ai", role, (PHONG_THO,))
    login(client, "ai")
    page = client.get("/admin")
    assert page.status_code == 200
    client.post("/admin/logout", data={"csrf_token": csrf(page)})
    assert client.get("/admin").status_code == 303


def test_times_are_shown_on_viet_nams_clock(client: httpx.Client, db: Database) -> None:
    from datetime import UTC, datetime

    person_id = add_person(db, "Lò Thị Mai", PHONG_THO)
    with db.transaction() as session:
        found = people.get(session, person_id=person_id)
        assert found is not None
        found.consented_at = datetime(2026, 11, 22, 20, 30, tzinfo=UTC)  # 03:30 the next morning in Hà Nội
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get(f"/admin/people/{person_id}").text
    assert "23/11/2026 03:30" in page and "22/11/2026 20:30" not in page


def test_a_persons_page_shows_the_buttons_they_tapped_by_their_labels(
    client: httpx.Client, db: Database, fake_telegram: FakeBotAPI
) -> None:
    from sqlalchemy import select

    from bot.people.models import Person

    onboard(on_channel("telegram", client, fake_telegram, db, 4_400_001))
    with db.transaction() as session:
        person_id = session.scalars(select(Person.id)).one()
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get(f"/admin/people/{person_id}").text
    assert "🔘 ✅ Tôi đồng ý" in page and "consent:yes" not in page
    assert "<dt>Kênh</dt><dd>Telegram</dd>" in page and "telegram:" not in page, "the app, not its address"


def _recorded_audits() -> list[ast.Call]:
    """Every call that writes an audit line, found in the code itself (so a new action cannot be missed)."""
    root = Path(__file__).resolve().parent.parent
    calls = []
    for source in [*(root / "admin").rglob("*.py"), *(root / "bot").rglob("*.py")]:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "audit"
            ):
                calls.append(node)
    return calls


def test_every_recorded_action_and_detail_has_a_label() -> None:
    calls = _recorded_audits()
    assert len(calls) > 25, "the audit calls are found"
    actions: set[str] = set()
    for call in calls:
        action = call.args[2]
        if isinstance(action, ast.Constant):
            actions.add(action.value)
        else:  # f"bulletin_{action}": the bulletin page's pause, resume and cancel
            assert isinstance(action, ast.JoinedStr) and ast.unparse(action) == "f'bulletin_{action}'"
            actions |= {"bulletin_pause", "bulletin_resume", "bulletin_cancel"}
    assert {"ticket_transferred", "ticket_merged", "reply_template_created"} <= actions
    assert sorted(actions - audit_view.ACTIONS.keys()) == []
    keys = {k.arg for call in calls for k in call.keywords if k.arg and k.arg != "ip"}  # ip: its own column
    assert {"into", "agency", "status"} <= keys
    assert sorted(keys - audit_view.DETAILS.keys()) == []


def test_the_audit_log_of_tickets_templates_and_qa_shows_no_raw_code(
    client: httpx.Client, db: Database
) -> None:
    make_admin(db, "tinh")
    with db.transaction() as session:
        who = accounts.get_by_username(session, "tinh")
        code, other = "PA-2026-000007", "PA-2026-000003"
        accounts.audit(session, who, "ticket_status", code, "10.0.0.1", status="in_progress")
        accounts.audit(session, who, "ticket_transferred", code, "10.0.0.1", commune=MUONG_TE)
        accounts.audit(session, who, "ticket_forwarded", code, "10.0.0.1", agency="Phòng Tài nguyên")
        accounts.audit(session, who, "ticket_merged", other, "10.0.0.1", into=code)
        accounts.audit(session, who, "reply_template_created", "template:4", "10.0.0.1")
        accounts.audit(session, who, "reply_template_deleted", "template:4", "10.0.0.1")
        accounts.audit(session, who, "qa_entry_from_question", "qa:cau-hoi-2", "10.0.0.1", status="draft")
        accounts.audit(session, who, "person_role", "12", "10.0.0.1", role="prestigious")
        accounts.audit(session, who, "bulletin_pause", "5", "10.0.0.1")
        accounts.audit(session, who, "feedback_category_saved", "c3", "10.0.0.1", name="Nước sạch")
    login(client, "tinh")
    page = client.get("/admin/audit").text
    for said in (
        "Đổi trạng thái phản ánh",
        "Phản ánh PA-2026-000007",
        "trạng thái: Đang xử lý",
        "Chuyển phản ánh sang xã khác",
        "xã: Xã Mường Tè",
        "Chuyển phản ánh cho cơ quan",
        "cơ quan: Phòng Tài nguyên",
        "Gộp phản ánh trùng",
        "gộp vào: PA-2026-000007",
        "Thêm mẫu trả lời",
        "Xóa mẫu trả lời",
        "Mẫu trả lời #4",
        "Mục hỏi đáp «cau-hoi-2»",
        "trạng thái: Bản nháp",
        "Người dân #12",
        "vai trò: người có uy tín",
        "Bản tin #5",
        "tên: Nước sạch",
    ):
        assert said in page, said
    for raw in (
        "ticket_",
        "reply_template",
        "in_progress",
        "template:",
        "qa:",
        "into:",
        "agency:",
        ": prestigious",
    ):
        assert raw not in page, raw


def test_the_people_search_box_says_what_to_type_within_a_phones_width(
    client: httpx.Client, db: Database
) -> None:
    """At 360 px the box shows about 20 characters ('Tìm theo tên hoặc mã l…' was cut off), and a channel
    code means nothing to an officer: the hint is the name, in full."""
    make_admin(db, "tinh")
    login(client, "tinh")
    page = client.get("/admin/people").text
    hint = re.search(r'<input type="search" name="q"[^>]*placeholder="([^"]*)"', page)
    assert hint is not None and hint.group(1) == "Tìm theo tên"
    assert len(hint.group(1)) <= 20 and "mã kênh" not in page
