"""'Góp ý – Phản ánh' in the conversation: pick a category, send text, voice notes, photos and a location,
choose to give one's name (typed when no app told it) and a phone number, or not, get a ticket code and a
due date; 'Phản ánh của tôi' lists them; an official's answer asks 'Hài lòng / Chưa hài lòng', and 'not
satisfied' reopens the ticket once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from zoneinfo import ZoneInfo

from bot.accounts import service as accounts
from bot.bulletins.compose import CAPTION_LIMIT, attachment, split
from bot.conversation import listen, onboarding
from bot.conversation.router import Context, MenuEntry, Router
from bot.conversation.types import Attachment, Button, Reply
from bot.db import utcnow
from bot.feedback import categories as category_service
from bot.feedback import service as feedback
from bot.feedback.models import Ticket, TicketStatus
from bot.i18n import format_day, mark
from bot.media import service as media
from bot.people.models import PersonRole
from bot.voice.service import Spoken

STEP_COMPOSE = "feedback.compose"
STEP_NAME = "feedback.name"
STEP_PHONE = "feedback.phone"
STEP_REASON = "feedback.reason"
FILING_STEPS = (STEP_COMPOSE, STEP_NAME, STEP_PHONE)  # the reflection is still being put together
MAX_TEXT = 4000
MAX_NAME = 100
MAX_FILES = 10
STATUS_LABELS = {
    TicketStatus.new: mark("Mới"),
    TicketStatus.received: mark("Đã tiếp nhận"),
    TicketStatus.in_progress: mark("Đang xử lý"),
    TicketStatus.answered: mark("Đã trả lời"),
    TicketStatus.closed: mark("Đã đóng"),
}
KIND_LABELS = {
    "photo": mark("ảnh"),
    "voice": mark("ghi âm"),
    "audio": mark("ghi âm"),
    "video": mark("video"),
    "document": mark("tệp"),
}
BEHALF_BANDS = (1, 5, 10, 30, 100)
# What an urgent reflection cannot replace: Viet Nam's emergency numbers.
EMERGENCY_NUMBERS = mark(
    "🚨 Nếu có người đang gặp nguy hiểm, hãy gọi ngay 113 (công an), 114 (cứu hỏa, cứu nạn), 115 (cấp cứu). "
    "Phản ánh khẩn cấp được báo ngay cho cán bộ xã."
)
MINE_LIMIT = 8  # tickets listed, one button each
ANSWERS_SHOWN = 3  # the latest answers read again
QUOTE_LIMIT = 300  # characters of the person's own text quoted back


def start(ctx: Context) -> None:
    """'fb': the categories, as big buttons."""
    _ = ctx._
    ctx.goto("")
    buttons = [
        Button(("🚨 " if c.deadline_hours else "") + _(c.label), f"fb_cat:{c.id}")
        for c in category_service.get_all(ctx.session)
    ]
    ctx.reply(
        _("Bạn muốn góp ý, phản ánh về việc gì?"),
        [*buttons, Button(_("☰ Menu chính"), "menu")],
        columns=2,
    )


def _compose_buttons(ctx: Context) -> list[Button]:
    """What a person can do while putting a reflection together."""
    _ = ctx._
    return [Button(_("✅ Xong, gửi đi"), "fb_done"), Button(_("✖ Hủy"), "menu")]


def chose_category(ctx: Context) -> None:
    """'fb_cat:<id>': ask for the content, in any form."""
    _ = ctx._
    category = category_service.get(ctx.session, category_id=int(ctx.arg)) if ctx.arg.isdigit() else None
    if category is None or not category.active:
        start(ctx)
        return
    ctx.goto(STEP_COMPOSE, category=category.id, text="", files=[], lat=None, lon=None)
    ask = (
        _(
            "Bạn hãy gửi nội dung: gõ chữ, gửi tin nhắn thoại (nói bằng tiếng nào cũng được), ảnh, và vị trí "
            "nếu cần. Gửi xong thì bấm «Xong, gửi đi»."
        )
        if ctx.records_voice
        else _(
            "Bạn hãy gửi nội dung: gõ chữ, bấm 📎 để gửi kèm ảnh hay tệp ghi âm (nói bằng tiếng nào cũng "
            "được), và bấm 📍 để gửi vị trí nếu cần. Gửi xong thì bấm «Xong, gửi đi»."
        )
    )
    if category.deadline_hours:
        ask = f"{_(EMERGENCY_NUMBERS)}\n\n{ask}"
    ctx.reply(ask, _compose_buttons(ctx))


def _acknowledge(ctx: Context, receipt: str = "", echo: Attachment | None = None) -> None:
    """Say what has been collected so far, after a receipt for what just arrived (a picture shown back
    where the app can)."""
    _ = ctx._
    data = ctx.person.state_data
    parts = [_("lời bạn viết")] if data.get("text") else []
    counts: dict[str, int] = {}
    for kind, _media_id in data.get("files", []):
        label = _(KIND_LABELS.get(kind, "tệp"))
        counts[label] = counts.get(label, 0) + 1
    parts += [f"{n} {label}" for label, n in counts.items()]
    if data.get("lat") is not None:
        parts.append(_("vị trí"))
    summary = _("Đã nhận: {parts}. Gửi thêm, hoặc bấm «Xong, gửi đi».").format(parts=", ".join(parts))
    ctx.reply(f"{receipt}\n{summary}" if receipt else summary, _compose_buttons(ctx), attachment=echo)


def typed(ctx: Context) -> None:
    """Text while composing: added to what was said before."""
    _ = ctx._
    data = dict(ctx.person.state_data)
    text = "\n".join(part for part in (data.get("text", ""), ctx.inbound.text.strip()) if part)
    if len(text) > MAX_TEXT:
        ctx.reply(_("Nội dung dài quá (tối đa {limit} ký tự).").format(limit=MAX_TEXT), _compose_buttons(ctx))
        return
    ctx.goto(STEP_COMPOSE, **(data | {"text": text}))
    _acknowledge(ctx)


def sent_file(ctx: Context) -> None:
    """A photo, voice note, video or document, or a location, while composing: stored now, in this
    transaction, so it is kept before the person is told anything was received."""
    _ = ctx._
    data = dict(ctx.person.state_data)
    inbound = ctx.inbound
    receipt, echo = "", None
    if inbound.location is not None:
        data["lat"], data["lon"] = inbound.location
        receipt = _("📍 Đã nhận vị trí đã gửi.")
    received = inbound.received
    if received is not None:
        if received.error == "too_large":
            ctx.reply(
                _(
                    "Tệp lớn quá (tối đa {mb} MB) nên không lưu được. Phần chữ và các tệp khác vẫn được giữ."
                ).format(mb=ctx.settings.max_upload_mb),
                _compose_buttons(ctx),
            )
            return
        if received.error == "unavailable":
            _not_stored(ctx)
            return
        if received.error or received.mime not in media.EXTENSIONS or not received.key:
            ctx.reply(
                _("Không nhận được tệp này (loại tệp không hỗ trợ hoặc lỗi tải). Phần còn lại vẫn được giữ."),
                _compose_buttons(ctx),
            )
            return
        if len(data.get("files", [])) >= MAX_FILES:
            ctx.reply(_("Đã đủ {n} tệp cho một phản ánh.").format(n=MAX_FILES), _compose_buttons(ctx))
            return
        if ctx.arrived.refused:
            ctx.reply(
                _(
                    "Tệp này không phải là ảnh, ghi âm, video hay tệp PDF như đã gửi, nên không được nhận. "
                    "Phần còn lại vẫn được giữ."
                ),
                _compose_buttons(ctx),
            )
            return
        stored = ctx.keep_file()
        if stored is None:
            _not_stored(ctx)
            return
        data["files"] = [*data.get("files", []), [received.kind, stored.id]]
        if inbound.text.strip():
            data["text"] = "\n".join(p for p in (data.get("text", ""), inbound.text.strip()) if p)
        if received.kind == "photo":
            receipt = _("🖼 Đã nhận ảnh.")
            shown = attachment(stored, "image", private=True)
            echo = dataclasses.replace(shown, echo=True, platform_ids=received.platform_ids)
    ctx.goto(STEP_COMPOSE, **data)
    _acknowledge(ctx, receipt, echo)


def _not_stored(ctx: Context) -> None:
    """The server could not write the file (its media folder is read-only or full): say so plainly."""
    ctx.reply(
        ctx._(
            "Máy chủ đang bị lỗi nên chưa lưu được tệp này. Bạn hãy gửi lại sau ít phút. "
            "Phần chữ và các tệp khác vẫn được giữ."
        ),
        _compose_buttons(ctx),
    )


def done(ctx: Context) -> None:
    """'fb_done': prestigious persons say for how many people; then everyone chooses name or anonymous."""
    _ = ctx._
    data = ctx.person.state_data
    if ctx.person.state not in FILING_STEPS:
        start(ctx)
        return
    ctx.goto(STEP_COMPOSE, **data)
    if not data.get("text") and not data.get("files") and data.get("lat") is None:
        empty = (
            _("Bạn chưa gửi nội dung nào. Hãy gõ chữ, gửi ghi âm hoặc ảnh.")
            if ctx.records_voice
            else _("Bạn chưa gửi nội dung nào. Hãy gõ chữ, hoặc bấm 📎 để gửi kèm ảnh hay tệp ghi âm.")
        )
        ctx.reply(empty, _compose_buttons(ctx))
        return
    if _asked_if_urgent(ctx):
        return
    if ctx.person.role == PersonRole.prestigious and data.get("for") is None:
        ctx.reply(
            _("Ông/bà phản ánh thay cho khoảng bao nhiêu người?"),
            [Button(_("Chỉ mình tôi"), "fb_for:1")]
            + [Button(_("Khoảng {n} người").format(n=n), f"fb_for:{n}") for n in BEHALF_BANDS[1:]],
            columns=2,
        )
        return
    if not ctx.person.consented:  # never asked for a name or number to keep: told why it goes anonymously
        ctx.reply(
            _(
                "Phản ánh này sẽ được gửi ẩn danh, vì bạn chưa đồng ý cho Loa Bản lưu dữ liệu nên Loa Bản "
                "không giữ tên bạn. Cán bộ chỉ thấy nơi ở và nội dung; bạn vẫn nhận được trả lời ở đây."
            ),
            [Button(_("🙈 Gửi ẩn danh"), "fb_send:anon")],
        )
        return
    ctx.reply(
        _(
            "Gửi kèm tên của bạn, hay ẩn danh? Ẩn danh: cán bộ chỉ thấy nơi ở và nội dung, không thấy tên; "
            "bạn vẫn nhận được trả lời ở đây."
        ),
        [Button(_("👤 Gửi kèm tên"), "fb_send:named"), Button(_("🙈 Gửi ẩn danh"), "fb_send:anon")],
    )


def _asked_if_urgent(ctx: Context) -> bool:
    """A reflection whose words speak of a danger but filed under an ordinary category is asked, once,
    whether it is an emergency, offering to move it where officials are told at once; True when asked."""
    _ = ctx._
    data = ctx.person.state_data
    if data.get("urgent_asked") or not feedback.sounds_urgent(data.get("text", "")):
        return False
    chosen = category_service.get(ctx.session, category_id=int(data.get("category") or 0))
    urgent = category_service.urgent(ctx.session)
    if urgent is None or chosen is None or chosen.deadline_hours:
        return False
    ctx.goto(STEP_COMPOSE, **(data | {"urgent_asked": True}))
    ctx.reply(
        _(
            "Việc này có khẩn cấp không? Nếu có người, nhà cửa hay đường đi đang gặp nguy hiểm, bạn chuyển "
            "phản ánh sang mục «🚨 {label}» để cán bộ xã được báo ngay."
        ).format(label=_(urgent.label)),
        [
            Button(_("🚨 Có, chuyển sang Khẩn cấp"), f"fb_urgent:{urgent.id}"),
            Button(_("Không, gửi như đã chọn"), "fb_urgent:no"),
        ],
    )
    return True


def urgent(ctx: Context) -> None:
    """'fb_urgent:<category id>|no': the answer to 'is this an emergency?'; then filing goes on."""
    if ctx.person.state not in FILING_STEPS:
        start(ctx)
        return
    moved = category_service.get(ctx.session, category_id=int(ctx.arg)) if ctx.arg.isdigit() else None
    if moved is not None and moved.active and moved.deadline_hours:
        ctx.goto(STEP_COMPOSE, **(ctx.person.state_data | {"category": moved.id}))
        ctx.reply(ctx._(EMERGENCY_NUMBERS))
    done(ctx)


def for_whom(ctx: Context) -> None:
    """'fb_for:<n>': how many people a prestigious person speaks for."""
    if ctx.person.state not in FILING_STEPS or not ctx.arg.isdigit() or int(ctx.arg) not in BEHALF_BANDS:
        start(ctx)
        return
    ctx.goto(STEP_COMPOSE, **(ctx.person.state_data | {"for": int(ctx.arg)}))
    done(ctx)


def send(ctx: Context) -> None:
    """'fb_send:named|anon': anonymous is filed at once; named needs a name, asked when no app told it,
    then offers to leave a phone number."""
    if ctx.person.state not in FILING_STEPS:
        start(ctx)
        return
    if ctx.arg == "anon" or not ctx.person.consented:
        _file(ctx, anonymous=True)
    elif ctx.person.state_data.get("name") or ctx.person.display_name.strip():
        _ask_phone(ctx)
    else:
        _ask_name(ctx)


def _ask_name(ctx: Context, problem: str = "") -> None:
    """One short step: the name officials will see."""
    _ = ctx._
    ctx.goto(STEP_NAME, **ctx.person.state_data)
    ctx.reply(
        (problem + "\n" if problem else "") + _("Bạn tên là gì? Hãy gõ họ và tên để cán bộ biết ai gửi."),
        [Button(_("🙈 Gửi ẩn danh"), "fb_send:anon"), Button(_("✖ Hủy"), "menu")],
    )


def typed_name(ctx: Context) -> None:
    """The name typed at the naming step; it also becomes the person's name where no app gave one."""
    name = " ".join(ctx.inbound.text.split())
    if not name or len(name) > MAX_NAME:
        _ask_name(ctx, ctx._("Tên cần từ 1 đến {limit} ký tự.").format(limit=MAX_NAME))
        return
    if not ctx.person.display_name.strip():
        ctx.person.display_name = name
    ctx.goto(STEP_PHONE, **(ctx.person.state_data | {"name": name}))
    _ask_phone(ctx)


