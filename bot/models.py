"""Imports every model so the metadata Alembic compares against is complete."""

from bot.accounts.models import AdminCommune, AdminUser, AuditEntry, LoginAttempt
from bot.areas.models import Village
from bot.bulletins.models import Bulletin, BulletinVersion, Delivery, Lease, Relay
from bot.db import Base
from bot.media.models import Media
from bot.messages.models import Message
from bot.people.models import Identity, Invite, Person
from bot.qa.models import OpenQuestion, QAEntry

__all__ = [
    "AdminCommune",
    "AdminUser",
    "AuditEntry",
    "Base",
    "Bulletin",
    "BulletinVersion",
    "Delivery",
    "Identity",
    "Invite",
    "Lease",
    "LoginAttempt",
    "Media",
    "Message",
    "OpenQuestion",
    "Person",
    "QAEntry",
    "Relay",
    "Village",
]
