"""The gazetteer (places of kg/sources/gazetteer.csv, agencies of agencies.csv), and finding its entries in text by rule."""

import csv
import re
from dataclasses import dataclass
from functools import lru_cache

from kg.extract.agencies import Agency, agencies
from kg.extract.model import Mention, Span
from kg.paths import SOURCES


@dataclass(frozen=True)
class Entry:
    """One agency, region, named area or macro-region."""

    kind: str
    key: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...]
    abbreviations: tuple[str, ...]  # one-character 简称, only trusted inside a name like 科技援疆
    parent: str  # the province-level region (GB/T 2260 code) a place lies in; empty for agencies
    acronym: str  # agencies only

    @property
    def is_province(self) -> bool:
        """True for a province-level region (GB/T 2260 code ending in 0000)."""
        return self.kind == "region" and self.key.endswith("0000")


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part for part in cell.split("|") if part)


def _agency(agency: Agency) -> Entry:
    # an agency's parent in agencies.csv is its administering ministry, not a region: the gazetteer's parent stays empty
    return Entry("agency", agency.key, agency.name_zh, agency.name_en, agency.short_names, (), "", agency.acronym)


@lru_cache(maxsize=1)
def entries() -> tuple[Entry, ...]:
    """Every agency of agencies.csv, then every place of gazetteer.csv, each in file order."""
    with (SOURCES / "gazetteer.csv").open(encoding="utf-8", newline="") as handle:
        places = tuple(
            Entry(row["kind"], row["key"], row["name_zh"], row["name_en"], _split(row["aliases"]),
                  _split(row["abbreviations"]), row["parent"], "")
            for row in csv.DictReader(handle)
        )
    return tuple(_agency(agency) for agency in agencies()) + places


def entry(kind: str, key: str) -> Entry:
    """The entry with this kind and key."""
    for candidate in entries():
        if candidate.kind == kind and candidate.key == key:
            return candidate
    raise KeyError(f"{kind} {key} is not in the gazetteer")


@lru_cache(maxsize=1)
def _names() -> dict[str, Entry]:
    """Every official name and alias (two characters or more) → its entry."""
    names: dict[str, Entry] = {}
    for item in entries():
        for name in (item.name_zh, *item.aliases):
            if len(name) >= 2:
                names.setdefault(name, item)
    return names


@lru_cache(maxsize=1)
def _name_pattern() -> re.Pattern:
    # longest names first, so 青藏高原 wins over anything shorter inside it
    return re.compile("|".join(re.escape(name) for name in sorted(_names(), key=len, reverse=True)))


def lookup(name: str) -> Entry | None:
    """The entry whose official name or alias is exactly `name`."""
    return _names().get(name)


def by_abbreviation(char: str) -> Entry | None:
    """The province-level region whose one-character abbreviation is `char` (疆 → 新疆)."""
    found = [item for item in entries() if char in item.abbreviations]
    return found[0] if len(found) == 1 else None


def find_mentions(text: str, start: int, end: int, *, kinds: tuple[str, ...] = ("region", "area", "macro-region")) -> list[Mention]:
    """Non-overlapping whole-name mentions of gazetteer entries in text[start:end], longest name first.

    >>> [(m.surface, m.key) for m in find_mentions("示例：甘肃兰白与上海张江的交流", 0, 16)]
    [('甘肃', '620000'), ('兰白', 'lanbai'), ('上海', '310000'), ('张江', 'zhangjiang')]
    """
    found = []
    for match in _name_pattern().finditer(text, start, end):
        item = _names()[match.group()]
        if item.kind in kinds:
            found.append(Mention(item.kind, item.key, match.group(), Span(match.start(), match.end(), match.group())))
    return found
