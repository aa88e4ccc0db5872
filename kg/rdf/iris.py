"""Every IRI policykg mints, from one table of patterns (ARCHITECTURE §4); the named minters below read it.

>>> plan_iri("https://policykg.example/", "east-west-st-2022")
rdflib.term.URIRef('https://policykg.example/id/plan/east-west-st-2022')
>>> str(task_iri("https://policykg.example/", "east-west-st-2022", 5, 1))
'https://policykg.example/id/plan/east-west-st-2022/task/5.1'
>>> str(span_iri("https://policykg.example/", "east-west-st-2022", 10, 25))
'https://policykg.example/doc/article/east-west-st-2022#char=10,25'
>>> mint("https://policykg.example/", "region", code="650000")
rdflib.term.URIRef('https://policykg.example/id/region/650000')
"""

import re

from rdflib import URIRef

from kg.extract.model import Mention, Span

DEFAULT_BASE = "https://policykg.example/"
GRAPHS = ("ontology", "kg", "provenance", "links", "divisions", "meta")

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_CODE = re.compile(r"[1-9]\d{5}")  # GB/T 2260: six digits, never a leading zero
_ANY = re.compile(r"[^\s<>\"{}|\\^`]+")  # the parts a curated table supplies: any IRI-safe text
_NUMBER = re.compile(r"\d+")

# Every pattern, relative to the base IRI. Things under id/, documents under doc/, graphs under graph/; a plan's
# parts under its own IRI. Never a label or a counter that shifts when the input changes; never a version.
PATTERNS = {
    "graph": "graph/{graph}",
    "source-graph": "graph/source/{slug}",
    "plan": "id/plan/{slug}",
    "task-area": "id/plan/{slug}/area/{area}",
    "task": "id/plan/{slug}/task/{area}.{number}",
    "goal": "id/plan/{slug}/goal/{number}",
    "measure": "id/plan/{slug}/measure/{number}",
    "aim": "id/plan/{slug}/aim",
    "claim": "id/plan/{slug}/claim/{number}",
    "period": "id/period/{start}-{end}",
    "year": "id/year/{year}",
    "org": "id/org/{key}",
    "region": "id/region/{code}",
    "area": "id/area/{key}",
    "article": "doc/article/{slug}",
    "raw": "doc/article/{slug}/raw",
    "span": "doc/article/{slug}#char={start},{end}",
    "repair": "doc/article/{slug}/repair/{kind}/{start}-{end}",
    "defect": "doc/article/{slug}/defect/{area}.{number}",
    "build": "doc/build/{slug}",
    "software": "id/software/policykg",
    "source": "id/source/{name}",
    "standard": "id/standard/{name}",
    "gbt2260-identifier": "id/identifier/gbt2260/{name}",
    "iso3166-identifier": "id/identifier/iso3166-2/{name}",
    "dump": "dumps/{name}",
    "endpoint": "sparql",
    "service": "id/service/sparql",
    "catalog": "id/catalog",
    "dataset": "id/dataset/{slug}",
    "publisher": "id/publisher/policykg",
    "activity": "id/activity/{name}",
    "rule": "id/rule/{name}",
    "link": "id/link/{name}",
    "linkset": "id/linkset/{name}",
}
# What each placeholder may hold.
PARTS = {"graph": re.compile("|".join(GRAPHS)), "slug": _SLUG, "key": _SLUG, "kind": _SLUG, "code": _CODE,
         "name": _ANY, "area": _NUMBER, "number": _NUMBER, "start": _NUMBER, "end": _NUMBER, "year": _NUMBER}


def _checked_base(base: str) -> str:
    if not re.match(r"https?://[^/]+/(?:.*/)?$", base):
        raise ValueError(f"base IRI must be http(s) and end with '/': {base!r}")
    return base


def mint(base: str, pattern: str, **parts) -> URIRef:
    """The IRI of `pattern` (a key of PATTERNS) with its placeholders filled; ValueError on a part that does not fit."""
    for name, value in parts.items():
        if not PARTS[name].fullmatch(str(value)):
            raise ValueError(f"not a valid {name} for a {pattern} IRI: {value!r}")
    return URIRef(_checked_base(base) + PATTERNS[pattern].format(**parts))


def graph_iri(base: str, name: str) -> URIRef:
    """One of the dataset's named graphs: ontology, kg, provenance, links, divisions, meta."""
    return mint(base, "graph", graph=name)


def source_graph_iri(base: str, slug: str) -> URIRef:
    """The named graph of what one source states, with the shared IRIs."""
    return mint(base, "source-graph", slug=slug)


def plan_iri(base: str, slug: str) -> URIRef:
    return mint(base, "plan", slug=slug)


def task_area_iri(base: str, slug: str, number: int) -> URIRef:
    return mint(base, "task-area", slug=slug, area=int(number))


def task_iri(base: str, slug: str, area_number: int, number: int) -> URIRef:
    """Task m of area n, m its position in the plan's numbering."""
    return mint(base, "task", slug=slug, area=int(area_number), number=int(number))


def goal_iri(base: str, slug: str, number: int) -> URIRef:
    return mint(base, "goal", slug=slug, number=int(number))


