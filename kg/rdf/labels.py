"""Curated names for the resources the build mints: the gazetteer (agencies, places) and the English label table."""

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kg.paths import SOURCES

GAZETTEER = SOURCES / "gazetteer.csv"
LABELS_EN = SOURCES / "labels-en.csv"


@dataclass(frozen=True)
class Names:
    """A gazetteer entry's official Chinese name, curated English name, aliases and acronym."""

    zh: str
    en: str
    aliases: tuple[str, ...]
    acronym: str


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=4)
def gazetteer(path: Path = GAZETTEER) -> dict[tuple[str, str], Names]:
    """(kind, key) → Names, from kg/sources/gazetteer.csv."""
    table = {}
    for row in _rows(path):
        aliases = tuple(a for a in (row.get("aliases") or "").split("|") if a and a != row["name_zh"])
        table[row["kind"], row["key"]] = Names(row["name_zh"], row["name_en"], aliases, row.get("acronym") or "")
    return table


def names(kind: str, key: str) -> Names:
    """The curated names of one gazetteer entry; a mention the gazetteer lacks is a programming error."""
    try:
        return gazetteer()[kind, key]
    except KeyError:
        raise KeyError(f"no gazetteer entry for {kind} {key!r} in {GAZETTEER.name}") from None


@lru_cache(maxsize=4)
def english_labels(path: Path = LABELS_EN) -> dict[str, str]:
    """IRI path relative to the base (id/plan/…/area/1) → curated English label, from kg/sources/labels-en.csv."""
    return {row["path"]: row["label_en"] for row in _rows(path) if row["label_en"].strip()}
