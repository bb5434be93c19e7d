"""Onboarding with buttons only: language, province, commune, village, the privacy notice, then the main
menu; the notice is asked again whenever its text changes."""

from __future__ import annotations

from bot.areas import service as areas
from bot.areas import villages as village_service
from bot.conversation.picker import page_arg, paged
from bot.conversation.router import Context, Router
from bot.conversation.types import Button
from bot.i18n import KNOWN_LANGUAGES
from bot.privacy import service as privacy
from bot.privacy.notice import NOTICE
from bot.text import closest, fold

STEP_LANGUAGE = "onboarding.language"
STEP_PROVINCE = "onboarding.province"
STEP_COMMUNE = "onboarding.commune"
STEP_VILLAGE = "onboarding.village"
STEP_CONSENT = "onboarding.consent"
# Whole messages (folded) that mean 'take me to the menu' wherever the person is, not a question.
MENU_WORDS = frozenset(
    {
        "menu",
        "menu chinh",
        "mo menu",
        "ve menu",
        "quay lai",
        "quay ve",
        "tro ve",
        "tro lai",
        "☰",
        "☰ menu chinh",
    }
)


def start(ctx: Context) -> None:
    """/start: new people begin onboarding; known people are welcomed back and resubscribed."""
    if not ctx.person.onboarded:
        ask_language(ctx)
        return
    _ = ctx._
    ctx.person.subscribed = True
    ctx.goto("")
    ctx.reply(
        _("Chào mừng bạn quay lại Loa Bản! Bạn sẽ tiếp tục nhận bản tin."),
        [
            Button(_("🗣 Đổi ngôn ngữ"), "set:lang"),
            Button(_("📍 Đổi nơi ở"), "set:place"),
            Button(_("☰ Menu chính"), "menu"),
        ],
    )


def ask_language(ctx: Context) -> None:
    """Languages are named in themselves, so a person finds theirs without reading Vietnamese; one whose
    catalog is not finished says so ('Lus Hmoob — một phần'), so nobody is promised what is not there."""
    _ = ctx._
    ctx.goto(STEP_LANGUAGE)
    buttons = [
        Button(
            lang.endonym
            if ctx.catalogs.is_complete(lang.code)
            else _("{language} — một phần").format(language=lang.endonym),
            f"lang:{lang.code}",
        )
        for lang in ctx.catalogs.languages()
    ]
    if not ctx.person.spoken_prompts:  # each step read aloud from the next one on
        buttons.append(Button(_("🔊 Nghe hướng dẫn"), "spoken:on"))
    ctx.reply(
        _("Xin chào! Đây là Loa Bản, kênh thông tin hai chiều của chính quyền. Bạn chọn ngôn ngữ nhé:"),
        buttons,
        columns=2,
    )


def choose_language(ctx: Context) -> None:
    """Save the language; a language without a finished translation falls back to Vietnamese, said once
    in that language when the notice itself is translated."""
    code = ctx.arg
    if code not in ctx.catalogs.available:
        ask_language(ctx)
        return
    ctx.person.language = code
    if not ctx.catalogs.is_complete(code) and not ctx.person.fallback_notice_sent:
        _ = ctx.catalogs.gettext(code)
        name = KNOWN_LANGUAGES[code].vietnamese_name if code in KNOWN_LANGUAGES else code
        ctx.reply(
            _(
                "{language} chưa có bản dịch đầy đủ, nên Loa Bản sẽ nói tiếng Việt. "
                "Bản tin có tiếng nói bằng {language} sẽ được gửi khi có."
            ).format(language=name)
        )
        ctx.person.fallback_notice_sent = True
    if ctx.person.onboarded:
        back_to_menu(ctx, ctx._("Đã đổi ngôn ngữ."))
        return
    ask_province(ctx)


def ask_province(ctx: Context, page: int = 0) -> None:
    """Provinces as paged buttons; typing part of the name also works."""
    _ = ctx._
    ctx.goto(STEP_PROVINCE)
    buttons = [Button(areas.strip_prefix(p.name), f"prov:{p.code}") for p in areas.provinces()]
    ctx.reply(
        _("Bạn ở tỉnh hay thành phố nào? Chọn bên dưới, hoặc gõ tên (không dấu cũng được)."),
        paged(buttons, page, "provp", _),
        columns=2,
    )


def province_page(ctx: Context) -> None:
    """Next or previous page of provinces."""
    ask_province(ctx, page_arg(ctx.arg))


