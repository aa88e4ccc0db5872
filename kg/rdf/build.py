"""Sources → an rdflib Dataset on the Oxigraph store: ontology, the plan graph, one graph per source, provenance."""

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SDO, SKOS, TIME, XSD

from kg.extract.model import Article, Mention, Plan, TaskArea
from kg.manifest import Source
from kg.paths import ONTOLOGY
from kg.rdf import iris
from kg.rdf.iris import (  # noqa: F401  (re-exported: kg.build is where others look for the IRI functions)
    DEFAULT_BASE,
    aim_iri,
    area_iri,
    article_iri,
    build_iri,
    claim_iri,
    context_iri,
    defect_iri,
    goal_iri,
    graph_iri,
    measure_iri,
    mention_iri,
    org_iri,
    period_iri,
    plan_iri,
    raw_iri,
    region_iri,
    repair_iri,
    software_iri,
    span_iri,
    task_area_iri,
    task_iri,
    year_iri,
)
from kg.rdf.labels import english_labels, names
from kg.rdf.merge import merge
from kg.rdf.namespace import ELI, PKG, PPLAN, bind_prefixes
from kg.rdf.provenance import provenance_triples, source_description
from kg.rdf.triples import Triples
from kg.text.normalize import Text

MENTION_CLASS = {"agency": PKG.Agency, "region": PKG.Region, "area": PKG.NamedArea, "macro-region": PKG.MacroRegion}


@lru_cache(maxsize=1)
def ontology() -> Graph:
    """The ontology file, parsed once."""
    return Graph().parse(ONTOLOGY, format="turtle")


@lru_cache(maxsize=64)
def _types(cls: URIRef) -> tuple[URIRef, ...]:
    """A class and all its named superclasses, so that SPARQL users of ORG, ELI or schema.org need no reasoner."""
    return tuple(sorted(c for c in ontology().transitive_objects(cls, RDFS.subClassOf) if isinstance(c, URIRef)))


@dataclass(frozen=True)
class SourceText:
    """One source as read: its manifest entry, repaired text, extraction, SHA-256 of its bytes, kind, plan slug."""

    source: Source
    text: Text
    article: Article
    sha256: str
    kind: str  # one of kg.manifest.KINDS
    plan_slug: str


def build_dataset(article: Article, text: Text, *, base: str = DEFAULT_BASE, build_time: datetime,
                  input_sha256: str) -> Dataset:
    """The graphs of one source whose plan is named by the source's own slug."""
    kind = "official text" if article.news.kind == "official" else "news report"
    source = SourceText(Source(Path(article.slug), article.slug, kind), text, article, input_sha256, kind, article.slug)
    return build_sources([source], base=base, build_time=build_time)


def build_sources(sources: list[SourceText], *, base: str = DEFAULT_BASE, build_time: datetime) -> Dataset:
    """The ontology graph, the plan graph (graph/kg), one graph per source (graph/source/{slug}: what it states and
    where it differs, kg.rdf.merge) and the provenance graph of every source; the same inputs in the same order give
    the same triples."""
    if build_time.tzinfo is None:
        raise ValueError("build_time must be timezone-aware")
    dataset = bind_prefixes(Dataset(store="Oxigraph", default_union=True))
    dataset.graph(graph_iri(base, "ontology")).parse(ONTOLOGY, format="turtle")
    plan, own = merge([(s.kind, iris.article_iri(base, s.article.slug), fact_triples(s.article, base=base,
                                                                                     plan_slug=s.plan_slug))
                       for s in sources])
    provenance: set[tuple] = set()
    for source, stated in zip(sources, own, strict=True):
        provenance |= provenance_triples(source.article, source.text, base=base, build_time=build_time,
                                         input_sha256=source.sha256, plan_slug=source.plan_slug)
        provenance |= source_description(source.source, source.kind, source.article.slug, base=base)
        _add(dataset, iris.source_graph_iri(base, source.article.slug), stated | _defects_in_place(source, plan, base))
    _add(dataset, graph_iri(base, "kg"), plan)
    _add(dataset, graph_iri(base, "provenance"), provenance)
    return dataset


def _add(dataset: Dataset, name: URIRef, triples: set[tuple]) -> None:
    graph = dataset.graph(name)
    graph.addN((s, p, o, graph) for s, p, o in sorted(triples))


