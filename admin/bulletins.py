"""Admin pages for bulletins: write (text, recordings, pictures per language), see the reach, send now or
later, follow delivery live, pause, resume, cancel; relay coverage; station feeds; prestigious persons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from admin.common import PAGE_SIZE, Page, parse_codes, private_file, redirect, render
from admin.deps import AdminDep, AuthorDep, FormDep, PlacesEditorDep, SessionDep, admin_gettext, csrf_protect
from bot.accounts import service as accounts
from bot.accounts.models import AdminUser
from bot.areas import service as areas
from bot.areas import villages as village_service
from bot.areas.models import Village
from bot.bulletins import service as bulletins
from bot.bulletins import timing, voices
from bot.bulletins.models import Bulletin, BulletinStatus
from bot.db import utcnow
from bot.i18n import mark
from bot.media import service as media
from bot.media import store
from bot.people import service as people
from bot.people.models import PersonRole
from bot.people.windows import reply_windows
from bot.runtime import runtime_of
from bot.translations import content as content_translations

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])
STATUS_LABELS = {
    BulletinStatus.draft: mark("Bản nháp"),
    BulletinStatus.scheduled: mark("Đã hẹn giờ"),
    BulletinStatus.sending: mark("Đang gửi"),
    BulletinStatus.paused: mark("Tạm dừng"),
    BulletinStatus.cancelled: mark("Đã hủy"),
    BulletinStatus.done: mark("Đã gửi xong"),
}
METHOD_LABELS = {
    "meeting": mark("Họp thôn, bản"),
    "loudspeaker": mark("Loa phát thanh"),
    "visits": mark("Đến từng nhà"),
}
MAX_IMAGES = 5


def _page(request: Request, template: str, admin: AdminUser, status: int = 200, **ctx: Any) -> Response:
    """Render with the labels every bulletin page uses."""
    return render(
        request,
        template,
        admin,
        status=status,
        status_labels=STATUS_LABELS,
        method_labels=METHOD_LABELS,
        **ctx,
    )


def _bulletin(session: Session, admin: AdminUser, bulletin_id: int) -> Bulletin:
    """A bulletin this admin may see, or a 404 page (a commune officer learns nothing of other communes'
    bulletins, not even that they exist)."""
    bulletin = bulletins.get(session, bulletin_id=bulletin_id)
    if bulletin is None or not bulletins.open_to(session, bulletin, accounts.scope(admin), admin.id):
        raise HTTPException(status_code=404, detail=mark("Không có bản tin này."))
    return bulletin


def _may_steer(session: Session, admin: AdminUser, bulletin: Bulletin) -> bool:
    """Authors may change and send a bulletin; commune officers only those for their own communes."""
    audience = bulletins.Audience.from_json(bulletin.audience)
    village_communes = areas.communes_of_villages(session, audience.villages)
    return admin.role in accounts.BULLETIN_AUTHORS and audience.within(
        accounts.scope(admin), village_communes
    )


def _steerable(session: Session, admin: AdminUser, bulletin_id: int) -> Bulletin:
    """A bulletin this admin may change, or a 403/404 page."""
    bulletin = _bulletin(session, admin, bulletin_id)
    if not _may_steer(session, admin, bulletin):
        raise HTTPException(status_code=403, detail=mark("Bản tin này gửi ra ngoài các xã của bạn."))
    return bulletin


@router.get("/bulletins", response_class=HTMLResponse)
def bulletin_list(
    request: Request, session: SessionDep, admin: AdminDep, q: str = "", page: Annotated[int, Query(ge=1)] = 1
) -> Response:
    """Bulletins newest first, searchable by title, with where each send stands."""
    rows, total = bulletins.get_all(
        session,
        query=q,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
        communes=accounts.scope(admin),
        author_id=admin.id,
    )
    progress = bulletins.progress_of(session, [b.id for b in rows])
    can_write = admin.role in accounts.BULLETIN_AUTHORS
    return _page(
        request,
        "bulletins.html",
        admin,
        rows=rows,
        progress=progress,
        q=q,
        page=Page(page, total),
        can_write=can_write,
    )


@router.get("/bulletins/new", response_class=HTMLResponse)
def bulletin_form(request: Request, session: SessionDep, admin: AuthorDep) -> Response:
    """The form for a new bulletin."""
    return _form(request, session, admin, None, {})


def _form(
    request: Request, session: Session, admin: AdminUser, error: str | None, values: dict[str, Any]
) -> Response:
    """The new-bulletin form, again with the admin's input and the reason when it was refused."""
    return _page(
        request,
        "bulletin_form.html",
        admin,
        status=400 if error else 200,
        error=error,
        values=values,
        languages=runtime_of(request).catalogs.languages(),
        **audience_fields(session, admin, values),
    )


