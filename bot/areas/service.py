"""Look-ups over the 34 provinces and 3,321 communes of the 2025 reform, and villages across communes
(pickers and audiences); one village at a time is bot.areas.villages."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from vietnam_provinces import Province, ProvinceCode, Ward, WardCode

from bot.areas.models import Village
from bot.text import closest, fold, usual_tones


@dataclass(frozen=True)
class Area:
    """A province or commune as Loa Bản shows it: code, full name (its tone marks placed as the knowledge
    base writes them: 'Chiêm Hóa', never 'Chiêm Hoá') and a folded name for search."""

    code: int
    name: str
    folded: str
    province_code: int


def _area(code: int, name: str, province_code: int) -> Area:
    """An area from the reference data, spelt the one way Loa Bản shows place names."""
    shown = usual_tones(name)
    return Area(code, shown, fold(shown), province_code)


@cache
def provinces() -> tuple[Area, ...]:
    """All provinces, sorted by name as people look for them."""
    items = [_area(int(p.code), p.name, int(p.code)) for p in Province.iter_all()]
    return tuple(sorted(items, key=lambda a: _sort_key(a.name)))


@cache
def communes(province_code: int) -> tuple[Area, ...]:
    """The communes, wards and special zones of one province, sorted by name."""
    wards = Ward.iter_by_province(ProvinceCode(province_code))
    items = [_area(int(w.code), w.name, province_code) for w in wards]
    return tuple(sorted(items, key=lambda a: _sort_key(a.name)))


@cache
def all_communes() -> tuple[Area, ...]:
    """Every commune of the country, province by province, for pickers that search them all by name."""
    return tuple(c for p in provinces() for c in communes(p.code))


def _sort_key(name: str) -> str:
    """Sort on the name without its 'Tỉnh/Xã/Phường' prefix."""
    return fold(strip_prefix(name))


_PREFIXES = ("Thành phố ", "Tỉnh ", "Xã ", "Phường ", "Đặc khu ")


def strip_prefix(name: str) -> str:
    """'Xã Đồng Văn' -> 'Đồng Văn', for short buttons."""
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def get_province(code: int) -> Area | None:
    """A province by code, or None if the code is not a current province."""
    try:
        p = Province.from_code(ProvinceCode(code))
    except ValueError:
        return None
    return _area(int(p.code), p.name, int(p.code))


def get_commune(code: int) -> Area | None:
    """A commune by code, or None if it does not exist after the 2025 reform."""
    try:
        w = Ward.from_code(WardCode(code))
    except ValueError:
        return None
    return _area(int(w.code), w.name, int(w.province_code))


def search(areas: tuple[Area, ...], query: str) -> list[Area]:
    """Areas whose folded name contains the folded query; word-start matches first."""
    q = fold(query)
    if not q:
        return list(areas)
    hits = [a for a in areas if q in a.folded]
    return sorted(hits, key=lambda a: (not fold(strip_prefix(a.name)).startswith(q), _sort_key(a.name)))


def nearest(areas: tuple[Area, ...], query: str) -> list[Area]:
    """Areas whose name is close to a mistyped query ('phong thoo'), for 'did you mean' buttons."""
    return closest(query, areas, lambda a: strip_prefix(a.name))


def villages_in(session: Session, commune_codes: Collection[int] | None, limit: int = 1000) -> list[Village]:
    """Villages of some communes (all when None), by commune then name, for pickers."""
    stmt = select(Village).order_by(Village.commune_code, Village.name).limit(limit)
    if commune_codes is not None:
        stmt = stmt.where(Village.commune_code.in_(list(commune_codes)))
    return list(session.scalars(stmt))


def communes_of_villages(session: Session, village_ids: Collection[int]) -> set[int]:
    """The communes some villages belong to."""
    if not village_ids:
        return set()
    stmt = select(Village.commune_code).where(Village.id.in_(list(village_ids)))
    return set(session.scalars(stmt))


def village_names(session: Session, village_ids: Collection[int]) -> dict[int, str]:
    """The names of some villages by id, in one query for a page that lists many."""
    if not village_ids:
        return {}
    rows = session.execute(select(Village.id, Village.name).where(Village.id.in_(list(village_ids))))
    return {village_id: name for village_id, name in rows}
