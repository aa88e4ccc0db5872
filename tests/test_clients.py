"""The real clients against a real server: SPARQLWrapper and rdflib's SPARQLStore, every return format they offer.

Each answer is read the way the client hands it to its user (SPARQLWrapper's convert(), SPARQLStore's Graph
API) and compared with what pyoxigraph answers on the same file: bindings, booleans, triples; never a 4xx.
"""

import csv
import io
import xml.dom.minidom

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from serverkit import SAMPLE, gunicorn
from SPARQLWrapper import POST, POSTDIRECTLY, URLENCODED, SPARQLWrapper

EX = "http://example.org/"
QUERIES = {
    "SELECT": f"SELECT ?task ?rank {{ ?task <{EX}rank> ?rank }} ORDER BY ?rank",
    "ASK": f"ASK {{ <{EX}task1> <{EX}lead> <{EX}org1> }}",
    "CONSTRUCT": f"CONSTRUCT {{ ?t <{EX}partOf> ?p }} WHERE {{ ?t <{EX}partOf> ?p }}",
    "DESCRIBE": f"DESCRIBE <{EX}org1>",
}
# SPARQLWrapper 2.0's return formats (its module constants), as it names them.
RETURN_FORMATS = ("json", "xml", "csv", "tsv", "json-ld", "n3", "turtle", "rdf+xml", "rdf")
# GET; POST as a form; POST as an application/sparql-query body (format= then rides in the URL).
METHODS = {"GET": ("GET", None), "POST-form": (POST, URLENCODED), "POST-direct": (POST, POSTDIRECTLY)}
# Asked with these, the code before issue 11's finding 10 answered 400 ("unknown format") or 406.
REFUSED_BEFORE = {(f, form) for f in ("json-ld", "n3", "rdf+xml") for form in QUERIES} | {
    (f, form) for f in ("turtle", "rdf") for form in ("SELECT", "ASK")} | {
    (f, form) for f in ("csv", "tsv") for form in ("CONSTRUCT", "DESCRIBE")}

# SPARQLWrapper warns when it falls back to Accept: */* or gets a format other than the one it asked for: both are
# the behaviour under test (a name of the other query form's family falls back to Accept).
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")]


@pytest.fixture(scope="module")
def endpoint():
    """`kg serve` (gunicorn) on the sample data; the /sparql URL."""
    with gunicorn(SAMPLE) as (url, _):
        yield url + "/sparql"


def expected(form: str):
    """pyoxigraph's own answer on the sample file, in the shape `solutions`, `boolean` or `triples` give."""
    store = ox.Store()
    store.load(path=str(SAMPLE), format=ox.RdfFormat.TRIG)
    answer = store.query(QUERIES[form], use_default_graph_as_union=True)
    if form == "SELECT":
        return [tuple(term.value for term in row) for row in answer]
    if form == "ASK":
        return bool(answer)
    return {(t.subject.value, t.predicate.value, t.object.value) for t in answer}


def test_the_expected_answers_are_not_trivial():
    assert len(expected("SELECT")) == 3 and expected("ASK") is True
    assert len(expected("CONSTRUCT")) == 3 and len(expected("DESCRIBE")) == 3


def triples(graph) -> set:
    return {(str(s), str(p), str(o)) for s, p, o in graph}


def _dom(document: xml.dom.minidom.Document):
    """Bindings or boolean of a SPARQL XML document."""
    boolean = document.getElementsByTagName("boolean")
    if boolean:
        return boolean[0].firstChild.data == "true"
    return [tuple(binding.getElementsByTagName(kind)[0].firstChild.data
                  for binding in result.getElementsByTagName("binding")
                  for kind in ("uri", "literal", "bnode") if binding.getElementsByTagName(kind))
            for result in document.getElementsByTagName("result")]


def _text(body: bytes, media_type: str):
    """Bindings, boolean or triples of a body SPARQLWrapper hands over as bytes (CSV, TSV, Turtle)."""
    if body.strip() in (b"true", b"false"):  # a boolean in CSV/TSV: the formats define none, pyoxigraph writes the word
        return body.strip() == b"true"
    if media_type == "text/csv":
        return [tuple(row) for row in csv.reader(io.StringIO(body.decode()))][1:]
    if media_type == "text/tab-separated-values":
        return [tuple(t.value for t in row) for row in ox.parse_query_results(body, format=ox.QueryResultsFormat.TSV)]
    quads = ox.parse(body, format=ox.RdfFormat.from_media_type(media_type))
    return {(q.subject.value, q.predicate.value, q.object.value) for q in quads}


