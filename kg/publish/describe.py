"""The meta graph: a DCAT 3 catalogue of the dumps and the SPARQL service, with VoID statistics per named graph.

It describes files (size, checksum), so it is made after the dumps are written and is never inside them.
IRIs minted here: {base}id/catalog, {base}id/dataset/policykg (+ /distribution/{file}, /graph/{name}),
{base}id/service/sparql, {base}id/publisher/policykg. Linksets are the linker's (kg/linksets.py).
"""

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, VOID, XSD

from kg.publish.dump import sha256
from kg.publish.sparql_service import LICENCE, bilingual, service, typed
from kg.rdf import iris
from kg.rdf.namespace import SD, SPDX
from kg.rdf.oxi import Data, to_quads, union_graph

EU = "http://publications.europa.eu/resource/authority/"
IANA = "http://www.iana.org/assignments/media-types/"

# The data's licence (kg.publish.sparql_service.LICENCE): CC BY 4.0, named by the EU authority table DCAT-AP prefers.
LANGUAGES = (URIRef(f"{EU}language/ZHO"), URIRef(f"{EU}language/ENG"))
SPATIAL = URIRef(f"{EU}country/CHN")
# file name suffix → (IANA media type, EU file-type authority code, name of the syntax)
MEDIA = {
    ".ttl": ("text/turtle", "RDF_TURTLE", "Turtle"),
    ".nt": ("application/n-triples", "RDF_N_TRIPLES", "N-Triples"),
    ".jsonld": ("application/ld+json", "JSON_LD", "JSON-LD"),
    ".trig": ("application/trig", "RDF_TRIG", "TriG"),
    ".nq": ("application/n-quads", "RDF_N_QUADS", "N-Quads"),
}
TITLES = {
    "kg": ("知识图谱事实（{fmt}）", "Knowledge graph facts ({fmt})"),
    "policykg": ("全部命名图（{fmt}）", "All named graphs ({fmt})"),
}
GRAPH_TITLES = {
    "ontology": ("本体", "ontology"),
    "kg": ("方案事实（各来源合并）", "facts of the plans (all sources merged)"),
    "provenance": ("来源：文本片段、修复、缺陷与构建", "provenance: text spans, repairs, defects and the build"),
    "links": ("与其他数据集的链接", "links to other datasets"),
    "divisions": ("行政区划代码表（GB/T 2260）", "administrative division table (GB/T 2260)"),
}
PKG_NS, TIME = "https://policykg.example/def/", "http://www.w3.org/2006/time#"
ENDED = ox.NamedNode("http://www.w3.org/ns/prov#endedAtTime")


def _distribution(g: Graph, dataset: URIRef, path: Path, *, base: str, issued: Literal) -> None:
    gzipped = path.suffix == ".gz"
    inner = Path(path.stem) if gzipped else path
    media_type, file_type, syntax = MEDIA[inner.suffix]
    d = URIRef(f"{dataset}/distribution/{path.name}")
    g.add((dataset, DCAT.distribution, typed(g, d, DCAT.Distribution)))
    zh, en = TITLES[inner.stem]
    label = f"{syntax}, gzip" if gzipped else syntax
    bilingual(g, d, DCTERMS.title, zh.format(fmt=label), en.format(fmt=label))
    url = iris.dump_iri(base, path.name)
    g.add((d, DCAT.accessURL, url))
    g.add((d, DCAT.downloadURL, url))
    g.add((d, DCAT.mediaType, typed(g, URIRef(IANA + media_type), DCTERMS.MediaType)))
    g.add((d, DCTERMS["format"], typed(g, URIRef(f"{EU}file-type/{file_type}"), DCTERMS.MediaTypeOrExtent)))
    if gzipped:
        g.add((d, DCAT.compressFormat, typed(g, URIRef(IANA + "application/gzip"), DCTERMS.MediaType)))
    g.add((d, DCAT.byteSize, Literal(path.stat().st_size, datatype=XSD.nonNegativeInteger)))
    checksum = URIRef(f"{d}#sha256")
    g.add((d, SPDX.checksum, typed(g, checksum, SPDX.Checksum)))
    g.add((checksum, SPDX.algorithm, typed(g, SPDX.checksumAlgorithm_sha256, SPDX.ChecksumAlgorithm)))
    g.add((checksum, SPDX.checksumValue, Literal(sha256(path), datatype=XSD.hexBinary)))
    g.add((d, DCTERMS.license, LICENCE))
    for language in LANGUAGES:
        g.add((d, DCTERMS.language, language))
    g.add((d, DCTERMS.issued, issued))
    g.add((d, DCTERMS.modified, issued))


