"""Place names → divisions of the GB/T 2260 table, named areas or macro-regions, by explicit rules (never substrings)."""

import csv
import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

import opencc

from kg.extract.gazetteer import Entry, entries, entry
from kg.extract.model import Mention
from kg.link.divisions import Division, ancestors, by_code, divisions
from kg.paths import SOURCES

# The rules a match can cite; each becomes a prov:Plan in the links graph.
RULES = {
    "official-name": ("the official name in the division table", "与行政区划表中的正式名称完全一致"),
    "province-short-name": ("the curated short name of a province-level unit", "省级行政区的规范简称"),
    "prefecture-short-name": (
        "a prefecture-level name without its generic suffix (市, 地区, 盟, …自治州); a province of the same "
        "short name wins, and a prefecture-level unit wins over a county-level unit of the same short name",
        "去掉通名（市、地区、盟、民族自治州）的地级行政区名称；与省级同名时取省级，地级优先于同名县级",
    ),
    "province-abbreviation": (
        "the one-character abbreviation (简称) of a province, recognised by the extractor inside a compound such as 援疆",
        "省级行政区的单字简称，仅在抽取器识别的复合词（如“援疆”）中使用",
    ),
    "qualified-name": (
        "a division's name followed by the name of a division or named area that lies inside it (上海张江, 北京市朝阳区)",
        "行政区名称后接其辖区内的行政区或特定区域名称（如上海张江、北京市朝阳区）",
    ),
    "named-area": ("a name of a named area (not an administrative unit) in the gazetteer", "地名表中的特定区域名称"),
    "macro-region": ("a name of a National Bureau of Statistics macro-region", "国家统计局划分的大区域名称"),
}

# The 56 nationalities, longest first, to strip the ethnic part of an autonomous prefecture's name (楚雄彝族自治州 → 楚雄).
_ETHNIC = sorted(
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 东乡 纳西 景颇 "
    "柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 "
    "塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺".split(),
    key=len,
    reverse=True,
)
_PREFECTURE_SUFFIX = re.compile(rf"(?:(?:{'|'.join(_ETHNIC)})族?)*自治州$|地区$|盟$|市$")


@dataclass(frozen=True)
class Match:
    """A name resolved to one division ("division"), named area ("area") or macro-region, with the rule that matched."""

    name: str
    kind: str  # "division" | "area" | "macro-region"
    key: str  # six-digit code or gazetteer slug
    official: str  # official name (division) or the gazetteer's name
    level: str  # province | prefecture | county | area | macro-region
    rule: str


@dataclass(frozen=True)
class NoMatch:
    """A name that no rule resolves, with why and the closest candidates ("code name" or "area:slug name")."""

    name: str
    reason: str
    candidates: tuple[str, ...] = ()


def short_name(division: Division) -> str | None:
    """The name of a province- or prefecture-level unit without its generic part; None for county-level units.

    >>> short_name(by_code()["532300"]), short_name(by_code()["620400"]), short_name(by_code()["150000"])
    ('楚雄', '白银', '内蒙古')
    """
    if division.level == "province":
        return next(a for a in entry("region", division.code).aliases if a != division.name)
    if division.level == "prefecture":
        stem = _PREFECTURE_SUFFIX.sub("", division.name)
        return stem if len(stem) >= 2 and stem != division.name else None
    return None  # county-level short names collide with ordinary words: 合作(市), 资源(县), 东方(市), 平安(区)


@lru_cache(maxsize=1)
def _indexes() -> tuple[dict[str, list[Division]], dict[str, list[Division]], dict[str, Entry]]:
    official: dict[str, list[Division]] = {}
    short: dict[str, list[Division]] = {}
    for d in divisions():
        official.setdefault(d.name, []).append(d)
        if (s := short_name(d)) is not None:
            short.setdefault(s, []).append(d)
    places = {n: e for e in entries() if e.kind in ("area", "macro-region") for n in (e.name_zh, *e.aliases)}
    return official, short, places


_to_simplified = opencc.OpenCC("t2s").convert


def _division_match(name: str, d: Division, rule: str) -> Match:
    return Match(name, "division", d.code, d.name, d.level, rule)


def reconcile(name: str) -> Match | NoMatch:
    """Resolve one whole name (traditional characters accepted); a name inside running text is not this function's job."""
    wanted = _to_simplified(name.strip())
    if not wanted:
        return NoMatch(name, "empty name")
    found = _resolve(name, wanted)
    if isinstance(found, NoMatch) and found.reason == "no rule matches":
        return _qualified(name, wanted) or NoMatch(name, _why_not(wanted), candidates(wanted))
    return found


