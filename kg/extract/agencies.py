"""The central agencies that co-issue policy, read from the fact table kg/sources/agencies.csv (see agencies.md)."""

import csv
import difflib
from dataclasses import dataclass
from functools import lru_cache

from kg.paths import SOURCES

TABLE = SOURCES / "agencies.csv"


@dataclass(frozen=True)
class Agency:
    """One row of the table: an agency's names, place in the State Council's arrangement, validity and sources."""

    key: str  # the slug of its IRI, {base}id/org/{key}; never changes once published
    name_zh: str  # official full name
    short_names: tuple[str, ...]  # the forms issuer lists use (科技部, 国家发展改革委, …)
    name_en: str  # official English name as read at a cited page; empty when none was confirmed
    name_en_basis: str  # official | state media | curated | empty
    acronym: str
    category: str  # 国务院组成部门, 国务院直属机构, 国务院部委管理的国家局, 人民团体, …
    parent: str  # key of the administering ministry (national bureaus), else empty
    valid_from: int | None  # year the body (under this name) was set up, where a source says so
    valid_until: int | None  # last year it existed under this name, where a source says so
    wikidata: str  # a Q-number only where verified offline
    wikidata_status: str
    sources: tuple[str, ...]  # the addresses the row's facts were read at
    notes: str

    @property
    def names(self) -> tuple[str, ...]:
        """The official name, then every short name, without repeats."""
        return tuple(dict.fromkeys((self.name_zh, *self.short_names)))


def _year(cell: str) -> int | None:
    return int(cell) if cell else None


def _row(row: dict[str, str]) -> Agency:
    return Agency(
        row["key"], row["name_zh"], tuple(n for n in row["short_names"].split("|") if n), row["name_en"],
        row["name_en_basis"], row["acronym"], row["category"], row["parent"], _year(row["valid_from"]),
        _year(row["valid_until"]), row["wikidata"], row["wikidata_status"], tuple(row["source"].split()), row["notes"],
    )


@lru_cache(maxsize=1)
def agencies() -> tuple[Agency, ...]:
    """Every agency of the table, in file order."""
    with TABLE.open(encoding="utf-8", newline="") as handle:
        return tuple(_row(row) for row in csv.DictReader(handle))


@lru_cache(maxsize=1)
def _by_name() -> dict[str, Agency]:
    """Official and short name → agency; a name two agencies claim is an error in the table, not a guess."""
    found: dict[str, Agency] = {}
    for agency in agencies():
        for name in agency.names:
            other = found.setdefault(name, agency)
            if other is not agency:
                raise ValueError(f"{TABLE.name}: {name!r} names both {other.key} and {agency.key}")
    return found


def resolve(name: str) -> Agency | None:
    """The agency whose official or short name is exactly `name`, or None."""
    return _by_name().get(name)


# A candidate's name is at least this similar to the unknown name (difflib ratio), and at most MARGIN behind the best
# candidate's: 国家卫生健康委员 is 0.94 like 国家卫生健康委员会 and 0.5 like 国家民委, and only the first helps.
CUTOFF, MARGIN = 0.5, 0.15


def _closest(name: str, limit: int) -> dict[Agency, str]:
    """Up to `limit` agencies whose names are closest to `name`, best first, each with its closest name."""
    scored = sorted(((difflib.SequenceMatcher(None, name, known).ratio(), known) for known in _by_name()),
                    key=lambda pair: -pair[0])  # stable: equal scores keep the table's order
    found: dict[Agency, str] = {}
    for score, known in scored:
        if score < max(CUTOFF, scored[0][0] - MARGIN) or len(found) == limit:
            break
        found.setdefault(_by_name()[known], known)  # an agency's several names count once, by its best
    return found


def candidates(name: str, limit: int = 3) -> tuple[Agency, ...]:
    """The agencies whose names are closest to an unknown `name`, best first, for an error message."""
    return tuple(_closest(name, limit))


def unknown_agency_message(name: str, limit: int = 3) -> str:
    """What to tell the user about an issuer name no agency has: the name, and the closest agencies' names and keys.

    >>> unknown_agency_message("国家卫生健康委员")
    '国家卫生健康委员: not a known agency; did you mean 国家卫生健康委员会 (nhc)?'
    >>> unknown_agency_message("某某协调办公室")
    '某某协调办公室: not a known agency, and no name in agencies.csv is close'
    """
    close = [f"{match} ({agency.key})" for agency, match in _closest(name, limit).items()]
    if not close:
        return f"{name}: not a known agency, and no name in {TABLE.name} is close"
    listed = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
    return f"{name}: not a known agency; did you mean {listed}?"
