"""W3C SPARQL 1.1 test suites, run against the endpoint when ../shared holds them (skipped otherwise).

protocol/: every query case and every bad-request case (a read-only service answers the update
cases with 4xx, so only the bad_update_* ones apply), with the manifest's three named graphs loaded,
through the Flask test client and through a real gunicorn server. json-res/ and csv-tsv-res/: the
answers in each results format match the expected files. The project's own tests
(test_server_protocol.py, test_server_formats.py) cover the same behaviours without ../shared.
"""

import csv
import io
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib.collection import Collection
from serverkit import gunicorn, http_sender, make_app

SUITE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "w3c-rdf-tests" / "sparql11"
PROTOCOL = SUITE / "protocol" / "manifest.ttl"
pytestmark = pytest.mark.skipif(not PROTOCOL.is_file(), reason="W3C test suite not present in ../shared")

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
RESULTS_TYPES = ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                 "text/tab-separated-values")
RDF_TYPES = ("text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json")


def protocol_cases() -> list:
    """(name, requests, graphs) for each applicable case, in manifest order."""
    if not PROTOCOL.is_file():
        return []
    graph = Graph().parse(PROTOCOL, format="turtle")
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    cases = []
    for entry in Collection(graph, graph.value(manifest, MF.entries)):
        name = str(entry).rsplit("#", 1)[1]
        if name.startswith("update_"):
            continue  # a read-only service refuses updates (403); the bad_update_* cases still apply
        action = graph.value(entry, MF.action)
        requests = []
        for request in Collection(graph, graph.value(action, HT.requests)):
            body = graph.value(request, HT.body)
            headers = {}
            header_list = graph.value(request, HT.headers)
            if header_list is not None:
                for header in Collection(graph, header_list):
                    headers[str(graph.value(header, HT.fieldName))] = str(graph.value(header, HT.fieldValue))
            response = graph.value(request, HT.resp)
            requests.append({
                "method": str(graph.value(request, HT.methodName)),
                "path": str(graph.value(request, HT.absolutePath)).replace("/sparql/", "/sparql", 1),
                "headers": headers,
                "body": None if body is None else str(graph.value(body, CNT.chars)).encode(
                    str(graph.value(body, CNT.characterEncoding)).lower().replace("utf-16", "utf-16-le")),
                "status": {str(s).rsplit("StatusCode", 1)[1][0] for s in graph.objects(response, MF.expectedStatus)},
                "boolean": graph.value(response, MF.expectedBoolean),
                "format": graph.value(response, MF.expectedFormat),
            })
        graphs = {str(graph.value(d, RDFS.label)): str(graph.value(d, UT.graph)) for d in graph.objects(entry, UT.graphData)}
        cases.append(pytest.param(requests, graphs, id=name))
    return cases


CASES = protocol_cases()


def test_the_manifest_was_found_and_read():
    assert len(CASES) == 27  # 13 query cases + 14 bad-request cases


@pytest.fixture(scope="module")
def dataset_file(tmp_path_factory) -> Path:
    """The manifest's data files as the named graphs the cases expect, in one N-Quads file."""
    lines = []
    for number in (1, 2, 3):
        name = f"http://kasei.us/2009/09/sparql/data/data{number}.rdf"
        for quad in ox.parse(path=str(SUITE / "protocol" / f"data{number}.nt"), format=ox.RdfFormat.N_TRIPLES):
            lines.append(str(ox.Quad(quad.subject, quad.predicate, quad.object, ox.NamedNode(name))) + " .")
    path = tmp_path_factory.mktemp("w3c") / "protocol.nq"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def flask_transport(dataset_file):
    app = make_app(files=[dataset_file], EXECUTORS=1)
    client = app.test_client()

    def send(method, path, headers, body):
        response = client.open(path, method=method, headers=headers, data=body)
        return response.status_code, response.headers.get("Content-Type", ""), response.data

    yield send
    app.extensions["kg"].close()


@pytest.fixture(scope="module")
def gunicorn_transport(dataset_file):
    with gunicorn(dataset_file) as (url, _):
        yield http_sender(url)


def check(send, requests) -> None:
    for request in requests:
        status, content_type, body = send(request["method"], request["path"], request["headers"], request["body"])
        assert str(status)[0] in request["status"], (status, body[:300])
        media_type = content_type.split(";")[0].strip()
        if request["format"] is not None:
            expected = {"boolean": RESULTS_TYPES[:2], "tabular": RESULTS_TYPES, "RDF": RDF_TYPES}[str(request["format"])]
            assert media_type in expected
        if request["boolean"] is not None:
            fmt = ox.QueryResultsFormat.from_media_type(media_type)
            assert bool(ox.parse_query_results(body, format=fmt)) == request["boolean"].toPython()


@pytest.mark.parametrize("requests, graphs", CASES)
def test_protocol_case_through_the_app(flask_transport, requests, graphs):
    check(flask_transport, requests)


