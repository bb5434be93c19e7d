"""Bulletins in the conversation: 'Bản tin' lists and replays recent ones; prestigious persons confirm
they relayed one (how many households, how); an invite code makes someone a prestigious person."""

from __future__ import annotations

from bot import codes
from bot.bulletins import compose
from bot.bulletins import service as bulletins
from bot.conversation import onboarding
from bot.conversation.linking import slowed
from bot.conversation.router import Context, MenuEntry, Router
from bot.conversation.types import Button
from bot.i18n import mark
from bot.people import service as people
from bot.people.models import PersonRole

STEP_INVITE = "news.invite"
LABEL_LIMIT = 50
METHODS = {
    "meeting": mark("🏠 Họp thôn, bản"),
    "loudspeaker": mark("📢 Loa phát thanh"),
    "visits": mark("🚶 Đến từng nhà"),
}


def recent(ctx: Context) -> None:
    """The latest bulletins for the person's place, as buttons that replay them."""
    _ = ctx._
    found = bulletins.recent_for(ctx.session, ctx.person)
    if not found:
        onboarding.back_to_menu(ctx, _("Chưa có bản tin nào cho nơi bạn ở."))
        return
    buttons = [Button(_short("📻 " + b.title), f"news:{b.id}") for b in found]
    ctx.reply(_("Bản tin gần đây. Bấm để nghe lại:"), [*buttons, Button(_("☰ Menu chính"), "menu")])


def _short(label: str) -> str:
    """A title short enough for a button."""
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1].rstrip() + "…"


def replay(ctx: Context) -> None:
    """'news:<id>' and 'news' (the button under a bulletin): one bulletin again, or the list."""
    if not ctx.arg.isdigit():
        recent(ctx)
        return
    bulletin = bulletins.get(ctx.session, bulletin_id=int(ctx.arg))
    if bulletin is None or not bulletins.visible_to(bulletin, ctx.person):
        onboarding.back_to_menu(ctx, ctx._("Bản tin này không còn nữa."))
        return
    language = ctx.person.language or "vi"
    ctx.replies += compose.for_recipient(ctx.session, bulletin.id, language, False, ctx.catalogs)


def relayed(ctx: Context) -> None:
    """'relay:<id>': a prestigious person says they passed a bulletin on; ask roughly how many households."""
    _ = ctx._
    if (
        ctx.person.role != PersonRole.prestigious
        or bulletins.get(ctx.session, bulletin_id=_int(ctx.arg)) is None
    ):
        onboarding.back_to_menu(ctx, _("Bản tin này không còn nữa."))
        return
    bands = [
        (5, _("Dưới 10 hộ")),
        (10, _("10–30 hộ")),
        (30, _("30–50 hộ")),
        (50, _("50–100 hộ")),
        (100, _("Trên 100 hộ")),
    ]
    ctx.reply(
        _("Cảm ơn ông/bà! Khoảng bao nhiêu hộ đã nghe bản tin?"),
        [Button(label, f"relay_n:{ctx.arg}:{band}") for band, label in bands],
    )


def relay_households(ctx: Context) -> None:
    """'relay_n:<id>:<band>': then ask how it was passed on."""
    _ = ctx._
    bulletin_id, _sep, band = ctx.arg.partition(":")
    ctx.reply(
        _("Ông/bà đã truyền đạt bằng cách nào?"),
        [Button(_(label), f"relay_m:{bulletin_id}:{band}:{key}") for key, label in METHODS.items()],
    )


def relay_method(ctx: Context) -> None:
    """'relay_m:<id>:<band>:<method>': record the relay and thank them."""
    _ = ctx._
    parts = ctx.arg.split(":")
    bulletin = bulletins.get(ctx.session, bulletin_id=_int(parts[0]))
    valid = len(parts) == 3 and _int(parts[1]) in bulletins.RELAY_BANDS and parts[2] in METHODS
    if bulletin is None or not valid or ctx.person.role != PersonRole.prestigious:
        onboarding.back_to_menu(ctx, _("Bản tin này không còn nữa."))
        return
    bulletins.record_relay(ctx.session, bulletin, ctx.person, households=_int(parts[1]), method=parts[2])
    onboarding.back_to_menu(ctx, _("Đã ghi nhận. Cảm ơn ông/bà đã truyền đạt cho bà con!"))


def _int(text: str) -> int:
    """A number from a button payload; 0 when tampered with."""
    return int(text) if text.isdigit() else 0


def ask_invite(ctx: Context) -> None:
    """'invite' from settings: ask for the code an official gave."""
    _ = ctx._
    ctx.goto(STEP_INVITE)
    ctx.reply(
        _("Nhập mã mời cán bộ xã đưa cho ông/bà (ví dụ: UT-K7XQ3-M9PAC):"),
        [Button(_("☰ Menu chính"), "menu")],
    )


def typed_invite(ctx: Context) -> None:
    """A typed invite code: right makes the person prestigious, wrong asks again."""
    _ = ctx._
    if slowed(ctx, "UT"):
        return
    if people.redeem_invite(ctx.session, ctx.person, ctx.inbound.text):
        onboarding.back_to_menu(
            ctx,
            _(
                "Ông/bà đã được ghi nhận là người có uy tín. Ông/bà sẽ nhận bản tin trước bà con "
                "để truyền đạt lại."
            ),
        )
        return
    codes.record_failure(ctx.session, "UT", ctx.inbound.urn, ctx.person.id, origin=ctx.inbound.origin)
    ctx.reply(
        _("Mã không đúng, đã dùng hoặc đã hết hạn. Ông/bà kiểm tra lại và nhập lại nhé."),
        [Button(_("☰ Menu chính"), "menu")],
    )


def register(router: Router) -> None:
    """Bulletin buttons, the invite step and the 'Bản tin' menu entry."""
    router.button("news", replay, onboarded_only=True)
    router.button("relay", relayed, onboarded_only=True)
    router.button("relay_n", relay_households, onboarded_only=True)
    router.button("relay_m", relay_method, onboarded_only=True)
    router.button("invite", ask_invite, onboarded_only=True)
    router.step(STEP_INVITE, typed_invite)
    router.add_menu(MenuEntry("news", mark("📻 Bản tin"), order=50))
