"""The conversation core: store the inbound message, pick a handler, queue the replies in the outbox."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.conversation.router import Arrived, Context, Route, Router, Typed
from bot.conversation.types import AfterSend, Inbound, Outcome, Outgoing
from bot.db import Database
from bot.i18n import Catalogs
from bot.media import service as media
from bot.media import store
from bot.messages import service as messages
from bot.people import service as people
from bot.qa.knowledge import Knowledge
from bot.translations import service as translations

log = logging.getLogger(__name__)


class Conversation:
    """Turns one neutral inbound message into neutral replies; knows no platform."""

    def __init__(
        self, settings: Settings, catalogs: Catalogs, router: Router, knowledge: Knowledge | None = None
    ) -> None:
        self.settings = settings
        self.catalogs = catalogs
        self.router = router
        self.knowledge = knowledge

    @staticmethod
    def record(session: Session, inbound: Inbound) -> messages.Stored:
        """Store an inbound message once (a redelivery finds the first); adapters that answer the platform
        before acting (Zalo) store with this first."""
        return messages.record_inbound(
            session,
            urn=inbound.urn,
            external_id=inbound.external_id,
            kind=inbound.kind,
            text=inbound.text or inbound.payload,
            payload=inbound.raw,
        )

    def prepare(self, db: Database, inbound: Inbound) -> Arrived:
        """Slow work done before the caller opens the transaction: a typed text may be a question, whose
        embedding is computed now; a file the person sent is read back, checked (a picture redrawn) and
        written to the media store (an S3 PUT may take seconds), so the handler only records its row.
        A file no handler keeps, or whose transaction fails, is only a stray copy."""
        if self.knowledge is not None and inbound.kind == "text" and inbound.text.strip():
            self.knowledge.prepare(inbound.text)
        received = inbound.received
        if received is None or received.error or not received.key:
            return Arrived()
        files = store.of(self.settings)
        try:
            kept = media.accepted(files.get(received.key), received.mime)
            if kept is None:
                return Arrived(refused=True)
            data, mime = kept
            duration = received.duration or None
            return Arrived(media.upload(db, files, data, kind=received.kind, mime=mime, duration=duration))
        except OSError as exc:
            log.error("could not keep a file in the media store: %s", exc)
            return Arrived()

    def handle(self, session: Session, inbound: Inbound, arrived: Arrived | None = None) -> Outcome:
        """Store, dedupe and act on one message inside the caller's transaction (`arrived`: what
        `prepare` made of a file the person sent)."""
        stored = self.record(session, inbound)
        if stored.handled:
            return Outcome(duplicate=True, person_id=None)
        if inbound.kind == "event":
            return self._event(session, inbound, stored.id)
        translations.refresh(session, self.catalogs)  # a string reviewed a moment ago reads at once
        person, is_new = people.get_or_create_by_urn(session, inbound.urn, display_name=inbound.display_name)
        ctx = Context(
            session=session,
            person=person,
            inbound=inbound,
            settings=self.settings,
            catalogs=self.catalogs,
            router=self.router,
            knowledge=self.knowledge,
            is_new=is_new,
            arrived=arrived or Arrived(),
        )
        self.dispatch(ctx)
        if self.router.before_send is not None and not ctx.deleted:
            self.router.before_send(ctx)
        person_id = None if ctx.deleted else ctx.person.id  # a handler may have merged the person
        consented = not ctx.deleted and ctx.person.consented
        messages.mark_handled(session, stored.id, person_id, keep_content=consented)
        after: AfterSend = "drop" if ctx.deleted else ("keep" if consented else "blank")
        ids = messages.record_outbound_many(
            session,
            person_id=person_id,
            urn=inbound.urn,
            items=[("text", reply.text, Outgoing.stored(reply, after)) for reply in ctx.replies],
        )
        outgoing = [Outgoing(i, inbound.urn, reply, after) for i, reply in zip(ids, ctx.replies, strict=True)]
        for urn, reply in ctx.elsewhere:
            [other] = messages.record_outbound_many(
                session, person_id=None, urn=urn, items=[("text", reply.text, reply.to_payload())]
            )
            outgoing.append(Outgoing(other, urn, reply))
        return Outcome(
            duplicate=False,
            person_id=person_id,
            outgoing=tuple(outgoing),
            ask_name=consented and not ctx.person.display_name,
        )

    def _event(self, session: Session, inbound: Inbound, message_id: int) -> Outcome:
        """Platform events (the bot was blocked, a message edited) change state but get no reply."""
        person = people.get_by_urn(session, inbound.urn)
        if person is not None and inbound.payload == "blocked":
            person.subscribed = False
        messages.mark_handled(session, message_id, person.id if person else None)
        return Outcome(duplicate=False, person_id=person.id if person else None)

    def dispatch(self, ctx: Context) -> None:
        """Route by kind: commands, buttons, text at a step, free text, or a polite 'I can't read that'."""
        inbound, router = ctx.inbound, self.router
        typed = router.typed_for(inbound)
        first_contact = inbound.command in router.before_onboarding or (
            typed is not None and typed.first_contact
        )
        if ctx.is_new and not first_contact:
            self._run(ctx, router.commands["start"])
            return
        if router.gate is not None and router.gate(ctx):
            return
        if inbound.kind == "command":
            route = router.commands.get(inbound.command)
            if route is None:
                _ = ctx._
                ctx.reply(_("Mình không hiểu lệnh này. Bạn bấm một nút bên dưới nhé."))
                self.reprompt(ctx)
                return
            self._run(ctx, route)
        elif inbound.kind == "button":
            button_route = router.buttons.get(inbound.payload.split(":", 1)[0])
            if button_route is None:
                self.reprompt(ctx)
                return
            self._run(ctx, button_route)
        elif inbound.kind == "text":
            self._text(ctx, typed)
        elif inbound.kind in ("media", "location") and ctx.person.state in router.media_steps:
            router.media_steps[ctx.person.state](ctx)
        elif inbound.kind in ("media", "location") and ctx.person.onboarded:
            _ = ctx._
            ctx.reply(
                _("Ảnh, ghi âm và vị trí được nhận trong mục «Góp ý – Phản ánh». Bạn bấm vào đó để gửi nhé.")
            )
            self.reprompt(ctx)
        else:
            _ = ctx._
            ctx.reply(_("Loa Bản hiện chỉ đọc được chữ và nút bấm. Bạn hãy gõ chữ hoặc bấm nút nhé."))
            self.reprompt(ctx)

    def _text(self, ctx: Context, typed: Typed | None) -> None:
        """Typed text that means the same everywhere (a code, 'menu') comes first; else it means what the
        current step expects, else it goes to the free-text handler."""
        _ = ctx._
        if len(ctx.inbound.text) > self.settings.max_text_length:
            ctx.reply(
                _("Tin nhắn dài quá (tối đa {limit} ký tự). Bạn hãy viết ngắn lại nhé.").format(
                    limit=self.settings.max_text_length
                )
            )
            return
        if typed is not None:
            self._run(ctx, typed.route)
            return
        step = self.router.steps.get(ctx.person.state)
        if step is not None:
            step(ctx)
        elif ctx.person.onboarded and self.router.free_text is not None:
            self.router.free_text(ctx)
        else:
            self.reprompt(ctx)

    def _run(self, ctx: Context, route: Route) -> None:
        """Run a handler, holding back menu features until onboarding is finished."""
        if route.onboarded_only and not ctx.person.onboarded:
            self.reprompt(ctx)
            return
        route.handler(ctx)

    def reprompt(self, ctx: Context) -> None:
        """Show again what the person can do now: the pending onboarding step or the main menu."""
        if self.router.reprompt is not None:
            self.router.reprompt(ctx)
