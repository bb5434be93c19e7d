"""Admin pages for polls: list, write and rewrite a draft, open and close, live results by place and group
with charts, free-text answers to read, and the answers as a spreadsheet. Commune officers see polls that
reach their communes (their people's answers only) and run those asked only there; viewers read."""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from admin import audience
from admin.audience import GROUP_LABELS, ROLE_LABELS, group_names, local_moment, percent
from admin.bulletins import audience_fields, audience_from_form, audience_input, audience_values
from admin.common import (
    PAGE_SIZE,
    Page,
    commune_name,
    language_name,
    private_file,
    province_name,
    redirect,
    render,
)
from admin.deps import AdminDep, AuthorDep, FormDep, SessionDep, admin_gettext, csrf_protect
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser
from bot.conversation import polls as conversation
from bot.errors import Refusal
from bot.i18n import mark
from bot.people import service as people
from bot.polls import service as polls
from bot.polls.models import Poll, PollStatus, QuestionKind
from bot.runtime import runtime_of
from bot.translations import content as content_translations

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])
FORM_QUESTIONS = 5  # question slots on the form; empty ones are ignored
TEXT_ANSWERS_SHOWN = 200
SUMMARY_SPLITS = ("commune", "language")  # the summary sheet's groups, after everyone
SUMMARY_HEADER = [
    mark("Câu"),
    mark("Câu hỏi"),
    mark("Chia theo"),
    mark("Nhóm"),
    mark("Số trả lời"),
    mark("Lựa chọn"),
    mark("Số người chọn"),
    mark("Tỉ lệ (%)"),
]
STATUS_LABELS = {
    "draft": mark("Bản nháp"),
    "scheduled": mark("Chờ mở"),
    "open": mark("Đang mở"),
    "closed": mark("Đã kết thúc"),
}
KIND_LABELS = {
    QuestionKind.single: mark("Chọn một"),
    QuestionKind.multiple: mark("Chọn nhiều"),
    QuestionKind.number: mark("Con số"),
    QuestionKind.text: mark("Trả lời bằng chữ"),
    QuestionKind.voice: mark("Ghi âm (hoặc chữ)"),
}


def _page(request: Request, template: str, admin: AdminUser, status: int = 200, **ctx: Any) -> Response:
    """Render with the labels every poll page uses."""
    return render(
        request,
        template,
        admin,
        status=status,
        status_labels=STATUS_LABELS,
        kind_labels=KIND_LABELS,
        group_labels=GROUP_LABELS,
        status_now=polls.status_now,
        text_in=polls.text_in,
        **ctx,
    )


def _poll(session: Session, admin: AdminUser, poll_id: int) -> Poll:
    """A poll this admin may see, or a 404 page."""
    return audience.seen(session, admin, polls.get(session, poll_id=poll_id), mark("Không có thăm dò này."))


def _runnable(session: Session, admin: AdminUser, poll_id: int) -> Poll:
    """A poll this admin may change, open or close, or a 403/404 page."""
    poll = _poll(session, admin, poll_id)
    return audience.runnable(session, admin, poll, mark("Thăm dò này hỏi cả ngoài các xã của bạn."))


@router.get("/polls", response_class=HTMLResponse)
def poll_list(
    request: Request, session: SessionDep, admin: AdminDep, page: Annotated[int, Query(ge=1)] = 1
) -> Response:
    """Polls newest first, with where each stands and how many answered."""
    scope = accounts.scope(admin)
    rows, total = polls.get_all(session, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, communes=scope)
    counts = polls.counts(session, [p.id for p in rows], scope)
    return _page(
        request,
        "polls.html",
        admin,
        rows=rows,
        counts=counts,
        page=Page(page, total),
        can_write=admin.role in accounts.BULLETIN_AUTHORS,
    )


@router.get("/polls/new", response_class=HTMLResponse)
def poll_new(request: Request, session: SessionDep, admin: AuthorDep) -> Response:
    """The form for a new poll."""
    return _form(request, session, admin, None, None, {})


@router.post("/polls/new")
def poll_create(request: Request, session: SessionDep, admin: AuthorDep, form: FormDep) -> Response:
    """Save a draft poll, or show the form again with the reason it was refused."""
    return _save(request, session, admin, None, form)


@router.get("/polls/{poll_id}/edit", response_class=HTMLResponse)
def poll_edit(request: Request, session: SessionDep, admin: AuthorDep, poll_id: int) -> Response:
    """The form filled with a draft."""
    poll = _runnable(session, admin, poll_id)
    if poll.status != PollStatus.draft:
        raise HTTPException(status_code=409, detail=mark("Chỉ sửa được thăm dò còn là bản nháp."))
    return _form(request, session, admin, poll, None, _values_of(request, poll))