def type_province(ctx: Context) -> None:
    """Typed text at the province step searches province names."""
    hits = areas.search(areas.provinces(), ctx.inbound.text)
    if len(hits) == 1:
        _set_province(ctx, hits[0].code)
        return
    _ = ctx._
    near = [] if hits else areas.nearest(areas.provinces(), ctx.inbound.text)
    if not hits and not near:
        ctx.reply(_("Không tìm thấy tỉnh nào có tên như vậy. Bạn thử gõ lại, hoặc chọn trong danh sách."))
        ask_province(ctx)
        return
    question = _("Bạn chọn tỉnh nào?") if hits else _did_you_mean(ctx, _("tỉnh"))
    buttons = [Button(areas.strip_prefix(p.name), f"prov:{p.code}") for p in hits or near]
    ctx.reply(question, paged(buttons, 0, "provp", _), columns=2)


def _did_you_mean(ctx: Context, kind: str) -> str:
    """'Nothing is called that; did you mean one of these?', for names typed with a slip of the finger."""
    return ctx._(
        "Không có {kind} nào tên «{typed}». Có phải bạn muốn chọn một trong các tên dưới đây?"
    ).format(kind=kind, typed=ctx.inbound.text.strip()[:60])


def choose_province(ctx: Context) -> None:
    """A province button was tapped."""
    code = int(ctx.arg) if ctx.arg.isdigit() else 0
    if areas.get_province(code) is None:
        ask_province(ctx)
        return
    _set_province(ctx, code)


def _set_province(ctx: Context, code: int) -> None:
    """Save the province and move on to its communes."""
    if ctx.person.province_code != code:
        ctx.person.commune_code = None
        ctx.person.village_id = None
    ctx.person.province_code = code
    ask_commune(ctx)


def ask_commune(ctx: Context, page: int = 0) -> None:
    """Communes of the chosen province: type part of the name, or page through buttons."""
    _ = ctx._
    province = areas.get_province(ctx.person.province_code or 0)
    if province is None:
        ask_province(ctx)
        return
    ctx.goto(STEP_COMMUNE)
    buttons = [Button(areas.strip_prefix(c.name), f"com:{c.code}") for c in areas.communes(province.code)]
    ctx.reply(
        _(
            "Bạn ở xã, phường nào của {province}? Gõ vài chữ trong tên (có dấu hay không dấu đều được), "
            "hoặc chọn bên dưới."
        ).format(province=province.name),
        [*paged(buttons, page, "comp", _), Button(_("↩ Chọn lại tỉnh"), "provp:0")],
        columns=2,
    )


def commune_page(ctx: Context) -> None:
    """Next or previous page of communes."""
    ask_commune(ctx, page_arg(ctx.arg))


def type_commune(ctx: Context) -> None:
    """Typed text at the commune step searches the province's communes, diacritics optional."""
    _ = ctx._
    hits = areas.search(areas.communes(ctx.person.province_code or 0), ctx.inbound.text)
    if len(hits) == 1:
        _set_commune(ctx, hits[0].code)
        return
    near = [] if hits else areas.nearest(areas.communes(ctx.person.province_code or 0), ctx.inbound.text)
    if not hits and not near:
        ctx.reply(
            _("Không tìm thấy xã, phường nào như vậy. Bạn thử gõ ít chữ hơn, hoặc chọn trong danh sách.")
        )
        ask_commune(ctx)
        return
    question = _("Bạn chọn xã, phường nào?") if hits else _did_you_mean(ctx, _("xã, phường"))
    buttons = [Button(areas.strip_prefix(c.name), f"com:{c.code}") for c in hits or near]
    ctx.reply(question, [*paged(buttons, 0, "comp", _), Button(_("↩ Chọn lại tỉnh"), "provp:0")], columns=2)


def choose_commune(ctx: Context) -> None:
    """A commune button was tapped; it must belong to the chosen province."""
    commune = areas.get_commune(int(ctx.arg) if ctx.arg.isdigit() else 0)
    if commune is None or commune.province_code != ctx.person.province_code:
        ask_commune(ctx)
        return
    _set_commune(ctx, commune.code)


def _set_commune(ctx: Context, code: int) -> None:
    """Save the commune and ask for the village when the commune has any."""
    if ctx.person.commune_code != code:
        ctx.person.village_id = None
    ctx.person.commune_code = code
    if village_service.get_all(ctx.session, commune_code=code):
        ask_village(ctx)
    else:
        _place_done(ctx)


