"""One person on several apps: a code made on one (Telegram, Zalo, web) joins the other to the same
person; and officials tie their own chat to their admin account the same way."""

from __future__ import annotations

from bot import codes
from bot.accounts import service as accounts
from bot.conversation import onboarding
from bot.conversation.router import Context, Router
from bot.conversation.types import Button
from bot.people import service as people

PREFIXES = ("LB-", "LK-")


def offer(ctx: Context) -> None:
    """Settings → 'use Loa Bản on another app': a code to send from there."""
    _ = ctx._
    code = people.new_link_code(ctx.session, ctx.person)
    onboarding.back_to_menu(
        ctx,
        _(
            "Để dùng Loa Bản trên cả Zalo và Telegram như một người: mở Loa Bản trên Zalo hoặc Telegram và "
            "gửi mã này cho Loa Bản:\n{code}\n(mã dùng một lần, trong 30 phút). Bản tin sẽ đến nơi bạn nhắn "
            "gần nhất."
        ).format(code=code),
    )


def slowed(ctx: Context, kind: str) -> bool:
    """Whether this chat typed too many wrong codes to try another now; if so it is told for how long."""
    minutes = codes.wait_minutes(ctx.session, kind, ctx.inbound.urn, ctx.person.id, origin=ctx.inbound.origin)
    if minutes:
        ctx.reply(
            ctx._("Bạn đã nhập sai mã quá nhiều lần, hãy thử lại sau {minutes} phút.").format(
                minutes=minutes
            ),
            [Button(ctx._("☰ Menu chính"), "menu")],
        )
    return bool(minutes)


def link(ctx: Context) -> None:
    """'/link CODE' (kept for those who learnt it) is the same as sending the code alone."""
    parts = ctx.inbound.text.split(maxsplit=1)
    _redeem(ctx, parts[1].strip().upper() if len(parts) > 1 else "")


def typed_code(ctx: Context) -> None:
    """A message that is just a link code, however typed: nobody has to learn a command."""
    _redeem(ctx, ctx.inbound.text.strip().upper())


def is_link_code(text: str) -> bool:
    """Whether a whole message is a code to join a chat to a person (LB-) or to an official (LK-)."""
    return codes.typed_prefix(text, PREFIXES) is not None


def _redeem(ctx: Context, code: str) -> None:
    """LB- codes join this chat to a person, LK- codes to an official's admin account."""
    _ = ctx._
    kind = "LB" if code.startswith("LB") else "LK"
    if code and slowed(ctx, kind):
        return
    if kind == "LB":
        person = people.link_identity(ctx.session, code, ctx.inbound.urn)
        if person is not None:
            ctx.person = person
            onboarding.back_to_menu(
                ctx,
                ctx._("✅ Đã nối ứng dụng này với tài khoản Loa Bản của bạn. Mọi thứ bạn đã làm vẫn còn."),
            )
            return
    elif code:
        admin = accounts.link_chat(ctx.session, code, ctx.inbound.urn)
        if admin is not None:
            ctx.reply(
                _(
                    "Đã liên kết với tài khoản quản trị «{username}». "
                    "Phản ánh mới ở xã của bạn sẽ được báo tại đây."
                ).format(username=admin.username)
            )
            return
    if code:
        codes.record_failure(ctx.session, kind, ctx.inbound.urn, ctx.person.id, origin=ctx.inbound.origin)
    ctx.reply(_("Mã liên kết không đúng hoặc đã hết hạn. Hãy tạo mã mới rồi gửi mã đó cho Loa Bản."))


def register(router: Router) -> None:
    """A code sent alone or with /link (either allowed as someone's very first message), and the settings
    button."""
    router.command("link", link, first_contact=True)
    router.typed(is_link_code, typed_code, first_contact=True)
    router.button("link_me", offer, onboarded_only=True)