@pytest.mark.parametrize("requests, graphs", CASES)
def test_protocol_case_through_gunicorn(gunicorn_transport, requests, graphs):
    check(gunicorn_transport, requests)


# Known engine behaviour, not a serialisation fault: Oxigraph stores "-3"^^xsd:negativeInteger as
# xsd:integer and "1.0E6"^^xsd:double as "1000000", so data2.ttl's literals do not come back as written.
OXIGRAPH_NORMALISES = "Oxigraph normalises derived integer types and double lexical forms when storing"


def result_format_cases() -> list:
    """(query, data, expected file) of the json-res and csv-tsv-res manifests."""
    cases = []
    for folder in ("json-res", "csv-tsv-res"):
        manifest = SUITE / folder / "manifest.ttl"
        if not manifest.is_file():
            continue
        graph = Graph().parse(manifest, format="turtle")
        for entry in graph.subjects(MF.result, None):
            action = graph.value(entry, MF.action)
            files = [graph.value(action, QT.query), graph.value(action, QT.data), graph.value(entry, MF.result)]
            query, data, result = (Path(urlsplit(str(f)).path) for f in files)
            name = str(entry).rsplit("#", 1)[1]
            marks = [pytest.mark.xfail(reason=OXIGRAPH_NORMALISES, strict=True)] if data.name == "data2.ttl" else []
            cases.append(pytest.param(query, data, result, id=name, marks=marks))
    return sorted(cases, key=lambda case: case.id)


def csv_rows(text: str, columns: list[str] | None = None) -> tuple[list[str], list[tuple]]:
    """CSV header and rows, columns put in `columns` order (SELECT * may order variables either way)."""
    labels: dict[str, str] = {}
    text = re.sub(r"_:[A-Za-z0-9]+", lambda m: labels.setdefault(m.group(), f"_:b{len(labels)}"), text)
    header, *body = list(csv.reader(io.StringIO(text)))
    order = [header.index(c) for c in (columns or header)]
    return [header[i] for i in order], [tuple(row[i] for i in order) for row in body]


def rows(body: bytes, fmt) -> list:
    """Parsed answer as comparable rows (ASK: the boolean), blank nodes renumbered."""
    parsed = ox.parse_query_results(body, format=fmt)
    if isinstance(parsed, ox.QueryBoolean):
        return [bool(parsed)]
    labels: dict[str, str] = {}
    out = []
    names = sorted(v.value for v in parsed.variables)  # SELECT * may order variables either way
    for row in parsed:
        cells = []
        for name in names:
            term = row[name]
            if isinstance(term, ox.BlankNode):
                cells.append(labels.setdefault(term.value, f"_:b{len(labels)}"))
            else:
                cells.append(str(term) if term is not None else None)
        out.append(tuple(cells))
    return [names] + out


RESULT_CASES = result_format_cases()


def test_the_result_format_manifests_were_found():
    assert len(RESULT_CASES) == 10


@pytest.mark.parametrize("query, data, expected", RESULT_CASES)
def test_result_format_fixture_round_trips(query, data, expected):
    app = make_app(files=[data], EXECUTORS=1)
    try:
        suffix = expected.suffix.lstrip(".")
        fmt = {"srj": "json", "csv": "csv", "tsv": "tsv"}[suffix]
        response = app.test_client().get("/sparql", query_string={"query": query.read_text(), "format": fmt})
        assert response.status_code == 200
        if fmt == "csv":  # lossy by design: compared as text
            header, want = csv_rows(expected.read_text())
            assert csv_rows(response.data.decode(), header) == (header, want)
        else:
            ox_format = ox.QueryResultsFormat.JSON if fmt == "json" else ox.QueryResultsFormat.TSV
            assert rows(response.data, ox_format) == rows(expected.read_bytes(), ox_format)
    finally:
        app.extensions["kg"].close()


def test_json_answer_is_valid_json_with_head_and_results(flask_transport):
    status, content_type, body = flask_transport("GET", "/sparql?query=SELECT%20*%20%7B%3Fs%20%3Fp%20%3Fo%7D", {}, None)
    assert status == 200
    assert set(json.loads(body)) == {"head", "results"}


def test_service_description_conforms(flask_transport):
    # The three service-description checks: GET returns RDF; it has sd:endpoint = the URL asked; it is an sd:Service.
    status, content_type, body = flask_transport("GET", "/sparql", {"Accept": "text/turtle"}, None)
    assert status == 200 and content_type.startswith("text/turtle")
    graph = Graph().parse(data=body.decode(), format="turtle")
    sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
    [service] = list(graph.subjects(RDF.type, sd.Service))
    assert graph.value(service, sd.endpoint) == URIRef("http://localhost/sparql")
    assert (service, sd.supportedLanguage, sd.SPARQL11Query) in graph
    assert graph.value(service, sd.defaultDataset) is not None
