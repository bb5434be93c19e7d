"""Polls in the conversation: '📊 Thăm dò ý kiến' while one is open for the person, one question at a time
with big buttons (or a typed number or text, or a voice note), resumed where it was left, answered once;
and the message that brings a commune's results back to the people who answered."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from babel.numbers import format_decimal

from bot.areas import service as areas
from bot.conversation import onboarding
from bot.conversation.router import Context, MenuEntry, Router
from bot.conversation.types import Button
from bot.i18n import mark
from bot.polls import service as polls
from bot.polls.models import Poll, PollQuestion, PollResponse, QuestionKind
from bot.translations import content as content_translations

STEP = "poll.answer"
TITLE_LIMIT = 50


def has_open(ctx: Context) -> bool:
    """The menu shows polls only while one is open for this person."""
    return bool(polls.open_for(ctx.session, ctx.person))


def listing(ctx: Context) -> None:
    """'polls': the one open poll at once, or a button per poll when there are several."""
    _ = ctx._
    found = polls.open_for(ctx.session, ctx.person)
    if len(found) == 1:
        _begin(ctx, found[0])
        return
    if not found:
        onboarding.back_to_menu(ctx, _("Hiện không có thăm dò ý kiến nào cho bạn."))
        return
    titles = content_translations.poll_titles(ctx.session, found, ctx.person.language)
    buttons = [Button(_short("📊 " + titles[poll.id]), f"poll:{poll.id}") for poll in found]
    ctx.reply(_("Các thăm dò đang mở. Bấm để trả lời:"), [*buttons, Button(_("☰ Menu chính"), "menu")])


def _short(label: str) -> str:
    """A title short enough for a button."""
    return label if len(label) <= TITLE_LIMIT else label[: TITLE_LIMIT - 1].rstrip() + "…"


def begin(ctx: Context) -> None:
    """'poll:<id>': start a poll, or resume it at the first question not answered."""
    poll = polls.get(ctx.session, poll_id=_int(ctx.arg))
    if poll is None or not polls.audience_of(poll).matches(ctx.person):
        onboarding.back_to_menu(ctx, ctx._("Thăm dò này không còn nữa."))
        return
    _begin(ctx, poll)


def _begin(ctx: Context, poll: Poll) -> None:
    """Greet with the introduction the first time; say so when resuming; refuse a second attempt."""
    _ = ctx._
    response = polls.response_of(ctx.session, poll, ctx.person)
    if _refused(ctx, poll, response):
        return
    if response is None:
        response = polls.start(ctx.session, poll, ctx.person, ctx.inbound.urn.split(":", 1)[0])
        language = content_translations.shown_language(ctx.session, poll, ctx.person.language)
        lines = [polls.text_in(poll.intro, language)]
        if language != (ctx.person.language or language):
            lines.append(
                _("(Thăm dò này chưa được dịch sang tiếng của bạn, nên Loa Bản hỏi bằng tiếng Việt.)")
            )
        if any(lines):
            ctx.reply("\n\n".join(line for line in lines if line))
    elif polls.answered(ctx.session, response):
        ctx.reply(_("Mình tiếp tục từ câu bạn chưa trả lời nhé."))
    _advance(ctx, poll, response)


def _refused(ctx: Context, poll: Poll, response: PollResponse | None) -> bool:
    """Answer, and return True, when nothing may be answered: already finished, or the poll is over."""
    _ = ctx._
    if response is not None and response.finished_at is not None:
        onboarding.back_to_menu(
            ctx, _("Bạn đã trả lời thăm dò này rồi. Mỗi người chỉ trả lời một lần. Cảm ơn bạn!")
        )
        return True
    if not polls.is_open(poll):
        onboarding.back_to_menu(
            ctx,
            _("Rất tiếc, thăm dò này đã kết thúc nên câu trả lời không được tính. Cảm ơn bạn đã quan tâm!"),
        )
        return True
    return False


def _advance(ctx: Context, poll: Poll, response: PollResponse) -> None:
    """Ask the next unanswered question, or thank the person once all are answered."""
    question = polls.next_question(ctx.session, poll, response)
    if question is None:
        polls.finish(response)
        onboarding.back_to_menu(ctx, ctx._("Cảm ơn bạn đã trả lời! Ý kiến của bạn đã được ghi nhận."))
        return
    _ask(ctx, poll, question, [])


def _ask(ctx: Context, poll: Poll, question: PollQuestion, picked: list[int]) -> None:
    """One question with its choices as big buttons, the whole poll in the person's language when its
    translation is approved, else in Vietnamese; a number or a text is typed at the poll's step."""
    _ = ctx._
    language = content_translations.shown_language(ctx.session, poll, ctx.person.language)
    number = poll.questions.index(question) + 1
    text = _("Câu {n}/{total}: {question}").format(
        n=number, total=len(poll.questions), question=polls.text_in(question.texts, language)
    )
    ctx.goto(STEP, poll=poll.id, q=question.id, picked=picked)
    menu = Button(_("☰ Menu chính"), "menu")
    if question.kind == QuestionKind.single:
        buttons = [
            Button(polls.text_in(c.texts, language), f"pa:{question.id}:{c.id}") for c in question.choices
        ]
        ctx.reply(text, [*buttons, menu])
    elif question.kind == QuestionKind.multiple:
        buttons = [
            Button(
                ("✅ " if c.id in picked else "▫️ ") + polls.text_in(c.texts, language),
                f"pm:{question.id}:{c.id}",
            )
            for c in question.choices
        ]
        hint = _("(Chọn một hay nhiều ý, rồi bấm «Xong».)")
        ctx.reply(f"{text}\n{hint}", [*buttons, Button(_("✔️ Xong"), f"pd:{question.id}"), menu])
    elif question.kind == QuestionKind.number:
        hint = _("(Gõ một con số.)")
        ctx.reply(f"{text}\n{hint}", [menu])
    elif question.kind == QuestionKind.voice:
        how = (
            _("(Gửi một tin nhắn thoại, hoặc gõ chữ.)")
            if ctx.records_voice
            else _("(Bấm 📎 để gửi một tệp ghi âm, hoặc gõ chữ.)")
        )
        ctx.reply(f"{text}\n{how}", [menu])
    else:
        hint = _("(Gõ câu trả lời của bạn.)")
        ctx.reply(f"{text}\n{hint}", [menu])


