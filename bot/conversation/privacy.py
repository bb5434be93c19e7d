"""A person's rights over their data in the conversation: see what is kept ('📄 Dữ liệu của tôi', with
the whole of it as a file), agree to the notice later, erase their data; and the notice asked again before
anything else when its text changed since they agreed."""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.areas import service as areas
from bot.conversation import onboarding
from bot.conversation.router import Context, Router
from bot.conversation.types import Attachment, Button, Reply
from bot.i18n import KNOWN_LANGUAGES, format_day, mark
from bot.media import store
from bot.people import service as people
from bot.people.models import PersonRole
from bot.privacy import copies
from bot.privacy import service as privacy

log = logging.getLogger(__name__)
SHOWN_CODES = 10
ROLES = {PersonRole.villager: mark("người dân"), PersonRole.prestigious: mark("người có uy tín")}
# Buttons a person whose notice changed may still use before answering it: their rights come first.
BEFORE_NOTICE = {"consent", "erase", "erase_yes", "my_data"}


def notice_changed(ctx: Context) -> bool:
    """Someone who agreed to an older text of the notice answers the new one first (the menu follows);
    True when this message was taken for that."""
    if not privacy.outdated(ctx.person):
        return False
    if ctx.inbound.kind == "button" and ctx.inbound.payload.split(":", 1)[0] in BEFORE_NOTICE:
        return False
    onboarding.ask_consent(ctx, changed=True)
    return True


def ask_again(ctx: Context) -> None:
    """'consent_ask' from settings: a person who said no may agree now."""
    onboarding.ask_consent(ctx)


def my_data(ctx: Context) -> None:
    """What Loa Bản holds about the person, in short, and all of it as a JSON file whose link expires,
    sent by a job once the file is written (see privacy.copies)."""
    _ = ctx._
    held = privacy.holdings(ctx.session, ctx.person)
    person = held.person
    language = KNOWN_LANGUAGES.get(person.language or "")
    village = person.village.name if person.village else ""
    commune = areas.get_commune(person.commune_code or 0)
    province = areas.get_province(person.province_code or 0)
    place = ", ".join(
        n for n in (village, commune.name if commune else "", province.name if province else "") if n
    )
    if person.consented_at is not None:
        consent = _("Đồng ý lưu dữ liệu lúc {time} (thông báo bản ngày {day})").format(
            time=_when(ctx, person.consented_at), day=_notice_day(ctx)
        )
    elif person.declined_at is not None:
        consent = _(
            "Không đồng ý lưu dữ liệu lúc {time} (thông báo bản ngày {day}): không giữ tên bạn"
        ).format(time=_when(ctx, person.declined_at), day=_notice_day(ctx))
    else:
        consent = _("Chưa trả lời về việc lưu dữ liệu")
    codes = ", ".join(held.tickets[:SHOWN_CODES]) + ("…" if len(held.tickets) > SHOWN_CODES else "")
    lines = [
        _("Tên: {name}").format(name=person.display_name or _("không có")),
        _("Ngôn ngữ: {language}").format(language=language.endonym if language else "—"),
        _("Nơi ở: {place}").format(place=place or "—"),
        _("Vai trò: {role}").format(role=_(ROLES[person.role])),
        consent,
        _("Địa chỉ trò chuyện: {apps}").format(apps=", ".join(people.app_name(c) for c in held.channels)),
        _("Tin nhắn: {received} bạn gửi, {sent} Loa Bản gửi").format(received=held.received, sent=held.sent)
        + (
            _("; nội dung của {n} tin không được giữ, chỉ ghi là đã có tin nhắn, để đếm").format(
                n=held.unkept
            )
            if held.unkept
            else ""
        ),
        _("Câu hỏi gửi cán bộ: {n}").format(n=held.questions),
        _("Phản ánh: {n}").format(n=len(held.tickets)) + (f" ({codes})" if codes else ""),
        _("Bản tin đã gửi đến bạn: {n}").format(n=held.bulletins),
    ]
    summary = _("Loa Bản đang giữ về bạn:") + "\n" + "\n".join(f"• {line}" for line in lines)
    hours = ctx.settings.data_export_hours
    export = privacy.export(ctx.session, store.of(ctx.settings), ctx.person, ctx.inbound.urn, hours=hours)
    document = Attachment(
        kind="document",
        media_id=0,
        key=export.path,
        url=f"/privacy/export/{export.token}",
        name=privacy.EXPORT_NAME,
    )
    buttons = (Button(_("⚙️ Cài đặt"), "settings"), Button(_("☰ Menu chính"), "menu"))
    ready = Reply(
        _(
            "📄 Toàn bộ dữ liệu của bạn, trong một tệp JSON, mở được trong {hours} giờ. Đừng chuyển cho "
            "người khác: ai có tệp hoặc liên kết này cũng đọc được."
        ).format(hours=hours),
        buttons,
        attachment=document,
    )
    failed = Reply(
        _(
            "Loa Bản chưa làm được tệp dữ liệu của bạn. Bạn vào ⚙️ Cài đặt → «📄 Dữ liệu của tôi» để yêu cầu "
            "lại sau ít phút."
        ),
        buttons,
    )
    copies.queue(ctx.session, export, ready, failed)
    ctx.goto("")
    # One message, true whichever arrives first: it or the copy's (sent by a job once written).
    making = _("📄 Tệp JSON chứa toàn bộ dữ liệu của bạn được gửi trong tin nhắn riêng khi đã làm xong.")
    ctx.reply(f"{summary}\n\n{making}", list(buttons))


