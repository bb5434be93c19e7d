"""The categories a person files a reflection under, each with its deadline: the domain's get, get_all,
create and update; never commits."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.feedback.models import Category
from bot.feedback.service import FeedbackError
from bot.i18n import mark

MAX_DEADLINE_HOURS = 72


def get(session: Session, *, category_id: int) -> Category | None:
    """A category by id."""
    return session.get(Category, category_id)


def get_all(session: Session, *, active_only: bool = True) -> list[Category]:
    """Categories in display order, urgent ones (deadlines in hours) first."""
    stmt = select(Category).order_by(Category.deadline_hours.is_(None), Category.position, Category.id)
    if active_only:
        stmt = stmt.where(Category.active.is_(True))
    return list(session.scalars(stmt))


def create(
    session: Session,
    *,
    label: str,
    deadline_days: int,
    position: int,
    active: bool,
    deadline_hours: int | None = None,
) -> Category:
    """A new category under the next free code, checked as `update` checks a change."""
    category = Category(code=f"c{(session.scalar(select(func.max(Category.id))) or 0) + 1}")
    update(
        session,
        category=category,
        label=label,
        deadline_days=deadline_days,
        position=position,
        active=active,
        deadline_hours=deadline_hours,
    )
    session.add(category)
    session.flush()
    return category


def update(
    session: Session,
    *,
    category: Category,
    label: str,
    deadline_days: int,
    position: int,
    active: bool,
    deadline_hours: int | None = None,
) -> Category:
    """Change a category; its deadline counts working days (1 to 60), or hours (1 to 72) for an urgent
    one."""
    label = label.strip()
    if not label or len(label) > 120:
        raise FeedbackError(mark("Tên lĩnh vực cần từ 1 đến 120 ký tự."))
    if not 1 <= deadline_days <= 60:
        raise FeedbackError(mark("Thời hạn trả lời phải từ 1 đến 60 ngày làm việc."))
    if deadline_hours is not None and not 1 <= deadline_hours <= MAX_DEADLINE_HOURS:
        raise FeedbackError(mark("Thời hạn khẩn cấp phải từ 1 đến {limit} giờ."), limit=MAX_DEADLINE_HOURS)
    category.label, category.deadline_days, category.deadline_hours = label, deadline_days, deadline_hours
    category.position, category.active = position, active
    session.flush()
    return category


def urgent(session: Session) -> Category | None:
    """The first active category whose deadline runs in hours: where an emergency is filed."""
    return next((c for c in get_all(session) if c.deadline_hours), None)