def _ask_phone(ctx: Context, problem: str = "") -> None:
    """Offer to leave a number officials can call (someone who cannot read the answer can hear it): typed
    anywhere, shared with one tap where the app can; the number left last time is offered again."""
    _ = ctx._
    ctx.goto(STEP_PHONE, **ctx.person.state_data)
    last = feedback.last_phone(ctx.session, ctx.person.id)
    buttons = [Button(_("📞 Dùng số {phone}").format(phone=last), "fb_phone:last")] if last else []
    ctx.reply(
        (problem + "\n" if problem else "")
        + _(
            "Bạn có muốn để lại số điện thoại để cán bộ gọi lại khi cần không? Gõ số điện thoại "
            "(ví dụ 0912 345 678), hoặc bấm «Không để số»."
        ),
        [*buttons, Button(_("⏭ Không để số"), "fb_phone:skip")],
        contact=_("📞 Gửi số điện thoại của tôi"),
    )


def typed_phone(ctx: Context) -> None:
    """A number typed (or shared with the app's contact button) at the phone step: kept when it is a
    Vietnamese mobile number, else asked again with what a number looks like."""
    _ = ctx._
    phone = feedback.phone_number(ctx.inbound.text)
    if phone is None:
        _ask_phone(
            ctx,
            _(
                "Số «{typed}» chưa đúng. Số di động có 10 chữ số, bắt đầu bằng 03, 05, 07, 08 hoặc 09 "
                "(ví dụ 0912 345 678)."
            ).format(typed=ctx.inbound.text.strip()[:30]),
        )
        return
    _file(ctx, anonymous=False, phone=phone)


