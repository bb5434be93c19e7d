"""Admin pages for law contests: list, write and rewrite a contest and its rounds, the question bank
(written, imported from Excel with row-level errors, or begun from a Q&A entry), and each round's
results: the ranking (names only of those who agreed), participation by place and group, the share right
per question, and an Excel export. Commune officers see contests that reach their communes (their
people only) and run those held only there; viewers read."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from admin import audience
from admin.audience import GROUP_LABELS, group_names, local_moment, percent
from admin.bulletins import audience_fields, audience_from_form, audience_input, audience_values
from admin.common import commune_name, language_name, redirect, render
from admin.deps import AdminDep, AuthorDep, FormDep, SessionDep, admin_gettext, csrf_protect
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser
from bot.bulletins import service as bulletins
from bot.bulletins import voices
from bot.contests import service as contests
from bot.contests.models import Contest, ContestQuestion, ContestRound
from bot.conversation import contests as conversation
from bot.db import utcnow
from bot.errors import Refusal
from bot.i18n import mark
from bot.people import service as people
from bot.qa.models import QAEntry
from bot.runtime import runtime_of
from bot.translations import content as content_translations

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])
RANKED_SHOWN = 50
PARTICIPATION_HEADER = [mark("Xã"), mark("Làm xong"), mark("Đúng tất cả"), mark("Tỉ lệ đúng tất cả (%)")]
QUESTIONS_HEADER = [mark("Câu hỏi"), mark("Số lượt trả lời"), mark("Đúng"), mark("Tỉ lệ đúng (%)")]
STATUS_LABELS = {"scheduled": mark("Chờ mở"), "open": mark("Đang mở"), "closed": mark("Đã kết thúc")}
FIELD_LABELS = {
    "name": mark("Họ và tên"),
    "birth_year": mark("Năm sinh"),
    "phone": mark("Số điện thoại"),
    "village": mark("Thôn, bản"),
}


def _page(request: Request, template: str, admin: AdminUser, status: int = 200, **ctx: Any) -> Response:
    """Render with the labels every contest page uses."""
    return render(
        request,
        template,
        admin,
        status=status,
        status_labels=STATUS_LABELS,
        field_labels=FIELD_LABELS,
        status_now=contests.status_now,
        text_in=contests.text_in,
        letters=contests.LETTERS,
        **ctx,
    )


def _contest(session: Session, admin: AdminUser, contest_id: int) -> Contest:
    """A contest this admin may see, or a 404 page."""
    found = contests.get(session, contest_id=contest_id)
    return audience.seen(session, admin, found, mark("Không có cuộc thi này."))


def _runnable(session: Session, admin: AdminUser, contest_id: int) -> Contest:
    """A contest this admin may change, or a 403/404 page."""
    contest = _contest(session, admin, contest_id)
    return audience.runnable(session, admin, contest, mark("Cuộc thi này tổ chức cả ngoài các xã của bạn."))


def _round(contest: Contest, round_id: int) -> ContestRound:
    """One of the contest's rounds, or a 404 page."""
    found = next((r for r in contest.rounds if r.id == round_id), None)
    if found is None:
        raise HTTPException(status_code=404, detail=mark("Không có vòng thi này."))
    return found


def _question(contest: Contest, question_id: int) -> ContestQuestion:
    """One of the contest's bank questions, or a 404 page."""
    found = next((q for q in contest.questions if q.id == question_id), None)
    if found is None:
        raise HTTPException(status_code=404, detail=mark("Không có câu hỏi này."))
    return found


@router.get("/contests", response_class=HTMLResponse)
def contest_list(request: Request, session: SessionDep, admin: AdminDep) -> Response:
    """Contests newest first, with their rounds and bank sizes."""
    rows = contests.get_all(session, communes=accounts.scope(admin))
    return _page(
        request, "contests.html", admin, rows=rows, can_write=admin.role in accounts.BULLETIN_AUTHORS
    )


@router.get("/contests/new", response_class=HTMLResponse)
def contest_new(request: Request, session: SessionDep, admin: AuthorDep) -> Response:
    """The form for a new contest."""
    return _form(request, session, admin, None, None, {})


@router.post("/contests/new")
def contest_create(request: Request, session: SessionDep, admin: AuthorDep, form: FormDep) -> Response:
    """Save a new contest, or show the form again with the reason."""
    return _save(request, session, admin, None, form)