def _when(ctx: Context, moment: datetime) -> str:
    """A stored time as the person reads it: local hour and date."""
    local = moment.astimezone(ZoneInfo(ctx.settings.timezone))
    return f"{local:%H:%M} {format_day(local, ctx.person.language)}"


def _notice_day(ctx: Context) -> str:
    """The day the notice the person answered took effect, as a date they read (its version is a date and
    a digest of the text)."""
    day = (ctx.person.consent_version or "").split(".", 1)[0]
    try:
        return format_day(date.fromisoformat(day), ctx.person.language)
    except ValueError:
        return day or "—"


def erase(ctx: Context) -> None:
    """Ask before erasing, saying what goes, which reflections close unanswered and what stays: deletion
    cannot be undone."""
    _ = ctx._
    lines = [
        _("Xóa dữ liệu của bạn? Nghị định 13/2023/NĐ-CP cho bạn quyền yêu cầu xóa dữ liệu của mình."),
        _(
            "Sẽ xóa: tên, ngôn ngữ, nơi ở, địa chỉ trò chuyện, tin nhắn, câu hỏi, nội dung phản ánh, ghi âm, "
            "ảnh, video, tệp và vị trí."
        ),
    ]
    waiting = privacy.awaiting_answer(ctx.session, ctx.person)
    if waiting:
        lines.append(
            _(
                "{n} phản ánh đang chờ trả lời ({codes}) sẽ được đóng lại và không có câu trả lời, vì "
                "không còn ai để nhận."
            ).format(n=len(waiting), codes=", ".join(waiting))
        )
    lines += [
        _(
            "Loa Bản giữ lại, không gắn với bạn: loại phản ánh, xã, trạng thái và ngày gửi, và số bản tin đã "
            "gửi đến bạn — để cán bộ thống kê công việc."
        ),
        _("Việc này không thể hoàn tác."),
    ]
    ctx.reply(
        "\n".join(lines),
        [Button(_("🗑 Có, xóa hết"), "erase_yes"), Button(_("↩ Không, quay lại"), "menu")],
    )


def erase_confirmed(ctx: Context) -> None:
    """Erase the person, then say exactly what was deleted and what was kept without their name, and why;
    when the media store refuses to delete their files, nothing is erased and they are told to try later
    (never "deleted" while a recording or photo of theirs remains)."""
    _ = ctx._
    waiting = privacy.awaiting_answer(ctx.session, ctx.person)
    try:
        with ctx.session.begin_nested():
            kept = privacy.erase(ctx.session, store.of(ctx.settings), ctx.person)
    except OSError as exc:
        log.error("erasure stopped: the media store did not delete a file: %s", exc)
        ctx.reply(
            _("Chưa xóa được dữ liệu của bạn vì kho tệp đang trục trặc. Xin bạn thử lại sau ít phút."),
            [Button(_("🗑 Xóa dữ liệu của tôi"), "erase"), Button(_("☰ Menu chính"), "menu")],
        )
        return
    ctx.deleted = True
    lines = [
        _(
            "Đã xóa: tên, ngôn ngữ, nơi ở, địa chỉ trò chuyện, tin nhắn, câu hỏi, nội dung phản ánh, ghi âm, "
            "ảnh, video, tệp và vị trí của bạn."
        )
    ]
    if waiting:
        lines.append(
            _("Đã đóng {n} phản ánh chưa được trả lời ({codes}).").format(
                n=len(waiting), codes=", ".join(waiting)
            )
        )
    if kept.tickets:
        lines.append(
            _(
                "Loa Bản giữ lại, không gắn với bạn: loại phản ánh, xã, trạng thái và ngày gửi của {n} phản "
                "ánh — để cán bộ thống kê công việc."
            ).format(n=kept.tickets)
        )
    if kept.deliveries:
        lines.append(
            _("Các bản tin đã gửi đến bạn vẫn được đếm, không kèm tên bạn, để số liệu gửi tin đúng.")
        )
    if kept.relays:
        lines.append(
            _(
                "Các lần bạn báo đã truyền đạt bản tin vẫn được đếm (thôn, số hộ, cách truyền đạt), không "
                "kèm tên bạn."
            )
        )
    lines.append(_("Cảm ơn bạn đã dùng Loa Bản. Muốn dùng lại, bạn chỉ cần nhắn một tin bất kỳ."))
    ctx.reply("\n".join(lines))


def register(router: Router) -> None:
    """The privacy buttons of the settings screen, and the notice asked again when it changed."""
    router.button("my_data", my_data, onboarded_only=True)
    router.button("consent_ask", ask_again, onboarded_only=True)
    router.button("erase", erase, onboarded_only=True)
    router.button("erase_yes", erase_confirmed, onboarded_only=True)
    router.gate = notice_changed