def chose_phone(ctx: Context) -> None:
    """'fb_phone:last|skip': the number left last time, or none."""
    if ctx.person.state != STEP_PHONE:
        start(ctx)
        return
    phone = feedback.last_phone(ctx.session, ctx.person.id) if ctx.arg == "last" else None
    _file(ctx, anonymous=False, phone=phone)


def _file(ctx: Context, *, anonymous: bool, phone: str | None = None) -> None:
    """The ticket is created in this transaction; the code and due date go back only with its commit,
    with what was sent along (name, number), so the person knows what officials see."""
    _ = ctx._
    data = ctx.person.state_data
    on_behalf = data.get("for")
    name = "" if anonymous else str(data.get("name") or ctx.person.display_name)
    filing = feedback.Filing(
        category_id=data.get("category"),
        text=data.get("text", ""),
        media_ids=tuple((kind, int(media_id)) for kind, media_id in data.get("files", [])),
        latitude=data.get("lat"),
        longitude=data.get("lon"),
        anonymous=anonymous,
        on_behalf_of=on_behalf if on_behalf and on_behalf > 1 else None,
        sender_name=name,
        phone=phone,
    )
    zone = ZoneInfo(ctx.settings.timezone)
    ticket = feedback.create(
        ctx.session, person=ctx.person, urn=ctx.inbound.urn, filing=filing, now=utcnow().astimezone(zone)
    )
    _tell_officials(ctx, ticket)
    lines = [
        _("Đã nhận phản ánh của bạn. Mã phản ánh: {code}. Cán bộ sẽ trả lời trước {due}.").format(
            code=ticket.code, due=due_text(_, ticket, ctx.person.language, zone)
        )
    ]
    if anonymous:
        lines.append(_("Bạn gửi ẩn danh: cán bộ không thấy tên của bạn."))
    elif phone:
        lines.append(_("Gửi kèm tên «{name}» và số điện thoại {phone}.").format(name=name, phone=phone))
    else:
        lines.append(_("Gửi kèm tên «{name}».").format(name=name))
    # After the phone step the confirmation goes without buttons, then the menu: only a message without
    # buttons takes away an app's keyboard under the input field (Telegram's contact button).
    onboarding.back_to_menu(ctx, "\n".join(lines), whole_menu=not anonymous)