def audience_fields(session: Session, admin: AdminUser, values: dict[str, Any]) -> dict[str, Any]:
    """What audience_picks.html needs: the places this admin may pick, and what the form had chosen
    (bulletins, polls and contests pick their audience alike)."""
    scope = accounts.scope(admin)

    def chosen(name: str) -> list[int]:
        return [int(v) for v in values.get(name, []) if str(v).isdigit()]

    return {
        "provinces": areas.provinces(),
        "villages": areas.villages_in(session, scope),
        "scope": scope,
        "own_communes": [c for code in scope or [] if (c := areas.get_commune(code)) is not None],
        "chosen_provinces": chosen("provinces"),
        "chosen_communes": chosen("communes"),
        "chosen_villages": chosen("villages"),
        "chosen_languages": [str(v) for v in values.get("languages", [])],
        "chosen_roles": [str(v) for v in values.get("roles", [])],
        "chosen": [c for code in chosen("communes") if (c := areas.get_commune(code)) is not None],
        "matches": [],
        "commune_q": "",
    }


def audience_values(audience: bulletins.Audience) -> dict[str, Any]:
    """A stored audience as the form's fields, to edit what holds it."""
    return {
        "everyone": "no" if audience.provinces or audience.communes or audience.villages else "yes",
        "provinces": list(audience.provinces),
        "communes": list(audience.communes),
        "villages": list(audience.villages),
        "languages": list(audience.languages),
        "roles": list(audience.roles),
    }


def audience_input(form: FormData) -> dict[str, Any]:
    """What a refused form had typed and ticked, to show it again."""
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values.update({k: form.getlist(k) for k in ("provinces", "communes", "villages", "languages", "roles")})
    return values


def _upload(form: FormData, name: str) -> tuple[bytes, str] | None:
    """A file field's bytes and name, None when left empty."""
    value = form.get(name)
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    return value.file.read(), value.filename


def _parked(request: Request, form: FormData, name: str) -> str | None:
    """A recording field's file parked for the audio job (see voices.keep_upload), as the version's
    pending mark; None when left empty."""
    upload = _upload(form, name)
    return voices.keep_upload(runtime_of(request).settings, *upload) if upload else None


@dataclass(frozen=True)
class DraftFiles:
    """A new draft's files, written to the media store before the request's transaction opens (an S3
    upload may take seconds, and the transaction would hold everyone's writes meanwhile): its pictures
    (None when one is not a JPEG or PNG, and then nothing is written) and each language's recording,
    parked for the audio job. A draft refused afterwards leaves only stray copies."""

    pictures: list[media.Upload] | None
    recordings: dict[str, str]  # language → the version's pending mark


def draft_files(request: Request, form: FormDep) -> DraftFiles:
    """Write a new draft's pictures and recordings to the store (a dependency: it runs before `session`)."""
    runtime = runtime_of(request)
    images = [f for f in form.getlist("images") if isinstance(f, UploadFile) and f.filename][:MAX_IMAGES]
    pictures = [(data, media.image_type(data)) for data in (f.file.read() for f in images)]
    if any(mime is None for _data, mime in pictures):
        return DraftFiles(None, {})
    files = store.of(runtime.settings)
    uploaded = [
        media.upload(runtime.db, files, data, kind="image", mime=mime or "") for data, mime in pictures
    ]
    codes = [lang.code for lang in runtime.catalogs.languages()]
    parked = {code: _parked(request, form, f"audio_{code}") for code in codes}
    return DraftFiles(uploaded, {code: mark_ for code, mark_ in parked.items() if mark_ is not None})


