"""Recordings of spoken prompts in the translation workbench: on each row that people hear read aloud, a
translator records the prompt in their language in the browser (or uploads a file); it is transcoded to
OGG/Opus before any transaction, kept as a draft, and played to people once a second person approves it.
'Xóa bản ghi' removes it. A translator works only on their languages; every change is audit-logged."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from admin.common import private_file, redirect
from admin.deps import SessionDep, admin_gettext, csrf_protect
from admin.translations import WorkbenchDep, checked_language, listing, source_of
from bot.accounts import service as accounts
from bot.audio import service as audio
from bot.i18n import SourceMessage, mark
from bot.media import service as media
from bot.media import store
from bot.runtime import runtime_of
from bot.security import client_ip
from bot.voice import prompts
from bot.voice.models import VoiceClip

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)])
MAX_CLIP_MB = 5  # a prompt is read in seconds; minutes of audio are a mistake
MAX_CLIP_SECONDS = 120


def transcoded(request: Request, clip: UploadFile | None = None) -> media.Upload | audio.RecordingError:
    """The uploaded recording as a voice note (OGG/Opus), made before the request's transaction opens
    (ffmpeg takes seconds, and a transaction held that long would hold up other writers); or why it
    cannot be used, for the page to say."""
    if clip is None or not clip.filename:
        return audio.RecordingError(mark("Chưa có bản ghi âm."))
    limit = MAX_CLIP_MB * 1_000_000
    try:
        voice, seconds = audio.voice_recording(
            clip.file.read(limit + 1), clip.filename, limit, MAX_CLIP_SECONDS
        )
    except audio.RecordingError as refused:
        return refused
    runtime = runtime_of(request)
    return prompts.upload(runtime.db, store.of(runtime.settings), voice, seconds)


TranscodedDep = Annotated[media.Upload | audio.RecordingError, Depends(transcoded)]


def _prompt(request: Request, session: Session, msgid: str, context: str) -> SourceMessage:
    """The prompt a form names: a catalog message people hear read aloud, or a 404 page."""
    source = source_of(request, session, msgid, context)
    if source.key not in prompts.recordable():
        raise HTTPException(status_code=404, detail=mark("Câu này không được đọc cho người dân."))
    return source


@router.post("/translations/{language}/clips/record")
def record(
    request: Request,
    recording: TranscodedDep,  # first: before `session` opens
    session: SessionDep,
    admin: WorkbenchDep,
    language: str,
    msgid: Annotated[str, Form(max_length=5000)],
    context: Annotated[str, Form(max_length=200)] = "",
    q: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Keep a recording of a prompt as its draft in the language (it waits for a second person); a
    refused one is named on the translator's page as they left it."""
    checked_language(request, admin, language)
    source = _prompt(request, session, msgid, context)
    if isinstance(recording, audio.RecordingError):
        message = recording.translate(admin_gettext(request))
        return listing(request, session, admin, language, q=q or msgid[:60], status=400, error=message)
    files = store.of(runtime_of(request).settings)
    prompts.record(session, files, source, language, admin.id, recording)
    accounts.audit(
        session,
        admin,
        "prompt_clip_recorded",
        f"translation:{language}",
        client_ip(request),
        msgid=msgid[:200],
        seconds=round(recording.duration or 0.0, 1),
    )
    return redirect(f"/admin/translations/{language}?q={quote(q or msgid[:60])}")


@router.post("/translations/{language}/clips/{action}")
def change(
    request: Request,
    session: SessionDep,
    admin: WorkbenchDep,
    language: str,
    action: Literal["approve", "delete"],
    msgid: Annotated[str, Form(max_length=5000)],
    context: Annotated[str, Form(max_length=200)] = "",
    q: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A second person approves the draft recording (people hear it from then on), or anyone working on
    the language removes the prompt's recordings."""
    checked_language(request, admin, language)
    source = _prompt(request, session, msgid, context)
    files, ip = store.of(runtime_of(request).settings), client_ip(request)
    try:
        if action == "approve":
            prompts.approve(session, files, source, language, admin.id)
            accounts.audit(
                session, admin, "prompt_clip_approved", f"translation:{language}", ip, msgid=msgid[:200]
            )
        elif prompts.remove(session, files, source, language):
            accounts.audit(
                session, admin, "prompt_clip_deleted", f"translation:{language}", ip, msgid=msgid[:200]
            )
    except prompts.ClipError as exc:
        raise HTTPException(status_code=400, detail=exc.translate(admin_gettext(request))) from exc
    return redirect(f"/admin/translations/{language}?q={quote(q or msgid[:60])}")


@router.get("/translations/{language}/clips/{clip_id}.ogg")
def play(request: Request, session: SessionDep, admin: WorkbenchDep, language: str, clip_id: int) -> Response:
    """A prompt's recording (approved or draft), only to those who work on its language."""
    checked_language(request, admin, language)
    clip = session.get(VoiceClip, clip_id)
    found = (
        clip
        if clip is not None and clip.language == language and clip.origin in ("draft", "recorded")
        else None
    )
    return private_file(request, found.media if found is not None else None)