def _statistics(g: Graph, node: URIRef, quads: list[ox.Quad]) -> None:
    """VoID counts: triples, entities (distinct IRI subjects), classes, properties, distinct subjects/objects."""
    rdf_type = ox.NamedNode(str(RDF.type))
    counts = {
        VOID.triples: len(quads),
        VOID.entities: len({q.subject for q in quads if isinstance(q.subject, ox.NamedNode)}),
        VOID.classes: len({q.object for q in quads if q.predicate == rdf_type}),
        VOID.properties: len({q.predicate for q in quads}),
        VOID.distinctSubjects: len({q.subject for q in quads}),
        VOID.distinctObjects: len({q.object for q in quads}),
    }
    for predicate, count in counts.items():
        g.add((node, predicate, Literal(count, datatype=XSD.integer)))


def _copy_types(g: Graph, quads: list[ox.Quad]) -> None:
    """Copy into the description the rdf:type of every resource it refers to that the data types elsewhere, so
    the description stands alone (DCAT-AP checks the classes of referenced resources, e.g. dct:Standard)."""
    untyped = {str(o) for o in g.objects() if isinstance(o, URIRef) and (o, RDF.type, None) not in g}
    rdf_type = ox.NamedNode(str(RDF.type))
    for q in quads:
        if q.predicate == rdf_type and isinstance(q.subject, ox.NamedNode) and q.subject.value in untyped:
            g.add((URIRef(q.subject.value), RDF.type, URIRef(q.object.value)))


def _period(quads: list[ox.Quad]) -> tuple[int, int] | None:
    """The years the plans cover: pkg:period → time:hasBeginning/time:hasEnd → time:inXSDgYear (None if absent)."""
    def objects(subjects: set, predicate: str) -> set:
        return {q.object for q in quads if q.predicate.value == predicate and q.subject in subjects}

    periods = {q.object for q in quads if q.predicate.value == f"{PKG_NS}period"}
    begins = objects(objects(periods, f"{TIME}hasBeginning"), f"{TIME}inXSDgYear")
    ends = objects(objects(periods, f"{TIME}hasEnd"), f"{TIME}inXSDgYear")
    if not begins or not ends:
        return None
    return min(int(y.value[:4]) for y in begins), max(int(y.value[:4]) for y in ends)


def _labels(quads: list[ox.Quad], subjects: set, predicates: tuple[str, ...]) -> list[ox.Literal]:
    """The language-tagged labels of `subjects` by `predicates`, each once, in a stable order."""
    found = {q.object for q in quads if q.subject in subjects and q.predicate.value in predicates
             and isinstance(q.object, ox.Literal) and q.object.language}
    return sorted(found, key=lambda label: (label.language, label.value))


def _plans(quads: list[ox.Quad]) -> list[tuple[str, str]]:
    """(zh, en) title of every plan in the data, by IRI; the en title falls back to the zh one where none is curated."""
    plans = sorted({q.subject for q in quads if q.predicate.value == str(RDF.type) and q.object.value == f"{PKG_NS}Plan"},
                   key=lambda plan: plan.value)
    titles = []
    for plan in plans:
        by_language = {label.language: label.value for label in _labels(quads, {plan}, (str(RDFS.label),))}
        zh = by_language.get("zh") or next(iter(by_language.values()), plan.value)
        titles.append((zh, by_language.get("en", zh)))
    return titles