def mine(ctx: Context) -> None:
    """'fb_mine': the person's tickets and where each stands, one button each to read it again."""
    _ = ctx._
    tickets = feedback.of_person(ctx.session, ctx.person.id, limit=MINE_LIMIT)
    if not tickets:
        onboarding.back_to_menu(ctx, _("Bạn chưa gửi phản ánh nào."))
        return
    ctx.goto("")
    lines = [
        f"• {t.code} — {_(STATUS_LABELS[t.status])} ({format_day(t.created_at, ctx.person.language)})"
        for t in tickets
    ]
    buttons = [Button(f"{t.code} · {_(STATUS_LABELS[t.status])}", f"fb_view:{t.id}") for t in tickets]
    ctx.reply(
        _("Phản ánh của bạn (bấm vào một phản ánh để xem lại):") + "\n" + "\n".join(lines),
        [*buttons, Button(_("☰ Menu chính"), "menu")],
    )


def view(ctx: Context) -> None:
    """'fb_view:<id>': one of the person's own tickets again: what they sent, where it stands, and the
    officials' latest answers (a voice answer as the voice note it was); anyone else's is not found."""
    _ = ctx._
    ticket = feedback.get(ctx.session, int(ctx.arg)) if ctx.arg.isdigit() else None
    if ticket is None or ticket.person_id != ctx.person.id:
        ctx.reply(_("Không tìm thấy phản ánh này."))
        mine(ctx)
        return
    language = ctx.person.language
    category = _(ticket.category.label) if ticket.category else "—"
    quote = ticket.text if len(ticket.text) <= QUOTE_LIMIT else ticket.text[:QUOTE_LIMIT] + "…"
    sent = _("{category} · gửi ngày {day}").format(
        category=category, day=format_day(ticket.created_at, language)
    )
    parts = [
        f"📋 {ticket.code} · {_(STATUS_LABELS[ticket.status])}",
        sent + (f"\n«{quote}»" if quote else ""),
    ]
    if ticket.main is not None:
        parts.append(_("Đã gộp vào phản ánh {main} về cùng việc.").format(main=ticket.main.code))
    answers = feedback.answers(ticket)[-ANSWERS_SHOWN:]
    if not answers:
        due = due_text(_, ticket, language, ZoneInfo(ctx.settings.timezone))
        parts.append(_("Chưa có trả lời. Hạn trả lời: {due}.").format(due=due))
    replies: list[Reply] = []
    for event in answers:
        said = _("💬 Cán bộ trả lời ngày {day}:").format(day=format_day(event.created_at, language))
        heard = f"{said}\n{event.text}".strip()
        if event.media is None or len(heard) > CAPTION_LIMIT:
            parts.append(heard)
        if event.media is not None:
            voice = attachment(event.media, "voice", private=True)
            replies.append(Reply(heard if len(heard) <= CAPTION_LIMIT else said, attachment=voice))
    ctx.goto("")
    ctx.replies += [Reply(chunk) for chunk in split("\n\n".join(parts))] + replies
    buttons = [Button(_("📋 Phản ánh của tôi"), "fb_mine"), Button(_("☰ Menu chính"), "menu")]
    if ticket.status == TicketStatus.answered:
        buttons = [*_rating_buttons(_, ticket), *buttons]
    last = ctx.replies[-1]
    ctx.replies[-1] = dataclasses.replace(last, buttons=tuple(buttons), columns=2)