def ask_village(ctx: Context, page: int = 0) -> None:
    """Villages admins listed for the commune; this step can be skipped."""
    _ = ctx._
    ctx.goto(STEP_VILLAGE)
    villages = village_service.get_all(ctx.session, commune_code=ctx.person.commune_code or 0)
    buttons = [Button(v.name, f"vil:{v.id}") for v in villages]
    ctx.reply(
        _("Bạn ở thôn, bản nào? (Không bắt buộc)"),
        [*paged(buttons, page, "vilp", _), Button(_("Bỏ qua"), "vil:0")],
        columns=2,
    )


def village_page(ctx: Context) -> None:
    """Next or previous page of villages."""
    ask_village(ctx, page_arg(ctx.arg))


def type_village(ctx: Context) -> None:
    """Typed text at the village step picks the village whose name matches; several (or near) matches
    are offered as buttons; none is said, with the commune's list."""
    _ = ctx._
    villages = village_service.get_all(ctx.session, commune_code=ctx.person.commune_code or 0)
    hits = [v for v in villages if fold(ctx.inbound.text) in fold(v.name)]
    if len(hits) == 1:
        ctx.person.village_id = hits[0].id
        _place_done(ctx)
        return
    near = hits or closest(ctx.inbound.text, villages, lambda v: v.name)
    if not near:
        ctx.reply(
            _(
                "Không tìm thấy thôn, bản nào tên «{typed}» ở xã này. Bạn chọn trong danh sách dưới đây nhé."
            ).format(typed=ctx.inbound.text.strip()[:60])
        )
        ask_village(ctx)
        return
    question = _("Bạn ở thôn, bản nào?") if hits else _did_you_mean(ctx, _("thôn, bản"))
    buttons = [Button(v.name, f"vil:{v.id}") for v in near]
    ctx.reply(question, [*paged(buttons, 0, "vilp", _), Button(_("Bỏ qua"), "vil:0")], columns=2)


def choose_village(ctx: Context) -> None:
    """A village button (or 'skip') was tapped."""
    village_id = int(ctx.arg) if ctx.arg.isdigit() else 0
    village = village_service.get(ctx.session, village_id=village_id) if village_id else None
    if village is not None and village.commune_code != ctx.person.commune_code:
        ask_village(ctx)
        return
    ctx.person.village_id = village.id if village else None
    _place_done(ctx)


def _place_done(ctx: Context) -> None:
    """After the place: settings changes go back to the menu, newcomers go on to consent."""
    if ctx.person.onboarded:
        back_to_menu(ctx, ctx._("Đã lưu nơi ở của bạn.") + "\n" + where(ctx))
        return
    ask_consent(ctx)


def where(ctx: Context) -> str:
    """The person's place in one line, as they chose it: 'Bạn ở: Bản Pa Pe, xã Phong Thổ, tỉnh Lai Châu.'"""
    village = (
        village_service.get(ctx.session, village_id=ctx.person.village_id) if ctx.person.village_id else None
    )
    commune = areas.get_commune(ctx.person.commune_code or 0)
    province = areas.get_province(ctx.person.province_code or 0)
    parts = [
        village.name if village else "",
        _in_sentence(commune.name, "xã") if commune else "",
        _in_sentence(province.name, "tỉnh") if province else "",
    ]
    return ctx._("Bạn ở: {place}.").format(place=", ".join(p for p in parts if p))


def _in_sentence(name: str, kind: str) -> str:
    """'Xã Phong Thổ' -> 'xã Phong Thổ', 'Lai Châu' -> 'tỉnh Lai Châu': a place named with its kind, in
    lower case inside a sentence; the kind is part of the official Vietnamese name, in every language."""
    return name[0].lower() + name[1:] if name != areas.strip_prefix(name) else f"{kind} {name}"


def ask_consent(ctx: Context, *, changed: bool = False) -> None:
    """The plain-language notice Viet Nam's personal data protection law requires, before a name or a
    message is kept; asked again when its text has changed since the person agreed."""
    _ = ctx._
    ctx.goto(STEP_CONSENT)
    text = _(NOTICE)
    if changed:
        text = _("Loa Bản đã thay đổi thông báo về việc lưu dữ liệu của bạn. Xin bạn đọc lại:") + "\n" + text
    ctx.reply(text, [Button(_("✅ Tôi đồng ý"), "consent:yes"), Button(_("❌ Không đồng ý"), "consent:no")])