def _current(ctx: Context, question_id: int) -> tuple[Poll, PollResponse, PollQuestion] | None:
    """The poll, response and question an answer is for, or None after saying why it is not taken."""
    question = ctx.session.get(PollQuestion, question_id)
    if question is None:
        onboarding.back_to_menu(ctx, ctx._("Thăm dò này không còn nữa."))
        return None
    poll = question.poll
    response = polls.response_of(ctx.session, poll, ctx.person)
    if response is None:  # a button kept from before the person started: start now, if it is for them
        if polls.audience_of(poll).matches(ctx.person):
            _begin(ctx, poll)
        else:
            onboarding.back_to_menu(ctx, ctx._("Thăm dò này không còn nữa."))
        return None
    if _refused(ctx, poll, response):
        return None
    return poll, response, question


def _store(
    ctx: Context,
    poll: Poll,
    response: PollResponse,
    question: PollQuestion,
    *,
    choice_ids: Sequence[int] = (),
    number: float | None = None,
    text: str = "",
    media_id: int | None = None,
) -> None:
    """Store an answer (once) and go on; an answer given before is kept as it was."""
    stored = polls.answer(
        ctx.session, response, question, choice_ids=choice_ids, number=number, text=text, media_id=media_id
    )
    if not stored:
        ctx.reply(ctx._("Câu này bạn đã trả lời rồi; câu trả lời đầu tiên được giữ."))
    _advance(ctx, poll, response)


def chose(ctx: Context) -> None:
    """'pa:<question>:<choice>': one choice of a single-choice question."""
    question_id, _sep, choice = ctx.arg.partition(":")
    found = _current(ctx, _int(question_id))
    if found is None:
        return
    poll, response, question = found
    if _int(choice) not in {c.id for c in question.choices}:
        _ask(ctx, poll, question, [])
        return
    _store(ctx, poll, response, question, choice_ids=[_int(choice)])


def toggled(ctx: Context) -> None:
    """'pm:<question>:<choice>': tick or untick a choice of a multiple-choice question."""
    question_id, _sep, choice = ctx.arg.partition(":")
    found = _current(ctx, _int(question_id))
    if found is None:
        return
    poll, response, question = found
    if question.id in polls.answered(ctx.session, response):
        _store(ctx, poll, response, question)
        return
    picked = _picked(ctx, question)
    if _int(choice) in {c.id for c in question.choices}:
        picked = (
            [c for c in picked if c != _int(choice)] if _int(choice) in picked else [*picked, _int(choice)]
        )
    _ask(ctx, poll, question, picked)


