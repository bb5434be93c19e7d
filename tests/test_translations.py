"""The translation workbench as translators and villagers meet it: a translator drafts, a second person
approves, and a H'Mông person reads the reviewed strings from their next message on every channel while
the rest falls back to Vietnamese with one note; files go out and come back as .po and .xlsx; a
translator opens nothing else."""

from __future__ import annotations

import html
import io
import re

import httpx
import pytest
from babel.messages.pofile import read_po, write_po
from openpyxl import load_workbook

from admin import accounts as accounts_admin
from admin import audit as audit_admin
from admin import bulletins as bulletins_admin
from admin import dashboard as dashboard_admin
from admin import feedback as feedback_admin
from admin import people as people_admin
from admin import polls as polls_admin
from admin import qa as qa_admin
from admin import villages as villages_admin
from bot.accounts import service as accounts
from bot.accounts.models import Role
from bot.cli import main as loaban
from bot.config import Settings, get_settings
from bot.db import Database
from bot.feedback.models import Category
from bot.i18n import KNOWN_LANGUAGES, Catalogs
from bot.spreadsheet import workbook
from bot.translations import service as translations
from tests.drivers import Driver
from tests.fakes.server import LiveServer
from tests.test_admin import PASSWORD, csrf, login
from tests.test_conversation import person  # noqa: F401  (a new person on each channel)

ADMIN_PAGES = (
    accounts_admin,
    audit_admin,
    bulletins_admin,
    dashboard_admin,
    feedback_admin,
    people_admin,
    polls_admin,
    qa_admin,
    villages_admin,
)
NOTICE = (
    "{language} chưa có bản dịch đầy đủ, nên Loa Bản sẽ nói tiếng Việt. "
    "Bản tin có tiếng nói bằng {language} sẽ được gửi khi có."
)
PROVINCE = "Bạn ở tỉnh hay thành phố nào? Chọn bên dưới, hoặc gõ tên (không dấu cũng được)."
AGREE = "✅ Tôi đồng ý"
COMMUNE = (
    "Bạn ở xã, phường nào của {province}? Gõ vài chữ trong tên (có dấu hay không dấu đều được), "
    "hoặc chọn bên dưới."
)
# Test data marked as such: Loa Bản ships no machine-made H'Mông.
HMONG = {
    NOTICE: "[hmn] {language} tseem tsis tau txhais tag nrho.",
    PROVINCE: "[hmn] Koj nyob xeev twg?",
    AGREE: "✅ [hmn] Kuv pom zoo",
}
WATER = "Nước sinh hoạt bản Pa Pe"
DRAFT = "[hmn-draft] Koj nyob zos twg ntawm {province}?"


def add_admin(db: Database, username: str, role: Role, languages: tuple[str, ...] = ()) -> None:
    """An admin account straight in the database."""
    with db.transaction() as session:
        accounts.create(session, username=username, password=PASSWORD, role=role, language_codes=languages)


def signed_in(live: LiveServer, username: str) -> httpx.Client:
    """A browser of its own for one admin, signed in."""
    browser = httpx.Client(base_url=live.url, timeout=20)
    assert login(browser, username).status_code == 303
    return browser


def approve_content(browser: httpx.Client, language: str, kind: str, key: int | str) -> httpx.Response:
    """A second person approves a piece of content's translation in the workbench's "Nội dung"."""
    token = csrf(browser.get("/admin/password"))
    return browser.post(
        f"/admin/translations/{language}/content/approve",
        data={"csrf_token": token, "kind": kind, "entry_id": str(key)},
    )


def post(browser: httpx.Client, url: str, **form: str) -> httpx.Response:
    """Submit a workbench form with the page's CSRF token."""
    token = csrf(browser.get("/admin/translations/hmn"))
    return browser.post(url, data={"csrf_token": token, **form})