def version_recording(request: Request, form: FormDep) -> str | None:
    """A version's uploaded recording, parked before the request's transaction opens (as `draft_files`)."""
    return _parked(request, form, "audio")


def audience_from_form(session: Session, form: FormData, admin: AdminUser) -> bulletins.Audience:
    """The audience chosen in the form by names; nobody ticked must be chosen explicitly as everyone
    ("toàn tỉnh"), never fall out of an empty form. Commune officers may only address their own communes."""
    communes = tuple(c for value in form.getlist("communes") for c in parse_codes(str(value)))
    provinces = tuple(int(str(p)) for p in form.getlist("provinces") if str(p).isdigit())
    villages = tuple(int(str(v)) for v in form.getlist("villages") if str(v).isdigit())
    if not (communes or provinces or villages) and form.get("everyone") != "yes":
        raise bulletins.BulletinError(
            mark("Hãy chọn nơi nhận: tỉnh, xã hoặc thôn — hoặc chọn «Toàn tỉnh» để gửi cho tất cả mọi người.")
        )
    audience = bulletins.Audience(
        provinces=provinces,
        communes=communes,
        villages=villages,
        languages=tuple(str(v) for v in form.getlist("languages")),
        roles=tuple(str(v) for v in form.getlist("roles") if v in PersonRole.__members__),
    )
    if not audience.within(accounts.scope(admin), areas.communes_of_villages(session, villages)):
        raise bulletins.BulletinError(mark("Cán bộ xã chỉ gửi được bản tin cho các xã của mình."))
    return audience


@router.post("/bulletins/new")
def bulletin_create(
    request: Request,
    drafted: Annotated[DraftFiles, Depends(draft_files)],  # first: written before `session` opens
    session: SessionDep,
    admin: AuthorDep,
    form: FormDep,
) -> Response:
    """Save the draft at once (texts, parked recordings, pictures); its audio is made after the answer."""
    runtime = runtime_of(request)
    settings, _ = runtime.settings, admin_gettext(request)
    languages = [lang.code for lang in runtime.catalogs.languages()]
    try:
        audience = audience_from_form(session, form, admin)
        if drafted.pictures is None:
            raise bulletins.BulletinError(mark("Ảnh phải là tệp JPEG hoặc PNG."))
        texts = {code: str(form.get(f"text_{code}") or "") for code in languages}
        chosen = [code for code in languages if texts[code].strip() or code in drafted.recordings]
        files = store.of(settings)
        image_ids = [media.record(session, files, picture).id for picture in drafted.pictures]
        bulletin = bulletins.create(
            session,
            title=str(form.get("title") or ""),
            versions=[(code, texts[code], None) for code in chosen],
            audience=audience,
            image_ids=image_ids,
            urgent=form.get("urgent") == "true",
            created_by=admin.id,
        )
    except (bulletins.BulletinError, accounts.AccountError) as exc:
        values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        values.update({k: form.getlist(k) for k in ("provinces", "communes", "villages")})
        return _form(request, session, admin, exc.translate(_), values)
    for version in bulletin.versions:
        voices.mark_pending(version, settings, drafted.recordings.get(version.language))
    # Its translations are the author's drafts: people read them once a second person approves them.
    content_translations.note_item_edits(
        session, admin, bulletin, content_translations.translations_in(None, languages)
    )
    accounts.audit(session, admin, "bulletin_created", str(bulletin.id), title=bulletin.title[:80])
    voices.queue(session, bulletin)
    return redirect(f"/admin/bulletins/{bulletin.id}")


