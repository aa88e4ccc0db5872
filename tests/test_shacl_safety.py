"""/shacl fetches nothing, whatever the shapes spell, and one heavy validation cannot take the server down.

The refusal tests watch a loopback canary listener (the `canary` fixture): a SPARQL text that got through would
connect to it.
"""

import os
import subprocess
import sys
import threading
import time

import pyoxigraph
import pytest
import rdflib
from serverkit import ROOT, make_app

SH_PREFIXES = ("@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
               "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n")
DATA = ('@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n'
        '<https://policykg.example/id/org/xyz> rdfs:label "某部"@zh , "Some ministry"@en .\n')
TURTLE = {"Accept": "text/turtle", "Content-Type": "text/turtle"}
# 240 KB of nested Turtle lists: the input of finding 4 (each level is a blank node with rdf:first and rdf:rest)
NESTED = ("<https://x.example/s> <https://x.example/p> " + "( " * 60000 + ") " * 60000 + ".\n").encode()


def constraint(select: str, extra: str = "") -> str:
    """A shape whose SPARQL constraint runs on every labelled node; `select` is Turtle string content."""
    return (SH_PREFIXES + "<https://x.example/shape> a sh:NodeShape ; sh:targetSubjectsOf rdfs:label ;\n"
            f'  sh:sparql [ {extra} sh:select """{select}""" ] .\n')


