"""Spoken prompts: a person who chose "🔊 Nghe hướng dẫn" at the language step gets every prompt (a
message with buttons) as a short voice note just before it, and its buttons numbered 1️⃣ 2️⃣ … so they can
be told apart without reading. A prompt whose clip was made before goes out at once with it; a new one
holds the prompt back until a job has made its clip, so the voice comes first. Before a person agrees to
the privacy notice, what Loa Bản sends them is not kept (so it cannot wait in the outbox): a new clip then
follows its prompt by the second or two it takes to make, once per prompt and language."""

from __future__ import annotations

import dataclasses

from bot.conversation import onboarding
from bot.conversation.router import Context, Router
from bot.conversation.types import KEYCAPS, Reply
from bot.i18n import SOURCE_LANGUAGE
from bot.voice import notes
from bot.voice import service as voice


def choose(ctx: Context) -> None:
    """'spoken:on': Vietnamese, read aloud (the language every engine speaks), then the next step."""
    ctx.person.spoken_prompts = True
    ctx.person.language = SOURCE_LANGUAGE
    if ctx.person.onboarded:
        onboarding.show_menu(ctx)
        return
    onboarding.ask_province(ctx)


def numbered(reply: Reply) -> Reply:
    """A prompt's buttons with a number each (the first ten), as they are said."""
    labels = [f"{KEYCAPS[i]} {b.label}" if i < len(KEYCAPS) else b.label for i, b in enumerate(reply.buttons)]
    buttons = tuple(
        dataclasses.replace(b, label=label) for b, label in zip(reply.buttons, labels, strict=True)
    )
    return dataclasses.replace(reply, buttons=buttons)


def read_aloud(ctx: Context) -> None:
    """Put each prompt's voice note before it; from the first prompt whose clip is still to be made, the
    replies are handed to a job that makes it and sends them in order."""
    language = ctx.person.language or SOURCE_LANGUAGE
    if not ctx.person.spoken_prompts or not voice.speakable(ctx.settings, language):
        return
    out: list[Reply] = []
    for index, reply in enumerate(ctx.replies):
        if not reply.buttons or reply.attachment is not None:
            out.append(reply)
            continue
        said = voice.Spoken(reply.text, language)
        stored = voice.cached(ctx.session, said)
        if stored is not None:
            out += [notes.note(stored), numbered(reply)]
        elif not ctx.person.consented:  # what is sent to them is not kept, so it cannot wait: voice follows
            out.append(numbered(reply))
            notes.queue(ctx.session, ctx.inbound.urn, ctx.person.id, said)
        else:
            held = [numbered(r) if r.buttons and r.attachment is None else r for r in ctx.replies[index:]]
            notes.queue_prompts(ctx.session, ctx.inbound.urn, ctx.person, language, held)
            break
    ctx.replies = out


def register(router: Router) -> None:
    """The choice at the language step, and the pass over every reply."""
    router.button("spoken", choose)
    router.before_send = read_aloud
