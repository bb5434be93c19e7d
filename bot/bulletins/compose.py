"""What one recipient receives: a bulletin's messages in their language, with the fallbacks noted."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from bot.bulletins import service as bulletins
from bot.bulletins.models import Bulletin, BulletinVersion
from bot.conversation.types import Attachment, Button, Reply
from bot.i18n import KNOWN_LANGUAGES, SOURCE_LANGUAGE, Catalogs
from bot.media import service as media
from bot.media.models import Media
from bot.translations import content as content_translations

CAPTION_LIMIT = 1024  # a voice note's caption (Telegram's limit; Zalo's is larger)
TEXT_LIMIT = 4000  # one text message, under Telegram's 4096


def attachment(stored: Media, kind: str, *, private: bool = False) -> Attachment:
    """A stored file as something a channel can send; a private one (not a bulletin's) carries a random
    token, so only the recipient's web chat can open it."""
    return Attachment(
        kind="voice" if kind == "voice" else "image",
        media_id=stored.id,
        key=stored.path,
        url=media.url(stored),
        duration=round(stored.duration or 0),
        platform_ids=tuple(sorted((k, str(v)) for k, v in stored.platform_ids.items())),
        token=secrets.token_urlsafe(24) if private else "",
    )


def split(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut a long text into messages at paragraph, line or word boundaries."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = max(rest.rfind("\n\n", 0, limit), rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*parts, rest] if rest else parts


def _versions(
    bulletin: Bulletin, language: str, approved: bool
) -> tuple[BulletinVersion | None, BulletinVersion | None]:
    """(version for the text, version for the audio): the person's language when its version counts
    (`approved`: see content_translations.bulletin_reads_in), else Vietnamese."""
    fallback = bulletin.version(SOURCE_LANGUAGE) or (bulletin.versions[0] if bulletin.versions else None)
    own = bulletin.version(language) if approved else None
    text_version = own if own is not None and own.text else fallback
    audio_version = own if own is not None and own.voice is not None else fallback
    if audio_version is not None and audio_version.voice is None:
        audio_version = next((v for v in bulletin.versions if v.voice is not None), None)
    return text_version, audio_version


def messages(
    bulletin: Bulletin,
    *,
    language: str,
    approved: bool,
    prestigious: bool,
    gettext: Callable[[str], str],
    images: Sequence[Media] = (),
) -> list[Reply]:
    """The bulletin as a person receives it, in their language when its version there is `approved`
    (else Vietnamese, said so). Villagers: a voice note captioned with the short text (the rest of a
    long text follows), then pictures. Prestigious persons first get the full text to read aloud; their
    last message carries the 'relayed' button."""
    _ = gettext
    text_version, audio_version = _versions(bulletin, language, approved)
    notes: list[str] = []
    name = KNOWN_LANGUAGES[language].endonym if language in KNOWN_LANGUAGES else language
    if text_version is not None and text_version.language != language:
        notes.append(_("(Bản tin chưa có bằng {language}; đây là bản tiếng Việt.)").format(language=name))
    elif audio_version is not None and audio_version.language != language:
        notes.append(_("(Bản ghi âm bằng tiếng Việt.)"))
    body = text_version.text if text_version is not None else ""
    header = "📢 " + bulletin.title
    replies: list[Reply] = []
    if prestigious:
        intro = _("Gửi trước cho người có uy tín. Xin đọc cho bà con nghe:")
        if bulletin.lead_minutes:
            intro = _(
                "Gửi trước cho người có uy tín, bà con nhận sau {minutes} phút. Xin đọc cho bà con nghe:"
            )
            intro = intro.format(minutes=bulletin.lead_minutes)
        replies += [Reply(chunk) for chunk in split(f"{intro}\n\n{header}\n\n{body}")]
        body = ""
    caption = "\n\n".join(part for part in (header, body, *notes) if part)
    voice = audio_version.voice if audio_version is not None else None
    if voice is not None:
        if len(caption) <= CAPTION_LIMIT:
            replies.append(Reply(caption, attachment=attachment(voice, "voice")))
        else:
            replies += [Reply(chunk) for chunk in split(caption)]
            replies.append(Reply(header, attachment=attachment(voice, "voice")))
    elif caption and (not prestigious or notes):
        replies += [Reply(chunk) for chunk in split(caption)]
    replies += [Reply("", attachment=attachment(image, "image")) for image in images]
    buttons = (
        [Button(_("✅ Đã truyền đạt cho bà con"), f"relay:{bulletin.id}")]
        if prestigious
        else [Button(_("📻 Bản tin khác"), "news"), Button(_("☰ Menu chính"), "menu")]
    )
    last = replies[-1]
    replies[-1] = Reply(last.text, tuple(buttons), columns=1, attachment=last.attachment)
    return replies


def for_recipient(
    session: Session,
    bulletin_id: int,
    language: str,
    prestigious: bool,
    catalogs: Catalogs,
) -> list[Reply]:
    """Load a bulletin with its pictures and compose what one kind of recipient receives. Its
    translations are settled once it leaves the draft (the workbench refuses changes then), so every
    recipient of a language gets the same message, whichever sender composes it and when."""
    bulletin = bulletins.get(session, bulletin_id=bulletin_id)
    if bulletin is None:
        return []
    return messages(
        bulletin,
        language=language,
        approved=content_translations.bulletin_reads_in(session, bulletin, language),
        prestigious=prestigious,
        gettext=catalogs.gettext(language),
        images=[m for m in (media.get(session, i) for i in bulletin.image_ids) if m is not None],
    )