def test_reviewed_strings_reach_a_hmong_person_at_once(
    person: Driver,  # noqa: F811  (the fixture imported above)
    live: LiveServer,
    db: Database,
) -> None:
    add_admin(db, "dich-hmn", Role.translator, ("hmn",))
    add_admin(db, "duyet-hmn", Role.translator, ("hmn",))
    with db.transaction() as session:  # a category officials added: content, not in any catalog
        session.add(Category(code="nuoc-pa-pe", label=WATER, position=1))
    first = person.send("/start")  # the server has read the catalogs before anything is translated
    assert ("Lus Hmoob — một phần", "lang:hmn") in first[-1].buttons, "a partial language says so"
    translator, reviewer = signed_in(live, "dich-hmn"), signed_in(live, "duyet-hmn")
    for msgid, text in [*HMONG.items(), (COMMUNE, DRAFT), (WATER, "[hmn] Dej haus")]:
        saved = post(translator, "/admin/translations/hmn/save", msgid=msgid, text=text)
        assert saved.status_code == 303, saved.text
    own = post(translator, "/admin/translations/hmn/approve", msgid=PROVINCE)
    assert own.status_code == 400 and "người thứ hai" in own.text, "a translator does not approve their own"
    for msgid in [*HMONG, WATER]:
        assert post(reviewer, "/admin/translations/hmn/approve", msgid=msgid).status_code == 303
    edited = post(translator, "/admin/translations/hmn/save", msgid=PROVINCE, text="[hmn-draft] Xeev twg?")
    assert edited.status_code == 303  # a new draft of a reviewed string waits for its own review

    chosen = person.tap("lang:hmn")
    notices = [r for r in chosen if "tseem tsis tau txhais" in r.text]
    assert len(notices) == 1 and "Lus Hmoob" not in notices[0].text and "Tiếng H'Mông" in notices[0].text
    assert chosen[-1].text.startswith("[hmn] Koj nyob xeev twg?"), "reviewed text, not the newer draft"
    communes = person.send("lai chau")
    assert communes[-1].text.startswith("Bạn ở xã, phường nào của"), "a draft never reaches people"
    consent = person.send("phong tho")
    assert any("[hmn] Kuv pom zoo" in label for label, _ in consent[-1].buttons), consent[-1].buttons
    done = person.tap("consent:yes")
    categories = person.tap("fb")
    assert any("[hmn] Dej haus" in label for label, _ in categories[-1].buttons), categories[-1].buttons
    everything = chosen + communes + consent + done + categories
    assert sum("tseem tsis tau txhais" in r.text for r in everything) == 1, "the note is said once"
    assert not any(
        "[hmn-draft]" in r.text or any("[hmn-draft]" in b for b, _ in r.buttons) for r in everything
    )


def test_po_and_xlsx_round_trip_and_a_lost_placeholder_is_refused(
    client: httpx.Client, live: LiveServer, db: Database
) -> None:
    add_admin(db, "dich", Role.translator, ("hmn",))
    browser = signed_in(live, "dich")
    exported = browser.get("/admin/translations/hmn/export.po")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    catalog = read_po(io.BytesIO(exported.content))
    catalog[PROVINCE].string = "[hmn] Xeev twg? (po)"
    catalog[COMMUNE].string = "[hmn] Zos twg?"  # {province} lost
    edited = io.BytesIO()
    write_po(edited, catalog)
    refused = upload(browser, "hmn.po", edited.getvalue())
    assert (
        refused.status_code == 400 and "{province}" in refused.text and re.search(r"dòng \d+", refused.text)
    )
    assert stored_text(db, PROVINCE) is None, "a file with a bad row saves nothing"
    catalog[COMMUNE].string = "[hmn] Zos twg ntawm {province}?"
    fixed = io.BytesIO()
    write_po(fixed, catalog)
    assert upload(browser, "hmn.po", fixed.getvalue()).status_code == 200
    assert stored_text(db, PROVINCE) == "[hmn] Xeev twg? (po)"
    assert stored_text(db, COMMUNE) == "[hmn] Zos twg ntawm {province}?"

    sheet = load_workbook(io.BytesIO(browser.get("/admin/translations/hmn/export.xlsx").content)).active
    header = [c.value for c in sheet[1]]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    column = header.index("translation")
    by_msgid = {r[header.index("msgid")]: r for r in rows}
    assert by_msgid[PROVINCE][column] == "[hmn] Xeev twg? (po)", "the export carries the drafts"
    by_msgid[PROVINCE][column] = "[hmn] Xeev twg? (xlsx)"
    by_msgid[NOTICE][column] = "[hmn] {langauge} tsis tau"  # misspelt placeholder
    bad = upload(browser, "hmn.xlsx", workbook("hmn", header, rows))
    line = rows.index(by_msgid[NOTICE]) + 2
    assert bad.status_code == 400 and f"dòng {line}" in bad.text and "{language}" in bad.text
    by_msgid[NOTICE][column] = "[hmn] {language} tsis tau"
    assert upload(browser, "hmn.xlsx", workbook("hmn", header, rows)).status_code == 200
    assert stored_text(db, PROVINCE) == "[hmn] Xeev twg? (xlsx)"
    assert upload(browser, "notes.txt", b"hello").status_code == 400