def _own_ticket(ctx: Context) -> Ticket | None:
    """The ticket a satisfaction button names, if it is this person's and was answered."""
    ticket = feedback.get(ctx.session, int(ctx.arg)) if ctx.arg.isdigit() else None
    if ticket is None or ticket.person_id != ctx.person.id or ticket.status != TicketStatus.answered:
        return None
    return ticket


def satisfied(ctx: Context) -> None:
    """'fb_ok:<id>': close the ticket with thanks."""
    ticket = _own_ticket(ctx)
    if ticket is None:
        onboarding.back_to_menu(ctx, ctx._("Phản ánh này đã được xử lý xong."))
        return
    feedback.rate(ticket, True)
    onboarding.back_to_menu(
        ctx, ctx._("Cảm ơn bạn đã cho biết. Phản ánh {code} đã đóng.").format(code=ticket.code)
    )


def not_satisfied(ctx: Context) -> None:
    """'fb_no:<id>': ask why (the reason goes to the officials with the reopened ticket)."""
    _ = ctx._
    ticket = _own_ticket(ctx)
    if ticket is None:
        onboarding.back_to_menu(ctx, _("Phản ánh này đã được xử lý xong."))
        return
    ctx.goto(STEP_REASON, ticket=ticket.id)
    ctx.reply(
        _("Bạn chưa hài lòng vì sao? Hãy gõ vài chữ để cán bộ xem lại."), [Button(_("☰ Menu chính"), "menu")]
    )