@router.get("/bulletins/{bulletin_id}", response_class=HTMLResponse)
def bulletin_detail(request: Request, session: SessionDep, admin: AdminDep, bulletin_id: int) -> Response:
    """A bulletin: versions with audio to preview and download, audience and reach, sending, relays."""
    bulletin = _bulletin(session, admin, bulletin_id)
    audience = bulletins.Audience.from_json(bulletin.audience)
    windows = reply_windows(runtime_of(request).settings)
    reach = bulletins.reach(session, audience, windows) if bulletin.status == BulletinStatus.draft else None
    scope = accounts.scope(admin)
    coverage = [
        c for c in bulletins.coverage(session, bulletin_id) if scope is None or c.commune_code in scope
    ]
    villages = _villages(session, coverage)
    used = {v.language for v in bulletin.versions}
    return _page(
        request,
        "bulletin.html",
        admin,
        audience=audience,
        timings=_timings(request, bulletin, reach.prestigious) if reach else {},
        audience_villages=[
            v for v in (village_service.get(session, village_id=i) for i in audience.villages) if v
        ],
        reach=reach,
        window_days=runtime_of(request).settings.zalo_window_days,
        images=[m for m in (media.get(session, i) for i in bulletin.image_ids) if m is not None],
        media_url=lambda stored: f"/admin/bulletins/{bulletin.id}/media/{stored.id}",
        can_steer=_may_steer(session, admin, bulletin),
        missing_languages=[
            lang for lang in runtime_of(request).catalogs.languages() if lang.code not in used
        ],
        coverage=coverage,
        villages=villages,
        **_progress_context(request, session, admin, bulletin),
    )


@router.get("/bulletins/{bulletin_id}/media/{media_id}")
def bulletin_media(
    request: Request, session: SessionDep, admin: AdminDep, bulletin_id: int, media_id: int
) -> Response:
    """A bulletin's recording, MP3 or picture for the officials who may open it: a draft's are not public
    (they become so once the bulletin is sent)."""
    bulletin = _bulletin(session, admin, bulletin_id)
    used = (
        {v.voice_id for v in bulletin.versions}
        | {v.mp3_id for v in bulletin.versions}
        | set(bulletin.image_ids)
    )
    return private_file(request, media.get(session, media_id) if media_id in used else None)


def _progress_context(
    request: Request, session: Session, admin: AdminUser, bulletin: Bulletin
) -> dict[str, Any]:
    """What the live progress fragment shows, with when the send should be over."""
    settings = runtime_of(request).settings
    progress = bulletins.progress(session, bulletin.id)
    running = bulletin.status in bulletins.LIVE and (progress.pending > 0 or bulletin.preparing)
    end = None
    if running and bulletin.status != BulletinStatus.paused:
        end = timing.expected_end(
            max(utcnow(), bulletin.send_at or utcnow()),
            progress.pending,
            settings.telegram_max_messages_per_second,
            urgent=bulletin.urgent,
            quiet=timing.parse_quiet_hours(settings.quiet_hours),
            zone=ZoneInfo(settings.timezone),
        )
    return {
        "bulletin": bulletin,
        "progress": progress,
        "failures": bulletins.failures(session, bulletin.id, limit=20, communes=accounts.scope(admin)),
        "live": bulletin.status in bulletins.LIVE or bulletin.preparing or not bulletin.audio_ready,
        "running": running,
        "expected_end": end,
    }


def _timings(request: Request, bulletin: Bulletin, prestigious: int) -> dict[str, timing.Timing]:
    """When each group would receive the draft if sent now: with prestigious persons first, and all at
    once; an official sees before sending what the quiet hours will do."""
    options = {"relay": True, "all": False}
    return {
        name: _timing(request, utcnow(), prestigious, urgent=bulletin.urgent, relay_first=relay_first)
        for name, relay_first in options.items()
    }


def _timing(
    request: Request, start: datetime, prestigious: int, *, urgent: bool, relay_first: bool
) -> timing.Timing:
    """When each group gets a bulletin sent at `start` with this server's relay lead and quiet hours."""
    settings = runtime_of(request).settings
    return timing.plan(
        start,
        lead=timedelta(minutes=settings.relay_lead_minutes),
        prestigious=prestigious,
        urgent=urgent,
        relay_first=relay_first,
        quiet=timing.parse_quiet_hours(settings.quiet_hours),
        zone=ZoneInfo(settings.timezone),
    )


@router.get("/bulletins/{bulletin_id}/progress", response_class=HTMLResponse)
def bulletin_progress(
    request: Request, session: SessionDep, admin: AdminDep, bulletin_id: int, audio: str = ""
) -> Response:
    """The progress fragment htmx polls every few seconds while a send (or its audio) is under way; when
    the audio the page was waiting for is ready, the whole page reloads (players, the send button)."""
    bulletin = _bulletin(session, admin, bulletin_id)
    if audio == "pending" and bulletin.audio_ready:
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return _page(
        request,
        "bulletin_progress.html",
        admin,
        can_steer=_may_steer(session, admin, bulletin),
        **_progress_context(request, session, admin, bulletin),
    )