def done(ctx: Context) -> None:
    """'pd:<question>': the ticked choices are the answer; at least one is needed."""
    found = _current(ctx, _int(ctx.arg))
    if found is None:
        return
    poll, response, question = found
    picked = _picked(ctx, question)
    if not picked and question.id not in polls.answered(ctx.session, response):
        ctx.reply(ctx._("Bạn hãy chọn ít nhất một ý rồi bấm «Xong»."))
        _ask(ctx, poll, question, [])
        return
    _store(ctx, poll, response, question, choice_ids=picked)


def _picked(ctx: Context, question: PollQuestion) -> list[int]:
    """The choices ticked so far on this question (kept in the person's step)."""
    data = ctx.person.state_data
    if ctx.person.state != STEP or data.get("q") != question.id:
        return []
    return [int(c) for c in data.get("picked", [])]


def typed(ctx: Context) -> None:
    """Typed text at a poll's step: the number or text answer, or a reminder to tap a button."""
    _ = ctx._
    found = _current(ctx, _int(str(ctx.person.state_data.get("q", ""))))
    if found is None:
        return
    poll, response, question = found
    text = ctx.inbound.text.strip()
    if question.kind == QuestionKind.number:
        number = polls.parse_number(text)
        if number is None:
            ctx.reply(_("Bạn hãy gõ một con số, ví dụ: 3"))
            _ask(ctx, poll, question, [])
            return
        _store(ctx, poll, response, question, number=number)
    elif question.kind in (QuestionKind.text, QuestionKind.voice) and text:
        _store(ctx, poll, response, question, text=text)
    else:
        ctx.reply(_("Bạn hãy bấm một nút bên dưới nhé."))
        _ask(ctx, poll, question, _picked(ctx, question))


def recorded(ctx: Context) -> None:
    """A file at a poll's step: a voice note answers a voice question; anything else is asked again."""
    found = _current(ctx, _int(str(ctx.person.state_data.get("q", ""))))
    if found is None:
        return
    poll, response, question = found
    received = ctx.inbound.received
    if question.kind != QuestionKind.voice or received is None or received.kind not in ("voice", "audio"):
        ctx.reply(ctx._("Câu này trả lời bằng nút bấm hoặc gõ chữ nhé."))
        _ask(ctx, poll, question, _picked(ctx, question))
        return
    stored = ctx.keep_file() if not received.error else None
    if stored is None:
        ctx.reply(ctx._("Không nhận được ghi âm này. Bạn hãy gửi lại, hoặc gõ chữ nhé."))
        _ask(ctx, poll, question, [])
        return
    _store(ctx, poll, response, question, media_id=stored.id)


def summary(
    gettext: Callable[[str], str],
    poll: Poll,
    results: polls.Results,
    commune: int | None,
    people: int,
    language: str,
    shown: str,
) -> str:
    """The results of a commune as one message to the people there who answered: each choice's share, a
    number's average, the poll's title and texts in `shown` (the person's language when the poll's
    translation is approved, else Vietnamese); typed and recorded answers are for officials to read, not
    to broadcast."""
    _ = gettext
    area = areas.get_commune(commune) if commune else None
    lines = [
        _("📊 Kết quả thăm dò «{title}» ở {place}: {n} người trả lời.").format(
            title=content_translations.poll_title(poll, shown),
            place=area.name if area else _("nơi bạn ở"),
            n=people,
        )
    ]
    for result in results.questions:
        tally = result.groups.get(commune)
        question = polls.text_in(result.question.texts, shown)
        if tally is None or not tally.answers:
            continue
        if result.question.choices:
            shares = ", ".join(
                f"{polls.text_in(c.texts, shown)}: {round(100 * tally.share(c.id))}%"
                for c in result.question.choices
            )
            lines.append(f"• {question}\n  {shares}")
        elif tally.mean is not None:
            mean = format_decimal(round(tally.mean, 1), locale="en" if language == "en" else "vi")
            average = _("trung bình {mean}").format(mean=mean)
            lines.append(f"• {question}\n  {average}")
    lines.append(_("Cảm ơn bạn đã tham gia!"))
    return "\n".join(lines)


def _int(text: str) -> int:
    """A number from a button payload; 0 when tampered with."""
    return int(text) if text.isdigit() else 0


def register(router: Router) -> None:
    """Poll buttons, the typed-answer step and the menu entry shown while a poll is open."""
    router.button("polls", listing, onboarded_only=True)
    router.button("poll", begin, onboarded_only=True)
    router.button("pa", chose, onboarded_only=True)
    router.button("pm", toggled, onboarded_only=True)
    router.button("pd", done, onboarded_only=True)
    router.step(STEP, typed)
    router.media_step(STEP, recorded)
    router.add_menu(MenuEntry("polls", mark("📊 Thăm dò ý kiến"), order=80, visible=has_open))
