"""Does the knowledge base speak of what a question is about? Words of the question that are real words of
general Vietnamese (a dictionary's compounds, syllables known to a general frequency list) yet appear nowhere
in the knowledge base point to a topic it does not cover ("trợ cấp thất nghiệp" when no entry mentions
"thất nghiệp"); the rarer such a word is in general Vietnamese, the more it says about the topic. A compound
is rarer than each of its syllables ("thất" and "nghiệp" are everyday syllables, "thất nghiệp" is a topic), so
its rarity adds theirs; a syllable typed with its marks is weighed as typed ("thất", not "that", which is
mostly "thật")."""

from __future__ import annotations

import importlib.util
import math
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.qa.normalize import syllables, words
from bot.text import fold

LONGEST = 4  # syllables in the longest dictionary word looked up
COMMON = 7.0  # Zipf value of the most frequent syllables: rarity is measured down from here


@dataclass(frozen=True)
class General:
    """General Vietnamese: dictionary compounds (folded), the Zipf frequency of each folded syllable (all its
    spellings together) and of each syllable as spelled."""

    compounds: frozenset[tuple[str, ...]]
    zipf: dict[str, float]
    spelled: dict[str, float]

    def rarity(self, word: Sequence[tuple[str, str | None]]) -> float:
        """How specific a word is (its syllables folded, with the spelling typed if any): the sum of its
        syllables' distances from the commonest, as if they were independent (0 when one is unknown)."""
        values = [self.spelled.get(typed or "", 0.0) or self.zipf.get(folded, 0.0) for folded, typed in word]
        return 0.0 if min(values) <= 0 else sum(max(0.0, COMMON - v) for v in values)


@cache
def general() -> General | None:
    """wordfreq's Vietnamese syllable frequencies and the Viet74K dictionary (ViNLP's), loaded once per
    process; None when those packages are not installed (the engine then has no "not covered" signal)."""
    try:
        import wordfreq
    except ImportError:
        return None
    # Only ViNLP's word list is used: found without importing the package, which loads its CRF models.
    spec = importlib.util.find_spec("ViNLP")
    if spec is None or not spec.submodule_search_locations:
        return None
    folded: defaultdict[str, float] = defaultdict(float)
    spelled: dict[str, float] = {}
    for word, frequency in wordfreq.get_frequency_dict("vi").items():
        folded[fold(word)] += frequency
        if frequency > 0:
            spelled[unicodedata.normalize("NFC", word)] = math.log10(frequency * 1e9)
    zipf = {s: math.log10(f * 1e9) for s, f in folded.items() if f > 0}
    text = (Path(spec.submodule_search_locations[0]) / "data" / "Viet74K.txt").read_text(encoding="utf-8")
    compounds = frozenset(
        tuple(fold(w) for w in ws)
        for line in text.splitlines()
        if 2 <= len(ws := words(line.replace("-", " "))) <= LONGEST
    )
    return General(compounds, zipf, spelled)


class Coverage:
    """What a knowledge base's texts say, as folded syllable sequences, against general Vietnamese."""

    def __init__(self, texts: Iterable[str], language: General) -> None:
        self.language = language
        self._grams: set[tuple[str, ...]] = set()
        for text in texts:
            tokens = syllables(text)
            for n in range(2, LONGEST + 1):
                self._grams.update(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))

    def uncovered(self, tokens: Sequence[tuple[str, str | None]]) -> list[tuple[str, float]]:
        """Dictionary words of a question (folded syllables with their spelling as typed, longest match
        first) that no text of the knowledge base contains, each with its rarity."""
        found, i = [], 0
        while i < len(tokens):
            for n in range(min(LONGEST, len(tokens) - i), 1, -1):
                span = tokens[i : i + n]
                word = tuple(folded for folded, _typed in span)
                if word in self.language.compounds:
                    if word not in self._grams:
                        found.append((" ".join(word), self.language.rarity(span)))
                    i += n
                    break
            else:
                i += 1
        return found

    def gap(self, tokens: Sequence[tuple[str, str | None]]) -> float:
        """The rarity of the most specific uncovered word (0 when the knowledge base has them all)."""
        return max((rarity for _word, rarity in self.uncovered(tokens)), default=0.0)
