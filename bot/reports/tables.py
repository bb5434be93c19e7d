"""The report as numbered sections of titled tables in the reader's words: what the DOCX, the XLSX and the
admin page all draw, so the three never disagree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.i18n import mark
from bot.reports.service import DeliveryRow, FeedbackRow, QuestionRow, ReachRow, Report

Cell = str | int | float | None
Translate = Callable[[str], str]


@dataclass(frozen=True)
class Table:
    """One numbered table: a title, a header and rows (the last may be the total)."""

    key: str  # a stable name (charts, sheet order)
    title: str
    header: list[str]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Section:
    """One numbered section: a heading, a few sentences, its tables."""

    title: str
    sentences: list[str]
    tables: list[Table]


def _percent(part: int, whole: int) -> str:
    """'12,5%' as Vietnamese write it."""
    return f"{100 * part / whole:.1f}%".replace(".", ",") if whole else "0%"


def _number(value: float | None) -> str:
    """A decimal with a comma; a dash for none."""
    return "—" if value is None else f"{value:.1f}".replace(".", ",")


def _cells(*values: Cell) -> list[Cell]:
    """One row of a table."""
    return list(values)


def _reach_table(
    key: str, title: str, first: str, rows: Sequence[ReachRow], total: ReachRow, _: Translate
) -> Table:
    """People by one grouping, with the total."""
    header = [first, _("Đang nhận tin cuối kỳ"), _("Mới tham gia"), _("Ngừng nhận tin")]
    body: list[list[Cell]] = [[r.name, r.subscribed, r.joined, r.left] for r in rows]
    return Table(key, title, header, [*body, [_("Tổng"), total.subscribed, total.joined, total.left]])


def _delivery_table(
    key: str, title: str, first: str, rows: Sequence[DeliveryRow], total: DeliveryRow, _: Translate
) -> Table:
    """Bulletin messages by one grouping, with the total."""
    header = [first, _("Số bản tin"), _("Lượt người nhận"), _("Đã gửi tới"), _("Không gửi được"), _("Lỗi")]
    body: list[list[Cell]] = [
        [r.name, r.bulletins, r.recipients, r.delivered, r.undeliverable, r.failed] for r in rows
    ]
    last: list[Cell] = [
        _("Tổng"),
        total.bulletins,
        total.recipients,
        total.delivered,
        total.undeliverable,
        total.failed,
    ]
    return Table(key, title, header, [*body, last])


def _question_table(rows: Sequence[QuestionRow], total: QuestionRow, _: Translate) -> Table:
    """Questions by commune, with the total."""
    header = [
        _("Xã"),
        _("Câu hỏi"),
        _("Loa Bản trả lời"),
        _("Chuyển cán bộ"),
        _("Cán bộ trả lời đúng hạn"),
        _("Cán bộ trả lời trễ hạn"),
        _("Chưa trả lời"),
    ]

    def cells(r: QuestionRow) -> list[Cell]:
        return [r.asked, r.answered_by_bot, r.forwarded, r.answered_on_time, r.answered_late, r.waiting]

    body: list[list[Cell]] = [[r.name, *cells(r)] for r in rows]
    return Table("questions", _("Câu hỏi của người dân theo xã"), header, [*body, [_("Tổng"), *cells(total)]])


def _feedback_table(
    key: str, title: str, first: str, rows: Sequence[FeedbackRow], total: FeedbackRow, _: Translate
) -> Table:
    """Reflections by one grouping, with the total."""
    header = [
        first,
        _("Tiếp nhận"),
        _("Trả lời đúng hạn"),
        _("Trả lời trễ hạn"),
        _("Quá hạn chưa trả lời"),
        _("Đang trong hạn"),
        _("Số ngày trả lời trung bình"),
        _("Hài lòng"),
        _("Chưa hài lòng"),
        _("Mở lại"),
    ]

    def cells(r: FeedbackRow) -> list[Cell]:
        return [
            r.received,
            r.on_time,
            r.late,
            r.overdue,
            r.waiting,
            _number(r.average_days),
            r.satisfied,
            r.unsatisfied,
            r.reopened,
        ]

    body: list[list[Cell]] = [[r.name, *cells(r)] for r in rows]
    return Table(key, title, header, [*body, [_("Tổng"), *cells(total)]])


@dataclass(frozen=True)
class Indicator:
    """A headline figure compared with the period before."""

    label: str
    now: int
    before: int

    @property
    def arrow(self) -> str:
        """↑ more, ↓ fewer, = the same."""
        return "↑" if self.now > self.before else "↓" if self.now < self.before else "="


INDICATORS: list[tuple[str, Callable[[Report], int]]] = [
    (mark("Người đang nhận tin cuối kỳ"), lambda r: r.reach.total.subscribed),
    (mark("Người mới tham gia"), lambda r: r.reach.total.joined),
    (mark("Người ngừng nhận tin"), lambda r: r.reach.total.left),
    (mark("Bản tin đã phát"), lambda r: r.bulletins.total.bulletins),
    (mark("Lượt bản tin đã gửi tới người dân"), lambda r: r.bulletins.total.delivered),
    (mark("Lượt người có uy tín xác nhận đã truyền đạt"), lambda r: r.bulletins.relay_count),
    (mark("Câu hỏi của người dân"), lambda r: r.questions.total.asked),
    (mark("Câu hỏi Loa Bản tự trả lời"), lambda r: r.questions.total.answered_by_bot),
    (mark("Phản ánh tiếp nhận"), lambda r: r.feedback.total.received),
    (mark("Phản ánh trả lời đúng hạn"), lambda r: r.feedback.total.on_time),
]


def indicators(report: Report, _: Translate) -> list[Indicator]:
    """The headline figures of the period and of the one before."""
    before = report.previous
    return [Indicator(_(label), get(report), get(before) if before else 0) for label, get in INDICATORS]


def summary(report: Report, _: Translate) -> list[str]:
    """A few sentences, each stating figures of the tables and nothing else."""
    reach, bulletins, questions, tickets = report.reach, report.bulletins, report.questions, report.feedback
    sentences = [
        _(
            "Cuối kỳ có {n} người đang nhận tin qua Loa Bản; {joined} người mới tham gia và {left} người "
            "ngừng nhận tin trong kỳ."
        ).format(n=reach.total.subscribed, joined=reach.total.joined, left=reach.total.left),
        _("{share} số thôn, bản ({with_} trên {all}) có người có uy tín dùng Loa Bản.").format(
            share=_percent(reach.villages_with_prestigious, reach.villages),
            with_=reach.villages_with_prestigious,
            all=reach.villages,
        ),
        _(
            "Đã phát {n} bản tin ({minutes} phút âm thanh), gửi tới người dân {delivered} trên "
            "{recipients} lượt; người có uy tín xác nhận truyền đạt {relays} lần, tới khoảng {households} "
            "hộ."
        ).format(
            n=bulletins.total.bulletins,
            minutes=_number(bulletins.minutes),
            delivered=bulletins.total.delivered,
            recipients=bulletins.total.recipients,
            relays=bulletins.relay_count,
            households=bulletins.households,
        ),
        _(
            "Người dân hỏi {n} câu; Loa Bản tự trả lời {bot} câu, {forwarded} câu được chuyển cán bộ, cán "
            "bộ trả lời đúng hạn {on_time} câu, trễ hạn {late} câu."
        ).format(
            n=questions.total.asked,
            bot=questions.total.answered_by_bot,
            forwarded=questions.total.forwarded,
            on_time=questions.total.answered_on_time,
            late=questions.total.answered_late,
        ),
        _("Trong kỳ đã bổ sung {n} câu vào sổ tay hỏi đáp.").format(n=questions.entries_added),
        _(
            "Tiếp nhận {n} phản ánh; trả lời đúng hạn {on_time}, trễ hạn {late}, quá hạn chưa trả lời "
            "{overdue}; {satisfied} lượt hài lòng, {unsatisfied} lượt chưa hài lòng."
        ).format(
            n=tickets.total.received,
            on_time=tickets.total.on_time,
            late=tickets.total.late,
            overdue=tickets.total.overdue,
            satisfied=tickets.total.satisfied,
            unsatisfied=tickets.total.unsatisfied,
        ),
    ]
    if report.previous is not None:
        now, before = reach.total.subscribed, report.previous.reach.total.subscribed
        change = (
            _("So với kỳ trước, số người đang nhận tin tăng {n} người (từ {before} lên {now}).")
            if now >= before
            else _("So với kỳ trước, số người đang nhận tin giảm {n} người (từ {before} xuống {now}).")
        )
        sentences.append(change.format(n=abs(now - before), before=before, now=now))
    return sentences


def sections(report: Report, _: Translate) -> list[Section]:
    """The report's sections in order, each with its sentences and tables."""
    reach, bulletins, questions, tickets = report.reach, report.bulletins, report.questions, report.feedback
    village = Table(
        "villages",
        _("Thôn, bản có người có uy tín dùng Loa Bản"),
        [_("Số thôn, bản"), _("Có người có uy tín dùng Loa Bản"), _("Tỉ lệ")],
        [
            [
                reach.villages,
                reach.villages_with_prestigious,
                _percent(reach.villages_with_prestigious, reach.villages),
            ]
        ],
    )
    relay = Table(
        "relays",
        _("Người có uy tín xác nhận đã truyền đạt, theo thôn, bản"),
        [_("Xã"), _("Thôn, bản"), _("Lượt xác nhận"), _("Số hộ được truyền đạt")],
        [
            *(_cells(r.commune, r.village, r.relays, r.households) for r in bulletins.relays),
            _cells(_("Tổng"), "", bulletins.relay_count, bulletins.households),
        ],
    )
    topics = Table(
        "topics",
        _("Mười chủ đề được hỏi nhiều nhất"),
        [_("Chủ đề"), _("Số câu hỏi")],
        [[topic, n] for topic, n in questions.topics],
    )
    activity = Table(
        "participation",
        _("Tham gia thăm dò ý kiến theo xã"),
        [_("Hoạt động"), _("Xã"), _("Đã bắt đầu"), _("Đã trả lời hết")],
        [[r.activity, r.commune, r.started, r.finished] for r in report.participation],
    )
    contest = Table(
        "contests",
        _("Tham gia cuộc thi theo xã, tỉ lệ trả lời đúng"),
        [
            _("Vòng thi"),
            _("Xã"),
            _("Đã bắt đầu"),
            _("Làm xong"),
            _("Số câu đã trả lời"),
            _("Trả lời đúng"),
            _("Tỉ lệ đúng"),
        ],
        [
            [
                r.title,
                c.commune or _("Tổng"),
                c.started,
                c.finished,
                c.answers,
                c.right,
                _percent(c.right, c.answers),
            ]
            for r in report.contests
            for c in [*r.communes, r.total]
        ],
    )
    compared = Table(
        "comparison",
        _("So sánh với kỳ trước"),
        [_("Chỉ tiêu"), _("Kỳ trước"), _("Kỳ này"), _("Tăng/giảm")],
        [[i.label, i.before, i.now, f"{i.arrow} {abs(i.now - i.before)}"] for i in indicators(report, _)],
    )
    monthly = Table(
        "months",
        _("Diễn biến theo tháng"),
        [_("Tháng"), _("Đang nhận tin cuối tháng"), _("Mới tham gia"), _("Câu hỏi"), _("Phản ánh")],
        [[m.month, m.subscribed, m.joined, m.questions, m.tickets] for m in report.months],
    )
    said = summary(report, _)
    return [
        Section(
            _("Người dân được tiếp cận"),
            said[:2],
            [
                _reach_table("communes", _("Người dân theo xã"), _("Xã"), reach.communes, reach.total, _),
                _reach_table(
                    "languages", _("Người dân theo ngôn ngữ"), _("Ngôn ngữ"), reach.languages, reach.total, _
                ),
                _reach_table(
                    "channels", _("Người dân theo ứng dụng"), _("Ứng dụng"), reach.channels, reach.total, _
                ),
                village,
            ],
        ),
        Section(
            _("Bản tin"),
            said[2:3],
            [
                _delivery_table(
                    "bulletins",
                    _("Bản tin theo ngôn ngữ"),
                    _("Ngôn ngữ"),
                    bulletins.languages,
                    bulletins.total,
                    _,
                ),
                _delivery_table(
                    "bulletin_communes", _("Bản tin theo xã"), _("Xã"), bulletins.communes, bulletins.total, _
                ),
                relay,
            ],
        ),
        Section(
            _("Hỏi đáp chính sách"),
            said[3:5],
            [_question_table(questions.communes, questions.total, _), topics],
        ),
        Section(
            _("Phản ánh, kiến nghị"),
            said[5:6],
            [
                _feedback_table(
                    "feedback",
                    _("Phản ánh theo lĩnh vực"),
                    _("Lĩnh vực"),
                    tickets.categories,
                    tickets.total,
                    _,
                ),
                _feedback_table(
                    "feedback_communes", _("Phản ánh theo xã"), _("Xã"), tickets.communes, tickets.total, _
                ),
            ],
        ),
        Section(_("Thăm dò ý kiến, cuộc thi"), [], [activity, contest]),
        Section(_("So sánh với kỳ trước"), said[6:], [compared, monthly]),
    ]
