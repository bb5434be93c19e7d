"""Officials curating the Q&A: the list with use and ratings, import from Excel or YAML with row-level
errors, export that imports back unchanged."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

import httpx
import yaml
from alembic import command
from openpyxl import Workbook, load_workbook
from sqlalchemy import JSON, column, create_engine, table

from bot.accounts import service as accounts
from bot.accounts.models import Role
from bot.areas import villages as village_service
from bot.config import PROJECT_ROOT
from bot.content import import_all
from bot.db import Database, UTCDateTime, utcnow
from bot.migrations import alembic_config, upgrade
from bot.qa import service as qa
from bot.qa.models import EntryStatus, ForwardReason, OpenQuestion
from bot.qa.spreadsheet import rows_from_xlsx, xlsx_from_rows
from tests.test_admin import csrf, login, make_admin


def sheet(*rows: list[object]) -> bytes:
    """A workbook with a header row and the given rows."""
    book = Workbook()
    page = book.active
    page.append(
        [
            "id",
            "question",
            "alternatives",
            "answer",
            "tags",
            "source_document",
            "source_section",
            "valid_from",
            "status",
            "question:hmn",
            "answer:hmn",
        ]
    )
    for row in rows:
        page.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_excel_rows_read_as_the_yaml_format() -> None:
    data = sheet(
        [
            "nuoc",
            "Bản chưa có nước sạch?",
            "Thiếu nước | Không có nước",
            "Hỗ trợ bồn nước.",
            "nước, hạ tầng",
            "Kế hoạch X",
            "Mục 2",
            "2026-01-01",
            "published",
            "Peb tsis muaj dej?",
            "Pab thoob dej.",
        ],
        [None] * 11,
    )
    rows = rows_from_xlsx(data)
    assert rows[0] == {
        "id": "nuoc",
        "question": "Bản chưa có nước sạch?",
        "answer": "Hỗ trợ bồn nước.",
        "alternatives": ["Thiếu nước", "Không có nước"],
        "tags": ["nước", "hạ tầng"],
        "source": {"document": "Kế hoạch X", "section": "Mục 2"},
        "status": "published",
        "valid_from": "2026-01-01",
        "translations": {"hmn": {"question": "Peb tsis muaj dej?", "answer": "Pab thoob dej."}},
    }
    assert rows[1] is None, "a blank row is kept so later rows keep their sheet numbers"


def test_export_to_excel_imports_back_unchanged(db: Database) -> None:
    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
        before = qa.export_rows(session)
    again = rows_from_xlsx(xlsx_from_rows(before))
    assert [r["id"] for r in again] == [r["id"] for r in before]
    with db.transaction() as session:
        report = qa.import_rows(session, again, first_line=2)
        assert (report.created, report.updated, report.errors) == (0, len(before), [])
        assert qa.export_rows(session) == before


def test_admin_lists_entries_with_use_and_ratings(client: httpx.Client, db: Database) -> None:
    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
        entry = qa.get(session, entry_id="vai-tro-nguoi-co-uy-tin")
        assert entry is not None
        entry.served_count, entry.helpful_count, entry.unhelpful_count = 10, 3, 1
    make_admin(db, "xem", Role.viewer)
    login(client, "xem")
    page = client.get("/admin/qa", params={"q": "vai trò gì trong chương trình"})
    assert "Tìm thấy 1 mục" in page.text and "75%" in page.text
    assert 'action="/admin/qa/import"' not in page.text, "viewers do not import"
    refused = client.post(
        "/admin/qa/import",
        data={"csrf_token": csrf(page)},
        files={"file": ("a.yaml", b"[]", "application/yaml")},
    )
    assert refused.status_code == 403


def test_admin_import_refuses_a_file_with_a_bad_row_and_names_it(client: httpx.Client, db: Database) -> None:
    make_admin(db, "bien-tap", Role.editor)
    login(client, "bien-tap")
    page = client.get("/admin/qa")
    bad = sheet(
        ["ok", "Câu hỏi?", "", "Trả lời.", "", "", "", "", "published", "", ""],
        ["thieu", "Câu hỏi không có trả lời?", "", "", "", "", "", "", "published", "", ""],
    )
    refused = client.post(
        "/admin/qa/import",
        data={"csrf_token": csrf(page)},
        files={"file": ("hoi-dap.xlsx", bad, "application/octet-stream")},
    )
    assert refused.status_code == 400
    assert "dòng 3 (thieu): thiếu &#39;answer&#39;" in refused.text
    with db.transaction() as session:
        assert qa.get(session, entry_id="ok") is None, "nothing imported"
    skipped = client.post(
        "/admin/qa/import",
        data={"csrf_token": csrf(page), "skip_bad": "true"},
        files={"file": ("hoi-dap.xlsx", bad, "application/octet-stream")},
    )
    assert skipped.status_code == 200 and "Đã thêm 1, cập nhật 0 mục." in skipped.text
    not_a_sheet = client.post(
        "/admin/qa/import",
        data={"csrf_token": csrf(page)},
        files={"file": ("hoi-dap.xlsx", b"not a workbook", "application/octet-stream")},
    )
    assert not_a_sheet.status_code == 400 and "Excel" in not_a_sheet.text


def test_admin_downloads_excel_and_yaml(client: httpx.Client, db: Database) -> None:
    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
    make_admin(db, "tinh", Role.province_admin)
    login(client, "tinh")
    excel = client.get("/admin/qa/export.xlsx")
    assert excel.status_code == 200 and "loaban-hoi-dap.xlsx" in excel.headers["content-disposition"]
    shipped = sum(
        len(yaml.safe_load(p.read_text())) for p in (PROJECT_ROOT / "content/knowledge").glob("*.yaml")
    )
    assert shipped >= 60, "the sample knowledge base has at least 60 entries"
    assert load_workbook(io.BytesIO(excel.content)).active.max_row == shipped + 1  # and the header
    rows = yaml.safe_load(client.get("/admin/qa/export.yaml").text)
    assert len(rows) == shipped and all(row["source"]["document"] for row in rows)
    assert client.get("/admin/qa/export.csv").status_code == 404


def test_an_editor_edits_an_entry_with_translations_through_the_import_checks(
    client: httpx.Client, db: Database
) -> None:
    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
    make_admin(db, "bientap", Role.editor)
    login(client, "bientap")
    page = client.get("/admin/qa/ct1719-la-gi")
    assert (
        page.status_code == 200 and "Quyết định 1719 của Thủ tướng phê duyệt chương trình nào?" in page.text
    )
    form = {
        "csrf_token": csrf(page),
        "question": "Chương trình 1719 là chương trình gì?",
        "alternatives": "1719 la gi\nchương trình dân tộc là gì",
        "answer": "Là chương trình phát triển vùng đồng bào dân tộc thiểu số <b>2021-2030</b>.",
        "tags": "chương trình 1719, tổng quan",
        "source_document": "Quyết định 1719/QĐ-TTg",
        "source_section": "Điều 1",
        "status": "published",
        "tq_hmn": "Txoj kev pab 1719 yog dab tsi?",
        "ta_hmn": "Yog txoj kev pab cov haiv neeg tsawg.",
        "valid_to": "2030-12-31",
    }
    saved = client.post("/admin/qa/ct1719-la-gi", data=form)
    assert saved.status_code == 303
    shown = client.get(saved.headers["location"]).text
    assert "Đã lưu" in shown and "&lt;b&gt;2021-2030&lt;/b&gt;" in shown and "Txoj kev pab 1719" in shown
    with db.transaction() as session:
        entry = qa.get(session, entry_id="ct1719-la-gi")
        assert entry is not None and entry.alternatives == ["1719 la gi", "chương trình dân tộc là gì"]
        assert entry.translations == {
            "hmn": {
                "question": "Txoj kev pab 1719 yog dab tsi?",
                "answer": "Yog txoj kev pab cov haiv neeg tsawg.",
            }
        }
        assert str(entry.valid_to) == "2030-12-31"

    bad = client.post("/admin/qa/ct1719-la-gi", data=form | {"valid_from": "31/12/2030", "answer": ""})
    assert bad.status_code == 400 and "thiếu &#39;answer&#39;" in bad.text

    created = client.post(
        "/admin/qa/new",
        data=form
        | {"id": "vay-von-moi", "question": "Vay vốn ở đâu?", "answer": "Ngân hàng Chính sách xã hội."},
    )
    assert created.status_code == 303 and created.headers["location"].startswith("/admin/qa/vay-von-moi")
    again = client.post("/admin/qa/new", data=form | {"id": "vay-von-moi"})
    assert again.status_code == 400 and "đã có" in again.text
    gone = client.post("/admin/qa/vay-von-moi/delete", data={"csrf_token": csrf(page)})
    assert gone.status_code == 303 and client.get("/admin/qa/vay-von-moi").status_code == 404


def test_a_viewer_reads_entries_but_cannot_change_them(client: httpx.Client, db: Database) -> None:
    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
    make_admin(db, "xem", Role.viewer)
    login(client, "xem")
    page = client.get("/admin/qa/ct1719-la-gi")
    assert page.status_code == 200 and "<fieldset disabled>" in page.text
    refused = client.post(
        "/admin/qa/ct1719-la-gi", data={"csrf_token": csrf(page), "question": "x", "answer": "y"}
    )
    assert refused.status_code == 403
    assert client.get("/admin/qa/new").status_code == 403


def test_the_search_finds_entries_typed_without_marks_or_in_shorthand(
    client: httpx.Client, db: Database
) -> None:
    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
        qa.import_rows(
            session,
            [
                {
                    "id": "vay-von-chan-nuoi",
                    "question": "Vay vốn chăn nuôi ở đâu?",
                    "answer": "Ngân hàng Chính sách xã hội cho hộ nghèo vay.",
                    "status": "draft",
                    "area": {"provinces": [12], "communes": [3549]},
                },
                {
                    "id": "von-vay-khac",
                    "question": "Hộ có vốn thì có được vay nữa không?",
                    "answer": "Được.",
                },
            ],
        )
    make_admin(db, "xem", Role.viewer)
    login(client, "xem")

    def found(q: str, **params: str) -> list[str]:
        page = client.get("/admin/qa", params={"q": q, **params})
        assert page.status_code == 200
        return re.findall(r'<a href="/admin/qa/([^"]+)"><strong>', page.text)

    assert found("bao hiem y te") == found("bhyt") == found("BHYT")
    assert found("bhyt")[0] == "muc-tieu-bao-hiem-y-te", "the entry that says it as a phrase first"
    assert "muc-tieu-2030-ho-ngheo" in found("ho ngheo")
    ranked = found("vay von")
    assert ranked.index("vay-von-chan-nuoi") < ranked.index("von-vay-khac"), (
        "the phrase first, then all syllables"
    )
    assert found("vay von", status="draft") == ["vay-von-chan-nuoi"]
    page = client.get("/admin/qa", params={"q": "vay von"})
    assert re.search(
        r'vay-von-chan-nuoi.*?<td data-label="Áp dụng ở">Lai Châu, Xã Phong Thổ</td>.*?Bản nháp',
        page.text,
        re.S,
    )
    assert re.search(r'von-vay-khac.*?<td data-label="Áp dụng ở">Toàn quốc</td>.*?Đã đăng', page.text, re.S)

    missed = client.get("/admin/qa", params={"q": "<b>xyzzy</b>"})
    assert "Không tìm thấy mục nào khớp với «&lt;b&gt;xyzzy&lt;/b&gt;»." in missed.text
    assert "Chưa có mục hỏi đáp nào" not in missed.text and "<b>xyzzy" not in missed.text


def test_an_empty_knowledge_base_says_so(client: httpx.Client, db: Database) -> None:
    make_admin(db, "xem", Role.viewer)
    login(client, "xem")
    assert "Chưa có mục hỏi đáp nào." in client.get("/admin/qa", params={"q": "bhyt"}).text


def set_unit(client: httpx.Client, db: Database, username: str, unit: str) -> None:
    """A province admin gives an account its unit through the account form, keeping the rest."""
    with db.transaction() as session:
        target = accounts.get_by_username(session, username)
        assert target is not None
        target_id, role, communes = target.id, target.role.value, ", ".join(map(str, target.commune_codes))
    form = client.get(f"/admin/admins/{target_id}")
    assert 'name="unit"' in form.text
    saved = client.post(
        f"/admin/admins/{target_id}",
        data={
            "csrf_token": csrf(form),
            "role": role,
            "full_name": "Lò Thị Hoa",
            "unit": unit,
            "communes": communes,
            "active": "true",
        },
    )
    assert saved.status_code == 303


def test_an_account_has_a_unit(client: httpx.Client, db: Database) -> None:
    make_admin(db, "tinh")
    make_admin(db, "phongtho", Role.commune_officer, (3549,))
    login(client, "tinh")
    set_unit(client, db, "phongtho", "UBND xã <Phong Thổ>")
    assert "UBND xã &lt;Phong Thổ&gt;" in client.get("/admin/admins").text
    with db.transaction() as session:
        officer = accounts.get_by_username(session, "phongtho")
        assert officer is not None and officer.unit == "UBND xã <Phong Thổ>"
        assert officer.commune_codes == [3549] and officer.full_name == "Lò Thị Hoa"


def test_the_editor_sets_where_an_entry_holds_by_names(client: httpx.Client, db: Database) -> None:
    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
    make_admin(db, "bientap", Role.editor)
    login(client, "bientap")
    page = client.get("/admin/qa/ct1719-la-gi")
    assert "Áp dụng ở" in page.text and page.text.count('name="provinces"') == 34
    lai_chau = re.search(r'name="provinces" value="(\d+)" *> Lai Châu<', page.text)
    assert lai_chau is not None

    found = client.get("/admin/communes", params={"commune_q": "phong tho"})
    assert found.status_code == 200
    phong_tho = re.search(
        r'name="communes" value="(\d+)"> Xã Phong Thổ <span class="muted">· Lai Châu', found.text
    )
    assert phong_tho is not None and "checked" not in found.text
    kept = client.get("/admin/communes", params={"commune_q": "phong", "communes": phong_tho[1]})
    assert kept.text.startswith(
        f'<label class="check"><input type="checkbox" name="communes" value="{phong_tho[1]}" checked>'
    )
    assert kept.text.count(f'value="{phong_tho[1]}"') == 1, "a ticked commune is not offered twice"
    near = client.get("/admin/communes", params={"commune_q": "phong", "provinces": lai_chau[1]})
    first = re.search(r'name="communes" value="\d+"> [^<]+<span class="muted">· ([^<]+)</span>', near.text)
    assert first is not None and first[1] == "Lai Châu", "the ticked province's communes first"
    nothing = client.get("/admin/communes", params={"commune_q": "<i>zzz</i>"})
    assert "Không có xã, phường nào tên «&lt;i&gt;zzz&lt;/i&gt;»." in nothing.text

    form = {
        "csrf_token": csrf(page),
        "question": "Chương trình 1719 là chương trình gì?",
        "answer": "Là chương trình phát triển vùng đồng bào dân tộc thiểu số.",
        "status": "published",
    }
    saved = client.post(
        "/admin/qa/ct1719-la-gi", data=form | {"provinces": lai_chau[1], "communes": phong_tho[1]}
    )
    assert saved.status_code == 303
    with db.transaction() as session:
        entry = qa.get(session, entry_id="ct1719-la-gi")
        assert entry is not None and (entry.provinces, entry.communes) == ([12], [3549])
    shown = client.get("/admin/qa/ct1719-la-gi").text
    assert re.search(rf'value="{lai_chau[1]}" checked> Lai Châu<', shown)
    assert f'value="{phong_tho[1]}" checked> Xã Phong Thổ' in shown
    listed = client.get("/admin/qa", params={"q": "1719 la gi"}).text
    assert '<td data-label="Áp dụng ở">Lai Châu, Xã Phong Thổ</td>' in listed

    refused = client.post("/admin/qa/ct1719-la-gi", data=form | {"communes": ["3549", "999999"]})
    assert refused.status_code == 400 and "không có tỉnh, xã mang mã 999999" in refused.text
    assert f'value="{phong_tho[1]}" checked>' in refused.text, "the refused form keeps what was ticked"

    assert client.post("/admin/qa/ct1719-la-gi", data=form).status_code == 303
    with db.transaction() as session:
        entry = qa.get(session, entry_id="ct1719-la-gi")
        assert entry is not None and entry.nationwide, "nothing ticked: nationwide"


def ask(db: Database, text: str, ago: timedelta, commune: int = 3549, **fields: Any) -> int:
    """A question forwarded to the officials some time ago, as the chat side stores it."""
    with db.transaction() as session:
        question = OpenQuestion(commune_code=commune, text=text, created_at=utcnow() - ago, **fields)
        session.add(question)
        session.flush()
        return question.id


def test_the_inbox_shows_where_and_how_long_each_question_waited_and_what_the_bot_did(
    client: httpx.Client, db: Database
) -> None:
    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
        village = village_service.create(session, commune_code=3549, name="Bản <Nà> Lang").id
        offered = ["muc-tieu-giam-ngheo-2025", "muc-tieu-2030-ho-ngheo", "doi-tuong-giam-ngheo"]
        wordings = [qa.entry_questions(session, offered)[e] for e in offered]
    hostile = ask(
        db, "<script>alert(1)</script> bò ốm gọi ai?", timedelta(minutes=10), reason=ForwardReason.not_covered
    )
    unsure = ask(
        db,
        "ho ngheo duoc ho tro gi",
        timedelta(hours=5, minutes=20),
        village_id=village,
        reason=ForwardReason.unsure,
        offered=offered,
    )
    unhelpful = ask(
        db,
        "the bhyt het han thi sao",
        timedelta(days=3, hours=2),
        village_id=village,
        reason=ForwardReason.unhelpful,
        answered_with="muc-tieu-bao-hiem-y-te",
    )
    typed = ask(db, "Cho tôi gặp cán bộ", timedelta(days=1, hours=1), reason=ForwardReason.typed)
    elsewhere = ask(db, "Câu hỏi của xã khác", timedelta(days=9), commune=3445)
    make_admin(db, "phongtho", Role.commune_officer, (3549,))
    login(client, "phongtho")
    page = client.get("/admin/questions").text

    order = [page.find(f'id="question-{i}"') for i in (unhelpful, typed, unsure, hostile)]
    assert -1 not in order and order == sorted(order), "the longest waiting first"
    assert f'id="question-{elsewhere}"' not in page and "xã khác" not in page, "only the officer's communes"
    assert "chờ 3 ngày" in page and "chờ 1 ngày" in page and "chờ 5 giờ" in page and "chờ 10 phút" in page
    assert page.count("Xã Phong Thổ · Bản &lt;Nà&gt; Lang") == 2
    assert "&lt;script&gt;alert(1)&lt;/script&gt; bò ốm gọi ai?" in page and "<script>alert" not in page
    card = page[page.find(f'id="question-{unhelpful}"') :]
    assert re.search(
        r"Loa Bản đã trả lời bằng: <a [^>]+>«Tỷ lệ người dân tộc thiểu số tham gia bảo hiểm y tế[^»]*»</a> — "
        r"người hỏi báo là chưa đúng ý \(👎\)",
        card,
    )
    card = page[page.find(f'id="question-{unsure}"') :]
    assert "Loa Bản đã gợi ý: " + "; ".join(
        f'<a href="/admin/qa/{e}">«{w}»</a>' for e, w in zip(offered, wordings, strict=True)
    ) in " ".join(card.split())
    card = page[page.find(f'id="question-{hostile}"') :]
    assert "Loa Bản chưa có thông tin về việc này" in card.split("</section>")[0]
    assert "Người hỏi gửi thẳng cho cán bộ" in page
    assert not {"not_covered", "unhelpful", "unsure", "typed"} & set(re.findall(r"\w+", page))


def test_the_inbox_says_it_lists_the_questions_people_sent_not_all_unanswered_ones(
    client: httpx.Client, db: Database
) -> None:
    """A question asked and not sent is not in the inbox, so the page must not claim to list what Loa Bản
    could not answer."""
    ask(db, "Câu hỏi đã gửi", timedelta(hours=1), reason=ForwardReason.unsure)
    make_admin(db, "phongtho", Role.commune_officer, (3549,))
    login(client, "phongtho")
    page = client.get("/admin/questions").text
    assert "<h1>Câu hỏi bà con gửi cán bộ" in page
    assert "Những câu bà con đã bấm gửi cho cán bộ" in page
    assert "Câu bà con hỏi mà không bấm gửi thì không có trong danh sách này." in page
    assert "chưa chắc trả lời đúng" not in page


def test_the_inbox_pages_when_many_wait(client: httpx.Client, db: Database) -> None:
    ids = [ask(db, f"Câu hỏi số {n}", timedelta(hours=40 - n)) for n in range(30)]
    make_admin(db, "tinh")
    login(client, "tinh")
    first = client.get("/admin/questions").text
    assert "Trang 1 / 2" in first and first.count('class="card question') == 25
    assert f'id="question-{ids[0]}"' in first and f'id="question-{ids[25]}"' not in first
    second = client.get("/admin/questions", params={"page": 2}).text
    assert second.count('class="card question') == 5 and f'id="question-{ids[29]}"' in second


def test_an_answered_question_becomes_a_draft_an_editor_publishes(client: httpx.Client, db: Database) -> None:
    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
        entries = len(qa.export_rows(session))
    for name, role, communes in [
        ("tinh", Role.province_admin, ()),
        ("phongtho", Role.commune_officer, (3549,)),
        ("ngoai", Role.commune_officer, (3445,)),
        ("bientap", Role.editor, ()),
    ]:
        make_admin(db, name, role, communes)
    login(client, "tinh")
    set_unit(client, db, "phongtho", "UBND xã Phong Thổ")
    wording = "bo nha toi bi om thi goi ai <b>gấp</b>"
    answer = "Gọi cán bộ thú y xã, số điện thoại dán ở nhà văn hóa thôn."
    question_id = ask(db, wording, timedelta(hours=3), reason=ForwardReason.not_covered)
    with httpx.Client(base_url=str(client.base_url)) as officer:
        login(officer, "phongtho")
        inbox = officer.get("/admin/questions")
        answered = officer.post(
            f"/admin/questions/{question_id}/answer", data={"answer": answer, "csrf_token": csrf(inbox)}
        )
        assert answered.status_code == 303
        inbox = officer.get("/admin/questions")
        assert f'href="/admin/questions/{question_id}/to-entry">Thêm vào hỏi đáp</a>' in inbox.text

        editor = officer.get(f"/admin/questions/{question_id}/to-entry")
        assert editor.status_code == 200
        assert 'name="question" required maxlength="500" value=""' in editor.text, "the question is to write"
        assert (
            'Người dân hỏi: <strong class="pre">«bo nha toi bi om thi goi ai &lt;b&gt;gấp&lt;/b&gt;»'
            in editor.text
        )
        assert (
            f'name="alternatives" rows="3">{wording.replace("<", "&lt;").replace(">", "&gt;")}</textarea>'
            in editor.text
        )
        assert f">{answer}</textarea>" in editor.text
        assert 'name="source_document" maxlength="300" value="Lò Thị Hoa, UBND xã Phong Thổ"' in editor.text
        assert 'name="communes" value="3549" checked> Xã Phong Thổ' in editor.text, "the person's commune"
        assert 'name="status"' not in editor.text and "Lưu bản nháp" in editor.text
        form = {
            "csrf_token": csrf(editor),
            "question": "Bò bị ốm thì báo cho ai?",
            "alternatives": wording,
            "answer": answer,
            "source_document": "Lò Thị Hoa, UBND xã Phong Thổ",
            "communes": "3549",
        }
        assert (
            officer.post(
                f"/admin/questions/{question_id}/to-entry", data=form | {"status": "published"}
            ).status_code
            == 403
        )
        unwritten = officer.post(f"/admin/questions/{question_id}/to-entry", data=form | {"question": ""})
        assert unwritten.status_code == 400 and "thiếu &#39;question&#39;" in unwritten.text
        with httpx.Client(base_url=str(client.base_url)) as outsider:
            login(outsider, "ngoai")
            assert outsider.get(f"/admin/questions/{question_id}/to-entry").status_code == 404

        saved = officer.post(f"/admin/questions/{question_id}/to-entry", data=form)
        assert (
            saved.status_code == 303
            and saved.headers["location"] == "/admin/qa/bo-bi-om-thi-bao-cho-ai?saved=true"
        )
        shown = officer.get(saved.headers["location"])
        assert "Đã lưu bản nháp. Loa Bản chưa trả lời bằng mục này" in shown.text
        assert "<fieldset disabled>" in shown.text, "an officer reads the draft, editors change it"
        with db.transaction() as session:
            entry = qa.get(session, entry_id="bo-bi-om-thi-bao-cho-ai")
            assert entry is not None and len(qa.export_rows(session)) == entries + 1
            assert (entry.question, entry.alternatives, entry.answer) == (
                "Bò bị ốm thì báo cho ai?",
                [wording],
                answer,
            )
            assert entry.source_document == "Lò Thị Hoa, UBND xã Phong Thổ" and entry.communes == [3549]
            assert entry.status == EntryStatus.draft
            assert entry not in qa.published_today(session, date.today()), "a draft is never answered with"
            linked = session.get(OpenQuestion, question_id)
            assert linked is not None and linked.entry_id == entry.id
        assert officer.get(f"/admin/questions/{question_id}/to-entry").status_code == 409, "not added twice"
        assert officer.post(f"/admin/questions/{question_id}/to-entry", data=form).status_code == 409
        assert (
            'href="/admin/qa/bo-bi-om-thi-bao-cho-ai">Đã thành mục hỏi đáp'
            in officer.get("/admin/questions").text
        )
        publish = form | {"status": "published", "csrf_token": csrf(shown)}
        assert officer.post("/admin/qa/bo-bi-om-thi-bao-cho-ai", data=publish).status_code == 403

    login(client, "bientap")
    page = client.get("/admin/qa", params={"q": "bo bi om", "status": "draft"})
    assert '<a href="/admin/qa/bo-bi-om-thi-bao-cho-ai">' in page.text and "Xã Phong Thổ" in page.text
    published = client.post("/admin/qa/bo-bi-om-thi-bao-cho-ai", data=publish | {"csrf_token": csrf(page)})
    assert published.status_code == 303
    with db.transaction() as session:
        assert "bo-bi-om-thi-bao-cho-ai" in {e.id for e in qa.published_today(session, date.today())}


def test_without_a_unit_the_source_names_the_role_and_communes(client: httpx.Client, db: Database) -> None:
    make_admin(db, "phongtho", Role.commune_officer, (3549,))
    question_id = ask(db, "Ai sửa đường vào bản?", timedelta(days=1))
    login(client, "phongtho")
    inbox = client.get("/admin/questions")
    client.post(
        f"/admin/questions/{question_id}/answer", data={"answer": "UBND xã.", "csrf_token": csrf(inbox)}
    )
    editor = client.get(f"/admin/questions/{question_id}/to-entry").text
    assert 'name="source_document" maxlength="300" value="phongtho, Cán bộ xã, Xã Phong Thổ"' in editor


def test_the_migration_gives_existing_entries_their_search_text(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "0009")
    entries = table(
        "qa_entries",
        *(column(name) for name in ("id", "question", "answer", "source_document", "source_section")),
        *(column(name, JSON) for name in ("alternatives", "tags", "translations", "provinces", "communes")),
        *(column(name) for name in ("status", "served_count", "helpful_count", "unhelpful_count")),
        *(column(name, UTCDateTime) for name in ("created_at", "updated_at")),
    )
    engine = create_engine(database_url)
    with engine.begin() as conn:  # an entry written before 0010, by the schema of 0009
        conn.execute(
            entries.insert().values(
                id="the-bhyt",
                question="Thẻ BHYT làm ở đâu?",
                alternatives=["mất thẻ bảo hiểm"],
                answer="Ở UBND xã.",
                tags=["y tế"],
                translations={},
                provinces=[],
                communes=[],
                source_document="",
                source_section="",
                status="published",
                served_count=0,
                helpful_count=0,
                unhelpful_count=0,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    engine.dispose()
    upgrade(database_url)
    database = Database(database_url)
    with database.transaction() as session:
        entry = qa.get(session, entry_id="the-bhyt")
        assert entry is not None
        assert entry.search_text == " the bhyt | the bhyt lam o dau | mat the bao hiem | o ubnd xa | y te "
        assert qa.get_all(session, query="bảo hiểm", offset=0, limit=5)[0] == [entry]
    database.dispose()


def test_the_inbox_shows_only_questions_waiting_longer_than_the_chosen_days_oldest_first_in_pages(
    client: httpx.Client, db: Database
) -> None:
    """'chờ quá 3 ngày' lists the officer's questions sent more than three days ago, the oldest first, in
    pages that keep the filter; the questions of another commune stay out whatever they waited."""
    old = [ask(db, f"Câu hỏi cũ {n}", timedelta(days=3, hours=30 - n)) for n in range(27)]
    recent = ask(db, "Câu hỏi hôm qua", timedelta(days=1, hours=2))
    fresh = ask(db, "Câu hỏi mới", timedelta(hours=3))
    elsewhere = ask(db, "Câu hỏi của xã khác", timedelta(days=9), commune=3445)
    make_admin(db, "phongtho", Role.commune_officer, (3549,))
    login(client, "phongtho")

    def shown(**params: Any) -> list[int]:
        page = client.get("/admin/questions", params=params).text
        return [int(i) for i in re.findall(r'<section class="card question[^"]*" id="question-(\d+)"', page)]

    first, second = shown(over=3), shown(over=3, page=2)
    assert first == old[:25] and second == old[25:], "the oldest first, 25 a page"
    page = client.get("/admin/questions", params={"over": 3}).text
    assert "(27)" in page and 'href="?over=3&page=2"' in page, "the count and the next page keep the filter"
    assert shown(over=1) == [*old[:25]] and shown(over=1, page=2) == [*old[25:], recent]
    assert (
        shown(over=7) == []
        and "Không có câu hỏi nào chờ quá 7 ngày." in client.get("/admin/questions", params={"over": 7}).text
    )
    assert fresh in shown() + shown(page=2) and elsewhere not in shown() + shown(page=2)
    assert shown(over=5) == shown(), "a wait not offered shows every question"
