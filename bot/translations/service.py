"""Translating the catalog in the database: drafts by a translator, approval by a second person, the
checks every translation passes, .po and .xlsx exchange, and the overrides each process lays over the
shipped catalogs; the caller commits."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po, write_po
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.accounts.models import AdminUser
from bot.bulletins.models import Bulletin, BulletinStatus
from bot.contests.models import ContestQuestion
from bot.db import utcnow
from bot.errors import Refusal
from bot.feedback.models import Category
from bot.i18n import SOURCE_LANGUAGE, Catalogs, SourceMessage, mark, message_key
from bot.polls.models import Poll, PollStatus
from bot.qa.models import EntryStatus, QAEntry
from bot.qa.service import RowError
from bot.spreadsheet import read_rows, workbook
from bot.translations.models import CatalogString, CatalogVersion, TranslationState
from bot.translations.sources import PARTS, Place, places

PLACEHOLDER = re.compile(r"\{[a-zA-Z_][a-zA-Z0-9_]*\}|%\([a-zA-Z_]+\)[sd]")
# Zalo shows at most 100 characters of a button title (bot/channels/zalo.py falls back to a numbered
# text menu beyond); Telegram has no hard limit but a phone cuts a label near 30 characters with '…'.
BUTTON_MAX = 100
BUTTON_COMFORTABLE = 30
XLSX_COLUMNS = ("context", "msgid", "translation", "state", "where")
STATE_LABELS = {
    TranslationState.untranslated: mark("chưa dịch"),
    TranslationState.draft: mark("bản nháp"),
    TranslationState.reviewed: mark("đã duyệt"),
}
SHIPPED_LABEL = mark("có sẵn, chưa được người bản ngữ duyệt")


class TranslationError(Refusal):
    """A refused translation or review."""


def key_of(msgid: str, context: str = "") -> str:
    """The stored identity of a message: a hash, since a long msgid cannot be indexed everywhere."""
    return hashlib.sha256(message_key(msgid, context).encode()).hexdigest()


# --- the overrides every process uses -------------------------------------------------------------


def version(session: Session) -> int:
    """The number that rises whenever a reviewed string changes."""
    return session.scalar(select(CatalogVersion.version).where(CatalogVersion.id == 1)) or 0


def bump(session: Session) -> None:
    """Tell every process its overrides are stale (an atomic increment, safe against concurrent reviews)."""
    session.execute(
        update(CatalogVersion).where(CatalogVersion.id == 1).values(version=CatalogVersion.version + 1)
    )


def refresh(session: Session, catalogs: Catalogs) -> None:
    """Reload the reviewed strings when another process (or this one) changed them: one tiny read per
    message handled, the table only after a review."""
    current = version(session)
    if current == catalogs.version:
        return
    overrides: dict[str, dict[str, str]] = {}
    rows = session.execute(
        select(
            CatalogString.language, CatalogString.context, CatalogString.msgid, CatalogString.published
        ).where(CatalogString.published.is_not(None))
    )
    for language, context, msgid, published in rows:
        overrides.setdefault(language, {})[message_key(msgid, context)] = published or ""
    catalogs.use_overrides(current, overrides)


# --- checks ---------------------------------------------------------------------------------------


def placeholders(text: str) -> set[str]:
    """The named values a message fills in ({name}, %(name)s), which a translation must keep."""
    return set(PLACEHOLDER.findall(text))


def check(msgid: str, text: str, *, button: bool) -> TranslationError | None:
    """Why a translation cannot be used, or None: every placeholder kept and none invented, a button
    label short enough for Zalo's button titles."""
    if not text.strip():
        return TranslationError(mark("Bản dịch đang trống."))
    missing, extra = placeholders(msgid) - placeholders(text), placeholders(text) - placeholders(msgid)
    if missing:
        return TranslationError(
            mark("Bản dịch thiếu {names}: giữ nguyên các chỗ này."), names=" ".join(sorted(missing))
        )
    if extra:
        return TranslationError(
            mark("Bản dịch có {names} mà câu gốc không có."), names=" ".join(sorted(extra))
        )
    if button and len(text) > BUTTON_MAX:
        return TranslationError(mark("Nhãn nút dài quá: tối đa {n} ký tự."), n=BUTTON_MAX)
    return None


def too_long_for_phones(text: str, place: Place | None) -> bool:
    """A button label a phone will cut with '…' (a warning, not a refusal)."""
    return place is not None and place.button and len(text) > BUTTON_COMFORTABLE