def upload(browser: httpx.Client, name: str, data: bytes) -> httpx.Response:
    """Import a translated file through the workbench's form."""
    token = csrf(browser.get("/admin/translations/hmn"))
    return browser.post(
        "/admin/translations/hmn/import", data={"csrf_token": token}, files={"file": (name, data)}
    )


def stored_text(db: Database, msgid: str) -> str | None:
    """The H'Mông draft stored for a message, if any."""
    with db.transaction() as session:
        row = translations.stored(session, "hmn").get(msgid)
        return row.text if row is not None else None


def test_a_translator_opens_nothing_but_the_workbench_of_their_languages(
    live: LiveServer, db: Database
) -> None:
    add_admin(db, "dich", Role.translator, ("hmn",))
    browser = signed_in(live, "dich")
    assert 'href="/admin/translations/hmn"' in browser.get("/admin").text, "their home is the workbench"
    overview = browser.get("/admin/translations")
    assert (
        overview.status_code == 200
        and 'href="/admin/translations/hmn"' in overview.text
        and 'href="/admin/translations/km"' not in overview.text
    )
    assert 'href="/admin/people"' not in overview.text, "the menu offers only the workbench"
    assert browser.get("/admin/translations/km").status_code == 403
    assert browser.get("/admin/translations/km/export.po").status_code == 403
    paths = sorted(
        {
            re.sub(r"\{[^}]+\}", "1", route.path)
            for module in ADMIN_PAGES
            for route in module.router.routes
            if route.path.startswith("/admin/")
            and not route.path.startswith(("/admin/translations", "/admin/login", "/admin/password"))
            and "GET" in getattr(route, "methods", set())
        }
    )
    assert len(paths) > 20
    opened = {path: browser.get(path).status_code for path in paths}
    assert set(opened.values()) == {403}, opened
    token = csrf(overview)
    assert browser.post("/admin/qa/import", data={"csrf_token": token}).status_code in (403, 422)
    assert (
        browser.post(
            "/admin/admins/new", data={"csrf_token": token, "username": "x", "role": "province_admin"}
        ).status_code
        == 403
    )


def test_each_message_says_where_people_meet_it_in_words(live: LiveServer, db: Database) -> None:
    add_admin(db, "dich", Role.translator, ("hmn",))
    browser = signed_in(live, "dich")
    first = browser.get("/admin/translations/hmn")
    assert first.status_code == 200 and "Khi làm quen lần đầu — bước chọn ngôn ngữ" in visible(first.text)
    province = visible(browser.get("/admin/translations/hmn", params={"q": PROVINCE}).text)
    assert "Xuất hiện ở: Khi làm quen lần đầu — bước chọn tỉnh" in province, province
    menu = visible(browser.get("/admin/translations/hmn", params={"q": "Góp ý – Phản ánh"}).text)
    assert "Xuất hiện ở: Trong menu chính (nút)" in menu, menu
    officials = visible(
        browser.get("/admin/translations/hmn", params={"q": "Bản dịch đang trống", "everything": "true"}).text
    )
    assert "Chỉ cán bộ thấy — trang quản trị" in officials, officials
    forwarded = visible(browser.get("/admin/translations/hmn", params={"q": "để giải quyết"}).text)
    assert "Xuất hiện ở: Khi gửi góp ý — khi phản ánh được chuyển đi" in forwarded, "read via gettext("
    assert "Giữ nguyên trong bản dịch: {code} {where}" in forwarded, "the parts Loa Bản fills in are named"
    for page in (first.text, province, menu, officials, forwarded):
        assert not SOURCE_LINE.search(visible(page)), SOURCE_LINE.search(visible(page))
    assert re.search(
        r"<details class=\"source-lines\"><summary>[^<]+</summary><code>[^<]*"
        r"bot/conversation/onboarding\.py:\d+",
        first.text,
    ), "developers still find the line"