@pytest.fixture(scope="module")
def app():
    app = make_app(EXECUTORS=1, ACCESS_LOG=False)
    yield app
    app.extensions["kg"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def post_shapes(client, shapes: str, accept: str = "text/turtle"):
    return client.post("/shacl", data={"data": DATA, "shapes": shapes}, headers={"Accept": accept})


def assert_refused(response, canary, *words: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 400, body[:500]
    assert "refused, never fetched" in body and all(word in body for word in words), body[:500]
    assert "Traceback" not in body and "Error:" not in body and "Exception" not in body, body[:500]
    assert canary.received() == []


# (what the shapes spell, words the refusal must name); `{url}` is the canary
REFUSED = [
    pytest.param(constraint("SELECT $this WHERE { SERVICE <{url}/y> { $this ?p ?o } }"), ("SERVICE", "/y>"),
                 id="plain SERVICE"),
    pytest.param(constraint("SELECT $this WHERE { S\\\\u0045RVICE <{url}/y> { $this ?p ?o } }"), ("SERVICE", "/y>"),
                 id="S-u0045-RVICE", marks=pytest.mark.reliability),
    pytest.param(constraint("SELECT $this WHERE { \\\\u0053ERVICE <{url}/y> { $this ?p ?o } }"), ("SERVICE", "/y>"),
                 id="u0053-ERVICE", marks=pytest.mark.reliability),
    pytest.param(constraint("PREFIX c: <{url}/> SELECT $this WHERE { SERVICE c:y { $this ?p ?o } }"),
                 ("SERVICE c:y", "/y>"), id="prefixed-name endpoint"),
    pytest.param(constraint("SELECT $this WHERE { SERVICE c:y { $this ?p ?o } }", "sh:prefixes <https://x.example/p> ;")
                 + '<https://x.example/p> sh:declare [ sh:prefix "c" ; sh:namespace "{url}/"^^xsd:anyURI ] .\n',
                 ("SERVICE c:y", "/y>"), id="endpoint prefix from sh:prefixes"),
    pytest.param(constraint("SELECT $this FROM <{url}/g> WHERE { $this ?p ?o }"), ("FROM", "/g>"),
                 id="FROM http"),
    pytest.param(constraint("SELECT $this FROM NAMED <{url}/g> WHERE { $this ?p ?o }"), ("FROM NAMED", "/g>"),
                 id="FROM NAMED http"),
    pytest.param(constraint("SELECT $this FR\\\\u004FM <file:///etc/passwd> WHERE { $this ?p ?o }"),
                 ("FROM", "file:///etc/passwd", "a local file"), id="FR-u004F-M file", marks=pytest.mark.reliability),
    pytest.param(constraint("SELECT $this WHERE { S\\\\u0045RVICE <file:///etc/passwd> { $this ?p ?o } }"),
                 ("SERVICE", "file:///etc/passwd", "a local file"), id="S-u0045-RVICE file",
                 marks=pytest.mark.reliability),
    # a namespace that closes its own IRI writes a whole query into the prologue pySHACL builds from sh:prefixes
    pytest.param(constraint("", "sh:prefixes <https://x.example/p> ;")
                 + '<https://x.example/p> sh:declare [ sh:prefix "c" ; sh:namespace '
                 '"""http://x.example/>\nSELECT $this WHERE { SERVICE <{url}/z> { $this ?p ?o } }\n#""" ] .\n',
                 ("SERVICE", "/z>"), id="query injected through sh:namespace"),
    pytest.param(SH_PREFIXES + '<https://x.example/u> sh:update "LOAD <{url}/doc>" .\n', ("LOAD", "/doc>"),
                 id="LOAD in sh:update"),
]


@pytest.mark.parametrize("shapes,words", REFUSED)
def test_shapes_with_an_outbound_sparql_text_are_400_and_fetch_nothing(client, canary, shapes, words):
    response = post_shapes(client, shapes.replace("{url}", canary.url))
    assert_refused(response, canary, *words)


@pytest.mark.reliability
def test_the_escaped_service_is_refused_on_the_page_too(client, canary):
    shapes = constraint("SELECT $this WHERE { S\\\\u0045RVICE <{url}/y> { $this ?p ?o } }").replace("{url}", canary.url)
    response = post_shapes(client, shapes, accept="text/html")
    assert_refused(response, canary, "SERVICE")
    assert 'id="verdict"' not in response.get_data(as_text=True)


def test_a_shape_without_outbound_sparql_still_validates(client, canary):
    shapes = constraint('SELECT $this WHERE { $this rdfs:label ?l . FILTER (lang(?l) = "fr") }')
    response = post_shapes(client, shapes)
    assert response.status_code == 200 and response.headers["X-SHACL-Conforms"] == "true"
    assert canary.received() == []


def test_shapes_with_sparql_that_does_not_parse_are_400_quoting_the_parser(client):
    response = post_shapes(client, constraint("SELECT $this WHERE { $this ?p }"))
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "not valid SPARQL" in body and "sh:select" in body, body


def test_shapes_that_pyshacl_cannot_run_are_400_with_its_reason(client):
    response = post_shapes(client, constraint("SELECT $this WHERE { $this ?p ?o MINUS { $this a ?c } }"))
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "shapes: not usable" in body and "MINUS" in body, body[:500]
    assert "Traceback" not in body and "Error:" not in body


@pytest.mark.reliability
def test_shapes_whose_sparql_rdflib_cannot_evaluate_are_400_not_500(client):
    # Found by the fuzz: GRAPH in a constraint over the single data graph makes rdflib raise a bare Exception.
    response = post_shapes(client, constraint("SELECT $this WHERE { GRAPH <urn:x:g> { $this ?p ?o } }"))
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "shapes: could not be evaluated" in body, body[:500]
    assert "Traceback" not in body


HARDENED = """
import sys
import rdflib
from server.web import shacl_child
if sys.argv[2] == "hardened":
    shacl_child.harden()
try:
    list(rdflib.Graph().query("SELECT * WHERE { SERVICE <%s/y> { ?s ?p ?o } }" % sys.argv[1]))
    print("answered")
except shacl_child.Refused as error:
    print("refused:", error)
except Exception as error:  # the unhardened rdflib fails on the canary's answer after connecting
    print("failed:", type(error).__name__)
"""


def test_rdflib_in_the_child_refuses_any_service_it_parses_even_without_the_sandbox(canary):
    # the second line behind the shapes check: every text pySHACL composes goes through this parse
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = lambda mode: subprocess.run([sys.executable, "-c", HARDENED, canary.url, mode], env=env,  # noqa: E731
                                      capture_output=True, text=True, timeout=60)
    hardened = run("hardened")
    assert hardened.stdout.startswith("refused:") and "SERVICE" in hardened.stdout, hardened.stderr
    assert canary.received() == []
    run("plain")  # the control: plain rdflib connects, so this test can fail
    assert len(canary.received()) == 1


def test_the_server_process_never_parses_the_posted_turtle(client, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the server process parsed untrusted RDF")

    monkeypatch.setattr(pyoxigraph, "parse", forbidden)
    monkeypatch.setattr(rdflib.Graph, "parse", forbidden)
    response = client.post("/shacl", data=DATA, headers=TURTLE)
    assert response.status_code == 200 and response.headers["X-SHACL-Conforms"] == "true"
    bad = client.post("/shacl", data="<a> <b> .", headers=TURTLE)
    assert bad.status_code == 400 and b"line 1 column" in bad.data


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":")) / 1024


@pytest.mark.reliability
def test_nested_lists_leave_the_server_process_small_even_at_its_peak(client):
    client.post("/shacl", data=DATA, headers=TURTLE)  # imports and first-use allocations are not what is measured
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # restart the peak (VmHWM) from the present RSS
    before = _status_mib("VmRSS")
    for _ in range(4):
        response = client.post("/shacl", data=NESTED, headers=TURTLE)
        assert response.status_code in (200, 413), response.data[:500]
    # parsing here took the peak up by about 100 MiB; the child's memory is its own
    assert _status_mib("VmHWM") - before < 50 and _status_mib("VmRSS") - before < 50


@pytest.mark.reliability
def test_a_validation_over_the_memory_limit_is_413_naming_the_limit(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SHACL_MEMORY_BYTES", 256 << 20)
    response = client.post("/shacl", data=NESTED, headers=TURTLE)
    monkeypatch.undo()
    body = response.get_data(as_text=True)
    assert response.status_code == 413 and "memory limit of 256 MiB" in body, body
    assert client.post("/shacl", data=DATA, headers=TURTLE).status_code == 200  # and the next one works


# 20^4 rows per focus node for rdflib to join over the 20 triples of DATA_20: far longer than the time limit
SLOW = constraint("SELECT $this WHERE { $this rdfs:label ?a . ?b ?c ?d . ?e ?f ?g . ?h ?i ?j . FILTER (false) }")
DATA_20 = "".join(f'<https://x.example/n{i}> <http://www.w3.org/2000/01/rdf-schema#label> "n{i}" .\n'
                  for i in range(20))


@pytest.mark.reliability
def test_a_second_validation_while_one_runs_is_503_with_retry_after_at_once(app, monkeypatch):
    monkeypatch.setitem(app.config, "SHACL_TIMEOUT", 6)
    first: dict = {}

    def slow() -> None:
        response = app.test_client().post("/shacl", data={"data": DATA_20, "shapes": SLOW},
                                          headers={"Accept": "text/turtle"})
        first["status"] = response.status_code

    runner = threading.Thread(target=slow)
    try:
        runner.start()
        time.sleep(1.0)  # the first request holds the validation slot within milliseconds
        started = time.monotonic()
        second = app.test_client().post("/shacl", data=DATA, headers=TURTLE)
        elapsed = time.monotonic() - started
        assert second.status_code == 503 and int(second.headers["Retry-After"]) > 0, second.data
        assert elapsed < 1.0
        runner.join(30)
        assert first["status"] in (503, 413)  # stopped at the time limit (or, on a fast machine, the memory limit)
        assert app.test_client().post("/shacl", data=DATA, headers=TURTLE).status_code == 200  # slot given back
    finally:
        runner.join(30)