# --- the workbench's rows -------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One message as the workbench shows it in a language."""

    source: SourceMessage
    place: Place | None
    shipped: str
    row: CatalogString | None

    @property
    def text(self) -> str:
        """The translation being worked on: the latest draft, else the shipped one."""
        return self.row.text if self.row is not None and self.row.text else self.shipped

    @property
    def state(self) -> TranslationState:
        """Reviewed, draft or untranslated; a shipped translation nobody reviewed counts as a draft."""
        if self.row is not None and self.row.state != TranslationState.untranslated:
            return self.row.state
        return TranslationState.draft if self.shipped else TranslationState.untranslated

    @property
    def shipped_unreviewed(self) -> bool:
        """Text the team shipped that no native speaker approved yet."""
        return self.state == TranslationState.draft and (self.row is None or not self.row.text)

    @property
    def button(self) -> bool:
        """Whether the message labels a button."""
        return self.place is not None and self.place.button


def stored(session: Session, language: str) -> dict[str, CatalogString]:
    """A language's stored translations by message key."""
    rows = session.scalars(select(CatalogString).where(CatalogString.language == language))
    return {message_key(r.msgid, r.context): r for r in rows}


def sources(session: Session, catalogs: Catalogs) -> list[SourceMessage]:
    """What translators translate: the catalog's messages, and the labels of feedback categories officials
    added (people read them through the same catalog lookup, so an approved label reaches them too)."""
    known = {m.key for m in catalogs.sources}
    labels = session.scalars(
        select(Category.label).where(Category.active.is_(True)).order_by(Category.position)
    )
    return catalogs.sources + [SourceMessage(label) for label in dict.fromkeys(labels) if label not in known]


def entries(session: Session, catalogs: Catalogs, language: str) -> list[Entry]:
    """Every source message in a language, those people meet first at the top."""
    rows, where = stored(session, language), places()
    found = [
        Entry(m, where.get(m.key), catalogs.shipped(language, m.key), rows.get(m.key))
        for m in sources(session, catalogs)
    ]
    return sorted(found, key=_met_first)


def _met_first(entry: Entry) -> tuple[int, str, int]:
    """Where a villager first meets a string (onboarding, then each feature, then the rest of the chat,
    then officials' pages; strings of no code, such as categories officials added, last), so translators
    start with those."""
    return entry.place.order if entry.place else (len(PARTS) + 1, "", 0)


@dataclass(frozen=True)
class Progress:
    """How far a language is: reviewed, drafts (shipped ones included), untranslated, and the share
    people read in that language."""

    language: str
    total: int
    reviewed: int
    drafts: int
    readable: float

    @property
    def untranslated(self) -> int:
        """Messages with no translation at all."""
        return self.total - self.reviewed - self.drafts

    @property
    def percent(self) -> int:
        """Reviewed share in whole percent."""
        return round(100 * self.reviewed / self.total) if self.total else 100


def progress(session: Session, catalogs: Catalogs, language: str) -> Progress:
    """A language's progress for the workbench and `loaban locales status`."""
    states = [e.state for e in entries(session, catalogs, language)]
    return Progress(
        language=language,
        total=len(states),
        reviewed=states.count(TranslationState.reviewed),
        drafts=states.count(TranslationState.draft),
        readable=catalogs.completeness(language),
    )


def find(session: Session, catalogs: Catalogs, msgid: str, context: str = "") -> SourceMessage | None:
    """A source message by its text and context."""
    key = message_key(msgid, context)
    return next((m for m in sources(session, catalogs) if m.key == key), None)


# --- changes --------------------------------------------------------------------------------------


def _row(session: Session, language: str, source: SourceMessage) -> CatalogString:
    """A message's stored translation in a language, created empty when it has none."""
    key = key_of(source.msgid, source.context)
    row = session.scalar(
        select(CatalogString).where(CatalogString.language == language, CatalogString.key == key)
    )
    if row is None:
        row = CatalogString(language=language, key=key, context=source.context, msgid=source.msgid, text="")
        session.add(row)
    return row


