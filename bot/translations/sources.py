"""Where each catalog message appears, so a translator sees its context: where people meet it, in plain
Vietnamese ('Khi làm quen lần đầu — bước chọn xã'), worked out from the code it is in (the file, and the
function or constant around it); whether it labels a button; whether people or only officials read it;
and the files and lines, for developers."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from bot.i18n import mark

ROOT = Path(__file__).resolve().parent.parent.parent
# What `make locales-extract` finds (pybabel's defaults, gettext( included, plus -k mark): a message reached
# only through `gettext(...)` would otherwise have no place.
KEYWORDS = {**DEFAULT_KEYWORDS, "mark": None}
BUTTON_MARKERS = ("Button(", "MenuEntry(", "label=")
MENU_MARKER = "MenuEntry("


@dataclass(frozen=True)
class Part:
    """A part of Loa Bản as the people who use it know it: the code that makes it (files or folders),
    its name, whether villagers meet it, and its steps, each found by a word in the name of the function
    or constant a message is in (`steps` pairs words with the step they name; else `step`); `words`
    narrows the part itself to functions so named."""

    code: tuple[str, ...]
    name: str
    people: bool = True
    steps: tuple[tuple[str, str], ...] = ()
    words: str = ""
    step: str = ""


ONBOARDING = mark("Khi làm quen lần đầu")
FEEDBACK = mark("Khi gửi góp ý")
SETTINGS = mark("Trong phần cài đặt")
SPOKEN = mark("Khi nghe hướng dẫn bằng lời")
OFFICIALS = mark("Chỉ cán bộ thấy")
MENU_BUTTON = mark("Trong menu chính (nút)")
CHAT = Part(("bot/",), mark("Trong cuộc trò chuyện"))
CONSENT_STEP = mark("bước đồng ý cho lưu dữ liệu")
CATEGORY_STEP = mark("bước chọn loại")
MY_DATA_STEP = mark("xem dữ liệu của tôi")
RESULTS_STEP = mark("tin báo kết quả")
# Officials' own code: their pages, and the refusals and files the domain code makes for them.
OFFICIALS_CODE = (
    "admin/",
    "bot/accounts/",
    "bot/bulletins/",
    "bot/cli.py",
    "bot/content.py",
    "bot/contests/",
    "bot/feedback/",
    "bot/media/",
    "bot/polls/",
    "bot/qa/",
    "bot/translations/",
    "bot/voice/",
)
# In the order a villager meets them (the workbench lists messages so). A message belongs to the part
# narrowed by `words` that its function fits, else to the part of the longest code its file is in.
PARTS = (
    Part(
        ("bot/conversation/onboarding.py",),
        ONBOARDING,
        steps=(
            ("start", mark("lời chào khi quay lại")),
            ("language", mark("bước chọn ngôn ngữ")),
            ("province", mark("bước chọn tỉnh")),
            ("commune", mark("bước chọn xã")),
            ("village", mark("bước chọn thôn, bản")),
            ("did", mark("khi gõ tên nơi ở")),
            ("place where sentence", mark("sau khi chọn nơi ở")),
            ("consent", CONSENT_STEP),
        ),
    ),
    Part(("bot/privacy/notice.py",), ONBOARDING, step=CONSENT_STEP),
    Part(("bot/conversation/onboarding.py",), mark("Trong menu chính"), words="menu"),
    Part(("bot/conversation/spoken.py",), SPOKEN),
    Part(("bot/voice/prompts.py",), SPOKEN, words="fallback"),
    Part(("bot/conversation/picker.py",), mark("Trong danh sách dài (nút sang trang)")),
    Part(
        ("bot/conversation/qa.py",),
        mark("Khi hỏi đáp"),
        steps=(
            ("browse topic", mark("danh sách chủ đề")),
            ("free", mark("khi gõ câu hỏi")),
            ("officials typed", mark("khi gửi câu hỏi cho cán bộ")),
            ("rate", mark("sau khi đánh giá câu trả lời")),
            ("heard", mark("khi nghe câu trả lời")),
            ("answer entry source section area", mark("khi xem câu trả lời")),
        ),
    ),
    Part(("bot/conversation/listen.py",), mark("Nút «Nghe» dưới câu trả lời")),
    Part(
        ("bot/conversation/feedback.py",),
        OFFICIALS,
        people=False,
        words="officials",
        step=mark("tin báo có phản ánh mới"),
    ),
    Part(
        ("bot/conversation/feedback.py",),
        FEEDBACK,
        steps=(
            ("start", CATEGORY_STEP),
            ("category", mark("sau khi chọn loại")),
            ("name", mark("bước ghi tên")),
            ("phone", mark("bước để lại số điện thoại")),
            ("compose acknowledge typed sent stored", mark("khi gửi nội dung")),
            ("done", mark("khi bấm gửi đi")),
            ("urgent", mark("khi hỏi có khẩn cấp không")),
            ("whom", mark("khi người có uy tín nói thay bà con")),
            ("send", mark("khi chọn ghi tên hay ẩn danh")),
            ("file due", mark("khi nhận mã phản ánh")),
            ("mine view", mark("trong «Phản ánh của tôi»")),
            ("satisfied reason rating own", mark("khi đánh giá câu trả lời của cán bộ")),
            ("answer", mark("khi cán bộ trả lời")),
            ("moved", mark("khi phản ánh được chuyển đi")),
            ("merged", mark("khi phản ánh được gộp")),
        ),
    ),
    Part(("bot/feedback/service.py",), FEEDBACK, words="categories", step=CATEGORY_STEP),
    Part(
        ("bot/conversation/news.py",),
        mark("Khi xem bản tin"),
        steps=(
            ("relay relayed methods", mark("khi người có uy tín báo đã truyền đạt")),
            ("invite", mark("khi nhập mã mời người có uy tín")),
        ),
    ),
    Part(("bot/bulletins/compose.py",), mark("Tin nhắn thông báo (bản tin)")),
    Part(
        ("bot/conversation/polls.py",),
        mark("Khi trả lời thăm dò ý kiến"),
        steps=(("summary", RESULTS_STEP),),
    ),
    Part(
        ("bot/conversation/contests.py",),
        mark("Khi dự thi"),
        steps=(
            ("invitation", mark("tin mời dự thi")),
            ("summary", RESULTS_STEP),
            ("register consented field skipped named prompts", mark("bước đăng ký dự thi")),
            ("prediction predicted", mark("câu hỏi dự đoán")),
            ("ask answered feedback", mark("khi trả lời câu hỏi thi")),
            ("late", mark("khi vòng thi đã kết thúc")),
            ("advance duration", mark("khi làm xong bài thi")),
        ),
    ),
    Part(
        ("bot/conversation/account.py", "bot/conversation/privacy.py", "bot/conversation/linking.py"),
        SETTINGS,
        steps=(
            ("help", mark("phần hướng dẫn")),
            ("stop", mark("khi ngừng nhận bản tin")),
            ("resume", mark("khi nhận lại bản tin")),
            ("changed", mark("khi thông báo về lưu dữ liệu thay đổi")),
            ("again", mark("khi đồng ý lưu dữ liệu sau")),
            ("data when day roles", MY_DATA_STEP),
            ("erase", mark("xóa dữ liệu của tôi")),
            ("offer link slowed redeem", mark("dùng Loa Bản trên ứng dụng khác")),
        ),
    ),
    Part(("bot/privacy/views.py",), SETTINGS, step=MY_DATA_STEP),
    Part(("bot/channels/web.py", "bot/channels/web_templates/"), mark("Trong trang trò chuyện trên web")),
    CHAT,
    Part(("bot/reports/",), OFFICIALS, people=False, step=mark("báo cáo")),
    Part(OFFICIALS_CODE, OFFICIALS, people=False, step=mark("trang quản trị")),
)


@dataclass(frozen=True)
class Scene:
    """Where people meet a message, in words: a part of Loa Bản and, when the code tells, the step in it."""

    part: str
    step: str = ""

    def text(self, gettext: Callable[[str], str]) -> str:
        """The scene in the reader's language, e.g. 'Khi làm quen lần đầu — bước chọn xã'."""
        return gettext(self.part) + (f" — {gettext(self.step)}" if self.step else "")


