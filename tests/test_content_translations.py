"""Q&A translations in the workbench (issue 18): a translator drafts, a second person approves, and people
of that language read the approved answer at once; a draft, or an approval the Vietnamese has since
outgrown, never reaches them. Shipped English counts as approved, shipped Chinese waits for a native
reviewer."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select

from bot.accounts import service as accounts
from bot.accounts.models import AuditEntry, Role
from bot.config import PROJECT_ROOT
from bot.content import SHIPPED_REVIEWED, import_all, import_knowledge
from bot.contests.models import ContestQuestion
from bot.db import Database
from bot.qa.models import QAEntry
from bot.translations import content as content_translations
from bot.translations.models import ContentReview, TranslationState
from tests.conftest import knowledge_of
from tests.drivers import Driver, WebDriver, onboard
from tests.fakes.server import LiveServer
from tests.test_admin import PASSWORD, csrf
from tests.test_contests import MENU as CONTEST_MENU
from tests.test_contests import _contest, _register
from tests.test_conversation import person  # noqa: F401  (a new person on each channel)
from tests.test_translations import add_admin, signed_in

ENTRY = "ct1719-la-gi"
ASKED = "Quyết định 1719 của Thủ tướng phê duyệt chương trình nào?"
VIETNAMESE = "Đó là Quyết định 1719/QĐ-TTg"
# Test data marked as such: Loa Bản ships no machine-made H'Mông.
QUESTION = "[hmn] Daim ntawv 1719 pom zoo txoj haujlwm twg?"
ANSWER = "[hmn] Yog Daim ntawv 1719/QĐ-TTg, hnub 14/10/2021; kaum xyoo 2021-2030, thawj theem 2021-2025."
DRAFT = "[hmn-draft] Yog Daim ntawv 1719/QĐ-TTg, hnub 14/10/2021; 2021-2030, 2021-2025."
NOTE = "chưa được dịch sang tiếng của bạn"


def post(
    browser: httpx.Client, action: str, language: str = "hmn", **form: str | list[str]
) -> httpx.Response:
    """Submit the content workbench's form with the page's CSRF token."""
    token = csrf(browser.get("/admin/password"))  # a light page: the workbench reads the source tree once
    return browser.post(
        f"/admin/translations/{language}/content/{action}",
        data={"csrf_token": token, "entry_id": ENTRY, **form},
    )


@pytest.fixture
def shipped(db: Database, live: LiveServer, shipped_knowledge: None) -> None:
    """The shipped Q&A entries, indexed by the live server."""
    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
    knowledge_of(live).warm()


def test_an_approved_translation_reaches_a_hmong_person_at_once_and_a_draft_never(
    person: Driver,  # noqa: F811  (the fixture imported above)
    live: LiveServer,
    db: Database,
    shipped: None,
) -> None:
    if person.urn.startswith("zalo:"):
        pytest.skip("Telegram and the web chat cover the paths; Zalo reads the same conversation")
    add_admin(db, "dich-hmn", Role.translator, ("hmn",))
    add_admin(db, "duyet-hmn", Role.translator, ("hmn",))
    translator, reviewer = signed_in(live, "dich-hmn"), signed_in(live, "duyet-hmn")
    onboard(person, "hmn")

    lost = post(translator, "save", question=QUESTION, answer="[hmn] Yog Daim ntawv 1719, xyoo 2021.")
    assert lost.status_code == 400 and "1719/QĐ-TTg" in lost.text and "2030" in lost.text, "figures are kept"
    assert "[hmn] Yog Daim ntawv 1719, xyoo 2021." in lost.text, "the refused text stays in the form"
    assert post(translator, "save", question=QUESTION, answer=ANSWER).status_code == 303

    drafted = person.send(ASKED)
    assert VIETNAMESE in drafted[0].text and NOTE in drafted[0].text, "a draft never reaches people"
    assert not any("[hmn" in r.text or any("[hmn" in b for b, _ in r.buttons) for r in drafted)

    own = post(translator, "approve")
    assert own.status_code == 400 and "người thứ hai" in own.text, "nobody approves their own draft"
    assert post(reviewer, "approve").status_code == 303

    approved = person.send(ASKED)
    assert ANSWER in approved[0].text and QUESTION in approved[0].text, "approved: read at once"
    assert VIETNAMESE not in approved[0].text and NOTE not in approved[0].text
    offered = person.tap(f"qa:{ENTRY}")
    assert ANSWER in offered[0].text, "the same through a question's button"

    assert post(translator, "save", question=QUESTION, answer=DRAFT).status_code == 303
    edited = person.send(ASKED)
    assert VIETNAMESE in edited[0].text and not any("[hmn" in r.text for r in edited), (
        "a newer draft takes the translation off until it is approved again"
    )
    assert post(reviewer, "approve").status_code == 303
    assert DRAFT in person.send(ASKED)[0].text

    with db.transaction() as session:  # the Vietnamese changes: the approval no longer holds
        entry = session.get(QAEntry, ENTRY)
        assert entry is not None
        entry.answer += " Chương trình có nhiều dự án."
    stale = person.send(ASKED)
    assert "nhiều dự án" in stale[0].text and NOTE in stale[0].text and "[hmn" not in stale[0].text
    page = reviewer.get("/admin/translations/hmn/content", params={"q": ENTRY}).text
    assert "Tiếng Việt đã sửa sau lần duyệt trước" in page

    with db.transaction() as session:
        actions = [
            (a.username, a.action, a.target)
            for a in session.scalars(
                select(AuditEntry).where(AuditEntry.action.like("content_translation_%"))
            )
        ]
    assert actions == [
        ("dich-hmn", "content_translation_saved", f"qa:{ENTRY}"),
        ("duyet-hmn", "content_translation_approved", f"qa:{ENTRY}"),
        ("dich-hmn", "content_translation_saved", f"qa:{ENTRY}"),
        ("duyet-hmn", "content_translation_approved", f"qa:{ENTRY}"),
    ]


def test_shipped_english_is_read_and_shipped_chinese_waits_for_a_native_reviewer(
    live: LiveServer, db: Database, shipped: None
) -> None:
    with db.transaction() as session:
        entries = list(session.scalars(select(QAEntry)))
        english = content_translations.readable(session, entries, "en")
        chinese = content_translations.readable(session, entries, "zh")
        marks = {(r.language, r.shipped, r.reviewed_by) for r in session.scalars(select(ContentReview))}
    assert len(entries) > 60 and set(english) == {e.id for e in entries}, "English: the team's, approved"
    assert chinese == {}, "Chinese: nobody approved it, so people read Vietnamese with the note"
    assert marks == {("en", True, None)}, "approved by shipping it, not in anyone's name"
    add_admin(db, "bien-tap", Role.editor)
    editor = signed_in(live, "bien-tap")
    page = editor.get("/admin/translations/zh/content", params={"q": ENTRY}).text
    assert "có sẵn, chưa được người bản ngữ duyệt" in page and "1719计划" in page
    assert post(editor, "approve", language="zh").status_code == 303, "a reviewer approves the shipped text"
    with db.transaction() as session:
        entry = session.get(QAEntry, ENTRY)
        assert entry is not None
        assert content_translations.readable(session, [entry], "zh")[ENTRY]["answer"].startswith("这是")
    with db.transaction() as session:  # importing the content again leaves the reviewer's approval be
        import_all(session, PROJECT_ROOT / "content")
        review = session.scalar(
            select(ContentReview).where(ContentReview.item_id == ENTRY, ContentReview.language == "zh")
        )
        assert review is not None and review.reviewed_by is not None and not review.shipped
    listing = editor.get("/admin/translations/en/content")
    assert listing.text.count('class="card translation"') == 25 and "Trang 1 / " in listing.text, "paged"


def test_only_translators_of_the_language_and_editors_open_it_and_hostile_text_is_escaped(
    live: LiveServer, db: Database, shipped: None
) -> None:
    add_admin(db, "dich-km", Role.translator, ("km",))
    add_admin(db, "dich-hmn", Role.translator, ("hmn",))
    with db.transaction() as session:
        accounts.create(
            session, username="can-bo", password=PASSWORD, role=Role.commune_officer, commune_codes=(3549,)
        )
    for name in ("dich-km", "can-bo"):
        browser = signed_in(live, name)
        assert browser.get("/admin/translations/hmn/content").status_code == 403, name
        token = csrf(browser.get("/admin/password"))
        refused = browser.post(
            "/admin/translations/hmn/content/save",
            data={"csrf_token": token, "entry_id": ENTRY, "question": "x 1719", "answer": ANSWER},
        )
        assert refused.status_code == 403, name
    hostile = '<script>alert("x")</script> ' + ANSWER
    translator = signed_in(live, "dich-hmn")
    assert post(translator, "save", question=QUESTION, answer=hostile).status_code == 303
    page = translator.get("/admin/translations/hmn/content", params={"q": "script"})
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    assert page.text.count('class="card translation"') == 1, "the search finds the translation's words"
    assert 'href="/admin/translations/hmn/content?kind=qa"' in translator.get("/admin/translations/hmn").text
    with db.transaction() as session:
        entry = session.get(QAEntry, ENTRY)
        assert entry is not None
        item = content_translations.items(session, "qa", "hmn", q=ENTRY)[0]
    assert item.state == TranslationState.draft and item.review is not None and item.review.reviewed is None


def test_a_translation_written_in_the_qa_editor_is_its_editors_draft(
    live: LiveServer, db: Database, shipped: None
) -> None:
    add_admin(db, "bien-tap", Role.editor)
    add_admin(db, "duyet-hmn", Role.translator, ("hmn",))
    editor = signed_in(live, "bien-tap")
    with db.transaction() as session:
        entry = session.get(QAEntry, ENTRY)
        assert entry is not None
        form = {
            "question": entry.question,
            "answer": entry.answer,
            "tags": ", ".join(entry.tags),
            "source_document": entry.source_document,
            "source_section": entry.source_section,
            "status": "published",
            "tq_en": entry.translations["en"]["question"],
            "ta_en": entry.translations["en"]["answer"],
            "tq_hmn": QUESTION,
            "ta_hmn": ANSWER,
        }
    page = editor.get(f"/admin/qa/{ENTRY}")
    assert editor.post(f"/admin/qa/{ENTRY}", data={"csrf_token": csrf(page), **form}).status_code == 303
    with db.transaction() as session:
        entry = session.get(QAEntry, ENTRY)
        assert entry is not None
        assert set(content_translations.readable(session, [entry], "en")) == {ENTRY}, "English untouched"
        assert content_translations.readable(session, [entry], "hmn") == {}, "a draft until approved"
    own = post(editor, "approve")
    assert own.status_code == 400 and "người thứ hai" in own.text
    assert post(signed_in(live, "duyet-hmn"), "approve").status_code == 303
    with db.transaction() as session:
        entry = session.get(QAEntry, ENTRY)
        assert entry is not None
        assert content_translations.readable(session, [entry], "hmn")[ENTRY]["answer"] == ANSWER


CHILD_MARRIAGE = "Tảo hôn là kết hôn khi nào?"
CONTEST_HMN = {
    "text": "[hmn] Yuav txij nkawm thaum ntxov yog thaum twg?",
    "option": ["[hmn] Tsis tau hnub nyoog", "[hmn] Txog hnub nyoog"],
    "explanation": "[hmn] Lus piav luv.",
}


def _contest_in_hmong(client: httpx.Client) -> list[str]:
    """A H'Mông person in the web chat registers and answers the open round (option A each time);
    everything the contest said to them."""
    web = WebDriver(client)
    onboard(web, "hmn")
    replies = _register(web, web.tap(web.send("menu")[-1].payload(CONTEST_MENU)), named=False)
    said = [r.text for r in replies] + [b for r in replies for b, _ in r.buttons]
    while asked := [r for r in replies if re.search(r"\d/3: ", r.text)]:
        replies = web.tap(asked[-1].payload("A. "))
        said += [r.text for r in replies] + [b for r in replies for b, _ in r.buttons]
    return said


def test_an_approved_contest_question_is_asked_in_hmong_and_a_draft_never(
    client: httpx.Client, live: LiveServer, db: Database
) -> None:
    contest_id = _contest(db)
    with db.transaction() as session:
        question = session.scalar(select(ContestQuestion).where(ContestQuestion.contest_id == contest_id))
        assert question is not None
        key = next(str(q.id) for q in question.contest.questions if q.texts["vi"] == CHILD_MARRIAGE)
    add_admin(db, "dich-hmn", Role.translator, ("hmn",))
    add_admin(db, "duyet-hmn", Role.translator, ("hmn",))
    translator, reviewer = signed_in(live, "dich-hmn"), signed_in(live, "duyet-hmn")
    page = translator.get("/admin/translations/hmn/content", params={"kind": "contest"}).text
    assert CHILD_MARRIAGE in page and "Chưa đủ tuổi" in page, "the Vietnamese beside the fields"
    short = post(translator, "save", kind="contest", entry_id=key, **CONTEST_HMN | {"option": ["[hmn] A"]})
    assert short.status_code == 400 and "Cần dịch đủ" in short.text, "every option the Vietnamese has"
    assert post(translator, "save", kind="contest", entry_id=key, **CONTEST_HMN).status_code == 303

    drafted = _contest_in_hmong(client)
    assert any(CHILD_MARRIAGE in s for s in drafted) and not any("[hmn" in s for s in drafted)

    assert post(reviewer, "approve", kind="contest", entry_id=key).status_code == 303
    approved = _contest_in_hmong(client)
    assert any(CONTEST_HMN["text"] in s for s in approved) and not any(CHILD_MARRIAGE in s for s in approved)
    assert any(s.startswith("A. [hmn] Tsis tau hnub nyoog") for s in approved), "its options too"
    assert any("[hmn] Lus piav luv." in s for s in approved), "and its explanation"
    assert any("Thẻ bảo hiểm y tế" in s for s in approved), "the others stay Vietnamese"


OTHER = "muc-tieu-giam-ngheo-2025"
ENGLISH = (
    "Decision 1719/QĐ-TTg of 14/10/2021 approved the national programme for ethnic minority and mountain "
    "areas (Programme 1719): ten years, 2021-2030, first phase 2021-2025."
)


def test_a_reimport_keeps_what_reviewers_approved_and_updates_what_nobody_touched(
    live: LiveServer, db: Database, shipped: None, tmp_path: Path
) -> None:
    add_admin(db, "dich", Role.translator, ("en", "hmn"))
    add_admin(db, "duyet", Role.translator, ("en", "hmn"))
    translator, reviewer = signed_in(live, "dich"), signed_in(live, "duyet")
    for language, answer in (("en", ENGLISH), ("hmn", ANSWER)):
        question = QUESTION if language == "hmn" else "Which programme did Decision 1719 approve?"
        saved = post(translator, "save", language=language, question=question, answer=answer)
        assert saved.status_code == 303
        assert post(reviewer, "approve", language=language).status_code == 303
    with db.transaction() as session:  # an English answer the team shipped once, which nobody touched
        other = session.get(QAEntry, OTHER)
        assert other is not None
        shipped_english = other.translations["en"]["answer"]
        other.translations = {**other.translations, "en": {"question": "Old?", "answer": "Old answer."}}

    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
    with db.transaction() as session:
        entry, other = session.get(QAEntry, ENTRY), session.get(QAEntry, OTHER)
        assert entry is not None and other is not None
        assert content_translations.readable(session, [entry], "en")[ENTRY]["answer"] == ENGLISH, "kept"
        assert content_translations.readable(session, [entry], "hmn")[ENTRY]["answer"] == ANSWER, (
            "a language the file does not ship is kept too"
        )
        review = session.scalar(
            select(ContentReview).where(ContentReview.item_id == ENTRY, ContentReview.language == "en")
        )
        assert review is not None and not review.shipped and review.reviewed_by is not None, "still theirs"
        assert other.translations["en"]["answer"] == shipped_english, "nobody's: the shipped text again"
        assert OTHER in content_translations.readable(session, [other], "en")

    # The shipped Vietnamese changes: the approvals lapse; the file's English comes in, the H'Mông it
    # does not ship stays as a draft to check against the new Vietnamese.
    rows = yaml.safe_load((PROJECT_ROOT / "content" / "knowledge" / "sample.yaml").read_text("utf-8"))
    changed = next(r for r in rows if r["id"] == ENTRY)
    changed["answer"] += " Chương trình có nhiều dự án."
    changed["translations"]["en"]["answer"] += " The programme has several projects."
    edited = tmp_path / "sample.yaml"
    edited.write_text(yaml.safe_dump(rows, allow_unicode=True), encoding="utf-8")
    with db.transaction() as session:
        import_knowledge(session, edited, reviewed=SHIPPED_REVIEWED)
    with db.transaction() as session:
        entry = session.get(QAEntry, ENTRY)
        assert entry is not None
        english = content_translations.readable(session, [entry], "en")[ENTRY]["answer"]
        assert english.endswith("several projects.") and english != ENGLISH, "the team's new English"
        assert content_translations.readable(session, [entry], "hmn") == {}, "approval lapsed"
        assert entry.translations["hmn"]["answer"] == ANSWER, "the reviewer's text waits for a new check"
    page = reviewer.get("/admin/translations/hmn/content", params={"q": ENTRY}).text
    assert "Tiếng Việt đã sửa sau lần duyệt trước" in page