@router.get("/contests/{contest_id}/edit", response_class=HTMLResponse)
def contest_edit(request: Request, session: SessionDep, admin: AuthorDep, contest_id: int) -> Response:
    """The form filled with a contest."""
    contest = _runnable(session, admin, contest_id)
    values = {
        "title": contest.title,
        "rules": contest.rules,
        "prizes": contest.prizes,
        "required": contest.required,
        **audience_values(contests.audience_of(contest)),
    }
    return _form(request, session, admin, contest, None, values)


@router.post("/contests/{contest_id}/edit")
def contest_update(
    request: Request, session: SessionDep, admin: AuthorDep, form: FormDep, contest_id: int
) -> Response:
    """Rewrite a contest (its rounds and bank stay)."""
    return _save(request, session, admin, _runnable(session, admin, contest_id), form)


def _save(
    request: Request, session: Session, admin: AdminUser, contest: Contest | None, form: FormData
) -> Response:
    """Check and store the form; the form again, with the reason, when refused."""
    try:
        draft = contests.ContestDraft(
            title=str(form.get("title") or ""),
            rules=str(form.get("rules") or ""),
            prizes=str(form.get("prizes") or ""),
            audience=audience_from_form(session, form, admin),
            required=tuple(str(v) for v in form.getlist("required")),
        )
        saved = contests.write(session, contest, draft, created_by=admin.id)
    except Refusal as exc:
        values = audience_input(form) | {"required": form.getlist("required")}
        return _form(request, session, admin, contest, exc.translate(admin_gettext(request)), values)
    accounts.audit(session, admin, "contest_saved", str(saved.id), title=saved.title[:80])
    return redirect(f"/admin/contests/{saved.id}")


def _form(
    request: Request,
    session: Session,
    admin: AdminUser,
    contest: Contest | None,
    error: str | None,
    values: dict[str, Any],
) -> Response:
    """The contest form, with the admin's input and the reason when it was refused."""
    return _page(
        request,
        "contest_form.html",
        admin,
        status=400 if error else 200,
        contest=contest,
        error=error,
        values=values,
        fields=contests.FIELDS,
        languages=runtime_of(request).catalogs.languages(),
        **audience_fields(session, admin, values),
    )


@router.get("/contests/{contest_id}", response_class=HTMLResponse)
def contest_detail(request: Request, session: SessionDep, admin: AdminDep, contest_id: int) -> Response:
    """A contest: its rounds with their participation, and its question bank."""
    contest = _contest(session, admin, contest_id)
    return _detail(request, session, admin, contest)


