"""Policy Q&A in the conversation: free text is a question; answers cite their source and ask for a rating;
unsure answers offer the closest questions and a way to ask an official; 'Hỏi đáp' browses topics."""

from __future__ import annotations

from bot.conversation import onboarding
from bot.conversation.picker import page_arg, paged
from bot.conversation.router import Context, MenuEntry, Router
from bot.conversation.types import Button
from bot.db import local_today
from bot.i18n import mark
from bot.qa import service as qa
from bot.qa.engine import Place
from bot.qa.models import ForwardReason, QAEntry
from bot.text import fold

GREETINGS = {"chao", "xin chao", "chao ban", "chao em", "chao anh", "chao chi", "hello", "hi", "alo", "a lo"}
THANKS = {
    "cam on",
    "cam on nhe",
    "cam on nhieu",
    "cam on ban",
    "thanks",
    "thank you",
    "tks",
    "ok",
    "oke",
    "okay",
    "vang",
    "da",
    "u",
    "uh",
    "duoc roi",
    "hieu roi",
}
LABEL_LIMIT = 60
STEP_QUESTION = "qa.question"


def _label(text: str) -> str:
    """A question short enough for a button."""
    return text if len(text) <= LABEL_LIMIT else text[: LABEL_LIMIT - 1].rstrip() + "…"


def _topic_key(tag: str) -> str:
    """A tag as a short button payload part: folded, dashes, at most 40 characters."""
    return fold(tag).replace(" ", "-")[:40]


def free_text(ctx: Context) -> None:
    """Small talk gets a friendly word and the menu; anything else is a question."""
    _ = ctx._
    said = fold(ctx.inbound.text).strip(" !.?")
    if said in GREETINGS:
        onboarding.back_to_menu(
            ctx, _("Chào bạn! Bạn cứ gõ câu hỏi về chính sách, hoặc bấm một nút bên dưới.")
        )
        return
    if said in THANKS:
        onboarding.back_to_menu(ctx, _("Không có gì ạ! Khi cần, bạn cứ hỏi Loa Bản nhé."))
        return
    if ctx.knowledge is None:
        onboarding.back_to_menu(ctx, _("Mình chưa hiểu ý bạn."))
        return
    found = ctx.knowledge.ask(
        ctx.session, ctx.inbound.text, Place(ctx.person.province_code, ctx.person.commune_code)
    )
    best, closest = found.best, found.closest
    if best is not None:
        show_answer(ctx, best, [e for e in closest if e.id != best.id])
        return
    ctx.goto("", pending_question=ctx.inbound.text[:1000])
    buttons = [Button(_label(e.question), f"qa:{e.id}") for e in closest[:3]]
    ctx.reply(
        _("Mình chưa chắc đã hiểu đúng câu hỏi của bạn. Có phải bạn muốn hỏi một trong những câu này?"),
        [*buttons, Button(_("✉️ Gửi câu hỏi cho cán bộ"), "qa_send")],
    )


def show_answer(ctx: Context, entry: QAEntry, related: list[QAEntry]) -> None:
    """The answer in the person's language when translated, its source, a rating, related questions."""
    _ = ctx._
    qa.count_served(ctx.session, entry.id)
    translated = entry.translations.get(ctx.person.language or "") or {}
    answer = translated.get("answer") or entry.answer
    source = " – ".join(p for p in (entry.source_document, entry.source_section) if p)
    text = answer + ("\n\n" + _("📄 Nguồn: {source}").format(source=source) if source else "")
    ctx.reply(
        text + "\n\n" + _("Có giúp ích không?"),
        [Button("👍", f"qa_up:{entry.id}"), Button("👎", f"qa_down:{entry.id}")],
        columns=2,
    )
    if related:
        ctx.reply(
            _("Có thể bạn cũng muốn hỏi:"),
            [Button(_label(e.question), f"qa:{e.id}") for e in related[:3]],
        )