@router.post("/polls/{poll_id}/edit")
def poll_update(
    request: Request, session: SessionDep, admin: AuthorDep, form: FormDep, poll_id: int
) -> Response:
    """Rewrite a draft."""
    return _save(request, session, admin, _runnable(session, admin, poll_id), form)


def _save(
    request: Request, session: Session, admin: AdminUser, poll: Poll | None, form: FormData
) -> Response:
    """Check and store the form as a draft; the form again, with the reason, when refused."""
    languages = [lang.code for lang in runtime_of(request).catalogs.languages()]
    before = content_translations.translations_in(poll, languages)
    try:
        draft = _draft(request, session, admin, form)
        saved = polls.write(session, poll, draft, created_by=admin.id)
    except Refusal as exc:
        return _form(
            request, session, admin, poll, exc.translate(admin_gettext(request)), audience_input(form)
        )
    content_translations.note_item_edits(session, admin, saved, before)  # drafts until a second approves
    accounts.audit(session, admin, "poll_saved", str(saved.id), title=saved.title[:80])
    return redirect(f"/admin/polls/{saved.id}")


def _draft(request: Request, session: Session, admin: AdminUser, form: FormData) -> polls.PollDraft:
    """The poll as the form gives it: texts per language, questions from the filled slots, the audience
    (an officer's own communes only) and the period in local time."""
    languages = [lang.code for lang in runtime_of(request).catalogs.languages()]
    questions = [q for slot in range(FORM_QUESTIONS) if (q := _question(form, slot, languages)) is not None]
    return polls.PollDraft(
        title=str(form.get("title") or ""),
        titles={code: str(form.get(f"title_{code}") or "") for code in languages if code != polls.SOURCE},
        intro={code: str(form.get(f"intro_{code}") or "") for code in languages},
        questions=tuple(questions),
        audience=audience_from_form(session, form, admin),
        opens_at=local_moment(request, str(form.get("opens_at") or "")),
        closes_at=local_moment(request, str(form.get("closes_at") or "")),
    )


def _question(form: FormData, slot: int, languages: list[str]) -> polls.QuestionDraft | None:
    """One question slot of the form; None when nothing was written in it. Choices are one per line,
    a translation's lines matching the Vietnamese ones."""
    texts = {code: str(form.get(f"q{slot}_text_{code}") or "") for code in languages}
    lines = {
        code: [
            line.strip()
            for line in str(form.get(f"q{slot}_choices_{code}") or "").splitlines()
            if line.strip()
        ]
        for code in languages
    }
    if not any(t.strip() for t in texts.values()) and not any(lines.values()):
        return None
    kind = str(form.get(f"q{slot}_kind") or "")
    if kind not in QuestionKind.__members__:
        raise polls.PollError(mark("Câu {n}: hãy chọn kiểu câu hỏi."), n=slot + 1)
    source = lines[polls.SOURCE]
    for code, translated in lines.items():
        if translated and len(translated) != len(source):
            raise polls.PollError(
                mark("Câu {n}: bản {language} cần đúng {count} lựa chọn như bản tiếng Việt."),
                n=slot + 1,
                language=language_name(code),
                count=len(source),
            )
    has_choices = kind in (QuestionKind.single, QuestionKind.multiple)
    choices = tuple(
        {code: lines[code][index] for code in languages if lines[code]} for index in range(len(source))
    )
    return polls.QuestionDraft(QuestionKind(kind), texts, choices if has_choices else ())


def _values_of(request: Request, poll: Poll) -> dict[str, Any]:
    """A draft as the form's fields, to edit it."""
    zone = ZoneInfo(runtime_of(request).settings.timezone)
    values: dict[str, Any] = {
        "title": poll.title,
        "opens_at": poll.opens_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if poll.opens_at else "",
        "closes_at": poll.closes_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if poll.closes_at else "",
        **audience_values(polls.audience_of(poll)),
    }
    values.update({f"title_{code}": text for code, text in poll.titles.items()})
    values.update({f"intro_{code}": text for code, text in poll.intro.items()})
    for slot, question in enumerate(poll.questions):
        values[f"q{slot}_kind"] = question.kind.value
        values.update({f"q{slot}_text_{code}": text for code, text in question.texts.items()})
        for code in {code for choice in question.choices for code in choice.texts}:
            values[f"q{slot}_choices_{code}"] = "\n".join(c.texts.get(code, "") for c in question.choices)
    return values