def _detail(
    request: Request,
    session: Session,
    admin: AdminUser,
    contest: Contest,
    *,
    status: int = 200,
    error: str | None = None,
    problems: list[str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    """The contest's page, with a refused round or import explained."""
    scope = accounts.scope(admin)
    return _page(
        request,
        "contest.html",
        admin,
        status=status,
        contest=contest,
        audience=contests.audience_of(contest),
        can_run=audience.may_run(session, admin, contest),
        counts={r.id: contests.results(session, r, by="commune", communes=scope) for r in contest.rounds},
        error=error,
        problems=problems or [],
        values=values or {},
    )


def _round_draft(request: Request, form: FormData) -> contests.RoundDraft:
    """A round as the form gives it, its period in local time."""
    draw = str(form.get("draw") or "")
    return contests.RoundDraft(
        title=str(form.get("title") or ""),
        starts_at=local_moment(request, str(form.get("starts_at") or "")),
        ends_at=local_moment(request, str(form.get("ends_at") or "")),
        draw=int(draw) if draw.isdigit() else 0,
    )


@router.post("/contests/{contest_id}/rounds/new")
def round_create(
    request: Request, session: SessionDep, admin: AuthorDep, form: FormDep, contest_id: int
) -> Response:
    """Add a round; the contest's page again with the reason when refused."""
    contest = _runnable(session, admin, contest_id)
    try:
        saved = contests.write_round(session, contest, None, _round_draft(request, form))
    except Refusal as exc:
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        message = exc.translate(admin_gettext(request))
        return _detail(request, session, admin, contest, status=400, error=message, values=values)
    accounts.audit(session, admin, "contest_round_saved", str(contest.id), round=saved.title[:80])
    return redirect(f"/admin/contests/{contest.id}")


@router.get("/contests/{contest_id}/rounds/{round_id}/edit", response_class=HTMLResponse)
def round_edit(
    request: Request, session: SessionDep, admin: AuthorDep, contest_id: int, round_id: int
) -> Response:
    """The form filled with a round."""
    contest = _runnable(session, admin, contest_id)
    round_ = _round(contest, round_id)
    zone = ZoneInfo(runtime_of(request).settings.timezone)
    values = {
        "title": round_.title,
        "draw": str(round_.draw),
        "starts_at": round_.starts_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": round_.ends_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
    }
    return _page(request, "contest_round_form.html", admin, contest=contest, round=round_, values=values)


@router.post("/contests/{contest_id}/rounds/{round_id}/edit")
def round_update(
    request: Request, session: SessionDep, admin: AuthorDep, form: FormDep, contest_id: int, round_id: int
) -> Response:
    """Change a round nobody has answered yet."""
    contest = _runnable(session, admin, contest_id)
    round_ = _round(contest, round_id)
    try:
        contests.write_round(session, contest, round_, _round_draft(request, form))
    except Refusal as exc:
        return _page(
            request,
            "contest_round_form.html",
            admin,
            status=400,
            contest=contest,
            round=round_,
            values={k: v for k, v in form.items() if isinstance(v, str)},
            error=exc.translate(admin_gettext(request)),
        )
    accounts.audit(session, admin, "contest_round_saved", str(contest.id), round=round_.title[:80])
    return redirect(f"/admin/contests/{contest.id}")


@router.post("/contests/{contest_id}/rounds/{round_id}/invite")
def round_invite(
    request: Request, session: SessionDep, admin: AuthorDep, contest_id: int, round_id: int
) -> Response:
    """Write the round's invitation as a bulletin draft to the contest's audience (in each language the
    invitation is translated into), to be sent from its page like any bulletin: through the outbox, quiet
    hours respected, prestigious persons first."""
    contest = _runnable(session, admin, contest_id)
    round_ = _round(contest, round_id)
    if round_.invited_at is not None:
        raise HTTPException(status_code=409, detail=mark("Lời mời của vòng này đã được soạn rồi."))
    runtime = runtime_of(request)
    texts = {
        lang.code: conversation.invitation(
            runtime.catalogs.gettext(lang.code), round_, runtime.settings.timezone
        )
        for lang in runtime.catalogs.languages()
    }
    bulletin = bulletins.create(
        session,
        title=f"🏆 {contest.title} – {round_.title}"[:200],
        versions=[(code, text, None) for code, text in texts.items() if code == "vi" or text != texts["vi"]],
        audience=contests.audience_of(contest),
        created_by=admin.id,
    )
    for version in bulletin.versions:
        voices.mark_pending(version, runtime.settings, None)
    voices.queue(session, bulletin)
    round_.invited_at = utcnow()
    accounts.audit(session, admin, "contest_invited", str(contest.id), round=round_.title[:80])
    return redirect(f"/admin/bulletins/{bulletin.id}")


@router.post("/contests/{contest_id}/rounds/{round_id}/publish")
def round_publish(
    request: Request,
    session: SessionDep,
    admin: AuthorDep,
    background: BackgroundTasks,
    contest_id: int,
    round_id: int,
) -> Response:
    """Once the round is over, send each person who took part their own commune's results, in their
    language, through the outbox (sent after this commit)."""
    contest = _runnable(session, admin, contest_id)
    round_ = _round(contest, round_id)
    try:
        contests.publish(round_)
    except contests.ContestError as exc:
        raise HTTPException(status_code=409, detail=exc.msgid) from exc
    catalogs = runtime_of(request).catalogs
    found = contests.participants(session, round_)
    per_commune = {
        code: contests.results(session, round_, by="commune", communes=[code] if code else [])
        for code in {p.commune_code for p in found}
    }
    asked = [share.question for commune in per_commune.values() for share in commune.questions]
    approved = {
        lang: set(content_translations.readable(session, asked, lang)) for lang in {p.language for p in found}
    }
    audience.results_back(
        session,
        request,
        background,
        found,
        lambda p: conversation.summary(
            catalogs.gettext(p.language),
            round_,
            per_commune[p.commune_code],
            commune_name(p.commune_code),
            p.language,
            approved[p.language],
        ),
    )
    accounts.audit(session, admin, "contest_published", str(contest.id), round=round_.title[:80])
    return redirect(f"/admin/contests/{contest.id}/rounds/{round_.id}")


# --- the question bank -------------------------------------------------------------------------------


@router.get("/contests/{contest_id}/questions/new", response_class=HTMLResponse)
def question_new(
    request: Request, session: SessionDep, admin: AuthorDep, contest_id: int, entry: str = ""
) -> Response:
    """The form for a new question; `entry` begins it from a Q&A entry (question, answer, source)."""
    contest = _runnable(session, admin, contest_id)
    found = session.get(QAEntry, entry) if entry else None
    if entry and found is None:
        raise HTTPException(status_code=404, detail=mark("Không có mục hỏi đáp này."))
    values = _question_values(contests.from_entry(found)) if found else {}
    return _question_form(request, admin, contest, None, None, values)


@router.post("/contests/{contest_id}/questions/new")
def question_create(
    request: Request, session: SessionDep, admin: AuthorDep, form: FormDep, contest_id: int
) -> Response:
    """Add a question to the bank."""
    contest = _runnable(session, admin, contest_id)
    return _save_question(request, session, admin, contest, None, form)


@router.get("/contests/{contest_id}/questions/{question_id}/edit", response_class=HTMLResponse)
def question_edit(
    request: Request, session: SessionDep, admin: AuthorDep, contest_id: int, question_id: int
) -> Response:
    """The form filled with a bank question."""
    contest = _runnable(session, admin, contest_id)
    question = _question(contest, question_id)
    draft = contests.QuestionDraft(
        question.texts, tuple(question.options), question.correct, question.explanation, question.source
    )
    return _question_form(request, admin, contest, question, None, _question_values(draft))


@router.post("/contests/{contest_id}/questions/{question_id}/edit")
def question_update(
    request: Request, session: SessionDep, admin: AuthorDep, form: FormDep, contest_id: int, question_id: int
) -> Response:
    """Rewrite a bank question."""
    contest = _runnable(session, admin, contest_id)
    return _save_question(request, session, admin, contest, _question(contest, question_id), form)


def _save_question(
    request: Request,
    session: Session,
    admin: AdminUser,
    contest: Contest,
    question: ContestQuestion | None,
    form: FormData,
) -> Response:
    """Check and store a bank question; the form again, with the reason, when refused."""
    languages = [lang.code for lang in runtime_of(request).catalogs.languages()]

    def texts(name: str) -> dict[str, str]:
        return {code: str(form.get(f"{name}_{code}") or "") for code in languages}

    options = tuple(
        texts(f"option{index}") for index in range(contests.MAX_OPTIONS) if form.get(f"option{index}_vi")
    )
    correct = str(form.get("correct") or "")
    draft = contests.QuestionDraft(
        texts=texts("text"),
        options=options,
        correct=int(correct) if correct.isdigit() else -1,
        explanation=texts("explanation"),
        source=str(form.get("source") or ""),
    )
    try:
        saved = contests.write_question(session, contest, question, draft)
    except Refusal as exc:
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        message = exc.translate(admin_gettext(request))
        return _question_form(request, admin, contest, question, message, values)
    accounts.audit(session, admin, "contest_question_saved", str(contest.id), question=str(saved.id))
    return redirect(f"/admin/contests/{contest.id}#bank")


def _question_values(draft: contests.QuestionDraft) -> dict[str, str]:
    """A question as the form's fields."""
    values = {f"text_{code}": text for code, text in draft.texts.items()}
    values |= {f"explanation_{code}": text for code, text in draft.explanation.items()}
    for index, option in enumerate(draft.options):
        values |= {f"option{index}_{code}": text for code, text in option.items()}
    return values | {"correct": str(draft.correct), "source": draft.source}


def _question_form(
    request: Request,
    admin: AdminUser,
    contest: Contest,
    question: ContestQuestion | None,
    error: str | None,
    values: dict[str, str],
) -> Response:
    """The bank question form."""
    return _page(
        request,
        "contest_question_form.html",
        admin,
        status=400 if error else 200,
        contest=contest,
        question=question,
        error=error,
        values=values,
        slots=range(contests.MAX_OPTIONS),
        languages=runtime_of(request).catalogs.languages(),
    )


@router.post("/contests/{contest_id}/questions/import", response_class=HTMLResponse)
def question_import(
    request: Request, session: SessionDep, admin: AuthorDep, contest_id: int, file: UploadFile
) -> Response:
    """Add an Excel sheet's questions to the bank; a bad row refuses the whole file, naming each bad row."""
    contest = _runnable(session, admin, contest_id)
    _ = admin_gettext(request)
    try:
        report = contests.import_questions(session, contest, contests.question_rows(file.file.read()))
        problems = [e.text(_) for e in report.errors]
    except (OSError, ValueError, KeyError) as exc:  # not an Excel file openpyxl can read
        report, problems = contests.ImportReport(), [_("Không đọc được tệp ({reason}).").format(reason=exc)]
    if problems:
        return _detail(request, session, admin, contest, status=400, problems=problems)
    accounts.audit(session, admin, "contest_questions_imported", str(contest.id), created=report.created)
    return redirect(f"/admin/contests/{contest.id}#bank")


# --- results -----------------------------------------------------------------------------------------


@router.get("/contests/{contest_id}/rounds/{round_id}", response_class=HTMLResponse)
def round_results(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    contest_id: int,
    round_id: int,
    by: str = "commune",
) -> Response:
    """A round's ranking (names of those who agreed), participation by the chosen group, and the share of
    right answers per question, within the admin's communes."""
    contest = _contest(session, admin, contest_id)
    round_ = _round(contest, round_id)
    by = by if by in contests.GROUPS else "commune"
    scope = accounts.scope(admin)
    results = contests.results(session, round_, by=by, communes=scope)
    names = group_names(session, by, results.groups.keys(), admin_gettext(request))
    return _page(
        request,
        "contest_round.html",
        admin,
        contest=contest,
        round=round_,
        results=results,
        ranked=contests.ranking(session, round_, scope, limit=RANKED_SHOWN),
        perfect=contests.perfect_count(session, round_),
        by=by,
        groups=contests.GROUPS,
        group_labels=GROUP_LABELS,
        names=names,
        order=list(names),
        can_run=audience.may_run(session, admin, contest),
    )


@router.get("/contests/{contest_id}/rounds/{round_id}/export.xlsx")
def round_export(
    request: Request, session: SessionDep, admin: AdminDep, contest_id: int, round_id: int
) -> Response:
    """The round's ranking as a spreadsheet (the admin's communes): names only of those who agreed;
    beside it, participation by commune and the share of right answers per question."""
    contest = _contest(session, admin, contest_id)
    round_ = _round(contest, round_id)
    _ = admin_gettext(request)
    scope = accounts.scope(admin)
    header = [
        _("Hạng"),
        _("Họ và tên"),
        _("Xã"),
        _("Điểm"),
        _("Số câu"),
        _("Dự đoán"),
        _("Thời gian (giây)"),
        _("Ngôn ngữ"),
        _("Ứng dụng"),
    ]
    hidden = _("(không nêu tên)")
    body = [
        [
            r.place,
            (r.entrant.name or hidden) if r.entrant and r.entrant.named else hidden,
            commune_name(r.attempt.commune_code),
            r.attempt.score,
            r.attempt.asked,
            r.attempt.prediction if r.attempt.prediction is not None else "",
            r.seconds,
            language_name(r.attempt.language),
            people.app_name(f"{r.attempt.channel}:"),
        ]
        for r in contests.ranking(session, round_, scope)
    ]
    results = contests.results(session, round_, by="commune", communes=scope)
    return audience.spreadsheet(
        f"loaban-cuoc-thi-{contest.id}-{round_.id}.xlsx",
        [
            (_("Xếp hạng"), header, body),
            (
                _("Tham gia theo xã"),
                [_(h) for h in PARTICIPATION_HEADER],
                _participation(session, results, _),
            ),
            (_("Đúng từng câu"), [_(h) for h in QUESTIONS_HEADER], _question_shares(results)),
        ],
    )


def _participation(session: Session, results: contests.RoundResults, _: Any) -> list[list[Any]]:
    """Who finished the round by commune (by name), how many of them answered all right, and everyone
    together; answers entered for a household group are counted apart, as on the page."""
    names = group_names(session, "commune", results.groups.keys(), _)
    counts = [(name, *results.groups[key]) for key, name in names.items()]
    counts.append((_("Tất cả"), sum(c[1] for c in counts), sum(c[2] for c in counts)))
    return [[name, finished, perfect, percent(perfect, finished)] for name, finished, perfect in counts]


def _question_shares(results: contests.RoundResults) -> list[list[Any]]:
    """Each question answered in the round: how many answered, how many right and the share right (which
    laws people misunderstand)."""
    return [
        [
            contests.text_in(q.question.texts, contests.SOURCE),
            q.answered,
            q.right,
            percent(q.right, q.answered),
        ]
        for q in results.questions
    ]
