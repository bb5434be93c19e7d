"""Prompts read aloud, recorded by people: which catalog messages are spoken prompts (the text of a reply
that has buttons, found in the conversation's code), which prompt a reply's text is in a language, and a
translator's recording of one prompt in one language, a draft until a second person approves it (a
government channel plays no speech nobody checked). Recordings are voice clips under a key of their own
('prompt', language, message); their `engine` names who spoke ('admin:<id>')."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.errors import Refusal
from bot.i18n import Catalogs, SourceMessage, mark
from bot.media import service as media
from bot.media.models import Media
from bot.media.store import MediaStore
from bot.privacy.notice import NOTICE
from bot.voice.models import VoiceClip

ROOT = Path(__file__).resolve().parent.parent
SPOKEN_CODE = ("conversation",)  # where prompts people meet are written
TRANSLATE = frozenset({"_"})  # _("…") and ctx._("…")
DRAFT, RECORDED = "draft", "recorded"
FIELD = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")
# Said once to a person who chose spoken prompts in a language whose prompts are not all recorded and
# that no engine speaks: the prompts without a recording come in Vietnamese.
FALLBACK_NOTE = mark(
    "Một số hướng dẫn chưa có lời đọc bằng {language}: những hướng dẫn đó bạn sẽ nghe bằng tiếng Việt."
)


class ClipError(Refusal):
    """A refused recording, approval or removal."""


def _translated(node: ast.expr) -> str | None:
    """The literal message of `_("…")`, `ctx._("…")` or `_("…").format(…)`, else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _translated(node.func.value)
    if not isinstance(node, ast.Call) or not node.args:
        return None
    name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
    first = node.args[0]
    if name in TRANSLATE and isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def _prompts_in(path: Path) -> list[str]:
    """The messages a file sends as the text of a reply with buttons (`….reply(_("…"), buttons…)`)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        with_buttons = len(node.args) >= 2 or any(k.arg == "buttons" for k in node.keywords)
        if node.func.attr == "reply" and node.args and with_buttons:
            message = _translated(node.args[0])
            if message is not None:
                found.append(message)
    return found


@cache
def messages() -> tuple[SourceMessage, ...]:
    """Every message that can be recorded: the prompts of the conversation (the privacy notice is one),
    and the note said when a language's prompts fall back to Vietnamese. Found once per process."""
    texts = [NOTICE, FALLBACK_NOTE]
    for folder in SPOKEN_CODE:
        for path in sorted((ROOT / folder).glob("*.py")):
            texts += _prompts_in(path)
    return tuple(SourceMessage(t) for t in dict.fromkeys(texts))


@cache
def recordable() -> frozenset[str]:
    """The message keys of the prompts, for the workbench to offer a recording on those rows."""
    return frozenset(m.key for m in messages())


@dataclass(frozen=True)
class Heard:
    """A reply's text known as a prompt: its message, and the values its placeholders were filled with."""

    source: SourceMessage
    values: dict[str, str]

    @property
    def vietnamese(self) -> str | None:
        """The prompt as a Vietnamese person reads it (the same values), or None when it cannot be rebuilt."""
        try:
            return self.source.msgid.format(**self.values)
        except (KeyError, IndexError, ValueError):
            return None


def _pattern(text: str) -> re.Pattern[str]:
    """A translated prompt as a pattern matching it with any values in its placeholders."""
    parts, names, at = [], set(), 0
    for found in FIELD.finditer(text):
        parts.append(re.escape(text[at : found.start()]))
        name = found.group(1)
        parts.append(f"(?P={name})" if name in names else f"(?P<{name}>.+?)")
        names.add(name)
        at = found.end()
    parts.append(re.escape(text[at:]))
    return re.compile("".join(parts), re.DOTALL)


_matchers: dict[tuple[int, str], Callable[[str], Heard | None]] = {}


def matcher(catalogs: Catalogs, language: str) -> Callable[[str], Heard | None]:
    """Which prompt a reply's text is, in a language (as the catalogs translate it now); None for a text
    that is no prompt. Built once per language and catalog version."""
    made = _matchers.get((catalogs.version, language))
    if made is not None:
        return made
    translate = catalogs.gettext(language)
    patterns = [(_pattern(translate(m.msgid)), m) for m in messages() if m.key != FALLBACK_NOTE]

    def heard(text: str) -> Heard | None:
        for pattern, source in patterns:
            found = pattern.fullmatch(text)
            if found is not None:
                return Heard(source, found.groupdict())
        return None

    for stale in [k for k in _matchers if k[0] != catalogs.version]:  # reviewed strings changed since
        del _matchers[stale]
    _matchers[(catalogs.version, language)] = heard
    return heard


# --- recordings -----------------------------------------------------------------------------------


def clip_key(source: SourceMessage, language: str) -> str:
    """What a recording of a prompt in a language is kept under (apart from clips of texts)."""
    return media.digest(f"prompt\n{language}\n{source.key}".encode())