def _form(
    request: Request,
    session: Session,
    admin: AdminUser,
    poll: Poll | None,
    error: str | None,
    values: dict[str, Any],
) -> Response:
    """The poll form (new or a draft's), with the admin's input and the reason when it was refused."""
    return _page(
        request,
        "poll_form.html",
        admin,
        status=400 if error else 200,
        poll=poll,
        error=error,
        values=values,
        slots=range(FORM_QUESTIONS),
        kinds=list(QuestionKind),
        languages=runtime_of(request).catalogs.languages(),
        **audience_fields(session, admin, values),
    )


@router.get("/polls/{poll_id}", response_class=HTMLResponse)
def poll_detail(
    request: Request, session: SessionDep, admin: AdminDep, poll_id: int, by: str = "commune"
) -> Response:
    """A poll: its questions, its state, and the results so far by the chosen group, with charts."""
    poll = _poll(session, admin, poll_id)
    return _page(
        request,
        "poll.html",
        admin,
        audience=polls.audience_of(poll),
        can_run=audience.may_run(session, admin, poll),
        **_results(request, session, admin, poll, by),
    )


@router.get("/polls/{poll_id}/results", response_class=HTMLResponse)
def poll_results(
    request: Request, session: SessionDep, admin: AdminDep, poll_id: int, by: str = "commune"
) -> Response:
    """The results fragment the open poll's page reloads every few seconds."""
    poll = _poll(session, admin, poll_id)
    return _page(request, "poll_results.html", admin, **_results(request, session, admin, poll, by))


def _results(request: Request, session: Session, admin: AdminUser, poll: Poll, by: str) -> dict[str, Any]:
    """What the results show: counts by the chosen group (the admin's communes only), the charts' data,
    and the typed and recorded answers."""
    by = by if by in polls.GROUPS else "commune"
    scope = accounts.scope(admin)
    results = polls.results(session, poll, by=by, communes=scope)
    gettext = admin_gettext(request)
    names = group_names(session, by, {k for r in results.questions for k in r.groups}, gettext)
    charts = {
        r.question.id: json.dumps(
            {
                "labels": [polls.text_in(c.texts, polls.SOURCE) for c in r.question.choices],
                "counts": [r.total.choices.get(c.id, 0) for c in r.question.choices],
            },
            ensure_ascii=False,
        )
        for r in results.questions
        if r.question.choices
    }
    texts = polls.answer_rows(
        session, poll, communes=scope, kinds=[QuestionKind.text, QuestionKind.voice], limit=TEXT_ANSWERS_SHOWN
    )
    return {
        "poll": poll,
        "results": results,
        "by": by,
        "groups": polls.GROUPS,
        "names": names,
        "order": list(names),
        "charts": charts,
        "texts": texts,
    }


@router.get("/polls/{poll_id}/answers/{answer_id}/voice")
def poll_voice(
    request: Request, session: SessionDep, admin: AdminDep, poll_id: int, answer_id: int
) -> Response:
    """A recorded answer, for the officials who may read the poll's answers from the person's commune."""
    poll = _poll(session, admin, poll_id)
    found = polls.recording(session, poll, answer_id, communes=accounts.scope(admin))
    return private_file(request, found)


@router.post("/polls/{poll_id}/open")
def poll_open(request: Request, session: SessionDep, admin: AuthorDep, poll_id: int) -> Response:
    """Open a draft: the people in its audience see it in their menu from its start."""
    poll = _runnable(session, admin, poll_id)
    try:
        polls.open_poll(poll)
    except polls.PollError as exc:
        raise HTTPException(status_code=409, detail=exc.msgid) from exc
    accounts.audit(session, admin, "poll_opened", str(poll.id), title=poll.title[:80])
    return redirect(f"/admin/polls/{poll.id}")


@router.post("/polls/{poll_id}/close")
def poll_close(request: Request, session: SessionDep, admin: AuthorDep, poll_id: int) -> Response:
    """Close a poll now: later answers are refused and not counted."""
    poll = _runnable(session, admin, poll_id)
    try:
        polls.close(poll)
    except polls.PollError as exc:
        raise HTTPException(status_code=409, detail=exc.msgid) from exc
    accounts.audit(session, admin, "poll_closed", str(poll.id), title=poll.title[:80])
    return redirect(f"/admin/polls/{poll.id}")


