"""Every IRI policykg mints: one small function per pattern of ARCHITECTURE §4 (re-exported by kg.build).

>>> plan_iri("https://policykg.example/", "east-west-st-2022")
rdflib.term.URIRef('https://policykg.example/id/plan/east-west-st-2022')
>>> str(task_iri("https://policykg.example/", "east-west-st-2022", 5, 1))
'https://policykg.example/id/plan/east-west-st-2022/task/5.1'
>>> str(span_iri("https://policykg.example/", "east-west-st-2022", 10, 25))
'https://policykg.example/doc/article/east-west-st-2022#char=10,25'
"""

import re

from rdflib import URIRef

from kg.extract.model import Mention, Span

DEFAULT_BASE = "https://policykg.example/"
GRAPHS = ("ontology", "kg", "provenance", "links", "divisions", "meta")

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_CODE = re.compile(r"[1-9]\d{5}")  # GB/T 2260: six digits, never a leading zero


def _checked(pattern: re.Pattern, value: str, what: str) -> str:
    if not pattern.fullmatch(str(value)):
        raise ValueError(f"not a valid {what} for an IRI: {value!r}")
    return str(value)


def _checked_base(base: str) -> str:
    if not re.match(r"https?://[^/]+/(?:.*/)?$", base):
        raise ValueError(f"base IRI must be http(s) and end with '/': {base!r}")
    return base


def graph_iri(base: str, name: str) -> URIRef:
    """One of the dataset's named graphs: ontology, kg, provenance, links, divisions, meta."""
    if name not in GRAPHS:
        raise ValueError(f"unknown graph {name!r}; expected one of {GRAPHS}")
    return URIRef(f"{_checked_base(base)}graph/{name}")


def source_graph_iri(base: str, slug: str) -> URIRef:
    """The named graph of what one source states, with the shared IRIs: {base}graph/source/{slug}."""
    return URIRef(f"{_checked_base(base)}graph/source/{_checked(_SLUG, slug, 'source slug')}")


def plan_iri(base: str, slug: str) -> URIRef:
    """The plan: {base}id/plan/{slug}."""
    return URIRef(f"{_checked_base(base)}id/plan/{_checked(_SLUG, slug, 'plan slug')}")


def task_area_iri(base: str, slug: str, number: int) -> URIRef:
    """The plan's task area n: …/area/{n}."""
    return URIRef(f"{plan_iri(base, slug)}/area/{int(number)}")


def task_iri(base: str, slug: str, area_number: int, number: int) -> URIRef:
    """Task m of area n, m its position as printed: …/task/{n}.{m}."""
    return URIRef(f"{plan_iri(base, slug)}/task/{int(area_number)}.{int(number)}")


def goal_iri(base: str, slug: str, number: int) -> URIRef:
    """The plan's goal n: …/goal/{n}."""
    return URIRef(f"{plan_iri(base, slug)}/goal/{int(number)}")


def measure_iri(base: str, slug: str, number: int) -> URIRef:
    """The plan's guarantee measure n: …/measure/{n}."""
    return URIRef(f"{plan_iri(base, slug)}/measure/{int(number)}")


def aim_iri(base: str, slug: str) -> URIRef:
    """The plan's overall aim: …/aim."""
    return URIRef(f"{plan_iri(base, slug)}/aim")


def claim_iri(base: str, slug: str, number: int) -> URIRef:
    """The article's n-th claim about the plan, in the order the extractor lists them: …/claim/{n}."""
    return URIRef(f"{plan_iri(base, slug)}/claim/{int(number)}")


def period_iri(base: str, start: int, end: int) -> URIRef:
    """A span of whole years, shared by every plan that covers it: {base}id/period/{start}-{end}."""
    return URIRef(f"{_checked_base(base)}id/period/{int(start)}-{int(end)}")


def year_iri(base: str, year: int) -> URIRef:
    """A calendar year as an OWL-Time instant: {base}id/year/{year}."""
    return URIRef(f"{_checked_base(base)}id/year/{int(year)}")


def org_iri(base: str, key: str) -> URIRef:
    """An agency by its gazetteer key (official acronym, lower case): {base}id/org/{key}."""
    return URIRef(f"{_checked_base(base)}id/org/{_checked(_SLUG, key, 'agency key')}")


def region_iri(base: str, code: str) -> URIRef:
    """An administrative division by its six-digit GB/T 2260 code: {base}id/region/{code}."""
    return URIRef(f"{_checked_base(base)}id/region/{_checked(_CODE, code, 'GB/T 2260 code')}")


def area_iri(base: str, key: str) -> URIRef:
    """A named area (or macro-region) that is not an administrative unit: {base}id/area/{key}."""
    return URIRef(f"{_checked_base(base)}id/area/{_checked(_SLUG, key, 'area key')}")


def mention_iri(base: str, mention: Mention) -> URIRef:
    """The resource a gazetteer mention denotes, whatever its kind."""
    mint = {"agency": org_iri, "region": region_iri, "area": area_iri, "macro-region": area_iri}.get(mention.kind)
    if mint is None:
        raise ValueError(f"unknown mention kind {mention.kind!r}")
    return mint(base, mention.key)