def _defects_in_place(source: SourceText, plan: set[tuple], base: str) -> set[tuple]:
    """Each defect of the source points at the plan's task that stands in its slot, where another source states it."""
    out = set()
    for defect in source.article.defects:
        task = iris.task_iri(base, source.plan_slug, defect.area_number, defect.position)
        if (task, RDF.type, PKG.Task) in plan:
            d = iris.defect_iri(base, source.article.slug, defect.area_number, defect.position)
            out.add((d, PKG.standsWhere, task))  # the defect itself is described in the provenance graph
    return out


def fact_triples(article: Article, *, base: str = DEFAULT_BASE, plan_slug: str | None = None) -> set[tuple]:
    """What one source says, as triples with the shared IRIs (no spans: those are provenance); its plan's parts are
    named by `plan_slug`, default the source's own slug."""
    out = Triples(base, english_labels())
    plan, slug = article.plan, plan_slug or article.slug
    p = iris.plan_iri(base, slug)
    _plan(out, p, plan, base, slug)
    for area in plan.areas:
        _task_area(out, p, area, base, slug)
    _document(out, article, p, base)
    for number, claim in enumerate(article.claims, start=1):
        c = iris.claim_iri(base, slug, number)
        out.typed(c, PKG.Claim, _types(PKG.Claim))
        out.label(c, claim.text)
        out.add(c, PKG.attachedTo, iris.task_iri(base, slug, *claim.task))
        _mentions(out, c, claim.mentions, base)
    return out.triples


def _document(out: Triples, article: Article, p: URIRef, base: str) -> None:
    """The source document: a news item that reports the plan, or the official text that realises it."""
    news, n = article.news, iris.article_iri(base, article.slug)
    if news.kind == "official":
        # the notice as printed is an expression of the plan (ELI); it is no news item and carries no reprint's date
        out.typed(n, ELI.LegalExpression)
        out.label(n, news.title)
        out.add(n, ELI.title, Literal(news.title, lang="zh"))
        out.add(n, ELI.realizes, p)
        if news.published is not None:  # the date the official text was put online (发布日期): the plan's own
            published = Literal(news.published.isoformat(), datatype=_date_type(news.published))
            out.add(n, ELI.date_publication, published)
            out.add(p, ELI.date_publication, published)  # publication date, never a reprint's
        return
    out.typed(n, PKG.NewsItem, _types(PKG.NewsItem))
    out.label(n, news.title)
    out.add(n, SDO.headline, Literal(news.title, lang="zh"))
    if news.published is not None:
        out.add(n, SDO.datePublished, Literal(news.published.isoformat(), datatype=_date_type(news.published)))
    out.add(n, SDO.inLanguage, Literal("zh-CN"))
    if news.lede is not None:
        out.add(n, SDO.abstract, Literal(news.lede.quote, lang="zh"))
    if news.author is not None:
        out.add(n, PKG.byline, Literal(news.author, lang="zh"))
    if news.site is not None:
        out.add(n, PKG.siteName, Literal(news.site, lang="zh"))
    if news.source is not None:
        out.add(n, PKG.statedSource, _place_or_agency(out, news.source, base))
    out.add(n, PKG.reports, p)


def _date_type(when: datetime | date) -> URIRef:
    """xsd:dateTime when the source prints a time; a date alone stays a date (no midnight is invented)."""
    return XSD.dateTime if isinstance(when, datetime) else XSD.date


def _plan(out: Triples, p: URIRef, plan: Plan, base: str, slug: str) -> None:
    out.typed(p, PKG.Plan, _types(PKG.Plan))
    out.label(p, plan.title)
    out.add(p, ELI.title, Literal(plan.title, lang="zh"))
    if plan.short_name is not None:
        out.add(p, PKG.shortName, Literal(plan.short_name, lang="zh"))
    for issuer in plan.issuers:
        out.add(p, ELI.passed_by, _place_or_agency(out, issuer, base))
    # a stated count that differs from the agencies named stays as stated: the shapes warn with both numbers
    if plan.issuer_count_stated is not None:
        out.add(p, PKG.statedIssuerCount, Literal(plan.issuer_count_stated))
    if plan.areas_stated is not None:
        out.add(p, PKG.statedAreaCount, Literal(plan.areas_stated))
    if plan.target_year is not None:
        out.add(p, PKG.targetYear, Literal(str(plan.target_year), datatype=XSD.gYear))
    if plan.outlook is not None:
        out.add(p, DCTERMS.description, Literal(plan.outlook.quote, lang="zh"))
    if plan.document_number is not None:
        out.add(p, ELI.id_local, Literal(plan.document_number.quote))
    if plan.date_signed is not None:
        out.add(p, ELI.date_document, Literal(plan.date_signed.isoformat(), datatype=XSD.date))
    if plan.period_start is not None:
        _period(out, p, plan, base)
    if plan.aim is not None:
        aim = iris.aim_iri(base, slug)
        out.add(p, PKG.aim, aim)
        out.typed(aim, PKG.Aim, _types(PKG.Aim))
        out.label(aim, plan.aim)
    for goal in plan.goals:
        g = iris.goal_iri(base, slug, goal.number)
        _numbered(out, p, PKG.goal, g, PKG.Goal, goal.text, goal.number)
        out.add(g, PKG.targetYear, Literal(str(goal.target_year), datatype=XSD.gYear))
        if plan.aim is not None:
            out.add(g, PKG.supports, iris.aim_iri(base, slug))
        _mentions(out, g, goal.mentions, base)
    for measure in plan.measures:
        _numbered(out, p, PKG.measure, iris.measure_iri(base, slug, measure.number), PKG.Measure, measure.text,
                  measure.number)


