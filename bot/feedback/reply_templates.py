"""The answers officials keep to reuse, their own or shared with a commune: the domain's get, get_all,
create and delete; never commits."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.feedback.models import ReplyTemplate
from bot.feedback.service import FeedbackError
from bot.i18n import mark


def get(session: Session, *, template_id: int) -> ReplyTemplate | None:
    """A reply template by id."""
    return session.get(ReplyTemplate, template_id)


def get_all(session: Session, *, owner_id: int, communes: Collection[int] | None) -> list[ReplyTemplate]:
    """The answers an official may reuse: their own, and those shared with these communes (None: any)."""
    shared_with = (
        ReplyTemplate.commune_code.is_not(None)
        if communes is None
        else ReplyTemplate.commune_code.in_(list(communes))
    )
    stmt = select(ReplyTemplate).where(or_(ReplyTemplate.owner_id == owner_id, shared_with))
    return list(session.scalars(stmt.order_by(ReplyTemplate.title, ReplyTemplate.id)))


def create(
    session: Session, *, owner_id: int, title: str, text: str, commune_code: int | None
) -> ReplyTemplate:
    """Keep an answer to reuse, for oneself or shared with one commune's officials."""
    title, text = " ".join(title.split()), text.strip()
    if not 1 <= len(title) <= 80:
        raise FeedbackError(mark("Tên mẫu cần từ 1 đến 80 ký tự."))
    if not 1 <= len(text) <= 4000:
        raise FeedbackError(mark("Nội dung mẫu cần từ 1 đến 4000 ký tự."))
    template = ReplyTemplate(owner_id=owner_id, title=title, text=text, commune_code=commune_code)
    session.add(template)
    session.flush()
    return template


def delete(session: Session, *, template: ReplyTemplate) -> None:
    """Forget a reply template (answers already sent keep their text)."""
    session.delete(template)
    session.flush()