def speaker(admin_id: int) -> str:
    """Who spoke a recording, as kept in its `engine`."""
    return f"admin:{admin_id}"


@dataclass(frozen=True)
class Clips:
    """A prompt's recordings in a language: the approved one people hear, and a draft waiting for review."""

    approved: VoiceClip | None
    draft: VoiceClip | None


def _clip(session: Session, source: SourceMessage, language: str, origin: str) -> VoiceClip | None:
    """One recording of a prompt in a language, approved or draft."""
    return session.scalar(
        select(VoiceClip).where(VoiceClip.key == clip_key(source, language), VoiceClip.origin == origin)
    )


def clips(session: Session, source: SourceMessage, language: str) -> Clips:
    """Both recordings of a prompt in a language."""
    return Clips(_clip(session, source, language, RECORDED), _clip(session, source, language, DRAFT))


def of_rows(session: Session, sources: list[SourceMessage], language: str) -> dict[str, Clips]:
    """The recordings of the prompts among some workbench rows, by message key."""
    return {s.key: clips(session, s, language) for s in sources if s.key in recordable()}


def approved(session: Session, source: SourceMessage, language: str) -> Media | None:
    """The recording people of a language hear for a prompt, if a second person approved one."""
    found = _clip(session, source, language, RECORDED)
    return found.media if found is not None else None


def unrecorded(session: Session, language: str) -> int:
    """How many prompts have no approved recording in a language."""
    wanted = {clip_key(m, language) for m in messages() if m.key != FALLBACK_NOTE}
    done = session.scalar(
        select(func.count())
        .select_from(VoiceClip)
        .where(VoiceClip.key.in_(wanted), VoiceClip.origin == RECORDED)
    )
    return len(wanted) - (done or 0)


def record(
    session: Session,
    files: MediaStore,
    source: SourceMessage,
    language: str,
    admin_id: int,
    uploaded: media.Upload,
) -> VoiceClip:
    """Keep a translator's recording (OGG/Opus, transcoded and uploaded before the transaction: see
    `upload`) as the prompt's draft, in place of any earlier draft; people go on hearing the approved one
    until a second person approves."""
    if source.key not in recordable():
        raise ClipError(mark("Câu này không được đọc cho người dân."))
    stored = media.record(session, files, uploaded)
    old = _clip(session, source, language, DRAFT)
    replaced = old.media if old is not None else None
    if old is not None:
        session.execute(delete(VoiceClip).where(VoiceClip.id == old.id))
    made = VoiceClip(
        key=clip_key(source, language),
        language=language,
        origin=DRAFT,
        engine=speaker(admin_id),
        media_id=stored.id,
    )
    session.add(made)
    session.flush()
    if replaced is not None:  # the same file sent again is kept
        _discard(session, files, replaced)
    return made


def upload(db: Database, files: MediaStore, voice: bytes, seconds: float) -> media.Upload:
    """A recording's file in the store before the transaction that keeps it, under a key of its own, so
    removing it touches no other file with the same bytes."""
    key = media.digest(b"prompt clip\0" + voice)
    return media.upload(db, files, voice, kind="voice", mime="audio/ogg", duration=seconds, key=key)


def approve(session: Session, files: MediaStore, source: SourceMessage, language: str, admin_id: int) -> None:
    """A second person approves the draft recording: people hear it from their next prompt on."""
    draft = _clip(session, source, language, DRAFT)
    if draft is None:
        raise ClipError(mark("Chưa có bản ghi âm để duyệt."))
    if draft.engine == speaker(admin_id):
        raise ClipError(mark("Người ghi âm không tự duyệt bản ghi của mình: cần một người thứ hai."))
    old = _clip(session, source, language, RECORDED)
    if old is not None:
        _drop(session, files, old)
        session.flush()
    draft.origin = RECORDED
    session.flush()


def remove(session: Session, files: MediaStore, source: SourceMessage, language: str) -> bool:
    """Remove a prompt's recordings in a language (approved and draft): people hear the engine's voice,
    or Vietnamese, again. False when there was none."""
    found = [c for c in (_clip(session, source, language, o) for o in (RECORDED, DRAFT)) if c is not None]
    for clip in found:
        _drop(session, files, clip)
    return bool(found)


def _drop(session: Session, files: MediaStore, clip: VoiceClip) -> None:
    """Forget one recording and its file."""
    stored = clip.media
    session.execute(delete(VoiceClip).where(VoiceClip.id == clip.id))
    _discard(session, files, stored)


def _discard(session: Session, files: MediaStore, stored: Media) -> None:
    """Delete a recording's file once no recording uses it (it is stored under a key of its own, so no
    other kind of row does)."""
    if (
        session.scalar(select(func.count()).select_from(VoiceClip).where(VoiceClip.media_id == stored.id))
        == 0
    ):
        media.delete(session, files, stored)