@dataclass(frozen=True)
class Place:
    """Where a message is used: the scenes people meet it in (the first met first), whether it is a button
    label, whether people see it, its rank in the order a villager meets messages, and every file:line."""

    scenes: tuple[Scene, ...]
    button: bool
    people: bool
    order: tuple[int, str, int]
    lines: tuple[str, ...]

    def described(self, gettext: Callable[[str], str]) -> list[str]:
        """Each scene in the reader's language, as plain text (a reviewed label is a translator's words)."""
        return [scene.text(gettext) for scene in self.scenes]


@dataclass(frozen=True)
class Spot:
    """One use of a message: its file:line, its scene and rank, whether it labels a button."""

    where: str
    scene: Scene
    order: tuple[int, str, int]
    button: bool
    people: bool


@cache
def _lines(path: Path) -> tuple[str, ...]:
    """A source file's lines, read once however many messages it holds."""
    try:
        return tuple(path.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return ()


@cache
def _names(path: Path) -> tuple[tuple[int, int, str], ...]:
    """(first line, last line, name) of every function and module-level constant in a Python file, the
    innermost last; a template has none."""
    if path.suffix != ".py":
        return ()
    try:
        tree = ast.parse("\n".join(_lines(path)))
    except SyntaxError:
        return ()
    found: list[tuple[int, int, str]] = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if names:
                found.append((node.lineno, node.end_lineno or node.lineno, names[0]))
    found += _functions(tree.body)
    return tuple(sorted(found, key=lambda f: f[1] - f[0], reverse=True))


def _functions(body: list[ast.stmt]) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of the functions and methods defined in a body, and of those
    defined inside them (looking no deeper than definitions: walking every node took a second)."""
    found: list[tuple[int, int, str]] = []
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append((node.lineno, node.end_lineno or node.lineno, node.name))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found += _functions(node.body)
    return found


def _name_at(path: Path, lineno: int) -> str:
    """The function or constant a line is in ('' outside any), the innermost when they nest."""
    return next((n for first, last, n in reversed(_names(path)) if first <= lineno <= last), "")


def _near(path: Path, lineno: int) -> str:
    """A message's line and the line before, where a long call breaks, to see what the call is."""
    return " ".join(_lines(path)[max(0, lineno - 2) : lineno])


def _part(filename: str, words: set[str]) -> Part:
    """The part a message in this file and function belongs to."""
    fits = [
        (not p.words, -max(len(code) for code in p.code if filename.startswith(code)), i)
        for i, p in enumerate(PARTS)
        if filename.startswith(p.code) and (not p.words or words & set(p.words.split()))
    ]
    return PARTS[min(fits)[2]] if fits else CHAT


def _spot(filename: str, lineno: int) -> Spot:
    """What the code around a message says about it."""
    path = ROOT / filename
    near = _near(path, lineno)
    button = any(marker in near for marker in BUTTON_MARKERS)
    name = _name_at(path, lineno)
    words = set(name.lower().strip("_").split("_"))
    part = _part(filename, words)
    rank = PARTS.index(part)
    if MENU_MARKER in near:
        scene = Scene(MENU_BUTTON)
    else:
        step = next((step for named, step in part.steps if words & set(named.split())), part.step)
        scene = Scene(part.name, step)
    return Spot(f"{filename}:{lineno}", scene, (rank, filename, lineno), button, part.people)


@cache
def places() -> dict[str, Place]:
    """Every extracted message's place, found once per process (about a second) from the source tree
    the process runs; empty when the tree is not there (an installed wheel without babel.cfg)."""
    cfg = ROOT / "babel.cfg"
    if not cfg.exists():
        return {}
    with cfg.open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)  # type: ignore[no-untyped-call]
    found: dict[str, list[Spot]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        if not isinstance(message, str):
            continue
        key = f"{context}\x04{message}" if context else message
        found.setdefault(key, []).append(_spot(filename, lineno))
    _lines.cache_clear()  # the files were needed only to look around each message
    _names.cache_clear()
    return {key: _place(spots) for key, spots in found.items()}


def _place(spots: list[Spot]) -> Place:
    """A message's place from all its uses."""
    met = sorted(spots, key=lambda s: s.order)
    return Place(
        scenes=tuple(dict.fromkeys(s.scene for s in met)),
        button=any(s.button for s in spots),
        people=any(s.people for s in spots),
        order=met[0].order,
        lines=tuple(s.where for s in spots),
    )
