"""The SPARQL endpoint described twice over: as a DCAT 3 dcat:DataService and as a SPARQL 1.1 sd:Service."""

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from kg.rdf import iris
from kg.rdf.namespace import SD

LICENCE = URIRef("http://publications.europa.eu/resource/authority/licence/CC_BY_4_0")
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV")


def typed(g: Graph, node, cls) -> URIRef:
    """Add `node` a `cls` to `g`; returns `node`."""
    g.add((node, RDF.type, cls))
    return node


def bilingual(g: Graph, node, predicate, zh: str, en: str) -> None:
    """Add `node predicate` with a Chinese and an English literal."""
    g.add((node, predicate, Literal(zh, lang="zh")))
    g.add((node, predicate, Literal(en, lang="en")))


def service(g: Graph, dataset: URIRef, graph_names: list[str], *, base: str) -> URIRef:
    """Describe {base}sparql into `g`: what it serves, its union default graph and named graphs; returns its IRI."""
    service = iris.service_iri(base)
    endpoint = iris.endpoint_iri(base)
    typed(g, service, DCAT.DataService)
    typed(g, service, SD.Service)
    bilingual(g, service, DCTERMS.title, "policykg SPARQL 查询服务", "policykg SPARQL endpoint")
    bilingual(g, service, DCTERMS.description,
               "只读 SPARQL 1.1 查询服务；未指定 FROM/GRAPH 的查询以全部命名图的并集为默认图。",
               "Read-only SPARQL 1.1 query service; a query without FROM/GRAPH sees the union of all named graphs.")
    g.add((service, DCAT.endpointURL, endpoint))
    g.add((service, DCAT.endpointDescription, endpoint))
    g.add((service, DCAT.servesDataset, dataset))
    g.add((service, DCTERMS.license, LICENCE))
    g.add((service, SD.endpoint, endpoint))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    for name in RESULT_FORMATS:
        g.add((service, SD.resultFormat, URIRef(f"http://www.w3.org/ns/formats/{name}")))
    default = URIRef(f"{service}#dataset")
    g.add((service, SD.defaultDataset, typed(g, default, SD.Dataset)))
    for name in graph_names:
        named = URIRef(f"{service}#graph-{name.rsplit('/', 1)[-1]}")
        g.add((default, SD.namedGraph, typed(g, named, SD.NamedGraph)))
        g.add((named, SD.name, URIRef(name)))
        g.add((named, SD.graph, URIRef(f"{dataset}/graph/{name.rsplit('/', 1)[-1]}")))
    return service