def article_iri(base: str, slug: str) -> URIRef:
    """The news article (a document): {base}doc/article/{slug}."""
    return URIRef(f"{_checked_base(base)}doc/article/{_checked(_SLUG, slug, 'article slug')}")


def raw_iri(base: str, slug: str) -> URIRef:
    """The article file as received, before normalisation: {base}doc/article/{slug}/raw."""
    return URIRef(f"{article_iri(base, slug)}/raw")


def span_iri(base: str, slug: str, start: int | Span, end: int | None = None) -> URIRef:
    """A stretch [start, end) of the clean text (RFC 5147): {base}doc/article/{slug}#char={start},{end}."""
    if isinstance(start, Span):
        start, end = start.start, start.end
    if end is None or not 0 <= int(start) <= int(end):
        raise ValueError(f"not a text span: {start!r}, {end!r}")
    return URIRef(f"{article_iri(base, slug)}#char={int(start)},{int(end)}")


def context_iri(base: str, slug: str, length: int) -> URIRef:
    """The NIF context: the whole clean text, {base}doc/article/{slug}#char=0,{length}."""
    return span_iri(base, slug, 0, length)


def repair_iri(base: str, slug: str, kind: str, raw_start: int, raw_end: int) -> URIRef:
    """One repair of the raw text, keyed by kind and raw offsets: …/repair/{kind}/{raw_start}-{raw_end}."""
    kind = _checked(_SLUG, kind, "repair kind")
    return URIRef(f"{article_iri(base, slug)}/repair/{kind}/{int(raw_start)}-{int(raw_end)}")


def defect_iri(base: str, slug: str, area_number: int, position: int) -> URIRef:
    """A source defect, keyed like the task it would have been: …/defect/{n}.{m}."""
    return URIRef(f"{article_iri(base, slug)}/defect/{int(area_number)}.{int(position)}")


def build_iri(base: str, slug: str) -> URIRef:
    """The build activity that produced the dataset from the article: {base}doc/build/{slug}."""
    return URIRef(f"{_checked_base(base)}doc/build/{_checked(_SLUG, slug, 'article slug')}")


def software_iri(base: str) -> URIRef:
    """policykg itself, as the software agent of the build (no version in the IRI)."""
    return URIRef(f"{_checked_base(base)}id/software/policykg")


def source_iri(base: str, filename: str) -> URIRef:
    """A curated file of kg/sources: {base}id/source/{filename}."""
    return URIRef(f"{_checked_base(base)}id/source/{filename}")


def standard_iri(base: str, name: str) -> URIRef:
    """A code standard: {base}id/standard/gbt-2260 or iso-3166-2."""
    return URIRef(f"{_checked_base(base)}id/standard/{name}")


def gbt2260_iri(base: str, code: str) -> URIRef:
    """The typed GB/T 2260 identifier of a division: {base}id/identifier/gbt2260/{code}."""
    return URIRef(f"{_checked_base(base)}id/identifier/gbt2260/{code}")


def dump_iri(base: str, filename: str) -> URIRef:
    """A published dump file: {base}dumps/{filename}."""
    return URIRef(f"{_checked_base(base)}dumps/{filename}")


def endpoint_iri(base: str) -> URIRef:
    """The SPARQL endpoint: {base}sparql."""
    return URIRef(f"{_checked_base(base)}sparql")


def service_iri(base: str) -> URIRef:
    """The SPARQL service as a described thing (dcat:DataService, sd:Service)."""
    return URIRef(f"{_checked_base(base)}id/service/sparql")


def catalog_iri(base: str) -> URIRef:
    """The DCAT catalogue."""
    return URIRef(f"{_checked_base(base)}id/catalog")


def dataset_iri(base: str, name: str = "policykg") -> URIRef:
    """A described dataset: policykg itself, or a link target (wikidata, iso3166-2 …)."""
    return URIRef(f"{_checked_base(base)}id/dataset/{_checked(_SLUG, name, 'dataset name')}")


def publisher_iri(base: str) -> URIRef:
    """The publisher of the dataset."""
    return URIRef(f"{_checked_base(base)}id/publisher/policykg")


def activity_iri(base: str, name: str) -> URIRef:
    """A recurring activity of the build, such as the linking: {base}id/activity/{name}."""
    return URIRef(f"{_checked_base(base)}id/activity/{name}")


def rule_iri(base: str, rule: str) -> URIRef:
    """A reconciliation rule, as the plan a link followed: {base}id/rule/{rule}."""
    return URIRef(f"{_checked_base(base)}id/rule/{rule}")


def link_iri(base: str, path: str) -> URIRef:
    """A link's evidence or annotation: {base}id/link/{path}."""
    return URIRef(f"{_checked_base(base)}id/link/{path}")


def iso3166_iri(base: str, code: str) -> URIRef:
    """The typed ISO 3166-2 identifier of a province-level division."""
    return URIRef(f"{_checked_base(base)}id/identifier/iso3166-2/{code}")


def linkset_iri(base: str, target: str) -> URIRef:
    """The void:Linkset towards one target."""
    return URIRef(f"{_checked_base(base)}id/linkset/{target}")
