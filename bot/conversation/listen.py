"""'🔊 Nghe' under an answer: the person hears it as a voice note in the answer's language. Each kind of
answer registers how its button's reference is read back into words (only for the person it was for),
so a payload typed by hand can never read out someone else's answer."""

from __future__ import annotations

from collections.abc import Callable

from bot.conversation.router import Context, Router
from bot.conversation.types import Button
from bot.i18n import mark
from bot.voice import notes
from bot.voice import service as voice
from bot.voice.service import Spoken

LABEL = mark("🔊 Nghe")
Source = Callable[[Context, str], Spoken | None]  # (context, reference) -> the words, if this person's
SOURCES: dict[str, Source] = {}
PAYLOAD_LIMIT = 64  # bytes of a button's payload (Telegram's limit)


def source(kind: str, read: Source) -> None:
    """Make a kind of answer listenable: `read` turns the reference on its button back into words."""
    SOURCES[kind] = read


def button(gettext: Callable[[str], str], kind: str, reference: str) -> Button:
    """The '🔊 Nghe' button of one answer (payload 'listen:<kind>:<reference>', within 64 bytes)."""
    return Button(gettext(LABEL), f"listen:{kind}:{reference}")


def buttons(ctx: Context, kind: str, reference: str, language: str) -> list[Button]:
    """The button, when an engine can speak the answer's language and its reference fits a payload."""
    offered = button(ctx._, kind, reference)
    fits = len(offered.payload.encode()) <= PAYLOAD_LIMIT
    return [offered] if fits and voice.speakable(ctx.settings, language) else []


def listen(ctx: Context) -> None:
    """'listen:<kind>:<reference>': a clip made before goes out at once; a new one is made by a job
    and arrives as soon as it is ready (nothing is said meanwhile: the note is the answer)."""
    kind, _sep, reference = ctx.arg.partition(":")
    read = SOURCES.get(kind)
    spoken = read(ctx, reference) if read is not None else None
    if spoken is None or not spoken.text.strip() or not voice.speakable(ctx.settings, spoken.language):
        ctx.reply(ctx._("Tin này không đọc thành tiếng được."))
        return
    stored = voice.cached(ctx.session, spoken)
    if stored is not None:
        ctx.replies.append(notes.note(stored))
        return
    notes.queue(ctx.session, ctx.inbound.urn, ctx.person.id, spoken)


def register(router: Router) -> None:
    """Listening works wherever an answer was shown."""
    router.button("listen", listen, onboarded_only=True)