def consent(ctx: Context) -> None:
    """The answer to the notice, kept with its time and version. Yes: the name is kept from now on. No:
    bulletins and questions still work, without a name; the person is told what they cannot do and how
    to agree later. Either way the menu follows."""
    _ = ctx._
    if ctx.person.state != STEP_CONSENT:
        reprompt(ctx)
        return
    ctx.goto("")
    # Onboarding ends here, so a newcomer is told the place they chose; a notice asked again is not.
    place = "" if ctx.person.onboarded else "\n" + where(ctx)
    if ctx.arg == "yes":
        again = ctx.person.onboarded
        privacy.agree(ctx.person, name=ctx.inbound.display_name)
        ctx.person.subscribed = True
        if again:
            ctx.reply(_("Cảm ơn bạn đã đồng ý."))
        else:
            ctx.reply(
                _("Cảm ơn bạn! Từ nay bạn sẽ nhận được bản tin của xã và có thể gửi câu hỏi, góp ý.") + place
            )
        show_menu(ctx)
        return
    had_consented = ctx.person.consented
    privacy.decline(ctx.person)
    text = _(
        "Không sao. Loa Bản không giữ tên bạn. Để gửi bản tin và trả lời câu hỏi, Loa Bản chỉ giữ ngôn ngữ, "
        "nơi ở và địa chỉ trò chuyện của bạn. Nội dung tin nhắn không được giữ lại sau khi đã trả lời, chỉ "
        "ghi là đã có một tin nhắn để đếm số tin; câu hỏi hay phản ánh bạn chọn gửi cho cán bộ thì "
        "được giữ.\n"
        "Khi chưa đồng ý, bạn vẫn nhận bản tin, hỏi đáp và gửi phản ánh ẩn danh, nhưng không thể gửi kèm tên "
        "hay số điện thoại để cán bộ gọi lại.\n"
        "Khi nào muốn đồng ý, bạn vào ⚙️ Cài đặt → «✅ Đồng ý lưu dữ liệu»."
    )
    if had_consented:
        text += "\n" + _(
            "Những gì bạn đã gửi trước đây vẫn được giữ. Muốn xóa, bạn vào ⚙️ Cài đặt → "
            "«🗑 Xóa dữ liệu của tôi»."
        )
    ctx.reply(text + place)
    show_menu(ctx)


def show_menu(ctx: Context) -> None:
    """The main menu: only the features that exist for this person."""
    _ = ctx._
    entries = [e for e in ctx.router.menu if e.visible(ctx)]
    ctx.reply(_("Bạn cần gì? Bấm vào một nút:"), [Button(_(e.label), e.payload) for e in entries])


def back_to_menu(ctx: Context, done: str, *, whole_menu: bool = False) -> None:
    """Confirm what was just done, with one '☰ Menu chính' button: the whole menu again after every action
    was a wall of buttons to scroll past. A greeting or a message not understood gets the menu itself."""
    ctx.goto("")
    if whole_menu:
        ctx.reply(done)
        show_menu(ctx)
        return
    ctx.reply(done, [Button(ctx._("☰ Menu chính"), "menu")])


def menu(ctx: Context) -> None:
    """The 'menu' button, from anywhere, leaves the current step."""
    ctx.goto("")
    show_menu(ctx)


def is_menu_word(text: str) -> bool:
    """Whether a whole message asks for the menu ('Menu', 'mở menu', 'quay lại', '☰')."""
    return fold(text).strip(" .!?") in MENU_WORDS


def reprompt(ctx: Context) -> None:
    """Show again what the person can do now: the pending onboarding step, else the menu."""
    steps = {
        STEP_LANGUAGE: ask_language,
        STEP_PROVINCE: ask_province,
        STEP_COMMUNE: ask_commune,
        STEP_VILLAGE: ask_village,
        STEP_CONSENT: ask_consent,
    }
    if ctx.person.onboarded:
        if ctx.person.state in steps:
            steps[ctx.person.state](ctx)
        else:
            show_menu(ctx)
        return
    if ctx.person.language is None:
        ask_language(ctx)
        return
    steps.get(ctx.person.state, ask_province)(ctx)


def register(router: Router) -> None:
    """Onboarding's commands, buttons and steps."""
    router.command("start", start)
    router.button("lang", choose_language)
    router.button("provp", province_page)
    router.button("prov", choose_province)
    router.button("comp", commune_page)
    router.button("com", choose_commune)
    router.button("vilp", village_page)
    router.button("vil", choose_village)
    router.button("consent", consent)
    router.button("menu", menu, onboarded_only=True)
    router.command("menu", menu, onboarded_only=True)
    router.typed(is_menu_word, menu, onboarded_only=True)
    router.step(STEP_PROVINCE, type_province)
    router.step(STEP_COMMUNE, type_commune)
    router.step(STEP_VILLAGE, type_village)
    router.reprompt = reprompt
