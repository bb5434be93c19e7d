"""Spoken prompts: a person who chose "🔊 Nghe hướng dẫn" at the language step is asked their language
again, read aloud, then gets every prompt (a message with buttons) as a short voice note just before it,
and its buttons numbered 1️⃣ 2️⃣ … so they can be told apart without reading. The voice is a translator's
approved recording of the prompt in the person's language, else an engine's reading in it, else (a
language no engine speaks) the Vietnamese prompt, which the person is told once. A prompt whose clip
was made before goes out at once with it; a new one holds the prompt back until a job has made its
clip, so the voice comes first. Before a person agrees to the privacy notice, what Loa Bản sends them
is not kept (so it cannot wait in the outbox): a new clip then follows its prompt by the second or two
it takes to make, once per prompt and language."""

from __future__ import annotations

import dataclasses

from bot.conversation import onboarding
from bot.conversation.router import Context, Router
from bot.conversation.types import KEYCAPS, Reply
from bot.i18n import KNOWN_LANGUAGES, SOURCE_LANGUAGE, SourceMessage
from bot.media.models import Media
from bot.voice import notes, prompts
from bot.voice import service as voice
from bot.voice.service import Spoken


def choose(ctx: Context) -> None:
    """'spoken:on': the language question again, now read aloud (in Vietnamese until a language is
    chosen) with its buttons numbered, so a person who cannot read picks their language by ear."""
    ctx.person.spoken_prompts = True
    onboarding.ask_language(ctx)


def numbered(reply: Reply) -> Reply:
    """A prompt's buttons with a number each (the first ten), as they are said."""
    labels = [f"{KEYCAPS[i]} {b.label}" if i < len(KEYCAPS) else b.label for i, b in enumerate(reply.buttons)]
    buttons = tuple(
        dataclasses.replace(b, label=label) for b, label in zip(reply.buttons, labels, strict=True)
    )
    return dataclasses.replace(reply, buttons=buttons)


def heard(ctx: Context, text: str, language: str) -> Spoken | Media | None:
    """What a person hears before a prompt: its approved recording in their language, else an engine's
    reading in that language, else (no voice for it) the Vietnamese prompt read aloud, else nothing."""
    prompt = prompts.matcher(ctx.catalogs, language)(text)
    if prompt is not None and language != SOURCE_LANGUAGE:
        recorded = prompts.approved(ctx.session, prompt.source, language)
        if recorded is not None:
            return recorded
    if voice.speakable(ctx.settings, language):
        return voice.Spoken(text, language)
    vietnamese = prompt.vietnamese if prompt is not None else None
    if vietnamese is not None and voice.speakable(ctx.settings, SOURCE_LANGUAGE):
        return voice.Spoken(vietnamese, SOURCE_LANGUAGE)
    return None


def read_aloud(ctx: Context) -> None:
    """Put each prompt's voice note before it; from the first prompt whose clip is still to be made, the
    replies are handed to a job that makes it and sends them in order."""
    if not ctx.person.spoken_prompts:
        return
    language = ctx.person.language or SOURCE_LANGUAGE
    prompted = [bool(r.buttons) and r.attachment is None for r in ctx.replies]
    if any(prompted):  # a language just chosen that has no voice: said before its first prompt
        first = prompted.index(True)
        told = fallback_note(ctx, language)
        ctx.replies[first:first] = told
        prompted[first:first] = [False] * len(told)
    out: list[Reply] = []
    for index, reply in enumerate(ctx.replies):
        if not prompted[index]:
            out.append(reply)
            continue
        said = heard(ctx, reply.text, language)
        stored = voice.cached(ctx.session, said) if isinstance(said, Spoken) else said
        if said is None:
            out.append(numbered(reply))
        elif stored is not None:
            out += [notes.note(stored), numbered(reply)]
        elif isinstance(said, Spoken) and not ctx.person.consented:  # not kept, cannot wait: voice follows
            out.append(numbered(reply))
            notes.queue(ctx.session, ctx.inbound.urn, ctx.person.id, said)
        else:
            rest = ctx.replies[index:]
            steps = [
                (heard(ctx, r.text, language), numbered(r)) if p else (None, r)
                for r, p in zip(rest, prompted[index:], strict=True)
            ]
            notes.queue_prompts(ctx.session, ctx.inbound.urn, ctx.person, steps)
            break
    ctx.replies = out


def fallback_note(ctx: Context, language: str) -> list[Reply]:
    """Said once, as a person who listens chooses a language no engine speaks and whose prompts are not
    all recorded: those prompts come in Vietnamese. In that language's recording of this note when
    there is one, else in its text (Vietnamese when it has none)."""
    if (
        ctx.inbound.payload != f"lang:{language}"
        or voice.speakable(ctx.settings, language)
        or not voice.speakable(ctx.settings, SOURCE_LANGUAGE)
        or prompts.unrecorded(ctx.session, language) == 0
    ):
        return []
    recorded = prompts.approved(ctx.session, SourceMessage(prompts.FALLBACK_NOTE), language)
    if recorded is not None:
        return [notes.note(recorded)]
    name = KNOWN_LANGUAGES[language].vietnamese_name if language in KNOWN_LANGUAGES else language
    name = name[:1].lower() + name[1:]  # inside a sentence: 'bằng tiếng H'Mông'
    return [Reply(ctx.catalogs.gettext(language)(prompts.FALLBACK_NOTE).format(language=name))]


def register(router: Router) -> None:
    """The choice at the language step, and the pass over every reply."""
    router.button("spoken", choose)
    router.before_send = read_aloud
