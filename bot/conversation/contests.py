"""Law contests in the conversation: '🏆 Cuộc thi' while a round is open for the person; registration with
consent before a first attempt; one drawn question at a time with big buttons, right or wrong with the
explanation and legal source after each; at the end the score, the time and the tie-breaker prediction.
Resumed where left, one attempt per round, answers after the round's end refused and not counted."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.contests import service as contests
from bot.contests.models import Attempt, ContestQuestion, ContestRound
from bot.conversation import onboarding
from bot.conversation.router import Context, MenuEntry, Router
from bot.conversation.types import Button, Quiz
from bot.i18n import mark
from bot.people.models import PersonRole
from bot.translations import content as content_translations

REGISTER = "contest.register"
PREDICT = "contest.predict"
TITLE_LIMIT = 50
PROMPTS = {
    "name": mark("Họ và tên của bạn?"),
    "birth_year": mark("Bạn sinh năm nào? (ví dụ: 1985)"),
    "phone": mark("Số điện thoại để ban tổ chức liên hệ khi trao giải?"),
    "village": mark("Bạn ở thôn, bản nào?"),
}


def has_open(ctx: Context) -> bool:
    """The menu shows contests only while a round is open for this person."""
    return bool(contests.open_for(ctx.session, ctx.person))


def listing(ctx: Context) -> None:
    """'contests': the one open round at once, or a button per round when there are several."""
    _ = ctx._
    found = contests.open_for(ctx.session, ctx.person)
    if len(found) == 1:
        _begin(ctx, found[0], for_group=None)
        return
    if not found:
        onboarding.back_to_menu(ctx, _("Hiện không có cuộc thi nào đang mở cho bạn."))
        return
    buttons = [Button(_short(f"🏆 {r.contest.title} – {r.title}"), f"contest:{r.id}") for r in found]
    ctx.reply(_("Các cuộc thi đang mở. Bấm để dự thi:"), [*buttons, Button(_("☰ Menu chính"), "menu")])


def _short(label: str) -> str:
    """A title short enough for a button."""
    return label if len(label) <= TITLE_LIMIT else label[: TITLE_LIMIT - 1].rstrip() + "…"


def _round(ctx: Context, round_id: int) -> ContestRound | None:
    """A round for this person, or None after saying it is gone."""
    round_ = ctx.session.get(ContestRound, round_id)
    if round_ is None or not contests.audience_of(round_.contest).matches(ctx.person):
        onboarding.back_to_menu(ctx, ctx._("Cuộc thi này không còn nữa."))
        return None
    return round_


FOR_WHOM = {"contest": None, "cm": False, "cg": True}  # the button: ask a prestigious person, self, group


def begin(ctx: Context) -> None:
    """'contest:<round>' starts the round (a prestigious person first says for whom) or resumes it;
    'cm:<round>' a prestigious person answers for themselves, 'cg:<round>' for a household group."""
    round_ = _round(ctx, _int(ctx.arg))
    if round_ is not None:
        for_group = FOR_WHOM.get(ctx.inbound.payload.split(":", 1)[0])
        prestigious = ctx.person.role == PersonRole.prestigious
        _begin(ctx, round_, for_group=for_group if prestigious else None)


def _begin(ctx: Context, round_: ContestRound, *, for_group: bool | None) -> None:
    """Refuse a second attempt or a closed round; register first; then ask the next question."""
    _ = ctx._
    if for_group is None and ctx.person.role == PersonRole.prestigious:
        ctx.reply(
            _("Bạn dự thi cho bản thân, hay nhập đáp án thay cho một nhóm hộ (không xét giải)?"),
            [
                Button(_("🙋 Tự dự thi"), f"cm:{round_.id}"),
                Button(_("👥 Nhập thay nhóm hộ"), f"cg:{round_.id}"),
                Button(_("☰ Menu chính"), "menu"),
            ],
        )
        return
    group = bool(for_group)
    attempt = contests.attempt_of(ctx.session, round_, ctx.person, for_group=group)
    if attempt is not None and attempt.finished_at is not None:
        if attempt.prediction is None and not group and contests.is_open(round_):
            _ask_prediction(ctx, attempt)
            return
        onboarding.back_to_menu(
            ctx, _("Bạn đã dự thi vòng này rồi. Mỗi người chỉ dự thi một lần mỗi vòng. Cảm ơn bạn!")
        )
        return
    if not contests.is_open(round_):
        _late(ctx, round_)
        return
    if contests.entrant_of(ctx.session, round_.contest, ctx.person) is None:
        _register(ctx, round_)
        return
    if attempt is None:
        attempt = contests.start(
            ctx.session, round_, ctx.person, ctx.inbound.urn.split(":", 1)[0], for_group=group
        )
        ctx.reply(
            _("🏆 {title} – {round}: {n} câu hỏi. Bấm vào đáp án bạn chọn.").format(
                title=round_.contest.title, round=round_.title, n=attempt.asked
            )
        )
    elif contests.answers(ctx.session, attempt):
        ctx.reply(_("Mình tiếp tục từ câu bạn chưa trả lời nhé."))
    _advance(ctx, round_, attempt)


def _late(ctx: Context, round_: ContestRound) -> None:
    """Say politely that the round is over and nothing more counts."""
    ends = round_.ends_at.astimezone(ZoneInfo(ctx.settings.timezone)).strftime("%H:%M %d/%m/%Y")
    onboarding.back_to_menu(
        ctx,
        ctx._(
            "Rất tiếc, vòng thi đã kết thúc lúc {when} nên câu trả lời không được tính. Cảm ơn bạn!"
        ).format(when=ends),
    )


def _advance(ctx: Context, round_: ContestRound, attempt: Attempt) -> None:
    """Ask the next drawn question, or give the score and time (and the tie-breaker) once all are answered."""
    _ = ctx._
    question = contests.next_question(ctx.session, attempt)
    if question is not None:
        _ask(ctx, attempt, question)
        return
    score = _("🏁 Bạn trả lời đúng {score}/{total} câu trong {time}.").format(
        score=attempt.score, total=attempt.asked, time=_duration(ctx, contests.seconds_taken(attempt))
    )
    if attempt.for_group:
        onboarding.back_to_menu(
            ctx, score + "\n" + _("Đáp án của nhóm hộ đã được ghi nhận (không xét giải).")
        )
        return
    ctx.reply(score)
    _ask_prediction(ctx, attempt)


def _duration(ctx: Context, seconds: int) -> str:
    """'2 phút 5 giây'."""
    minutes, rest = divmod(seconds, 60)
    if minutes:
        return ctx._("{m} phút {s} giây").format(m=minutes, s=rest)
    return ctx._("{s} giây").format(s=rest)


def _ask(ctx: Context, attempt: Attempt, question: ContestQuestion) -> None:
    """One question with its options as big buttons (A, B, C, D), in the person's language when its
    translation is approved, else in Vietnamese."""
    language = content_translations.shown_language(ctx.session, question, ctx.person.language)
    number = attempt.question_ids.index(question.id) + 1
    text = ctx._("Câu {n}/{total}: {question}").format(
        n=number, total=attempt.asked, question=contests.text_in(question.texts, language)
    )
    buttons = [
        Button(
            f"{contests.LETTERS[index]}. {contests.text_in(option, language)}",
            f"ca:{attempt.id}:{question.id}:{index}",
        )
        for index, option in enumerate(question.options)
    ]
    quiz = Quiz(
        question=text,
        options=tuple(button.label for button in buttons),
        correct=question.correct,
        explanation=contests.text_in(question.explanation, language),
        answer=f"ca:{attempt.id}:{question.id}",
    )
    ctx.goto("")
    ctx.reply(text, [*buttons, Button(ctx._("☰ Menu chính"), "menu")], quiz=quiz)


def _ask_prediction(ctx: Context, attempt: Attempt) -> None:
    """The tie-breaker Vietnamese contests ask, answered with a number."""
    ctx.goto(PREDICT, attempt=attempt.id)
    ctx.reply(
        ctx._("Câu hỏi phụ: Dự đoán có bao nhiêu người trả lời đúng tất cả câu hỏi của vòng này?")
        + "\n"
        + ctx._("(Gõ một con số.)"),
        [Button(ctx._("☰ Menu chính"), "menu")],
    )


def answered(ctx: Context) -> None:
    """'ca:<attempt>:<question>:<option>': store the answer first, then say right or wrong, explain, go on."""
    _ = ctx._
    parts = ctx.arg.split(":")
    attempt = ctx.session.get(Attempt, _int(parts[0])) if len(parts) == 3 else None
    question = ctx.session.get(ContestQuestion, _int(parts[1])) if len(parts) == 3 else None
    round_ = ctx.session.get(ContestRound, attempt.round_id) if attempt is not None else None
    if attempt is None or question is None or round_ is None or attempt.person_id != ctx.person.id:
        onboarding.back_to_menu(ctx, _("Cuộc thi này không còn nữa."))
        return
    option = _int(parts[2])
    if not 0 <= option < len(question.options):
        _ask(ctx, attempt, question)
        return
    taken = contests.answer(ctx.session, attempt, question, option)
    if taken == "late":
        _late(ctx, round_)
        return
    if taken == "again":
        ctx.reply(_("Câu này bạn đã trả lời rồi; câu trả lời đầu tiên được giữ."))
    else:
        ctx.reply(_feedback(ctx, question, taken == "right"))
    _advance(ctx, round_, attempt)


def _feedback(ctx: Context, question: ContestQuestion, right: bool) -> str:
    """Right or wrong, the right option, the short explanation and the legal source."""
    _ = ctx._
    language = content_translations.shown_language(ctx.session, question, ctx.person.language)
    correct = contests.option_label(question, question.correct, language)
    lines = [_("✅ Đúng rồi!") if right else _("❌ Chưa đúng. Đáp án đúng: {answer}").format(answer=correct)]
    explanation = contests.text_in(question.explanation, language)
    if explanation:
        lines.append(explanation)
    if question.source:
        lines.append(_("📄 Nguồn: {source}").format(source=question.source))
    return "\n".join(lines)


def predicted(ctx: Context) -> None:
    """Typed at the tie-breaker: the number is kept once, while the round is open."""
    _ = ctx._
    attempt = ctx.session.get(Attempt, _int(str(ctx.person.state_data.get("attempt", ""))))
    round_ = ctx.session.get(ContestRound, attempt.round_id) if attempt is not None else None
    if attempt is None or round_ is None or attempt.person_id != ctx.person.id:
        onboarding.back_to_menu(ctx, _("Cuộc thi này không còn nữa."))
        return
    text = ctx.inbound.text.strip().replace(".", "").replace(",", "")
    if not text.isdigit() or len(text) > 9:
        ctx.reply(_("Bạn hãy gõ một con số, ví dụ: 120"))
        return
    if not contests.is_open(round_):
        _late(ctx, round_)
        return
    contests.predict(ctx.session, attempt, int(text))
    onboarding.back_to_menu(
        ctx,
        _("Cảm ơn bạn! Dự đoán của bạn: {n} người. Kết quả sẽ được công bố khi vòng thi kết thúc.").format(
            n=attempt.prediction
        ),
    )


# --- registration ----------------------------------------------------------------------------------------


def _register(ctx: Context, round_: ContestRound) -> None:
    """Before a first attempt: the rules and prizes, then consent to keep the registration details."""
    _ = ctx._
    contest = round_.contest
    parts = [f"🏆 {contest.title}"]
    if contest.rules:
        parts.append(_("Thể lệ: {rules}").format(rules=contest.rules))
    if contest.prizes:
        parts.append(_("Giải thưởng: {prizes}").format(prizes=contest.prizes))
    parts.append(
        _("Để dự thi, bạn đăng ký vài thông tin để ban tổ chức liên hệ khi trao giải.")
        + " "
        + _("Bạn đồng ý cho Loa Bản lưu các thông tin này cho cuộc thi?")
    )
    ctx.goto(REGISTER, round=round_.id, field=-1, details={})
    ctx.reply(
        "\n\n".join(parts),
        [Button(_("✅ Đồng ý"), f"cc:{round_.id}:y"), Button(_("Không đồng ý"), f"cc:{round_.id}:n")],
    )


def consented(ctx: Context) -> None:
    """'cc:<round>:y|n': agree to register (then the fields), or not (then no attempt)."""
    round_id, _sep, answer = ctx.arg.partition(":")
    round_ = _round(ctx, _int(round_id))
    if round_ is None:
        return
    if answer != "y":
        onboarding.back_to_menu(
            ctx, ctx._("Không sao. Bạn cần đồng ý thì mới dự thi được; bạn có thể quay lại bất cứ lúc nào.")
        )
        return
    ctx.goto(REGISTER, round=round_.id, field=-1, details={})
    _next_field(ctx, round_)


def _next_field(ctx: Context, round_: ContestRound) -> None:
    """Ask the next registration field (optional ones can be skipped), then consent to be named."""
    _ = ctx._
    data = ctx.person.state_data
    index = int(data.get("field", -1)) + 1
    if index >= len(contests.FIELDS):
        ctx.goto(REGISTER, **(data | {"field": index}))
        ctx.reply(
            _("Nếu đoạt giải, bạn có đồng ý để ban tổ chức công bố tên và xã của bạn không?"),
            [
                Button(_("✅ Đồng ý nêu tên"), f"cn:{round_.id}:y"),
                Button(_("Không nêu tên"), f"cn:{round_.id}:n"),
            ],
        )
        return
    name = contests.FIELDS[index]
    ctx.goto(REGISTER, **(data | {"field": index}))
    required = name in round_.contest.required
    hint = _("(bắt buộc theo thể lệ)") if required else _("(không bắt buộc)")
    buttons = [] if required else [Button(_("⏭ Bỏ qua"), f"cs:{round_.id}")]
    ctx.reply(f"{_(PROMPTS[name])} {hint}", [*buttons, Button(_("☰ Menu chính"), "menu")])


def skipped(ctx: Context) -> None:
    """'cs:<round>': leave an optional field empty."""
    round_ = _round(ctx, _int(ctx.arg))
    if round_ is None:
        return
    data = ctx.person.state_data
    if ctx.person.state != REGISTER or data.get("round") != round_.id:
        _begin(ctx, round_, for_group=None)
        return
    index = int(data.get("field", -1))
    if 0 <= index < len(contests.FIELDS) and contests.FIELDS[index] in round_.contest.required:
        ctx.reply(ctx._("Thể lệ yêu cầu thông tin này."))
        return
    _next_field(ctx, round_)


def typed_field(ctx: Context) -> None:
    """Typed during registration: the value of the field asked, checked."""
    _ = ctx._
    data = ctx.person.state_data
    round_ = _round(ctx, int(data.get("round", 0)))
    if round_ is None:
        return
    index = int(data.get("field", -1))
    if not 0 <= index < len(contests.FIELDS):
        ctx.reply(_("Bạn hãy bấm một nút bên dưới nhé."))
        return
    name = contests.FIELDS[index]
    value = ctx.inbound.text.strip()
    problem = _check_field(name, value)
    if problem:
        ctx.reply(_(problem))
        return
    ctx.goto(REGISTER, **(data | {"details": {**data.get("details", {}), name: value}}))
    _next_field(ctx, round_)


def _check_field(name: str, value: str) -> str:
    """Why a typed registration value is refused (a message id), or '' when it is fine."""
    if not value or len(value) > 120:
        return mark("Bạn hãy gõ ngắn gọn (tối đa 120 ký tự).")
    if name == "birth_year" and not (value.isdigit() and 1900 <= int(value) <= datetime.now().year):
        return mark("Bạn hãy gõ năm sinh bằng 4 chữ số, ví dụ: 1985")
    digits = value.replace(" ", "").replace(".", "").removeprefix("+84")
    if name == "phone" and not (digits.isdigit() and 9 <= len(digits) <= 11):
        return mark("Số điện thoại chưa đúng, ví dụ: 0912345678")
    return ""


def named(ctx: Context) -> None:
    """'cn:<round>:y|n': the last registration answer; then the round begins."""
    round_id, _sep, answer = ctx.arg.partition(":")
    round_ = _round(ctx, _int(round_id))
    if round_ is None:
        return
    data = ctx.person.state_data
    if ctx.person.state != REGISTER or data.get("round") != round_.id:
        _begin(ctx, round_, for_group=None)
        return
    contests.register(
        ctx.session, round_.contest, ctx.person, dict(data.get("details", {})), named=answer == "y"
    )
    ctx.goto("")
    ctx.reply(ctx._("Đã đăng ký dự thi. Chúc bạn may mắn!"))
    _begin(ctx, round_, for_group=None)


def invitation(gettext: Callable[[str], str], round_: ContestRound, zone: str) -> str:
    """The bulletin that invites the audience when a round opens: what, when, and where to tap."""
    local = ZoneInfo(zone)
    return gettext(
        "🏆 Mời bà con dự thi «{title}» – {round}, từ {start} đến {end}. "
        "Bấm «🏆 Cuộc thi» trong menu để trả lời. Giải thưởng: {prizes}"
    ).format(
        title=round_.contest.title,
        round=round_.title,
        start=round_.starts_at.astimezone(local).strftime("%H:%M %d/%m"),
        end=round_.ends_at.astimezone(local).strftime("%H:%M %d/%m/%Y"),
        prizes=round_.contest.prizes or "—",
    )


def summary(
    gettext: Callable[[str], str],
    round_: ContestRound,
    results: contests.RoundResults,
    place: str,
    language: str,
    approved: Collection[str] = (),
) -> str:
    """A commune's results as one message to the people there who took part: how many, and the share
    right of each question (which laws the commune misunderstands); a question reads in their language
    only when its translation is `approved` (ids)."""
    lines = [
        gettext("🏆 Kết quả «{title} – {round}» ở {place}: {n} người tham gia.").format(
            title=round_.contest.title, round=round_.title, place=place, n=results.finished
        )
    ]
    for share in results.questions:
        text = contests.text_in(
            share.question.texts, language if str(share.question.id) in approved else None
        )
        right = gettext("{pct}% trả lời đúng").format(pct=round(100 * share.share))
        lines.append(f"• {text}: {right}")
    lines.append(gettext("Cảm ơn bạn đã tham gia!"))
    return "\n".join(lines)


def _int(text: str) -> int:
    """A number from a button payload; 0 when tampered with."""
    return int(text) if text.isdigit() else 0


def register(router: Router) -> None:
    """Contest buttons, the registration and tie-breaker steps, and the menu entry while a round is open."""
    router.button("contests", listing, onboarded_only=True)
    router.button("contest", begin, onboarded_only=True)
    router.button("cm", begin, onboarded_only=True)
    router.button("cg", begin, onboarded_only=True)
    router.button("ca", answered, onboarded_only=True)
    router.button("cc", consented, onboarded_only=True)
    router.button("cs", skipped, onboarded_only=True)
    router.button("cn", named, onboarded_only=True)
    router.step(REGISTER, typed_field)
    router.step(PREDICT, predicted)
    router.add_menu(MenuEntry("contests", mark("🏆 Cuộc thi"), order=85, visible=has_open))
