"""Curated names for the resources the build mints: the gazetteer (agencies, places) and the English label table."""

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kg.extract.gazetteer import entries
from kg.paths import SOURCES

LABELS_EN = SOURCES / "labels-en.csv"


@dataclass(frozen=True)
class Names:
    """A gazetteer entry's official Chinese name, English name, aliases and acronym."""

    zh: str
    en: str  # empty where no official English name is known: the resource then gets no @en label
    aliases: tuple[str, ...]
    acronym: str


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def gazetteer() -> dict[tuple[str, str], Names]:
    """(kind, key) → Names, for every entry of kg.extract.gazetteer (agencies.csv and gazetteer.csv)."""
    return {(e.kind, e.key): Names(e.name_zh, e.name_en, tuple(a for a in e.aliases if a != e.name_zh), e.acronym)
            for e in entries()}


def names(kind: str, key: str) -> Names:
    """The curated names of one gazetteer entry; a mention the gazetteer lacks is a programming error."""
    try:
        return gazetteer()[kind, key]
    except KeyError:
        table = "agencies.csv" if kind == "agency" else "gazetteer.csv"
        raise KeyError(f"no gazetteer entry for {kind} {key!r} in kg/sources/{table}") from None


@lru_cache(maxsize=4)
def english_labels(path: Path = LABELS_EN) -> dict[str, str]:
    """IRI path relative to the base (id/plan/…/area/1) → curated English label, from kg/sources/labels-en.csv."""
    return {row["path"]: row["label_en"] for row in _rows(path) if row["label_en"].strip()}