def open_entry(ctx: Context) -> None:
    """A question button: show that entry's answer."""
    entry = qa.get(ctx.session, ctx.arg)
    if entry is None:
        onboarding.reprompt(ctx)
        return
    show_answer(ctx, entry, [])


def rate(ctx: Context) -> None:
    """👍 or 👎 on an answer; a 👎 offers to ask an official."""
    _ = ctx._
    entry = qa.get(ctx.session, ctx.arg)
    if entry is None:
        onboarding.reprompt(ctx)
        return
    if ctx.inbound.payload.startswith("qa_up:"):
        qa.count_rating(ctx.session, entry.id, helpful=True)
        onboarding.back_to_menu(ctx, _("Cảm ơn bạn đã cho biết!"))
        return
    qa.count_rating(ctx.session, entry.id, helpful=False)
    ctx.reply(
        _("Xin lỗi bạn. Bạn có muốn gửi câu hỏi này cho cán bộ xã trả lời không?"),
        [Button(_("✉️ Gửi câu hỏi cho cán bộ"), "qa_send"), Button(_("☰ Menu chính"), "menu")],
    )


def send_to_officials(ctx: Context) -> None:
    """Put the person's last unanswered question in the officials' inbox."""
    _ = ctx._
    text = str(ctx.person.state_data.get("pending_question") or "")
    if not text:
        ctx.goto(STEP_QUESTION)
        ctx.reply(_("Bạn hãy gõ câu hỏi muốn gửi cho cán bộ xã:"))
        return
    qa.ask_officials(ctx.session, person=ctx.person, text=text, reason=ForwardReason.typed)
    onboarding.back_to_menu(
        ctx, _("Đã gửi câu hỏi cho cán bộ xã. Khi có câu trả lời, Loa Bản sẽ nhắn cho bạn ngay tại đây.")
    )


def typed_question(ctx: Context) -> None:
    """The text typed after 'send a question to an official'."""
    ctx.person.state_data = {"pending_question": ctx.inbound.text[:1000]}
    send_to_officials(ctx)


def browse(ctx: Context, page: int = 0) -> None:
    """'Hỏi đáp': topics as buttons, for people who would rather tap than type."""
    _ = ctx._
    entries = qa.published_today(ctx.session, local_today(ctx.settings.timezone))
    buttons = [Button(_label(tag), f"topic:{_topic_key(tag)}") for tag in qa.topics(entries)]
    ctx.reply(
        _("Bạn muốn tìm hiểu về chủ đề nào? Hoặc cứ gõ câu hỏi của bạn."), paged(buttons, page, "topics", _)
    )


def browse_page(ctx: Context) -> None:
    """Next or previous page of topics."""
    browse(ctx, page_arg(ctx.arg))


def topic(ctx: Context) -> None:
    """The questions under one topic."""
    _ = ctx._
    entries = [
        e
        for e in qa.published_today(ctx.session, local_today(ctx.settings.timezone))
        if any(_topic_key(t) == ctx.arg for t in e.tags)
    ]
    if not entries:
        browse(ctx)
        return
    ctx.reply(_("Chọn câu hỏi:"), [Button(_label(e.question), f"qa:{e.id}") for e in entries[:8]])


def has_entries(ctx: Context) -> bool:
    """The Q&A menu entry shows only when there is something to browse."""
    return ctx.knowledge is not None and qa.any_published_today(
        ctx.session, local_today(ctx.settings.timezone)
    )


def register(router: Router) -> None:
    """Q&A takes free text, its buttons and its menu entry."""
    router.free_text = free_text
    router.button("qa", open_entry, onboarded_only=True)
    router.button("qa_up", rate, onboarded_only=True)
    router.button("qa_down", rate, onboarded_only=True)
    router.button("qa_send", send_to_officials, onboarded_only=True)
    router.button("topics", browse_page, onboarded_only=True)
    router.button("topic", topic, onboarded_only=True)
    router.step(STEP_QUESTION, typed_question)
    router.add_menu(MenuEntry("topics", mark("💬 Hỏi đáp"), order=100, visible=has_entries))
