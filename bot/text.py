"""Text folding shared by every search: villagers type with or without diacritics."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher
from typing import TypeVar

_SPACES = re.compile(r"\s+")
T = TypeVar("T")


def fold(text: str) -> str:
    """Lowercase, strip tone and vowel marks, fold đ to d, squeeze spaces: 'Đồng Văn' -> 'dong van'."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped).strip()


# A tone mark (grave, acute, hook, tilde, dot below) once decomposed.
_TONES = "\u0300\u0301\u0303\u0309\u0323"
# 'oa', 'oe' and 'uy' ending a syllable with the tone on their second letter ('uy' after 'q' is 'u' + 'y').
_LATE_TONE = re.compile(rf"(?:([oO])([aAeE])|(?<![qQ])([uU])([yY]))([{_TONES}])(?!\w)")


def usual_tones(text: str) -> str:
    """Tone marks where the knowledge base, officials' documents and most people put them, so a place is
    spelt one way: 'Chiêm Hoá' -> 'Chiêm Hóa', 'Thuỷ' -> 'Thủy', 'khoẻ' -> 'khỏe'; 'quý' and closed
    syllables ('hoàng') are left alone."""

    def move(m: re.Match[str]) -> str:
        first, second = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return first + m.group(5) + second

    return unicodedata.normalize("NFC", _LATE_TONE.sub(move, unicodedata.normalize("NFD", text)))


def closest(query: str, candidates: Sequence[T], name: Callable[[T], str], limit: int = 5) -> list[T]:
    """The candidates whose folded name is nearest a mistyped query ('phong thoo' -> Phong Thổ), best first;
    none when nothing is near enough to be a likely typo."""
    folded = fold(query)
    scored = [(SequenceMatcher(None, folded, fold(name(c))).ratio(), i) for i, c in enumerate(candidates)]
    best = sorted((s for s in scored if s[0] >= 0.75), key=lambda s: -s[0])
    return [candidates[i] for _, i in best[:limit]]
