"""A person's own settings: language, place, stop/resume bulletins, the way to their data, and help."""

from __future__ import annotations

from bot.conversation import onboarding
from bot.conversation.router import Context, MenuEntry, Router
from bot.conversation.types import Button
from bot.i18n import mark


def settings(ctx: Context) -> None:
    """The settings screen; the stop/resume button shows whichever applies now, and someone who said no to
    the privacy notice can agree from here."""
    _ = ctx._
    ctx.goto("")
    subscription = (
        Button(_("🔕 Ngừng nhận bản tin"), "stop")
        if ctx.person.subscribed
        else Button(_("🔔 Nhận bản tin trở lại"), "resume")
    )
    agree = [] if ctx.person.consented else [Button(_("✅ Đồng ý lưu dữ liệu"), "consent_ask")]
    ctx.reply(
        _("Cài đặt: bạn muốn thay đổi gì?"),
        [
            Button(_("🗣 Đổi ngôn ngữ"), "set:lang"),
            Button(_("📍 Đổi nơi ở"), "set:place"),
            subscription,
            Button(_("🎖 Nhập mã người có uy tín"), "invite"),
            Button(_("🔗 Dùng cả Zalo và Telegram"), "link_me"),
            *agree,
            Button(_("📄 Dữ liệu của tôi"), "my_data"),
            Button(_("🗑 Xóa dữ liệu của tôi"), "erase"),
            Button(_("☰ Menu chính"), "menu"),
        ],
    )


def change(ctx: Context) -> None:
    """'set:lang' or 'set:place' from settings or the welcome-back message."""
    if ctx.arg == "lang":
        onboarding.ask_language(ctx)
    else:
        onboarding.ask_province(ctx)


def stop(ctx: Context) -> None:
    """/stop: no more bulletins; the person stays known so one button brings them back."""
    _ = ctx._
    ctx.person.subscribed = False
    ctx.goto("")
    ctx.reply(
        _(
            "Bạn sẽ không nhận bản tin nữa. Bạn vẫn có thể hỏi và góp ý. "
            "Muốn nhận lại, bấm «🔔 Nhận bản tin trở lại»."
        ),
        [Button(_("🔔 Nhận bản tin trở lại"), "resume"), Button(_("☰ Menu chính"), "menu")],
    )


def resume(ctx: Context) -> None:
    """Subscribe again."""
    ctx.person.subscribed = True
    onboarding.back_to_menu(ctx, ctx._("Bạn sẽ nhận lại bản tin."))


def help_(ctx: Context) -> None:
    """Help in plain words: what Loa Bản does and that buttons do everything; no commands to learn."""
    _ = ctx._
    text = _(
        "Loa Bản là nơi chính quyền và bà con nói chuyện với nhau. "
        "Bạn không cần gõ lệnh gì, chỉ cần bấm nút:\n"
        "• 📻 Bản tin: nghe, đọc tin của xã, của tỉnh.\n"
        "• 📝 Góp ý – Phản ánh: báo cho cán bộ xã việc cần giải quyết, gửi kèm ảnh, ghi âm, vị trí.\n"
        "• Hỏi bất cứ điều gì: cứ gõ câu hỏi, Loa Bản trả lời hoặc chuyển cho cán bộ.\n"
        "• ⚙️ Cài đặt: đổi ngôn ngữ, nơi ở, tạm ngừng nhận bản tin, xem hay xóa dữ liệu của bạn.\n"
        "Lúc nào muốn quay lại, bạn bấm «☰ Menu chính»."
    )
    if not ctx.person.onboarded:
        ctx.reply(text)
        onboarding.reprompt(ctx)
        return
    ctx.reply(text, [Button(_("⚙️ Cài đặt"), "settings"), Button(_("☰ Menu chính"), "menu")])


def register(router: Router) -> None:
    """Account commands, buttons and their menu entries."""
    router.command("help", help_, first_contact=True)
    router.button("help", help_)
    router.command("stop", stop, onboarded_only=True)
    router.button("stop", stop, onboarded_only=True)
    router.button("resume", resume, onboarded_only=True)
    router.command("settings", settings, onboarded_only=True)
    router.button("settings", settings, onboarded_only=True)
    router.button("set", change, onboarded_only=True)
    router.add_menu(MenuEntry("settings", mark("⚙️ Cài đặt"), order=900))
    router.add_menu(MenuEntry("help", mark("❓ Hướng dẫn"), order=910))
