"""The audit log, read in words: who did what to which object, with Vietnamese labels and names, never
raw action codes, ids or JSON escapes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from admin.common import PAGE_SIZE, ROLE_LABELS, Page, render
from admin.deps import ProvinceAdminDep, SessionDep, admin_gettext, csrf_protect
from bot.accounts import service as accounts
from bot.accounts.models import AuditEntry, Role
from bot.areas import service as areas
from bot.conversation.feedback import STATUS_LABELS as TICKET_LABELS
from bot.conversation.privacy import ROLES as PERSON_ROLES
from bot.i18n import mark
from bot.people.models import PersonRole
from bot.qa.models import EntryStatus

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])

ACTIONS = {
    "login": mark("Đăng nhập"),
    "login_failed": mark("Đăng nhập sai"),
    "password_changed": mark("Đổi mật khẩu"),
    "admin_created": mark("Tạo tài khoản"),
    "admin_created_cli": mark("Tạo tài khoản (dòng lệnh)"),
    "admin_updated": mark("Sửa tài khoản"),
    "admin_password_reset": mark("Đặt lại mật khẩu"),
    "chat_link_code": mark("Tạo mã nối Telegram"),
    "cli": mark("Dòng lệnh"),
    "village_created": mark("Thêm thôn, bản"),
    "village_renamed": mark("Đổi tên thôn, bản"),
    "village_deleted": mark("Xóa thôn, bản"),
    "person_role": mark("Đổi vai trò người dân"),
    "invite_created": mark("Tạo mã mời người có uy tín"),
    "bulletin_created": mark("Soạn bản tin"),
    "bulletin_sent": mark("Gửi bản tin"),
    "bulletin_pause": mark("Tạm dừng bản tin"),
    "bulletin_resume": mark("Gửi tiếp bản tin"),
    "bulletin_cancel": mark("Hủy gửi bản tin"),
    "poll_saved": mark("Lưu thăm dò ý kiến"),
    "poll_opened": mark("Mở thăm dò ý kiến"),
    "poll_closed": mark("Đóng thăm dò ý kiến"),
    "poll_published": mark("Gửi kết quả thăm dò cho người trả lời"),
    "contest_saved": mark("Lưu cuộc thi"),
    "contest_round_saved": mark("Lưu vòng thi"),
    "contest_question_saved": mark("Lưu câu hỏi cuộc thi"),
    "contest_questions_imported": mark("Nhập câu hỏi cuộc thi từ Excel"),
    "contest_invited": mark("Soạn bản tin mời dự thi"),
    "contest_published": mark("Gửi kết quả vòng thi cho người dự thi"),
    "qa_imported": mark("Nhập hỏi đáp từ tệp"),
    "qa_entry_saved": mark("Lưu mục hỏi đáp"),
    "qa_entry_deleted": mark("Xóa mục hỏi đáp"),
    "qa_entry_from_question": mark("Soạn mục hỏi đáp từ câu hỏi"),
    "question_answered": mark("Trả lời câu hỏi"),
    "feedback_category_saved": mark("Lưu loại phản ánh"),
    "ticket_answered": mark("Trả lời phản ánh"),
    "ticket_assigned": mark("Giao phản ánh"),
    "ticket_status": mark("Đổi trạng thái phản ánh"),
    "ticket_transferred": mark("Chuyển phản ánh sang xã khác"),
    "ticket_forwarded": mark("Chuyển phản ánh cho cơ quan"),
    "ticket_merged": mark("Gộp phản ánh trùng"),
    "reply_template_created": mark("Thêm mẫu trả lời"),
    "reply_template_deleted": mark("Xóa mẫu trả lời"),
    "translation_saved": mark("Lưu bản dịch"),
    "translation_approved": mark("Duyệt bản dịch"),
    "translations_imported": mark("Nhập bản dịch từ tệp"),
    "content_translation_saved": mark("Lưu bản dịch nội dung"),
    "content_translation_approved": mark("Duyệt bản dịch nội dung"),
    "prompt_clip_recorded": mark("Ghi âm lời đọc"),
    "prompt_clip_approved": mark("Duyệt bản ghi lời đọc"),
    "prompt_clip_deleted": mark("Xóa bản ghi lời đọc"),
}
OBJECTS = {
    "admin": mark("Tài khoản #{id}"),
    "village": mark("Thôn, bản #{id}"),
    "person": mark("Người dân #{id}"),
    "ticket": mark("Phản ánh {id}"),
    "bulletin": mark("Bản tin #{id}"),
    "poll": mark("Thăm dò #{id}"),
    "contest": mark("Cuộc thi #{id}"),
    "question": mark("Câu hỏi #{id}"),
    "template": mark("Mẫu trả lời #{id}"),
    "qa": mark("Mục hỏi đáp «{id}»"),
    "invite": mark("Mã mời {id}"),
    "category": mark("Loại phản ánh #{id}"),
    "translation": mark("Bản dịch ({id})"),
}
# Actions that record their object without a "kind:" prefix (a ticket's code, a bulletin's or person's id).
IMPLIED_OBJECTS = {
    "bulletin_created": "bulletin",
    "bulletin_sent": "bulletin",
    "bulletin_pause": "bulletin",
    "bulletin_resume": "bulletin",
    "bulletin_cancel": "bulletin",
    "poll_saved": "poll",
    "poll_opened": "poll",
    "poll_closed": "poll",
    "poll_published": "poll",
    "contest_saved": "contest",
    "contest_round_saved": "contest",
    "contest_question_saved": "contest",
    "contest_questions_imported": "contest",
    "contest_invited": "contest",
    "contest_published": "contest",
    "person_role": "person",
    "invite_created": "invite",
    "feedback_category_saved": "category",
    "ticket_answered": "ticket",
    "ticket_assigned": "ticket",
    "ticket_status": "ticket",
    "ticket_transferred": "ticket",
    "ticket_forwarded": "ticket",
    "ticket_merged": "ticket",
}
DETAILS = {
    "role": mark("vai trò"),
    "name": mark("tên"),
    "title": mark("tiêu đề"),
    "recipients": mark("số người nhận"),
    "created": mark("tạo mới"),
    "updated": mark("cập nhật"),
    "skipped": mark("bỏ qua"),
    "status": mark("trạng thái"),
    "commune": mark("xã"),
    "username": mark("tên đăng nhập"),
    "code": mark("mã"),
    "saved": mark("đã lưu"),
    "error": mark("lỗi"),
    "link": mark("liên kết"),
    "entry": mark("mục hỏi đáp"),
    "into": mark("gộp vào"),
    "agency": mark("cơ quan"),
    "round": mark("vòng thi"),
    "question": mark("câu hỏi"),
    "msgid": mark("câu gốc"),
    "language": mark("ngôn ngữ"),
    "seconds": mark("số giây"),
}
STATUSES: dict[str, str] = {
    **{status.value: label for status, label in TICKET_LABELS.items()},
    EntryStatus.draft.value: mark("Bản nháp"),
    EntryStatus.published.value: mark("Đã đăng"),
}


@dataclass(frozen=True)
class Line:
    """One audit entry as an official reads it."""

    entry: AuditEntry
    action: str
    target: str
    detail: str


def describe(entry: AuditEntry, _: Callable[[str], str]) -> Line:
    """The entry's action, object and details in words; an unknown action is shown as stored."""
    kind, sep, ident = entry.target.partition(":")
    if not sep:
        kind, ident = IMPLIED_OBJECTS.get(entry.action, ""), entry.target
    target = _(OBJECTS[kind]).format(id=ident) if kind in OBJECTS and ident else entry.target
    parts = [f"{_(DETAILS[k]) if k in DETAILS else k}: {_value(k, v, _)}" for k, v in entry.detail.items()]
    return Line(
        entry, _(ACTIONS[entry.action]) if entry.action in ACTIONS else entry.action, target, "; ".join(parts)
    )


def _value(key: str, value: Any, _: Callable[[str], str]) -> str:
    """A detail's value: roles and statuses by label, communes by name, everything else as plain text."""
    if key == "role" and value in {r.value for r in Role}:
        return _(ROLE_LABELS[Role(value)])
    if key == "role" and value in {r.value for r in PersonRole}:
        return _(PERSON_ROLES[PersonRole(value)])
    if key == "status" and value in STATUSES:
        return _(STATUSES[value])
    if key == "commune" and isinstance(value, int) and (commune := areas.get_commune(value)) is not None:
        return commune.name
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request, session: SessionDep, admin: ProvinceAdminDep, page: Annotated[int, Query(ge=1)] = 1
) -> Response:
    """Every admin action, newest first."""
    rows, total = accounts.audit_page(session, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    _ = admin_gettext(request)
    return render(request, "audit.html", admin, rows=[describe(e, _) for e in rows], page=Page(page, total))
