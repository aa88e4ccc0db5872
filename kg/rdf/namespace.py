"""The policykg vocabulary (mirrors ontology/policykg.ttl) and the reused vocabularies rdflib lacks."""

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import (
    DCAT,
    DCTERMS,
    FOAF,
    GEO,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SDO,
    SH,
    SKOS,
    TIME,
    VANN,
    VOID,
    XSD,
    DefinedNamespace,
)

PKG_IRI = "https://policykg.example/def/"  # fixed: the vocabulary does not move with the data's base IRI


class PKG(DefinedNamespace):
    """Terms minted by policykg; a test proves this list equals the ontology file's."""

    _NS = Namespace(PKG_IRI)
    _fail = True  # a typo such as PKG.taskarea raises instead of minting a term nobody declared

    # classes
    Plan: URIRef
    Aim: URIRef
    Goal: URIRef
    TaskArea: URIRef
    Task: URIRef
    Measure: URIRef
    Agency: URIRef
    Region: URIRef
    NamedArea: URIRef
    MacroRegion: URIRef
    NewsItem: URIRef
    Claim: URIRef
    SourceDefect: URIRef
    Repair: URIRef

    # individuals: administrative levels (a SKOS concept scheme)
    AdministrativeLevels: URIRef
    ProvinceLevel: URIRef
    PrefectureLevel: URIRef
    CountyLevel: URIRef

    # individuals: kinds of source (a SKOS concept scheme)
    SourceKinds: URIRef
    NewsReport: URIRef
    OfficialText: URIRef
    OfficialOutline: URIRef

    # object properties
    taskArea: URIRef
    task: URIRef
    goal: URIRef
    aim: URIRef
    measure: URIRef
    supports: URIRef
    period: URIRef
    targetsRegion: URIRef
    mentions: URIRef
    reports: URIRef
    statedSource: URIRef
    attachedTo: URIRef
    span: URIRef
    duplicates: URIRef
    affects: URIRef
    adminLevel: URIRef
    standsWhere: URIRef
    states: URIRef

    # datatype properties
    ordinal: URIRef
    shortName: URIRef
    headline: URIRef
    targetYear: URIRef
    statedAreaCount: URIRef
    statedIssuerCount: URIRef
    byline: URIRef
    siteName: URIRef
    defectKind: URIRef
    repairKind: URIRef
    rawStart: URIRef
    rawEnd: URIRef
    sha256: URIRef
    divisionCode: URIRef
    wording: URIRef


# Reused vocabularies rdflib does not ship; open namespaces, since others use terms we never list.
ELI = Namespace("http://data.europa.eu/eli/ontology#")
NIF = Namespace("http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
PPLAN = Namespace("http://purl.org/net/p-plan#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
OA = Namespace("http://www.w3.org/ns/oa#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
WD = Namespace("http://www.wikidata.org/entity/")
PAV = Namespace("http://purl.org/pav/")  # Provenance, Authoring and Versioning: where and when a source was retrieved

PREFIXES = {
    "pkg": PKG_IRI,
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dct": str(DCTERMS),  # as DCAT-AP and kg.prefixes spell it
    "dcat": str(DCAT),
    "void": str(VOID),
    "prov": str(PROV),
    "time": str(TIME),
    "org": str(ORG),
    "schema": str(SDO),
    "foaf": str(FOAF),
    "geo": str(GEO),
    "vann": str(VANN),
    "sh": str(SH),
    "eli": str(ELI),
    "nif": str(NIF),
    "adms": str(ADMS),
    "pplan": str(PPLAN),
    "spdx": str(SPDX),
    "sd": str(SD),
    "oa": str(OA),
    "vcard": str(VCARD),
    "wd": str(WD),
    "pav": str(PAV),
}


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the project's prefixes on a Graph or Dataset (replacing rdflib's defaults) and return it."""
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri, override=True, replace=True)
    return graph