def save(
    session: Session, catalogs: Catalogs, admin: AdminUser, language: str, source: SourceMessage, text: str
) -> CatalogString:
    """Store a draft translation; people keep reading the reviewed text (if any) until it is approved."""
    if language == SOURCE_LANGUAGE:
        raise TranslationError(mark("Tiếng Việt là ngôn ngữ gốc, không cần dịch."))
    place = places().get(source.key)
    problem = check(source.msgid, text, button=place is not None and place.button)
    if problem is not None:
        raise problem
    row = _row(session, language, source)
    if row.text != text:
        row.text, row.translator_id, row.updated_at = text, admin.id, utcnow()
    session.flush()
    return row


def approve(
    session: Session, catalogs: Catalogs, admin: AdminUser, language: str, source: SourceMessage
) -> CatalogString:
    """A second person approves the current translation; from the next message on, people read it."""
    row = _row(session, language, source)
    if not row.text:  # approving what the team shipped makes it the language's reviewed text
        row.text = catalogs.shipped(language, source.key)
    if not row.text:
        raise TranslationError(mark("Chưa có bản dịch để duyệt."))
    if row.translator_id == admin.id:
        raise TranslationError(mark("Người dịch không tự duyệt bản dịch của mình: cần một người thứ hai."))
    if row.published != row.text:
        row.published, row.reviewer_id, row.reviewed_at = row.text, admin.id, utcnow()
        bump(session)
    session.flush()
    return row


# --- exchange: .po and .xlsx ----------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import saved as drafts, and every row it refused with the reason."""

    saved: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def _source(text: str) -> str:
    """A message as written: files carry the Vietnamese every translator reads."""
    return text


def export_po(session: Session, catalogs: Catalogs, language: str) -> bytes:
    """A language's catalog as a .po file for a translation tool (Poedit, Weblate…); drafts and shipped
    translations nobody reviewed are marked fuzzy."""
    catalog = Catalog(locale=None, project="Loa Ban", fuzzy=False)
    catalog.language_team = language
    for e in entries(session, catalogs, language):
        flags = ("fuzzy",) if e.state == TranslationState.draft else ()
        comments = [*e.place.described(_source), *e.place.lines[:3]] if e.place else []
        catalog.add(
            e.source.msgid, e.text, context=e.source.context or None, flags=flags, auto_comments=comments
        )
    buf = io.BytesIO()
    write_po(buf, catalog, width=110, omit_header=False)
    return buf.getvalue()


def export_xlsx(session: Session, catalogs: Catalogs, language: str) -> bytes:
    """A language's catalog as a sheet for people who translate offline in Excel."""
    rows = (
        (
            e.source.context,
            e.source.msgid,
            e.text,
            e.state.value,
            "; ".join(e.place.described(_source)) if e.place else "",
        )
        for e in entries(session, catalogs, language)
    )
    return workbook(language, XLSX_COLUMNS, rows)


def rows_from_po(data: bytes) -> list[tuple[int, str, str, str]]:
    """(line, context, msgid, translation) of every message in a .po file."""
    catalog = read_po(io.BytesIO(data), abort_invalid=True)
    return [
        (m.lineno or 0, m.context or "", str(m.id), str(m.string or ""))
        for m in catalog
        if m.id and isinstance(m.id, str)
    ]


def rows_from_xlsx(data: bytes) -> list[tuple[int, str, str, str]]:
    """(line, context, msgid, translation) of every row of a sheet shaped like the export."""
    return [
        (line, cells.get("context", ""), cells.get("msgid", ""), cells.get("translation", ""))
        for line, cells in enumerate(read_rows(data), start=2)
        if cells is not None
    ]


def read_upload(filename: str, data: bytes) -> list[tuple[int, str, str, str]]:
    """The rows of an uploaded .po or .xlsx; a file that is neither is refused."""
    try:
        if filename.lower().endswith(".po"):
            return rows_from_po(data)
        if filename.lower().endswith(".xlsx"):
            return rows_from_xlsx(data)
    except (PoFileError, zipfile.BadZipFile, KeyError, ValueError, UnicodeDecodeError) as exc:
        raise TranslationError(mark("Không đọc được tệp: {reason}"), reason=str(exc)[:200]) from exc
    raise TranslationError(mark("Chỉ nhận tệp .po hoặc .xlsx."))