def _title(quads: list[ox.Quad]) -> tuple[str, str]:
    """(zh, en) dataset title naming the plans the data holds (the first three, and how many more)."""
    plans = _plans(quads)
    zh = "科技政策知识图谱" + ("：" + "、".join(f"《{t}》" for t, _ in plans[:3]) if plans else "")
    en = "Knowledge graph of science and technology policy" + (": " + "; ".join(t for _, t in plans[:3]) if plans else "")
    if len(plans) > 3:
        zh, en = zh + f"等{len(plans)}项方案", en + f" and {len(plans) - 3} more plans"
    return zh, en


def _keywords(quads: list[ox.Quad]) -> list[Literal]:
    """The genre's words, then from the data: each plan's titles and the labels of the periods the plans cover."""
    periods = {q.object for q in quads if q.predicate.value == f"{PKG_NS}period"}
    plans = {q.subject for q in quads if q.predicate.value == str(RDF.type) and q.object.value == f"{PKG_NS}Plan"}
    found = [Literal("科技政策", lang="zh"), Literal("science and technology policy", lang="en")]
    for label in (*_labels(quads, plans, (str(RDFS.label),)),
                  *_labels(quads, periods, (str(RDFS.label), "http://www.w3.org/2004/02/skos/core#altLabel"))):
        keyword = Literal(label.value, lang=label.language)
        if keyword not in found:
            found.append(keyword)
    return found


def _build_time(quads: list[ox.Quad]) -> datetime:
    """When the data was built: the build activity's prov:endedAtTime in the provenance graph."""
    times = sorted(q.object.value for q in quads if q.predicate == ENDED)
    if not times:
        raise ValueError("no prov:endedAtTime in the data: pass build_time")
    return datetime.fromisoformat(times[-1])


def _graph_title(path: str, name: str) -> tuple[str, str]:
    """(zh, en) title of a named graph: the fixed graphs by name, a source's graph by the source's slug."""
    if path.startswith("source/"):
        slug = path.removeprefix("source/")
        return f"来源 {slug} 的陈述及其与方案图的差异", f"what source {slug} states, and where it differs from the plan graph"
    return GRAPH_TITLES.get(path, (name, name))