@router.post("/bulletins/{bulletin_id}/versions")
def bulletin_version(
    request: Request,
    recording: Annotated[str | None, Depends(version_recording)],  # first: parked before `session` opens
    session: SessionDep,
    admin: AuthorDep,
    form: FormDep,
    bulletin_id: int,
) -> Response:
    """Add or rewrite one language of a draft (text and/or recording); its audio is made again."""
    runtime = runtime_of(request)
    bulletin = _steerable(session, admin, bulletin_id)
    language = str(form.get("language") or "")
    if language not in [lang.code for lang in runtime.catalogs.languages()]:
        raise HTTPException(status_code=400, detail=mark("Ngôn ngữ không hợp lệ."))
    before = content_translations.translations_in(bulletin, [language])
    try:
        version = bulletins.set_version(bulletin, language, str(form.get("text") or ""), None)
    except bulletins.BulletinError as exc:
        raise HTTPException(status_code=409, detail=exc.msgid) from exc
    content_translations.note_item_edits(session, admin, bulletin, before)
    voices.remake(session, bulletin, version, runtime.settings, recording)
    return redirect(f"/admin/bulletins/{bulletin.id}")


@router.post("/bulletins/{bulletin_id}/send")
def bulletin_send(
    request: Request,
    session: SessionDep,
    admin: AuthorDep,
    bulletin_id: int,
    when: Annotated[str, Form()] = "now",
    at: Annotated[str, Form()] = "",
    urgent: Annotated[bool, Form()] = False,
    all_at_once: Annotated[bool, Form()] = False,
    confirm: Annotated[int, Form()] = -1,
) -> Response:
    """Queue the draft for everyone in its audience, now or at a local date and time, once the official
    has confirmed how many people it goes to (asked again if the audience changed meanwhile)."""
    runtime = runtime_of(request)
    bulletin = _steerable(session, admin, bulletin_id)
    start = None
    if when == "at":
        try:
            start = datetime.fromisoformat(at).replace(tzinfo=ZoneInfo(runtime.settings.timezone))
        except ValueError as exc:
            raise HTTPException(status_code=400, detail=mark("Thời gian hẹn gửi không hợp lệ.")) from exc
    windows = reply_windows(runtime.settings)
    try:
        bulletins.check_sendable(bulletin)
    except bulletins.BulletinError as exc:
        raise HTTPException(status_code=409, detail=exc.msgid) from exc
    reach = bulletins.reach(session, bulletins.Audience.from_json(bulletin.audience), windows)
    if confirm != reach.total:
        choice = {"when": when, "at": at, "urgent": urgent, "all_at_once": all_at_once}
        arrives = _timing(
            request, start or utcnow(), reach.prestigious, urgent=urgent, relay_first=not all_at_once
        )
        return _page(
            request,
            "bulletin_confirm.html",
            admin,
            bulletin=bulletin,
            total=reach.total,
            choice=choice,
            t=arrives,
        )
    lead = runtime.settings.relay_lead_minutes
    try:
        queued = bulletins.send(
            session,
            bulletin,
            lead=timedelta(minutes=lead),
            at=start,
            urgent=urgent,
            relay_first=not all_at_once,
            windows=windows,
        )
    except bulletins.BulletinError as exc:
        raise HTTPException(status_code=409, detail=exc.msgid) from exc
    accounts.audit(session, admin, "bulletin_sent", str(bulletin.id), recipients=queued)
    _wake_sender(request)
    return redirect(f"/admin/bulletins/{bulletin.id}")


@router.post("/bulletins/{bulletin_id}/audio")
def bulletin_audio(request: Request, session: SessionDep, admin: AuthorDep, bulletin_id: int) -> Response:
    """'Tạo lại âm thanh': make again the audio the server could not save (its folder was not writable)."""
    bulletin = _steerable(session, admin, bulletin_id)
    if voices.retry(bulletin):
        voices.queue(session, bulletin)
    return redirect(f"/admin/bulletins/{bulletin.id}")