def reason(ctx: Context) -> None:
    """The reason typed after 'not satisfied': reopens the ticket once, else closes it."""
    _ = ctx._
    ticket = feedback.get(ctx.session, int(ctx.person.state_data.get("ticket", 0)))
    if ticket is None or ticket.person_id != ctx.person.id or ticket.status != TicketStatus.answered:
        onboarding.back_to_menu(ctx, _("Phản ánh này đã được xử lý xong."))
        return
    if feedback.rate(ticket, False, ctx.inbound.text[:MAX_TEXT]):
        message = _("Đã mở lại phản ánh {code}. Cán bộ sẽ xem lại và trả lời bạn.")
    else:
        message = _("Phản ánh {code} đã được xem lại một lần nên đã đóng. Nếu cần, bạn hãy gửi phản ánh mới.")
    onboarding.back_to_menu(ctx, message.format(code=ticket.code))


def register(router: Router) -> None:
    """Feedback buttons, steps and menu entries."""
    router.button("fb", start, onboarded_only=True)
    router.button("fb_cat", chose_category, onboarded_only=True)
    router.button("fb_done", done, onboarded_only=True)
    router.button("fb_for", for_whom, onboarded_only=True)
    router.button("fb_urgent", urgent, onboarded_only=True)
    router.button("fb_send", send, onboarded_only=True)
    router.button("fb_phone", chose_phone, onboarded_only=True)
    router.button("fb_mine", mine, onboarded_only=True)
    router.button("fb_view", view, onboarded_only=True)
    router.button("fb_ok", satisfied, onboarded_only=True)
    router.button("fb_no", not_satisfied, onboarded_only=True)
    router.step(STEP_COMPOSE, typed)
    router.step(STEP_NAME, typed_name)
    router.step(STEP_PHONE, typed_phone)
    for step in FILING_STEPS:  # a photo sent late still belongs to the reflection
        router.media_step(step, sent_file)
    router.step(STEP_REASON, reason)
    router.add_menu(MenuEntry("fb", mark("📝 Góp ý – Phản ánh"), order=60))
    router.add_menu(MenuEntry("fb_mine", mark("📋 Phản ánh của tôi"), order=70))
    listen.source("fb", heard_answer)