def _resolve(name: str, wanted: str) -> Match | NoMatch:
    official, short, places = _indexes()
    if hits := official.get(wanted):
        if len(hits) == 1:
            return _division_match(name, hits[0], "official-name")
        return NoMatch(name, "ambiguous official name", tuple(f"{d.code} {d.name}" for d in hits))
    if place := places.get(wanted):
        kind = "area" if place.kind == "area" else "macro-region"
        return Match(name, kind, place.key, place.name_zh, kind, "named-area" if kind == "area" else "macro-region")
    if hits := short.get(wanted):
        top = min(hits, key=lambda d: ("province", "prefecture").index(d.level)).level
        best = [d for d in hits if d.level == top]
        if len(best) == 1:
            rule = "province-short-name" if top == "province" else "prefecture-short-name"
            return _division_match(name, best[0], rule)
        return NoMatch(name, "ambiguous short name", tuple(f"{d.code} {d.name}" for d in best))
    return NoMatch(name, "no rule matches")


def _qualified(name: str, wanted: str) -> Match | None:
    """上海张江, 甘肃兰白, 北京市朝阳区: a division's name, then a division or area that lies inside it."""
    for cut in range(2, len(wanted) - 1):
        outer, inner = _resolve(name, wanted[:cut]), _resolve(name, wanted[cut:])
        if isinstance(outer, Match) and outer.kind == "division":
            if isinstance(inner, NoMatch) and inner.reason == "ambiguous official name":
                inside = [c for c in inner.candidates if outer.key in _containers(c.split()[0], "division")]
                if len(inside) == 1:
                    return _division_match(name, by_code()[inside[0].split()[0]], "qualified-name")
            if isinstance(inner, Match) and inner.kind != "macro-region" and outer.key in _containers(inner.key, inner.kind):
                return Match(name, inner.kind, inner.key, inner.official, inner.level, "qualified-name")
    return None


def _containers(key: str, kind: str) -> set[str]:
    """Codes of the divisions a division or named area lies in (per the table, or kg/sources/areas.csv)."""
    if kind == "division":
        return {d.code for d in ancestors(key)}
    within = {code for area, relation, code, _ in area_relations() if area == key and relation in ("within", "member")}
    return within | {a.code for code in within for a in ancestors(code)}


@lru_cache(maxsize=1)
def area_relations() -> tuple[tuple[str, str, str, str], ...]:
    """(area key, relation, division code, basis) from kg/sources/areas.csv; relation is within | member | overlaps."""
    with (SOURCES / "areas.csv").open(encoding="utf-8", newline="") as f:
        return tuple((r["key"], r["relation"], r["code"], r["basis"]) for r in csv.DictReader(f) if r["relation"] != "none")


def _why_not(name: str) -> str:
    official = _indexes()[0]
    if any(len(ds) and ds[0].level == "county" for suffix in "市县区旗" if (ds := official.get(name + suffix))):
        return "county-level units match only by their full official name"
    return "no rule matches"


def candidates(name: str, n: int = 3) -> tuple[str, ...]:
    """The closest known names: names that begin with `name` first (合作 → 623001 合作市), then similar spellings."""
    official, short, places = _indexes()
    labelled = {f"{d.code} {d.name}": k for k, ds in (official | short).items() for d in ds}
    labelled |= {f"area:{e.key} {e.name_zh}": k for k, e in places.items()}
    prefixed = sorted(label for label, k in labelled.items() if k.startswith(name))
    close_keys = difflib.get_close_matches(name, sorted(set(labelled.values())), n=n, cutoff=0.5)
    similar = [label for k in close_keys for label in sorted(labelled) if labelled[label] == k]
    return tuple(dict.fromkeys(prefixed + similar))[:n]


def reconcile_mention(mention: Mention) -> Match | NoMatch:
    """Check an extracted place mention: its surface must name its key under one of the rules, or it is not linked."""
    surface = _to_simplified(mention.surface)
    if mention.kind in ("area", "macro-region"):
        place = next((e for e in entries() if (e.kind, e.key) == (mention.kind, mention.key)), None)
        if place is None or surface not in (place.name_zh, *place.aliases):
            return NoMatch(mention.surface, f"not a name of {mention.kind} {mention.key}")
        return Match(mention.surface, mention.kind, place.key, place.name_zh, mention.kind,
                     "named-area" if mention.kind == "area" else "macro-region")
    if mention.kind != "region":
        return NoMatch(mention.surface, f"not a place mention ({mention.kind})")
    division = by_code().get(mention.key)
    if division is None:
        return NoMatch(mention.surface, f"{mention.key} is not in the division table")
    if division.level == "province" and surface in entry("region", division.code).abbreviations:
        return _division_match(mention.surface, division, "province-abbreviation")
    found = reconcile(surface)
    if isinstance(found, Match) and found.kind == "division" and found.key == division.code:
        return Match(mention.surface, "division", division.code, division.name, division.level, found.rule)
    said = f"resolves to {found.key} {found.official}" if isinstance(found, Match) else f"does not resolve ({found.reason})"
    return NoMatch(mention.surface, f"{surface} {said}, not to {division.code} {division.name}",
                   (f"{division.code} {division.name}",))