@router.post("/bulletins/{bulletin_id}/{action}")
def bulletin_control(
    request: Request, session: SessionDep, admin: AuthorDep, bulletin_id: int, action: str
) -> Response:
    """Pause, resume or cancel a send."""
    actions = {"pause": bulletins.pause, "resume": bulletins.resume, "cancel": bulletins.cancel}
    if action not in actions:
        raise HTTPException(status_code=404, detail=mark("Không có trang này."))
    bulletin = _steerable(session, admin, bulletin_id)
    try:
        actions[action](session, bulletin)
    except bulletins.BulletinError as exc:
        raise HTTPException(status_code=409, detail=exc.msgid) from exc
    accounts.audit(session, admin, f"bulletin_{action}", str(bulletin.id))
    _wake_sender(request)
    return redirect(f"/admin/bulletins/{bulletin.id}")


def _villages(session: Session, coverage: list[bulletins.Coverage]) -> dict[int, Village | None]:
    """The villages a coverage table names, by id."""
    return {
        c.village_id: village_service.get(session, village_id=c.village_id) for c in coverage if c.village_id
    }


def _wake_sender(request: Request) -> None:
    """Let this process's sender look at the outbox now rather than at its next poll (after commit, the
    wake-up finds the rows: the sender polls again within half a second if it looked too early)."""
    sender = runtime_of(request).sender
    if sender is not None:
        sender.wake.set()


# --- prestigious persons -------------------------------------------------------------------------


@router.get("/prestigious", response_class=HTMLResponse)
def prestigious_list(request: Request, session: SessionDep, admin: AdminDep, code: str = "") -> Response:
    """Prestigious persons in the admin's communes, the invites handed out, and relays over all bulletins."""
    scope = accounts.scope(admin)
    flt = people.PersonFilter(commune_codes=scope, role=PersonRole.prestigious)
    rows, total = people.get_all(session, flt, offset=0, limit=200)
    coverage = [c for c in bulletins.coverage(session) if scope is None or c.commune_code in scope]
    villages = _villages(session, coverage)
    return _page(
        request,
        "prestigious.html",
        admin,
        rows=rows,
        total=total,
        invites=people.invites(session, scope),
        new_code=code,
        coverage=coverage,
        villages=villages,
        can_invite=accounts.can_edit_people_and_places(admin),
        scope_communes=[areas.get_commune(c) for c in scope] if scope is not None else None,
    )


@router.post("/prestigious/invites")
def invite_create(
    request: Request, session: SessionDep, admin: PlacesEditorDep, commune: Annotated[str, Form()] = ""
) -> Response:
    """A one-time code to hand to a village elder, who enters it in the bot."""
    scope = accounts.scope(admin)
    code = int(commune) if commune.isdigit() else None
    if code is not None and areas.get_commune(code) is None:
        raise HTTPException(status_code=400, detail=mark("Mã xã '{code}' không tồn tại."))
    if scope is not None and code not in scope:
        raise HTTPException(status_code=403, detail=mark("Bạn không có quyền làm việc này."))
    invite = people.create_invite(session, commune_code=code, created_by=admin.id)
    accounts.audit(session, admin, "invite_created", invite.code)
    return redirect(f"/admin/prestigious?code={invite.code}")


@router.post("/people/{person_id}/role")
def person_role(
    request: Request,
    session: SessionDep,
    admin: PlacesEditorDep,
    person_id: int,
    role: Annotated[str, Form()],
) -> Response:
    """Mark a person as prestigious (they get bulletins first, to relay) or back as a villager."""
    person = people.get(session, person_id=person_id)
    if (
        person is None
        or not people.in_scope(person, accounts.scope(admin))
        or role not in PersonRole.__members__
    ):
        raise HTTPException(status_code=404, detail=mark("Không tìm thấy người này trong phạm vi của bạn."))
    people.set_role(session, person, PersonRole(role))
    accounts.audit(session, admin, "person_role", str(person.id), role=role)
    return redirect(f"/admin/people/{person.id}")
