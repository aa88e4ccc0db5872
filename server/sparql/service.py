"""The SPARQL 1.1 Service Description of the endpoint (an sd:Service), written by pyoxigraph."""

import pyoxigraph as ox

from server.sparql.formats import RDF, RESULTS

# W3C's unique IRIs for formats (http://www.w3.org/ns/formats/).
FORMAT_IRIS = {
    "JSON": "SPARQL_Results_JSON", "XML": "SPARQL_Results_XML", "CSV": "SPARQL_Results_CSV",
    "TSV": "SPARQL_Results_TSV", "TURTLE": "Turtle", "N_TRIPLES": "N-Triples", "RDF_XML": "RDF_XML",
    "JSON_LD": "JSON-LD", "TRIG": "TriG", "N_QUADS": "N-Quads",
}


def describe(endpoint: str, named_graphs: list[str], *, update: bool, federated: bool) -> str:
    """Turtle text of the description; `endpoint` is the URL the client used to reach /sparql."""
    formats = ", ".join(f"<http://www.w3.org/ns/formats/{FORMAT_IRIS[f.ox_name]}>" for f in RESULTS + RDF)
    languages = "sd:SPARQL11Query" + (", sd:SPARQL11Update" if update else "")
    features = "sd:UnionDefaultGraph"
    if federated:
        features += ", sd:BasicFederatedQuery"
    # Fragment IRIs rather than blank nodes: the same description is the same bytes (cacheable, diffable).
    numbered = list(enumerate(sorted(named_graphs), 1))
    graphs = "".join(f" ;\n  sd:namedGraph <{endpoint}#named-graph-{n}>" for n, _ in numbered) + " ." + "".join(
        f"\n<{endpoint}#named-graph-{n}> a sd:NamedGraph ; sd:name <{g}> ." for n, g in numbered)
    return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{endpoint}#service> a sd:Service ;
  rdfs:label "policykg SPARQL endpoint"@en , "policykg SPARQL 查询服务"@zh ;
  sd:endpoint <{endpoint}> ;
  sd:supportedLanguage {languages} ;
  sd:resultFormat {formats} ;
  sd:feature {features} ;
  sd:defaultEntailmentRegime <http://www.w3.org/ns/entailment/Simple> ;
  sd:defaultDataset <{endpoint}#dataset> .
<{endpoint}#default-graph> a sd:Graph ;
  rdfs:comment "The default graph is the union of all named graphs (override with default-graph-uri / named-graph-uri)."@en .
<{endpoint}#dataset> a sd:Dataset ;
  sd:defaultGraph <{endpoint}#default-graph>{graphs}
"""


def serialise(turtle: str, rdf_format) -> bytes:
    """Re-write the Turtle description in the negotiated RDF format."""
    triples = [quad.triple for quad in ox.parse(turtle, format=ox.RdfFormat.TURTLE)]
    return ox.serialize(triples, format=rdf_format)
