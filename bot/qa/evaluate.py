"""Measuring the engine on labelled queries: top-1, top-3, MRR, false-answer rate, overall and per style."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.qa.engine import Engine, Entry


def load_kb(path: Path) -> list[Entry]:
    """Entries from a YAML knowledge base ({id, question, alternatives?, answer, tags})."""
    rows: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [
        Entry(
            id=str(r["id"]),
            question=str(r["question"]),
            answer=str(r.get("answer", "")),
            alternatives=tuple(str(a) for a in r.get("alternatives") or ()),
            tags=tuple(str(t) for t in r.get("tags") or ()),
        )
        for r in rows
    ]


def load_queries(path: Path) -> list[dict[str, Any]]:
    """One {q, expect, style} object per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class Scores:
    """Counts for one group of queries."""

    answerable: int = 0
    top1: int = 0
    top3: int = 0
    reciprocal: float = 0.0
    resolved: int = 0
    wrong: int = 0
    hidden: int = 0
    unanswerable: int = 0
    false_answers: int = 0
    declined: int = 0

    def row(self) -> dict[str, float | int | None]:
        """Rates, or None where the group has no such queries."""
        a, u = self.answerable, self.unanswerable
        return {
            "n": a + u,
            "top1": self.top1 / a if a else None,
            "top3": self.top3 / a if a else None,
            "mrr": self.reciprocal / a if a else None,
            # an answerable question answered with another entry: believed, and wrong
            "wrong_answer_rate": self.wrong / a if a else None,
            # answered right, or not answered with the right entry among the three questions offered
            "resolved_in_one_tap": self.resolved / a if a else None,
            # an answerable question told "Loa Bản has no information on this" (no questions offered)
            "said_not_covered": self.hidden / a if a else None,
            "false_answer_rate": self.false_answers / u if u else None,
            # an unanswerable question told plainly that the knowledge base does not cover it
            "not_covered_rate": self.declined / u if u else None,
        }


def evaluate(engine: Engine, queries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Ask every query; top-1 counts only answered-and-right, as a villager would experience it."""
    groups: dict[str, Scores] = defaultdict(Scores)
    timings: list[float] = []
    for row in queries:
        start = time.perf_counter()
        verdict = engine.ask(str(row["q"]))
        best, hits = verdict.best, verdict.hits
        timings.append(time.perf_counter() - start)
        expect = row.get("expect")
        for group in (groups["all"], groups[str(row.get("style", "?"))]):
            if expect is None:
                group.unanswerable += 1
                group.false_answers += best is not None
                group.declined += not verdict.covered
                continue
            group.answerable += 1
            ranked = [h.id for h in hits]
            right = best is not None and best.id == expect
            group.top1 += right
            group.wrong += best is not None and not right
            group.top3 += expect in ranked[:3]
            group.reciprocal += 1 / (ranked.index(expect) + 1) if expect in ranked else 0.0
            group.resolved += right or (best is None and verdict.covered and expect in ranked[:3])
            group.hidden += not verdict.covered
    timings.sort()
    return {
        "groups": {name: g.row() for name, g in sorted(groups.items(), key=lambda kv: kv[0] != "all")},
        "ms_median": 1000 * timings[len(timings) // 2] if timings else 0.0,
        "ms_p95": 1000 * timings[int(len(timings) * 0.95)] if timings else 0.0,
    }


def table(result: dict[str, Any]) -> str:
    """The evaluation as a plain-text table."""

    def cell(value: float | None) -> str:
        return "   -  " if value is None else f"{value:6.3f}"

    lines = [
        f"{'style':14} {'n':>4} {'top1':>6} {'top3':>6} {'mrr':>6} {'wrong':>6} {'1-tap':>6} {'hidden':>6} "
        f"{'false':>6} {'n/cov':>6}"
    ]
    for name, r in result["groups"].items():
        lines.append(
            f"{name:14} {r['n']:4d} {cell(r['top1'])} {cell(r['top3'])} {cell(r['mrr'])} "
            f"{cell(r['wrong_answer_rate'])} {cell(r['resolved_in_one_tap'])} {cell(r['said_not_covered'])} "
            f"{cell(r['false_answer_rate'])} {cell(r['not_covered_rate'])}"
        )
    lines.append(
        "top1 = answered and right; wrong = answerable but answered with another entry; "
        "1-tap = answered right, or the right entry among the 3 offered; "
        "hidden = answerable but told 'not covered'; false = answered an unanswerable question; "
        "n/cov = unanswerable and told 'not covered'"
    )
    lines.append(f"time per query: median {result['ms_median']:.2f} ms, p95 {result['ms_p95']:.2f} ms")
    return "\n".join(lines)