@router.post("/polls/{poll_id}/publish")
def poll_publish(
    request: Request, session: SessionDep, admin: AuthorDep, background: BackgroundTasks, poll_id: int
) -> Response:
    """Once the poll is over, send each person who answered their commune's results, in their language,
    through the outbox (sent after this commit; a crash leaves them to be sent again)."""
    poll = _runnable(session, admin, poll_id)
    try:
        polls.publish(poll)
    except polls.PollError as exc:
        raise HTTPException(status_code=409, detail=exc.msgid) from exc
    catalogs = runtime_of(request).catalogs
    results = polls.results(session, poll, by="commune")
    respondents = polls.respondents(session, poll)
    per_commune = Counter(r.commune_code for r in respondents)
    shown = {
        lang: content_translations.shown_language(session, poll, lang)
        for lang in {r.language for r in respondents}
    }
    audience.results_back(
        session,
        request,
        background,
        respondents,
        lambda r: conversation.summary(
            catalogs.gettext(r.language),
            poll,
            results,
            r.commune_code,
            per_commune[r.commune_code],
            r.language,
            shown[r.language],
        ),
    )
    accounts.audit(session, admin, "poll_published", str(poll.id), title=poll.title[:80])
    return redirect(f"/admin/polls/{poll.id}")


@router.get("/polls/{poll_id}/export.xlsx")
def poll_export(request: Request, session: SessionDep, admin: AdminDep, poll_id: int) -> Response:
    """Every answer (of the admin's communes, for an officer) as a spreadsheet row: no names, the place,
    language, app and role the person answered with; beside it, the results summed up."""
    poll = _poll(session, admin, poll_id)
    _ = admin_gettext(request)
    scope = accounts.scope(admin)
    zone = ZoneInfo(runtime_of(request).settings.timezone)
    header = [
        _("Người trả lời"),
        _("Câu"),
        _("Câu hỏi"),
        _("Trả lời"),
        _("Tỉnh"),
        _("Xã"),
        _("Thôn, bản"),
        _("Ngôn ngữ"),
        _("Ứng dụng"),
        _("Vai trò"),
        _("Thời gian"),
    ]
    rows = polls.answer_rows(session, poll, communes=scope)
    # Names looked up once per place, not once per row: a province's poll has tens of thousands of rows.
    villages = group_names(session, "village", {r.response.village_id for r in rows}, _)
    communes = {code: commune_name(code) for code in {r.response.commune_code for r in rows}}
    provinces = {code: province_name(code) for code in {r.response.province_code for r in rows}}
    body = [
        [
            row.response_id,
            row.question.position + 1,
            polls.text_in(row.question.texts, polls.SOURCE),
            _answer_text(row),
            provinces[row.response.province_code],
            communes[row.response.commune_code],
            villages[row.response.village_id] if row.response.village_id else "—",
            language_name(row.response.language),
            people.app_name(f"{row.response.channel}:"),
            _(ROLE_LABELS.get(row.response.role.value, row.response.role.value)),
            row.answer.created_at.astimezone(zone).replace(tzinfo=None),
        ]
        for row in rows
    ]
    return audience.spreadsheet(
        f"loaban-tham-do-{poll.id}.xlsx",
        [
            (_("Trả lời"), header, body),
            (_("Tổng hợp"), [_(h) for h in SUMMARY_HEADER], _summary(session, poll, scope, _)),
        ],
    )


def _summary(session: Session, poll: Poll, scope: list[int] | None, _: Any) -> list[list[Any]]:
    """Per question, for everyone, then by commune, then by language (by name): how many answered and,
    for a question with choices, each choice's count and share of those answers."""
    splits = [polls.results(session, poll, by=by, communes=scope) for by in SUMMARY_SPLITS]
    rows: list[list[Any]] = []
    for results in zip(*(split.questions for split in splits), strict=True):
        question = results[0].question
        tallies = [(_("Tất cả"), _("Tất cả"), results[0].total)]
        for by, result in zip(SUMMARY_SPLITS, results, strict=True):
            names = group_names(session, by, result.groups.keys(), _)
            tallies += [(_(GROUP_LABELS[by]), name, result.groups[key]) for key, name in names.items()]
        text = polls.text_in(question.texts, polls.SOURCE)
        labels = [polls.text_in(c.texts, polls.SOURCE) for c in question.choices]
        for split, name, tally in tallies:
            head = [question.position + 1, text, split, name, tally.answers]
            picked = [
                (label, tally.choices.get(c.id, 0)) for label, c in zip(labels, question.choices, strict=True)
            ]
            rows += [[*head, label, n, percent(n, tally.answers)] for label, n in picked] or [head]
    return rows


def _answer_text(row: polls.AnswerRow) -> str | float:
    """An answer as one cell: the choices' labels, the number, or the text."""
    if row.question.kind == QuestionKind.number:
        return row.answer.number if row.answer.number is not None else ""
    if row.question.kind == QuestionKind.voice and row.answer.media_id is not None:
        return "🎤"
    if row.question.kind in (QuestionKind.text, QuestionKind.voice):
        return row.answer.text
    return polls.choice_labels(row.answer, row.question)
