"""Imports every model so the metadata Alembic compares against is complete."""

from bot.accounts.models import AdminCommune, AdminLanguage, AdminUser, AuditEntry, LoginAttempt
from bot.areas.models import Village
from bot.bulletins.models import (
    Bulletin,
    BulletinVersion,
    Delivery,
    DeliveryCount,
    DeliveryCountChange,
    Lease,
    Relay,
)
from bot.channels.models import ChannelToken, RateBucket
from bot.codes import CodeAttempt
from bot.contests.models import Attempt, Contest, ContestAnswer, ContestQuestion, ContestRound, Entrant
from bot.db import Base
from bot.feedback.models import Attachment, Category, Ticket, TicketEvent
from bot.jobs.models import Job
from bot.media.models import Media
from bot.messages.models import Message
from bot.people.models import Identity, Invite, Person
from bot.polls.models import Poll, PollAnswer, PollChoice, PollQuestion, PollResponse
from bot.privacy.models import Export
from bot.qa.models import OpenQuestion, PassageVector, QAEntry
from bot.reports.models import ReportEvent, ReportReminder
from bot.translations.models import CatalogString, CatalogVersion, ContentReview
from bot.voice.models import VoiceClip

__all__ = [
    "AdminCommune",
    "AdminLanguage",
    "AdminUser",
    "Attachment",
    "Attempt",
    "AuditEntry",
    "Base",
    "Bulletin",
    "BulletinVersion",
    "CatalogString",
    "CatalogVersion",
    "Category",
    "ChannelToken",
    "CodeAttempt",
    "ContentReview",
    "Contest",
    "ContestAnswer",
    "ContestQuestion",
    "ContestRound",
    "Delivery",
    "DeliveryCount",
    "DeliveryCountChange",
    "Entrant",
    "Export",
    "Identity",
    "Invite",
    "Job",
    "Lease",
    "LoginAttempt",
    "Media",
    "Message",
    "OpenQuestion",
    "PassageVector",
    "Person",
    "Poll",
    "PollAnswer",
    "PollChoice",
    "PollQuestion",
    "PollResponse",
    "QAEntry",
    "RateBucket",
    "Relay",
    "ReportEvent",
    "ReportReminder",
    "Ticket",
    "TicketEvent",
    "Village",
    "VoiceClip",
]
