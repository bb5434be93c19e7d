"""Imports every model so the metadata Alembic compares against is complete."""

from bot.accounts.models import AdminCommune, AdminUser, AuditEntry, LoginAttempt
from bot.areas.models import Village
from bot.db import Base
from bot.messages.models import Message
from bot.people.models import Identity, Person
from bot.qa.models import OpenQuestion, QAEntry

__all__ = [
    "AdminCommune",
    "AdminUser",
    "AuditEntry",
    "Base",
    "Identity",
    "LoginAttempt",
    "Message",
    "OpenQuestion",
    "Person",
    "QAEntry",
    "Village",
]