def heard_answer(ctx: Context, ticket_id: str) -> Spoken | None:
    """What '🔊 Nghe' reads under an official's answer: the latest written answer to the person's own
    ticket (officials write Vietnamese)."""
    ticket = feedback.get(ctx.session, int(ticket_id)) if ticket_id.isdigit() else None
    if ticket is None or ticket.person_id != ctx.person.id:
        return None
    said = [e.text for e in ticket.events if e.kind == "reply" and e.text.strip()]
    return Spoken(said[-1], "vi") if said else None


def answer_messages(
    gettext: Callable[[str], str],
    ticket: Ticket,
    text: str,
    voice: Attachment | None,
    duplicate: Ticket | None = None,
) -> list[Reply]:
    """An official's answer as the person receives it: the text, the recorded voice if any, and the
    satisfaction buttons on the last message; the sender of a `duplicate` closed into the ticket reads
    which ticket it answers, and has nothing left to rate."""
    _ = gettext
    header = _("Cán bộ trả lời phản ánh {code}:").format(code=ticket.code)
    if duplicate is not None:
        header = _("Cán bộ trả lời phản ánh {code} (đã gộp phản ánh {yours} của bạn vào đây):").format(
            code=ticket.code, yours=duplicate.code
        )
    body = f"{header}\n\n{text.strip()}" if text.strip() else header
    buttons: tuple[Button, ...] = () if duplicate is not None else _rating_buttons(_, ticket)
    if text.strip() and voice is None and duplicate is None:  # a written answer can be heard
        buttons = (*buttons, listen.button(_, "fb", str(ticket.id)))
    if voice is None:
        return [Reply(body, buttons, columns=2)]
    if len(body) <= CAPTION_LIMIT:
        return [Reply(body, buttons, columns=2, attachment=voice)]
    return [Reply(body), Reply(header, buttons, columns=2, attachment=voice)]