def measure_iri(base: str, slug: str, number: int) -> URIRef:
    return mint(base, "measure", slug=slug, number=int(number))


def aim_iri(base: str, slug: str) -> URIRef:
    return mint(base, "aim", slug=slug)


def claim_iri(base: str, slug: str, number: int) -> URIRef:
    """The n-th claim about the plan, in the order the extractor lists them."""
    return mint(base, "claim", slug=slug, number=int(number))


def period_iri(base: str, start: int, end: int) -> URIRef:
    """A span of whole years, shared by every plan that covers it."""
    return mint(base, "period", start=int(start), end=int(end))


def year_iri(base: str, year: int) -> URIRef:
    return mint(base, "year", year=int(year))


def org_iri(base: str, key: str) -> URIRef:
    """An agency by its key in kg/sources/agencies.csv (official acronym, lower case)."""
    return mint(base, "org", key=key)


def region_iri(base: str, code: str) -> URIRef:
    """An administrative division by its six-digit GB/T 2260 code."""
    return mint(base, "region", code=code)


def area_iri(base: str, key: str) -> URIRef:
    """A named area (or macro-region) that is not an administrative unit."""
    return mint(base, "area", key=key)


def mention_iri(base: str, mention: Mention) -> URIRef:
    """The resource a gazetteer mention denotes, whatever its kind."""
    pattern = {"agency": ("org", "key"), "region": ("region", "code"), "area": ("area", "key"),
               "macro-region": ("area", "key")}.get(mention.kind)
    if pattern is None:
        raise ValueError(f"unknown mention kind {mention.kind!r}")
    return mint(base, pattern[0], **{pattern[1]: mention.key})


def article_iri(base: str, slug: str) -> URIRef:
    """A source document (a news report, an official text)."""
    return mint(base, "article", slug=slug)


def raw_iri(base: str, slug: str) -> URIRef:
    """The source file as received, before normalisation."""
    return mint(base, "raw", slug=slug)


def span_iri(base: str, slug: str, start: int | Span, end: int | None = None) -> URIRef:
    """A stretch [start, end) of the clean text (RFC 5147)."""
    if isinstance(start, Span):
        start, end = start.start, start.end
    if end is None or not 0 <= int(start) <= int(end):
        raise ValueError(f"not a text span: {start!r}, {end!r}")
    return mint(base, "span", slug=slug, start=int(start), end=int(end))


def context_iri(base: str, slug: str, length: int) -> URIRef:
    """The NIF context: the whole clean text."""
    return span_iri(base, slug, 0, length)


def repair_iri(base: str, slug: str, kind: str, raw_start: int, raw_end: int) -> URIRef:
    """One repair of the raw text, keyed by kind and raw offsets."""
    return mint(base, "repair", slug=slug, kind=kind, start=int(raw_start), end=int(raw_end))


def defect_iri(base: str, slug: str, area_number: int, position: int) -> URIRef:
    """A source defect, keyed like the task it would have been."""
    return mint(base, "defect", slug=slug, area=int(area_number), number=int(position))


def build_iri(base: str, slug: str) -> URIRef:
    """The build activity that produced the dataset."""
    return mint(base, "build", slug=slug)


def software_iri(base: str) -> URIRef:
    """policykg itself, as the software agent of the build (no version in the IRI)."""
    return mint(base, "software")


def source_iri(base: str, filename: str) -> URIRef:
    """A curated file of kg/sources."""
    return mint(base, "source", name=filename)


def standard_iri(base: str, name: str) -> URIRef:
    """A code standard: gbt-2260 or iso-3166-2."""
    return mint(base, "standard", name=name)


def gbt2260_iri(base: str, code: str) -> URIRef:
    """The typed GB/T 2260 identifier of a division."""
    return mint(base, "gbt2260-identifier", name=code)


def iso3166_iri(base: str, code: str) -> URIRef:
    """The typed ISO 3166-2 identifier of a province-level division."""
    return mint(base, "iso3166-identifier", name=code)


def dump_iri(base: str, filename: str) -> URIRef:
    return mint(base, "dump", name=filename)


def endpoint_iri(base: str) -> URIRef:
    return mint(base, "endpoint")


def service_iri(base: str) -> URIRef:
    """The SPARQL service as a described thing (dcat:DataService, sd:Service)."""
    return mint(base, "service")


def catalog_iri(base: str) -> URIRef:
    return mint(base, "catalog")


def dataset_iri(base: str, name: str = "policykg") -> URIRef:
    """A described dataset: policykg itself, or a link target (wikidata, iso3166-2 …)."""
    return mint(base, "dataset", slug=name)


def publisher_iri(base: str) -> URIRef:
    return mint(base, "publisher")


def activity_iri(base: str, name: str) -> URIRef:
    """A recurring activity of the build, such as the linking."""
    return mint(base, "activity", name=name)


def rule_iri(base: str, rule: str) -> URIRef:
    """A reconciliation rule, as the plan a link followed."""
    return mint(base, "rule", name=rule)


def link_iri(base: str, path: str) -> URIRef:
    """A link's evidence or annotation."""
    return mint(base, "link", name=path)


def linkset_iri(base: str, target: str) -> URIRef:
    """The void:Linkset towards one target."""
    return mint(base, "linkset", name=target)