def import_rows(
    session: Session,
    catalogs: Catalogs,
    admin: AdminUser,
    language: str,
    rows: Iterable[tuple[int, str, str, str]],
) -> ImportReport:
    """Save the changed translations of a file as drafts (a second person still approves them); nothing is
    saved when any row is refused, so a file is fixed and sent again whole."""
    report = ImportReport()
    wanted: list[tuple[SourceMessage, str]] = []
    current = {e.source.key: e for e in entries(session, catalogs, language)}
    for line, context, msgid, text in rows:
        found = current.get(message_key(msgid, context))
        source = found.source if found is not None else None
        label = msgid[:40]
        if source is None:
            report.errors.append(RowError(line, label, mark("câu gốc không có trong danh mục")))
            continue
        if not text.strip() or text == current[source.key].text.strip():
            report.unchanged += 1
            continue
        place = places().get(source.key)
        problem = check(msgid, text, button=place is not None and place.button)
        if problem is not None:
            report.errors.append(RowError(line, label, problem.msgid, tuple(problem.params.items())))
            continue
        wanted.append((source, text))
    if report.errors:
        return report
    for source, text in wanted:
        save(session, catalogs, admin, language, source, text)
        report.saved += 1
    return report


def write_back(session: Session, locales_dir: Path, languages: Iterable[str]) -> dict[str, int]:
    """Write the reviewed strings into locales/<lang>/LC_MESSAGES/messages.po, so developers' catalogs
    catch up with the workbench; returns how many strings each language received."""
    written: dict[str, int] = {}
    for language in languages:
        path = Path(locales_dir) / language / "LC_MESSAGES" / "messages.po"
        if language == SOURCE_LANGUAGE or not path.exists():
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh)
        count = 0
        rows = session.scalars(
            select(CatalogString).where(
                CatalogString.language == language, CatalogString.published.is_not(None)
            )
        )
        for row in rows:
            message = catalog.get(row.msgid, context=row.context or None)
            if message is not None and (message.string != row.published or message.fuzzy):
                message.string, message.flags = row.published, message.flags - {"fuzzy"}
                count += 1
        with path.open("wb") as fh:
            write_po(fh, catalog, no_location=True, sort_output=True, width=110)
        written[language] = count
    return written


# --- content lacking a translation ----------------------------------------------------------------


@dataclass(frozen=True)
class Missing:
    """A piece of content people read that has no text in a language, and where an editor writes it."""

    kind: str
    title: str
    link: str


CONTENT_KINDS = {
    "qa": mark("Hỏi đáp"),
    "category": mark("Loại phản ánh"),
    "poll": mark("Thăm dò ý kiến"),
    "contest": mark("Câu hỏi cuộc thi"),
    "bulletin": mark("Bản tin"),
}


def missing_content(session: Session, catalogs: Catalogs, language: str) -> list[Missing]:
    """Published Q&A entries, active feedback categories, polls not yet closed, contest questions and
    draft bulletins (a sent one no longer changes) that people of a language would read in Vietnamese."""
    found = [
        Missing("qa", e.question, f"/admin/translations/{language}/content?kind=qa&q={quote(e.id)}")
        for e in session.scalars(
            select(QAEntry).where(QAEntry.status == EntryStatus.published).order_by(QAEntry.id)
        )
        if not (e.translations.get(language) or {}).get("answer")
    ]
    found += [
        Missing("category", c.label, f"/admin/translations/{language}?q={quote(c.label)}")
        for c in session.scalars(
            select(Category).where(Category.active.is_(True)).order_by(Category.position)
        )
        if not catalogs.has(language, c.label)
    ]
    found += [
        Missing(
            "contest",
            q.texts.get(SOURCE_LANGUAGE, ""),
            f"/admin/translations/{language}/content?kind=contest&q={q.id}",
        )
        for q in session.scalars(
            select(ContestQuestion).order_by(ContestQuestion.contest_id, ContestQuestion.id)
        )
        if not q.texts.get(language)
    ]
    found += [
        Missing("poll", poll.title, f"/admin/translations/{language}/content?kind=poll&q={poll.id}")
        for poll in session.scalars(select(Poll).where(Poll.status != PollStatus.closed).order_by(Poll.id))
        if not poll.titles.get(language) or not all(q.texts.get(language) for q in poll.questions)
    ]
    drafts = select(Bulletin).where(Bulletin.status == BulletinStatus.draft).order_by(Bulletin.id.desc())
    found += [
        Missing("bulletin", b.title, f"/admin/translations/{language}/content?kind=bulletin&q={b.id}")
        for b in session.scalars(drafts)
        if b.text_in(SOURCE_LANGUAGE) and not b.text_in(language)
    ]
    return found