def wrapper_answer(result):
    """What SPARQLWrapper's convert() gave, as bindings (list of tuples), a boolean or a set of triples."""
    media_type = result.info()["content-type"].split(";")[0]
    converted = result.convert()
    if isinstance(converted, dict):
        if "boolean" in converted:
            return converted["boolean"]
        names = converted["head"]["vars"]
        return [tuple(b[n]["value"] for n in names) for b in converted["results"]["bindings"]]
    if isinstance(converted, xml.dom.minidom.Document):
        return _dom(converted)
    if isinstance(converted, rdflib.Graph):
        return triples(converted)
    return _text(converted, media_type)


def wrapper(url: str, form: str, return_format: str, method: str, only_conneg: bool = False) -> SPARQLWrapper:
    client = SPARQLWrapper(url)
    client.setQuery(QUERIES[form])
    client.setReturnFormat(return_format)
    http_method, request_method = METHODS[method]
    client.setMethod(http_method)
    if request_method:
        client.setRequestMethod(request_method)
    client.setOnlyConneg(only_conneg)
    client.setTimeout(30)
    return client


def _marked(cases, refused_before) -> list:
    """pytest params; those the code before finding 10 refused are marked as its reliability replays."""
    return [pytest.param(*case, marks=pytest.mark.reliability) if refused_before(*case) else case for case in cases]


@pytest.mark.parametrize("return_format, form, method", _marked(
    [(f, form, m) for f in RETURN_FORMATS for form in QUERIES for m in METHODS],
    lambda f, form, m: (f, form) in REFUSED_BEFORE))
def test_sparqlwrapper_answers_in_every_return_format(endpoint, return_format, form, method):
    assert wrapper_answer(wrapper(endpoint, form, return_format, method).query()) == expected(form)


@pytest.mark.parametrize("return_format", RETURN_FORMATS)
@pytest.mark.parametrize("form", QUERIES)
def test_sparqlwrapper_with_accept_only_answers(endpoint, return_format, form):
    result = wrapper(endpoint, form, return_format, "GET", only_conneg=True).query()
    assert wrapper_answer(result) == expected(form)


# rdflib's SPARQLStore: the formats its docs name, and RDF parser names it turns into an Accept header.
STORE_FORMATS = ("xml", "json", "csv", "tsv", "application/rdf+xml", "json-ld", "turtle", "nt")
STORE_METHODS = ("GET", "POST", "POST_FORM")


def store_answer(graph: rdflib.Graph, form: str):
    """The answer through rdflib's Graph API, in the shape of `expected`."""
    result = graph.query(QUERIES[form])
    if form == "SELECT":
        return [tuple(str(term) for term in row) for row in result]
    if form == "ASK":
        return result.askAnswer
    return triples(result.graph)


# With these, Accept names one family only (xml names both): the code before finding 10 answered 406 to a query
# of the other family.
STORE_RESULTS_ONLY, STORE_RDF_ONLY = ("json", "csv", "tsv"), ("application/rdf+xml", "json-ld", "turtle", "nt")


@pytest.mark.parametrize("form, return_format, method", _marked(
    [(form, f, m) for form in QUERIES for f in STORE_FORMATS for m in STORE_METHODS
     if not (form == "ASK" and f in ("csv", "tsv"))],  # rdflib reads CSV/TSV as a table: no boolean there
    lambda form, f, m: f in (STORE_RDF_ONLY if form in ("SELECT", "ASK") else STORE_RESULTS_ONLY)))
def test_sparqlstore_answers_through_the_graph_api(endpoint, form, return_format, method):
    graph = rdflib.Graph(store=SPARQLStore(endpoint, returnFormat=return_format, method=method))
    assert store_answer(graph, form) == expected(form)


def test_sparqlstore_reads_triples_of_the_union_default_graph(endpoint):
    graph = rdflib.Graph(store=SPARQLStore(endpoint, returnFormat="json"))
    found = set(graph.triples((rdflib.URIRef(EX + "org1"), None, None)))
    assert {(str(p), str(o)) for _, p, o in found} == {(p, o) for _, p, o in expected("DESCRIBE")}