SOURCE_LINE = re.compile(r"\b(bot|admin)/[\w/]+\.(py|html)")


def visible(page: str) -> str:
    """The words a reader sees on a page: no tags, no collapsed details, no scripts."""
    shown = re.sub(r"<(details)(?![^>]*\bopen\b)[^>]*>.*?</\1>|<script.*?</script>", "", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", shown)))


def test_hostile_text_is_escaped_and_content_lacking_a_translation_is_listed(
    live: LiveServer, db: Database
) -> None:
    add_admin(db, "bien-tap", Role.editor)
    add_admin(db, "dich", Role.translator, ("hmn",))
    hostile = '<script>alert("x")</script> {language}'
    browser = signed_in(live, "dich")
    assert post(browser, "/admin/translations/hmn/save", msgid=NOTICE, text=hostile).status_code == 303
    page = browser.get("/admin/translations/hmn", params={"q": "script"})
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    editor = signed_in(live, "bien-tap")
    assert post(editor, "/admin/translations/hmn/approve", msgid=NOTICE).status_code == 303
    listing = editor.get("/admin/translations/hmn")
    assert "Nội dung chưa có bản dịch" in listing.text and "Loại phản ánh" in listing.text
    assert 'href="/admin/translations/km"' in editor.get("/admin/translations").text, (
        "editors: every language"
    )


def test_locales_status_counts_reviewed_strings(
    database_url: str, db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add_admin(db, "dich", Role.translator, ("hmn",))
    add_admin(db, "duyet", Role.editor)
    catalogs = Catalogs(Settings(_env_file=None).locales_dir, list(KNOWN_LANGUAGES))  # type: ignore[call-arg]
    monkeypatch.setenv("LOABAN_DATABASE_URL", database_url)
    get_settings.cache_clear()
    assert loaban(["locales", "status"]) == 0
    before = capsys.readouterr().out
    with db.transaction() as session:
        t, r = accounts.get_by_username(session, "dich"), accounts.get_by_username(session, "duyet")
        assert t is not None and r is not None
        for msgid, text in HMONG.items():
            source = translations.find(session, catalogs, msgid)
            assert source is not None
            translations.save(session, catalogs, t, "hmn", source, text)
            translations.approve(session, catalogs, r, "hmn", source)
    assert loaban(["locales", "status"]) == 0
    after = capsys.readouterr().out
    get_settings.cache_clear()
    assert reviewed(before, "hmn") == ("0", "partial") and reviewed(after, "hmn") == ("3", "partial")
    assert reviewed(after, "en")[1] == "complete"


def reviewed(status: str, language: str) -> tuple[str, str]:
    """A language's reviewed count and its state in `loaban locales status`."""
    line = next(line for line in status.splitlines() if line.startswith(f"{language} "))
    found = re.search(r"\d+%\s+(\d+)\s+\d+\s+\d+\s+(\w+)$", line)
    assert found, line
    return found.group(1), found.group(2)


@pytest.mark.parametrize(
    ("text", "button", "refused"),
    [
        ("[hmn] {language} tsis tau", False, None),
        ("[hmn] tsis tau", False, "Bản dịch thiếu {names}: giữ nguyên các chỗ này."),
        ("[hmn] {language} {name}", False, "Bản dịch có {names} mà câu gốc không có."),
        ("   ", False, "Bản dịch đang trống."),
        ("{language} " + "x" * 100, True, "Nhãn nút dài quá: tối đa {n} ký tự."),
        ("{language} " + "x" * 80, True, None),
    ],
)
def test_placeholders_are_kept_and_button_labels_fit_zalo(
    text: str, button: bool, refused: str | None
) -> None:
    problem = translations.check("{language} — một phần", text, button=button)
    assert (problem.msgid if problem else None) == refused