def _period(out: Triples, p: URIRef, plan: Plan, base: str) -> None:
    """The five-year plan period the title names, shared by every plan of that period."""
    period = iris.period_iri(base, plan.period_start, plan.period_end)
    out.add(p, PKG.period, period)
    out.typed(period, TIME.Interval)
    out.label(period, f"{plan.period_start}—{plan.period_end}年", en=f"{plan.period_start}–{plan.period_end}")
    out.add(period, SKOS.altLabel, Literal(f"“{plan.period_name}”时期", lang="zh"))
    for relation, year in ((TIME.hasBeginning, plan.period_start), (TIME.hasEnd, plan.period_end)):
        instant = iris.year_iri(base, year)
        out.add(period, relation, instant)
        out.typed(instant, TIME.Instant)
        out.label(instant, f"{year}年", en=str(year))
        out.add(instant, TIME.inXSDgYear, Literal(str(year), datatype=XSD.gYear))


def _task_area(out: Triples, p: URIRef, area: TaskArea, base: str, slug: str) -> None:
    a = iris.task_area_iri(base, slug, area.number)
    _numbered(out, p, PKG.taskArea, a, PKG.TaskArea, area.short_name or area.headline, area.number)
    if area.short_name:
        out.add(a, PKG.shortName, Literal(area.short_name, lang="zh"))
    out.add(a, PKG.headline, Literal(area.headline, lang="zh"))
    for region in area.regions:
        out.add(a, PKG.targetsRegion, _place_or_agency(out, region, base))
    _mentions(out, a, area.mentions, base)
    for task in area.tasks:
        t = iris.task_iri(base, slug, task.area_number, task.number)
        _numbered(out, a, PKG.task, t, PKG.Task, task.text, task.number)
        out.add(t, PPLAN.isStepOfPlan, p)  # a pplan:Step names its plan
        _mentions(out, t, task.mentions, base)


def _numbered(out: Triples, parent: URIRef, link: URIRef, part: URIRef, cls: URIRef, text: str, number: int) -> None:
    """A numbered part of `parent` (goal, measure, task area, task): linked, typed, labelled, ordered."""
    out.add(parent, link, part)
    out.typed(part, cls, _types(cls))
    out.label(part, text)
    out.add(part, PKG.ordinal, Literal(number))


def _mentions(out: Triples, subject: URIRef, mentions: tuple[Mention, ...], base: str) -> None:
    for mention in mentions:
        out.add(subject, PKG.mentions, _place_or_agency(out, mention, base))


def _place_or_agency(out: Triples, mention: Mention, base: str) -> URIRef:
    """The resource a mention denotes, described once from the gazetteer: type, names, level."""
    iri = mention_iri(base, mention)
    curated = names(mention.kind, mention.key)
    out.typed(iri, MENTION_CLASS[mention.kind], _types(MENTION_CLASS[mention.kind]))
    out.label(iri, curated.zh, en=curated.en)
    for alias in curated.aliases:
        out.add(iri, SKOS.altLabel, Literal(alias, lang="zh"))
    if curated.acronym:
        out.add(iri, SKOS.altLabel, Literal(curated.acronym, lang="en"))
    if mention.kind == "region":
        out.add(iri, PKG.divisionCode, Literal(mention.key))
        level = PKG.ProvinceLevel if mention.key.endswith("0000") else (
            PKG.PrefectureLevel if mention.key.endswith("00") else PKG.CountyLevel)
        out.add(iri, PKG.adminLevel, level)
    return iri