def describe(data: Data, dumps: list[Path], *, base: str, build_time: datetime | None = None,
             period: tuple[int, int] | None = None) -> Graph:
    """The meta graph ({base}graph/meta) describing `data` and the dump files `dumps`; returned and, when `data`
    is an rdflib Dataset, also added to it.

    What `data` already holds in its meta graph (the linker's linksets) is kept and linked in as subsets. The
    build time defaults to the build activity's prov:endedAtTime, so the description is as reproducible as the data.
    """
    meta_name = ox.NamedNode(f"{base}graph/meta")
    all_quads = to_quads(data)
    quads = [q for q in all_quads if q.graph_name != meta_name]
    build_time = build_time or _build_time(quads)
    period = period or _period(quads)
    if build_time.tzinfo is None:
        raise ValueError("build_time must be timezone-aware")
    g = Graph(identifier=iris.graph_iri(base, "meta"))
    # keep what others wrote into the meta graph (the linker's linksets), not an earlier description of ours
    ours = tuple(f"{base}id/{part}" for part in ("catalog", "dataset/policykg", "service/", "publisher/"))
    g += (t for t in union_graph([q for q in all_quads if q.graph_name == meta_name]) if not str(t[0]).startswith(ours))
    # whole seconds in UTC: the description changes only when the build time does
    issued = Literal(build_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime)
    catalog, dataset = iris.catalog_iri(base), iris.dataset_iri(base)
    publisher = typed(g, iris.publisher_iri(base), FOAF.Agent)
    g.add((publisher, FOAF.name, Literal("policykg", lang="en")))
    g.add((publisher, FOAF.name, Literal("policykg 政策知识图谱项目", lang="zh")))
    typed(g, LICENCE, DCTERMS.LicenseDocument)
    typed(g, SPATIAL, DCTERMS.Location)
    for language in LANGUAGES:
        typed(g, language, DCTERMS.LinguisticSystem)

    typed(g, catalog, DCAT.Catalog)
    bilingual(g, catalog, DCTERMS.title, "policykg 数据目录", "policykg data catalogue")
    bilingual(g, catalog, DCTERMS.description, "policykg 知识图谱的数据集与查询服务。",
               "The datasets and the query service of the policykg knowledge graph.")
    g.add((catalog, FOAF.homepage, typed(g, URIRef(base), FOAF.Document)))
    g.add((catalog, DCAT.dataset, dataset))
    for p, o in ((DCTERMS.publisher, publisher), (DCTERMS.license, LICENCE), (DCTERMS.issued, issued),
                 (DCTERMS.modified, issued), (DCTERMS.spatial, SPATIAL)):
        g.add((catalog, p, o))
    for language in LANGUAGES:
        g.add((catalog, DCTERMS.language, language))

    typed(g, dataset, DCAT.Dataset)
    typed(g, dataset, VOID.Dataset)
    bilingual(g, dataset, DCTERMS.title, *_title(quads))
    bilingual(g, dataset, DCTERMS.description,
               "从新闻报道和官方文本中抽取的政策知识图谱：方案、重点任务、目标、保障措施、印发部门与所涉地区，每个事实都可追溯到原文片段。",
               "A policy knowledge graph extracted from news reports and official texts: plans, their task areas, tasks, goals and "
               "guarantee measures, the agencies that issued them and the regions they target, every fact traced to its text span.")
    for p, o in ((DCTERMS.publisher, publisher), (DCTERMS.license, LICENCE), (DCTERMS.issued, issued),
                 (DCTERMS.modified, issued), (DCTERMS.spatial, SPATIAL), (DCAT.landingPage, URIRef(base)),
                 (VOID.sparqlEndpoint, iris.endpoint_iri(base)), (VOID.uriSpace, Literal(f"{base}id/"))):
        g.add((dataset, p, o))
    for language in LANGUAGES:
        g.add((dataset, DCTERMS.language, language))
    for keyword in _keywords(quads):
        g.add((dataset, DCAT.keyword, keyword))
    if period:
        temporal = URIRef(f"{dataset}#temporal")
        g.add((dataset, DCTERMS.temporal, typed(g, temporal, DCTERMS.PeriodOfTime)))
        g.add((temporal, DCAT.startDate, Literal(f"{period[0]}-01-01", datatype=XSD.date)))
        g.add((temporal, DCAT.endDate, Literal(f"{period[1]}-12-31", datatype=XSD.date)))

    for path in sorted(Path(p) for p in dumps):
        if path.name.removesuffix(".gz").rsplit(".", 1)[0] in TITLES and Path(path.name.removesuffix(".gz")).suffix in MEDIA:
            _distribution(g, dataset, path, base=base, issued=issued)
            if path.name == "kg.ttl":
                g.add((dataset, VOID.dataDump, iris.dump_iri(base, path.name)))

    _statistics(g, dataset, quads)
    by_graph: dict[str, list[ox.Quad]] = defaultdict(list)
    for q in quads:
        if isinstance(q.graph_name, ox.NamedNode):
            by_graph[q.graph_name.value].append(q)
    for name, graph_quads in sorted(by_graph.items()):
        path = name.removeprefix(f"{base}graph/")  # kg, provenance … or source/{slug}
        subset = typed(g, URIRef(f"{dataset}/graph/{path}"), VOID.Dataset)
        typed(g, subset, SD.Graph)
        g.add((dataset, VOID.subset, subset))
        g.add((subset, DCTERMS.isPartOf, dataset))
        bilingual(g, subset, DCTERMS.title, *_graph_title(path, name))
        _statistics(g, subset, graph_quads)
    nested = set(g.objects(None, VOID.subset))
    for linkset in sorted(set(g.subjects(RDF.type, VOID.Linkset)) - nested):
        g.add((dataset, VOID.subset, linkset))  # the linker's linksets, as parts of this dataset
    g.add((catalog, DCAT.service, service(g, dataset, sorted(by_graph), base=base)))
    _copy_types(g, quads)
    if isinstance(data, rdflib.Dataset):
        target = data.graph(g.identifier)
        target.addN((s, p, o, target) for s, p, o in g)
    return g
