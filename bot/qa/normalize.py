"""Turn what villagers type into comparable tokens: NFC, lowercase, phone shorthand, telex residue, and
folding (tone and vowel marks stripped, đ -> d), then syllables and syllable bigrams."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable

from bot.text import fold

# Phone shorthand (teencode) seen across Vietnamese messaging, folded form -> folded expansion. A general
# resource of the language as typed on phones, not tuned to any question. Expanded only on words typed
# without marks: "hỏng", "rõ", "ạ" and "bít" are words, not shorthand.
SHORTHAND: dict[str, str] = {
    "k": "khong",
    "ko": "khong",
    "kg": "khong",
    "kh": "khong",
    "hk": "khong",
    "hok": "khong",
    "hong": "khong",
    "khg": "khong",
    "hem": "khong",
    "dc": "duoc",
    "dk": "duoc",
    "ntn": "nhu the nao",
    "nt": "nhu the",
    "j": "gi",
    "gj": "gi",
    "z": "gi",
    "ji": "gi",
    "bn": "bao nhieu",
    "bnh": "bao nhieu",
    "mk": "minh",
    "mik": "minh",
    "mjk": "minh",
    "e": "em",
    "a": "anh",
    "c": "chi",
    "ae": "anh em",
    "bme": "bo me",
    "bm": "bo me",
    "vs": "voi",
    "vx": "voi",
    "cx": "cung",
    "cg": "cung",
    "r": "roi",
    "ng": "nguoi",
    "ngta": "nguoi ta",
    "nhiu": "nhieu",
    "nhju": "nhieu",
    "ns": "noi",
    "bik": "biet",
    "bit": "biet",
    "bjk": "biet",
    "bt": "biet",
    "trc": "truoc",
    "trk": "truoc",
    "thik": "thich",
    "thjk": "thich",
    "lm": "lam",
    "ms": "moi",
    "mn": "moi nguoi",
    "ny": "nguoi yeu",
    "oy": "roi",
    "uh": "u",
    "uk": "u",
    "h": "gio",
    "bh": "bao gio",
    "bjo": "bay gio",
    "thg": "thang",
    "trg": "truong",
    "tr": "truong",
    "vc": "viec",
    "vk": "vo",
    "ck": "chong",
    "cty": "cong ty",
    "ubnd": "uy ban nhan dan",
    "hs": "hoc sinh",
    "sv": "sinh vien",
    "gd": "gia dinh",
    "bhyt": "bao hiem y te",
    "bhxh": "bao hiem xa hoi",
    "dt": "dan toc",  # in this domain far more often "dân tộc" than "điện thoại"
    "tp": "thanh pho",
    "qd": "quyet dinh",
    "nd": "nghi dinh",
    "ls": "lai suat",
    "tn": "thu nhap",
    "nn": "nha nuoc",
    "cq": "co quan",
    "cb": "can bo",
}

# Telex typing leaves its mark keys as letters when the keyboard did not convert them: "hoox trowj" for
# "hỗ trợ". Matching works on folded syllables, so the residue only has to be stripped: a trailing tone key
# (s f r x j), doubled vowels and d (aa ee oo dd) and the horn/breve key w.
_TONE_KEYS = "sfrxj"
_DOUBLES = re.compile(r"(aa|ee|oo|dd)")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def strip_telex(folded: str) -> str:
    """'hoox' -> 'ho', 'dduowcj' -> 'duoc', 'nguoiwf' -> 'nguoi' (folded in, folded out)."""
    word = folded[:-1] if len(folded) > 1 and folded[-1] in _TONE_KEYS else folded
    return _DOUBLES.sub(lambda m: m.group(0)[0], word).replace("w", "")


def words(text: str) -> list[str]:
    """NFC, lowercase words (letters and digits) in order."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


def _decoded(folded: str, known: Callable[[str], bool] | None) -> list[str]:
    """One folded word typed without marks as syllables: telex residue stripped when that yields a known
    syllable, shorthand expanded."""
    if known is not None and not known(folded) and known(stripped := strip_telex(folded)):
        folded = stripped
    return SHORTHAND.get(folded, folded).split()


def syllables(text: str, known: Callable[[str], bool] | None = None) -> list[str]:
    """Folded syllables; words typed without marks have shorthand expanded and telex residue decoded, words
    typed with marks are only folded. `known` tells whether a folded syllable exists in the knowledge base's
    vocabulary: telex decoding is used only when it yields one."""
    return [folded for folded, _typed in typed_syllables(text, known)]


def typed_syllables(text: str, known: Callable[[str], bool] | None = None) -> list[tuple[str, str | None]]:
    """`syllables`, each with the word as typed when it carried marks (None when typed bare): 'thất' says
    more than 'that', which may be 'thật' as well."""
    return [
        pair
        for word in words(text)
        for pair in (
            [(s, None) for s in _decoded(fold(word), known)] if _unmarked(word) else [(fold(word), word)]
        )
    ]


def spelled(text: str, known: Callable[[str], bool] | None = None) -> list[str]:
    """Words as the person meant them, for diacritics restoration: a word typed with tone or vowel marks is
    kept as typed, any other word is decoded (shorthand, telex) into folded syllables, so 'ko biết đc' is
    restored word by word even though one word carries marks."""
    return [s for word in words(text) for s in (_decoded(fold(word), known) if _unmarked(word) else [word])]


def _unmarked(word: str) -> bool:
    """Whether a word carries no tone or vowel mark ('đ' alone does not count: 'đc' is shorthand)."""
    return fold(word) == word.replace("đ", "d")


def bigrams(tokens: list[str]) -> list[str]:
    """Adjacent syllable pairs: Vietnamese words are mostly two syllables ('vay vốn', 'hộ nghèo')."""
    return [f"{a}_{b}" for a, b in itertools.pairwise(tokens)]


def terms(text: str, known: Callable[[str], bool] | None = None) -> list[str]:
    """The lexical terms of a text: folded syllables and their bigrams."""
    tokens = syllables(text, known)
    return tokens + bigrams(tokens)


def vocabulary(texts: Iterable[str]) -> set[str]:
    """Folded syllables that occur in some texts."""
    return {fold(w) for text in texts for w in words(text)}
