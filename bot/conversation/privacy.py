"""A person's rights over their data in the conversation: agree to the notice later, erase their data; and
the notice asked again before anything else when its text changed since they agreed."""

from __future__ import annotations

from pathlib import Path

from bot.conversation import onboarding
from bot.conversation.router import Context, Router
from bot.conversation.types import Button
from bot.privacy import service as privacy

# Buttons a person whose notice changed may still use before answering it: their rights come first.
BEFORE_NOTICE = {"consent", "erase", "erase_yes"}


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


def erase(ctx: Context) -> None:
    """Ask before erasing, saying what goes and what stays: deletion cannot be undone."""
    _ = ctx._
    ctx.reply(
        _(
            "Xóa dữ liệu của bạn?\n"
            "Sẽ xóa: tên, ngôn ngữ, nơi ở, địa chỉ trò chuyện, tin nhắn, câu hỏi, nội dung phản ánh, ghi âm, "
            "ảnh, video, tệp và vị trí.\n"
            "Vẫn giữ, không kèm tên bạn: loại phản ánh, xã, trạng thái và ngày gửi, và số bản tin đã gửi đến "
            "bạn — để thống kê theo quy định (Nghị định 13/2023/NĐ-CP).\n"
            "Việc này không thể hoàn tác."
        ),
        [Button(_("🗑 Có, xóa hết"), "erase_yes"), Button(_("↩ Không, quay lại"), "menu")],
    )


def erase_confirmed(ctx: Context) -> None:
    """Erase the person, then say exactly what was deleted and what was kept without their name, and why."""
    _ = ctx._
    kept = privacy.erase(ctx.session, Path(ctx.settings.media_dir), ctx.person)
    ctx.deleted = True
    lines = [
        _(
            "Đã xóa: tên, ngôn ngữ, nơi ở, địa chỉ trò chuyện, tin nhắn, câu hỏi, nội dung phản ánh, ghi âm, "
            "ảnh, video, tệp và vị trí của bạn."
        )
    ]
    if kept.tickets:
        lines.append(
            _(
                "Vẫn giữ, không kèm tên bạn: loại phản ánh, xã, trạng thái và ngày gửi của {n} phản ánh — để "
                "thống kê theo quy định (Nghị định 13/2023/NĐ-CP)."
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
    lines.append(_("Cảm ơn bạn đã dùng Loa Bản. Gõ /start nếu muốn dùng lại."))
    ctx.reply("\n".join(lines))


def register(router: Router) -> None:
    """The privacy buttons of the settings screen, and the notice asked again when it changed."""
    router.button("consent_ask", ask_again, onboarded_only=True)
    router.button("erase", erase, onboarded_only=True)
    router.button("erase_yes", erase_confirmed, onboarded_only=True)
    router.gate = notice_changed
