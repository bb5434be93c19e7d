"""Policy Q&A in the conversation. Free text is a question. An answer first says which question it
understood, then cites its source and where it holds, and asks for a rating; a 👎 offers to forward the same
question and the other close ones. When unsure the bot never answers: it offers the closest questions and a
way to ask an official; a topic the knowledge base does not cover is said so plainly. 'Hỏi đáp' browses
topics. Only entries that are published, valid today and hold for the person's place are ever shown."""

from __future__ import annotations

import re

from bot.areas import service as areas
from bot.conversation import listen, onboarding
from bot.conversation.picker import page_arg, paged
from bot.conversation.router import Context, MenuEntry, Router
from bot.conversation.types import Button
from bot.db import local_today
from bot.i18n import SOURCE_LANGUAGE, mark
from bot.qa import service as qa
from bot.qa.engine import Place
from bot.qa.models import ForwardReason, QAEntry
from bot.reports.models import ASKED, record_question
from bot.text import fold
from bot.translations import content as content_translations
from bot.voice.service import Spoken

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
TOPIC_QUESTIONS = 8
STEP_QUESTION = "qa.question"


def label(text: str, limit: int = LABEL_LIMIT) -> str:
    """A question short enough for a button, cut after a whole word (never mid-word) with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:–-") + "…"


def _topic_key(tag: str) -> str:
    """A tag as a short button payload part: folded, dashes, at most 40 characters."""
    return fold(tag).replace(" ", "-")[:40]


def _place(ctx: Context) -> Place:
    """Where the person lives, for entries that hold only in some provinces or communes."""
    return Place(ctx.person.province_code, ctx.person.commune_code)


def _answerable(ctx: Context) -> list[QAEntry]:
    """The entries this person may be shown today: published, valid on the local date, of their place."""
    entries = qa.published_today(ctx.session, local_today(ctx.settings.timezone))
    return [e for e in entries if e.applies_to(ctx.person.province_code, ctx.person.commune_code)]


def _shown(ctx: Context, entry_id: str) -> QAEntry | None:
    """An entry a button names, only if this person may be shown it today (a draft, an expired entry or
    another province's entry never is, whatever payload arrives)."""
    entry = qa.get(ctx.session, entry_id=entry_id)
    if entry is None or not entry.answerable_on(local_today(ctx.settings.timezone)):
        return None
    return entry if entry.applies_to(ctx.person.province_code, ctx.person.commune_code) else None


def _reviewed(ctx: Context, entries: list[QAEntry]) -> dict[str, dict[str, str]]:
    """The approved translations of these entries in the person's language: a draft never reaches people."""
    return content_translations.readable(ctx.session, entries, ctx.person.language)


def _question_buttons(ctx: Context, entries: list[QAEntry]) -> list[Button]:
    """Entries as buttons labelled with their question, in the person's language where approved."""
    texts = _reviewed(ctx, entries)
    return [Button(label(texts.get(e.id, {}).get("question") or e.question), f"qa:{e.id}") for e in entries]


def _way_back(ctx: Context) -> list[Button]:
    """What ends every list of questions: back to the topics, and the menu."""
    return [Button(ctx._("⬅️ Quay lại các chủ đề"), "topics"), Button(ctx._("☰ Menu chính"), "menu")]


def _question(ctx: Context, entry: QAEntry) -> str:
    """The entry's question in the person's language when approved, else in Vietnamese."""
    return _reviewed(ctx, [entry]).get(entry.id, {}).get("question") or entry.question


def free_text(ctx: Context) -> None:
    """Small talk gets a friendly word and the menu; anything else is a question."""
    _ = ctx._
    said = fold(ctx.inbound.text).strip(" !.?")
    if said in GREETINGS:
        onboarding.back_to_menu(
            ctx, _("Chào bạn! Bạn cứ gõ câu hỏi về chính sách, hoặc bấm một nút bên dưới."), whole_menu=True
        )
        return
    if said in THANKS:
        onboarding.back_to_menu(ctx, _("Không có gì ạ! Khi cần, bạn cứ hỏi Loa Bản nhé."), whole_menu=True)
        return
    if ctx.knowledge is None:
        onboarding.back_to_menu(ctx, _("Mình chưa hiểu ý bạn."), whole_menu=True)
        return
    question = ctx.inbound.text[:1000]
    found = ctx.knowledge.ask(ctx.session, question, _place(ctx))
    outcome = "answered" if found.best is not None else ("unsure" if found.covered and found.closest else "")
    record_question(
        ctx.session,
        ctx.person,
        ASKED,
        outcome=outcome or ForwardReason.not_covered.value,
        entry_id=found.best.id if found.best is not None else None,
    )
    if found.best is not None:
        others = [e for e in found.closest if e.id != found.best.id]
        show_answer(ctx, found.best, others, question=question)
        return
    if not found.covered or not found.closest:
        ctx.goto("", pending_question=question, reason=ForwardReason.not_covered.value)
        ctx.reply(
            _("Loa Bản chưa có thông tin về việc này. Bạn có muốn gửi câu hỏi cho cán bộ xã trả lời không?"),
            [
                Button(_("✉️ Gửi câu hỏi cho cán bộ"), "qa_send"),
                Button(_("💬 Xem các chủ đề hỏi đáp"), "topics"),
                Button(_("☰ Menu chính"), "menu"),
            ],
        )
        return
    offered = found.closest[:3]
    ctx.goto(
        "", pending_question=question, reason=ForwardReason.unsure.value, offered=[e.id for e in offered]
    )
    ctx.reply(
        _(
            "Mình chưa chắc đã hiểu đúng câu hỏi của bạn, nên chưa trả lời. "
            "Có phải bạn muốn hỏi một trong những câu này?"
        ),
        [*_question_buttons(ctx, offered), Button(_("✉️ Gửi câu hỏi cho cán bộ"), "qa_send"), *_way_back(ctx)],
    )


def show_answer(ctx: Context, entry: QAEntry, others: list[QAEntry], *, question: str | None = None) -> None:
    """The question it understood, the answer in the person's language when approved, its source and
    where it holds, a rating; the person's own question and the other candidates are kept for a 👎."""
    _ = ctx._
    qa.count_served(ctx.session, entry.id)
    answer = _spoken(ctx, entry)
    lines = [_("❓ Bạn hỏi: “{question}”").format(question=_question(ctx, entry)), "", answer.text, ""]
    if answer.language == SOURCE_LANGUAGE and (ctx.person.language or SOURCE_LANGUAGE) != SOURCE_LANGUAGE:
        lines[3:3] = [
            _("(Câu trả lời này chưa được dịch sang tiếng của bạn, nên Loa Bản gửi bằng tiếng Việt.)")
        ]
    source = source_line(ctx, entry)
    if source:
        lines.append(_("📄 Nguồn: {source}").format(source=source))
    lines.append(_("📍 Áp dụng: {area}").format(area=area_name(ctx, entry)))
    lines += ["", _("Câu trả lời này có đúng điều bạn hỏi không?")]
    rating = [Button("👍", f"qa_up:{entry.id}"), Button("👎", f"qa_down:{entry.id}")]
    ctx.reply("\n".join(lines), [*rating, *listen.buttons(ctx, "qa", entry.id, answer.language)], 2)
    asked = question if question is not None else str(ctx.person.state_data.get("pending_question") or "")
    ctx.goto(
        "",
        pending_question=asked or entry.question,
        answered_with=entry.id,
        offered=[e.id for e in others[:2]],
    )
    if others:
        ctx.reply(_("Có thể bạn cũng muốn hỏi:"), [*_question_buttons(ctx, others[:2]), *_way_back(ctx)])


def _spoken(ctx: Context, entry: QAEntry) -> Spoken:
    """An entry's answer in the person's language when an approved translation has it, else in Vietnamese."""
    translated = _reviewed(ctx, [entry]).get(entry.id, {})
    if translated.get("answer"):
        return Spoken(translated["answer"], ctx.person.language or SOURCE_LANGUAGE)
    return Spoken(entry.answer, SOURCE_LANGUAGE)


def heard_answer(ctx: Context, entry_id: str) -> Spoken | None:
    """What '🔊 Nghe' reads under an answer: the question understood, then the answer, in the language
    shown; only an entry this person may be shown today."""
    entry = _shown(ctx, entry_id)
    if entry is None:
        return None
    answer = _spoken(ctx, entry)
    question = _question(ctx, entry) if answer.language != "vi" else entry.question
    return Spoken(f"{question}\n\n{answer.text}", answer.language)


def heard_official(ctx: Context, question_id: str) -> Spoken | None:
    """What '🔊 Nghe' reads under an official's answer to this person's own question (in Vietnamese)."""
    question = qa.get_question(ctx.session, int(question_id)) if question_id.isdigit() else None
    if question is None or question.person_id != ctx.person.id or not question.answer:
        return None
    return Spoken(question.answer, "vi")


def source_line(ctx: Context, entry: QAEntry) -> str:
    """The documents cited, each with its own sections read as 'mục III.1' rather than bare numbers: an
    entry written from several plans lists one section per plan, in order, so each plan gets its own."""
    documents = [d.strip() for d in entry.source_document.split(";") if d.strip()]
    sections = [_section(ctx, s) for s in entry.source_section.split(";") if s.strip()]
    if len(documents) > 1 and len(documents) == len(sections):
        return "; ".join(f"{d} ({s})" for d, s in zip(documents, sections, strict=True))
    return " – ".join(p for p in ("; ".join(documents), "; ".join(dict.fromkeys(sections))) if p)


def _section(ctx: Context, section: str) -> str:
    """A plan's section as a reader says it: a bare number such as 'III.1' or 'Mục II.2' becomes 'mục …'."""
    section = section.strip()
    bare = section.removeprefix("Mục ").removeprefix("mục ")
    if bare != section or re.match(r"(?:[IVX]+|\d+)[.)\s]", bare):
        return ctx._("mục {section}").format(section=bare)
    return section


def area_name(ctx: Context, entry: QAEntry) -> str:
    """Where an entry holds, in words: nationwide, or the names of its provinces and communes."""
    if entry.nationwide:
        return ctx._("toàn quốc")
    names = [a.name for code in entry.provinces if (a := areas.get_province(code)) is not None]
    names += [a.name for code in entry.communes if (a := areas.get_commune(code)) is not None]
    return ", ".join(names)


def open_entry(ctx: Context) -> None:
    """A question button: show that entry's answer, if the person may be shown it."""
    entry = _shown(ctx, ctx.arg)
    if entry is None:
        ctx.reply(ctx._("Câu hỏi này không còn nữa. Bạn hãy gõ lại câu hỏi của mình."))
        onboarding.show_menu(ctx)
        return
    offered = [str(i) for i in ctx.person.state_data.get("offered") or [] if i != entry.id]
    others = [e for i in offered if (e := _shown(ctx, i)) is not None]
    show_answer(ctx, entry, others)


def rate(ctx: Context) -> None:
    """👍 thanks; 👎 offers at once to forward the same question (no retyping) and the other candidates."""
    _ = ctx._
    entry = qa.get(ctx.session, entry_id=ctx.arg)
    if entry is None:
        onboarding.reprompt(ctx)
        return
    if ctx.inbound.payload.startswith("qa_up:"):
        qa.count_rating(ctx.session, entry.id, helpful=True)
        onboarding.back_to_menu(ctx, _("Cảm ơn bạn đã cho biết!"))
        return
    qa.count_rating(ctx.session, entry.id, helpful=False)
    data = ctx.person.state_data
    answered = data.get("answered_with") == entry.id
    question = str(data.get("pending_question") or "") if answered else ""
    others = [e for i in (data.get("offered") or [] if answered else []) if (e := _shown(ctx, str(i)))]
    ctx.goto(
        "",
        pending_question=question,
        reason=ForwardReason.unhelpful.value,
        answered_with=entry.id,
        offered=[e.id for e in others],
    )
    text = _("Xin lỗi bạn. Mình gửi câu hỏi của bạn cho cán bộ xã trả lời nhé?")
    if question:
        text += "\n«" + question + "»"
    if others:
        text += "\n" + _("Hoặc có phải bạn muốn hỏi một trong những câu này?")
    ctx.reply(
        text,
        [
            Button(_("✉️ Gửi câu hỏi cho cán bộ"), "qa_send"),
            *_question_buttons(ctx, others),
            Button(_("☰ Menu chính"), "menu"),
        ],
    )


def send_to_officials(ctx: Context) -> None:
    """Put the person's last question in the officials' inbox, with what the bot had done with it."""
    _ = ctx._
    data = ctx.person.state_data
    text = str(data.get("pending_question") or "")
    if not text:
        ctx.goto(STEP_QUESTION)
        ctx.reply(_("Bạn hãy gõ câu hỏi muốn gửi cho cán bộ xã:"))
        return
    reason = str(data.get("reason") or "")
    qa.ask_officials(
        ctx.session,
        person=ctx.person,
        text=text,
        reason=ForwardReason(reason) if reason in set(ForwardReason) else ForwardReason.typed,
        answered_with=str(data["answered_with"]) if data.get("answered_with") else None,
        offered=[str(i) for i in data.get("offered") or []],
    )
    onboarding.back_to_menu(
        ctx, _("Đã gửi câu hỏi cho cán bộ xã. Khi có câu trả lời, Loa Bản sẽ nhắn cho bạn ngay tại đây.")
    )


def typed_question(ctx: Context) -> None:
    """The text typed after 'send a question to an official'."""
    ctx.person.state_data = {"pending_question": ctx.inbound.text[:1000], "reason": ForwardReason.typed.value}
    record_question(ctx.session, ctx.person, ASKED, outcome=ForwardReason.typed.value)
    send_to_officials(ctx)


def browse(ctx: Context, page: int = 0) -> None:
    """'Hỏi đáp': topics as buttons, for people who would rather tap than type."""
    _ = ctx._
    buttons = [Button(label(tag), f"topic:{_topic_key(tag)}") for tag in qa.topics(_answerable(ctx))]
    ctx.reply(
        _("Bạn muốn tìm hiểu về chủ đề nào? Hoặc cứ gõ câu hỏi của bạn."),
        [*paged(buttons, page, "topics", _), Button(_("☰ Menu chính"), "menu")],
    )


def browse_page(ctx: Context) -> None:
    """Next or previous page of topics."""
    browse(ctx, page_arg(ctx.arg))


def topic(ctx: Context) -> None:
    """The questions under one topic, then a way back to the topics and to the menu."""
    _ = ctx._
    entries = [e for e in _answerable(ctx) if any(_topic_key(t) == ctx.arg for t in e.tags)]
    if not entries:
        browse(ctx)
        return
    ctx.reply(
        _("Chọn câu hỏi:"),
        [
            *_question_buttons(ctx, entries[:TOPIC_QUESTIONS]),
            *_way_back(ctx),
        ],
    )


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
    listen.source("qa", heard_answer)
    listen.source("oq", heard_official)
