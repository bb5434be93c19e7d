"""The shipped knowledge base is written from the seed plans, never from the evaluation set: no entry shares
a run of six consecutive words, or an id, with shared/eval/qa-dev (kb.yaml and queries.jsonl)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.qa.normalize import words

RUN = 6
SHARED = PROJECT_ROOT.parent / "shared"  # CI puts shared/ beside the checkout
DEV = SHARED / "eval" / "qa-dev"
KNOWLEDGE = PROJECT_ROOT / "content" / "knowledge"

if not SHARED.is_dir():
    pytest.skip(f"no shared folder at {SHARED}: the evaluation set is not available", allow_module_level=True)


def strings(value: Any) -> Iterator[str]:
    """Every piece of text inside a parsed YAML or JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def dev_texts() -> list[tuple[str, str]]:
    """(where, text) for every text of the development set."""
    kb = yaml.safe_load((DEV / "kb.yaml").read_text(encoding="utf-8"))
    texts = [(f"kb.yaml {entry.get('id')}", text) for entry in kb for text in strings(entry)]
    lines = (DEV / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if line.strip():
            texts += [(f"queries.jsonl line {number}", text) for text in strings(json.loads(line))]
    return texts


def shipped_entries() -> list[tuple[Path, dict[str, Any]]]:
    return [
        (path, entry)
        for path in sorted(KNOWLEDGE.glob("*.yaml"))
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []
    ]


def shipped_texts(entry: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(field, text) for what an entry says: question, alternatives, answer and translations."""
    yield "question", entry.get("question") or ""
    for i, alternative in enumerate(entry.get("alternatives") or []):
        yield f"alternatives[{i}]", alternative
    yield "answer", entry.get("answer") or ""
    for lang, translation in (entry.get("translations") or {}).items():
        for key, text in (translation or {}).items():
            yield f"translations.{lang}.{key}", text


def runs(text: str) -> set[tuple[str, ...]]:
    """Every run of RUN consecutive words (NFC, lowercase)."""
    tokens = words(text)
    return {tuple(tokens[i : i + RUN]) for i in range(len(tokens) - RUN + 1)}


def test_the_development_set_is_there_to_compare_with() -> None:
    assert (DEV / "kb.yaml").is_file() and (DEV / "queries.jsonl").is_file(), f"{DEV} is incomplete"
    assert len(dev_texts()) > 100 and len(shipped_entries()) > 14


def test_no_shipped_entry_shares_six_consecutive_words_with_the_development_set() -> None:
    where: dict[tuple[str, ...], str] = {}
    for place, text in dev_texts():
        for run in runs(text):
            where.setdefault(run, place)
    overlaps = [
        f"{path.name} {entry['id']} {field}: '{' '.join(run)}' (also in {where[run]})"
        for path, entry in shipped_entries()
        for field, text in shipped_texts(entry)
        for run in sorted(runs(text))
        if run in where
    ]
    listed = "\n".join(overlaps)
    assert not overlaps, (
        f"{len(overlaps)} runs of {RUN} words shared with the dev set, rewrite from the seeds:\n{listed}"
    )


def test_no_shipped_entry_reuses_a_development_set_id() -> None:
    dev_ids = {entry["id"] for entry in yaml.safe_load((DEV / "kb.yaml").read_text(encoding="utf-8"))}
    reused = sorted(entry["id"] for _, entry in shipped_entries() if entry["id"] in dev_ids)
    assert not reused, f"ids of the dev set used by shipped entries: {reused}"