def moved_message(gettext: Callable[[str], str], ticket: Ticket, where: str) -> Reply:
    """The person is told where their ticket went (another commune, an agency), so an answer from
    there is no surprise."""
    return Reply(
        gettext("Phản ánh {code} của bạn đã được chuyển đến {where} để giải quyết.").format(
            code=ticket.code, where=where
        )
    )


def merged_message(gettext: Callable[[str], str], duplicate: Ticket, main: Ticket) -> Reply:
    """The person is told their ticket was closed into another about the same thing, and that its
    answer will reach them."""
    return Reply(
        gettext(
            "Phản ánh {yours} của bạn trùng với phản ánh {main} về cùng việc, nên đã được gộp vào đó. "
            "Khi cán bộ trả lời phản ánh {main}, bạn cũng nhận được câu trả lời ở đây."
        ).format(yours=duplicate.code, main=main.code)
    )


def _rating_buttons(gettext: Callable[[str], str], ticket: Ticket) -> tuple[Button, Button]:
    """Whether an answer helped, on the message that carries it."""
    return (
        Button(gettext("😊 Hài lòng"), f"fb_ok:{ticket.id}"),
        Button(gettext("😞 Chưa hài lòng"), f"fb_no:{ticket.id}"),
    )


def due_text(gettext: Callable[[str], str], ticket: Ticket, language: str | None, zone: ZoneInfo) -> str:
    """When an answer is due, as people say it: a day, or for an urgent ticket the hour of that day."""
    if ticket.due_at is None:
        return gettext("ngày {day}").format(day=format_day(ticket.due_on, language))
    moment = ticket.due_at.astimezone(zone)
    return gettext("{time} ngày {day}").format(
        time=moment.strftime("%H:%M"), day=format_day(moment, language)
    )


def _tell_officials(ctx: Context, ticket: Ticket) -> None:
    """Notify the officials answering for the ticket's commune in the chats they linked, at once: where it
    comes from and, when named, who to call back; an urgent one is marked 🚨 and says its hour."""
    gettext = ctx.catalogs.gettext(ctx.settings.admin_language)
    category = gettext(ticket.category.label) if ticket.category else ""
    due = due_text(gettext, ticket, ctx.settings.admin_language, ZoneInfo(ctx.settings.timezone))
    head = gettext("🚨 KHẨN CẤP — phản ánh mới {code} ({category}), hạn trả lời {due}:")
    if not ticket.urgent:
        head = gettext("Phản ánh mới {code} ({category}), hạn trả lời {due}:")
    lines = [head.format(code=ticket.code, category=category, due=due), ticket.text[:300]]
    if ticket.village is not None:
        lines.append(gettext("Nơi: {place}").format(place=ticket.village.name))
    if ticket.sender_name or ticket.phone:
        sender = " · ".join(part for part in (ticket.sender_name, ticket.phone) if part)
        lines.append(gettext("Người gửi: {sender}").format(sender=sender))
    lines.append(f"{ctx.settings.base_url}/admin/feedback/{ticket.id}")
    for admin in accounts.to_notify(ctx.session, ticket.commune_code):
        if admin.chat_urn and admin.chat_urn != ctx.inbound.urn:
            ctx.notify(admin.chat_urn, "\n".join(line for line in lines if line))
