"""The guard before the engine: no outbound request however SERVICE/LOAD is spelled, no crash however deep the nesting."""

import json
import time

import pytest
from serverkit import make_app
from test_server_safety import TOKEN, listener  # noqa: F401 - the loopback canary fixture

from server.sparql import bounds

APP_CONFIG = {"EXECUTORS": 1}  # the shared `app` fixture: default limits (1 MiB bodies), one worker to watch
LIMIT = 1 << 20


def walkarounds(port: int) -> list[str]:
    """SERVICE spelled every way the old lexer could be walked around (or was only just not)."""
    url = f"http://127.0.0.1:{port}/x"
    return [
        f"ASK{{FILTER(1<2)SERVICE#>\n<{url}>{{}}}}",  # finding 1: the old guard read `<2)SERVICE#>` as an IRI
        f"ASK{{FILTER(1<2)SERVICE SILENT#>\n<{url}>{{}}}}",
        f"ASK {{ \\u0053ERVICE <{url}> {{}} }}",
        f"ASK {{ S\\u0045RVICE <{url}> {{}} }}",
        f"ASK {{ \\U00000053ERVICE <{url}> {{}} }}",
        f"ASK {{ service silent <{url}> {{}} }}",
        f"PREFIX e: <http://127.0.0.1:{port}/> ASK {{ SERVICE e:x {{}} }}",
        f"ASK {{ # a comment\nSERVICE <{url}> {{}} }}",
        f'ASK {{ FILTER("}}") SERVICE <{url}> {{}} }}',
        f"ASK {{ FILTER EXISTS {{ SERVICE <{url}> {{}} }} }}",
        f"ASK {{ SERVICE <{url}> {{ SERVICE <{url}> {{}} }} }}",  # rdflib cannot read this one: refused too
        "ASK { VALUES ?e { <%s> } SERVICE ?e {} }" % url,
    ]


@pytest.mark.reliability
@pytest.mark.parametrize("case", range(12))
def test_service_however_spelled_is_400_and_never_connects(client, listener, case):  # noqa: F811
    port, contacts = listener
    query = walkarounds(port)[case]
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 400, response.data
    assert contacts == []


@pytest.mark.parametrize("query", [
    'ASK { ?s ?p "SERVICE <http://127.0.0.1:9/> {}" }',
    "ASK { ?s <http://example.org/SERVICE> ?o } # SERVICE <http://127.0.0.1:9/> {}",
    "ASK { ?s <http://example.org/download> ?o }",
    'ASK { ?s ?p "\\u0053ERVICE" }',
])
def test_service_inside_a_string_iri_or_comment_is_not_refused(client, query):
    assert client.get("/sparql", query_string={"query": query}).status_code == 200


def test_rdf_star_with_an_escape_is_refused_as_unreadable(client):
    response = client.get("/sparql", query_string={"query": 'ASK { << ?s ?p ?o >> ?q "\\u0041" }'})
    assert response.status_code == 400
    assert b"could not read" in response.data


def test_from_decides_the_dataset_only_when_it_is_a_clause(client):
    def count(query):
        return json.loads(client.get("/sparql", query_string={"query": query}).data)["results"]["bindings"][0]["n"]["value"]

    everything = count("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
    assert count('SELECT (COUNT(*) AS ?n) { ?s ?p ?o FILTER(?o != "from") }') == everything
    assert count("SELECT (COUNT(*) AS ?n) FROM <http://example.org/nowhere> { ?s ?p ?o }") == "0"


@pytest.fixture(scope="module")
def writable_app():
    app = make_app(EXECUTORS=1, UPDATE_TOKEN=TOKEN)
    yield app
    app.extensions["kg"].close()


@pytest.mark.reliability
@pytest.mark.parametrize("template", [
    "LOAD <{url}>",
    "L\\u004FAD SILENT <{url}> INTO GRAPH <http://example.org/g>",
    "PREFIX e: <{base}> LOAD e:x",
    "INSERT {{ ?s ?p ?o }} WHERE {{ FILTER(1<2)SERVICE#>\n<{url}> {{ ?s ?p ?o }} }}",
])
def test_load_or_service_in_an_update_is_400_and_never_connects(writable_app, listener, template):  # noqa: F811
    port, contacts = listener
    update = template.format(url=f"http://127.0.0.1:{port}/x", base=f"http://127.0.0.1:{port}/")
    response = writable_app.test_client().post("/sparql", data={"update": update},
                                               headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 400, response.data
    assert contacts == []


# One generator per construct that deepens pyoxigraph's recursion, with the depth at which 0.5.13 overflowed
# its 8 MiB stack (measured in subprocesses; see server/sparql/bounds.py).
NESTED = {
    "braces": (lambda n: "ASK{" + "{" * n + "}" * n + "}", 2197),
    "parentheses": (lambda n: "ASK{FILTER(" + "(" * n + "1" + ")" * n + ")}", 4687),
    "negations": (lambda n: "ASK{FILTER(" + "!" * n + "true)}", 9375),
    "unions": (lambda n: "ASK{" + "UNION".join(["{}"] * n) + "}", 6640),
    "sums": (lambda n: "ASK{FILTER(1" + "+1" * n + ")}", 6933),
    "disjunctions": (lambda n: "ASK{FILTER(false" + "||false" * n + ")}", 9375),
    "path steps": (lambda n: "ASK{<http://e/s> " + "/".join(["<http://e/p>"] * n) + " ?o}", 8202),
    "blank nodes": (lambda n: "ASK{?s " + "<http://e/p>[" * n + "<http://e/p> 1" + "]" * n + "}", 3466),
    "collection items": (lambda n: "ASK{?s <http://e/p> (" + " ".join(["1"] * n) + ")}", 4101),
    "exists": (lambda n: "ASK{FILTER(" + "EXISTS{FILTER(" * n + "true" + ")}" * n + ")}", 708),
    "escaped braces": (lambda n: "ASK{" + "\\u007B" * n + "\\u007D" * n + "}", 2197),
}


def assert_refused_fast(client, text: str):
    started = time.monotonic()
    response = client.post("/sparql", data=text.encode(), content_type="application/sparql-query")
    assert response.status_code == 400, response.data[:200]
    assert f"limit {bounds.BUDGET:,}".encode() in response.data
    assert time.monotonic() - started < 2


@pytest.mark.reliability
@pytest.mark.parametrize("construct", sorted(NESTED))
def test_nesting_ten_times_past_the_crash_never_crashes_the_worker(app, client, construct):
    generate, crash = NESTED[construct]
    pids = app.extensions["kg"].pool(app).pids()
    response = client.post("/sparql", data=generate(10 * crash).encode(), content_type="application/sparql-query")
    # Within the bound it runs on the worker's deep stack; past it, a 400 that names the limit. Never a 500.
    assert response.status_code in (200, 400), response.data[:200]
    assert response.status_code == 200 or f"limit {bounds.BUDGET:,}".encode() in response.data
    assert app.extensions["kg"].pool(app).pids() == pids  # the same worker, alive


@pytest.mark.parametrize("construct", sorted(NESTED))
def test_nesting_up_to_the_body_limit_is_400_naming_the_limit(client, construct):
    generate, crash = NESTED[construct]
    n = crash
    while len(generate(n * 2).encode()) <= LIMIT:  # bounded: doubles until past 1 MiB
        n *= 2
    text = generate(n)
    assert LIMIT // 2 < len(text.encode()) <= LIMIT
    assert_refused_fast(client, text)


@pytest.mark.reliability
@pytest.mark.parametrize("construct", ["braces", "exists", "parentheses", "collection items"])
def test_nesting_just_under_the_bound_answers_and_keeps_the_worker(app, client, construct):
    generate, crash = NESTED[construct]
    n = crash
    while bounds.weight(generate(n * 2)) <= bounds.BUDGET:  # bounded: doubles until past the budget
        n *= 2
    low, high = n, n * 2
    while high - low > 1:  # the deepest text still within the bound
        middle = (low + high) // 2
        low, high = (middle, high) if bounds.weight(generate(middle)) <= bounds.BUDGET else (low, middle)
    assert low > 10 * crash  # far past what the default 8 MiB stack survives
    pids = app.extensions["kg"].pool(app).pids()
    response = client.post("/sparql", data=generate(low).encode(), content_type="application/sparql-query")
    assert response.status_code in (200, 400), response.data[:200]
    assert b"limit" not in response.data
    assert app.extensions["kg"].pool(app).pids() == pids  # the same worker, alive
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


def test_values_of_five_thousand_two_variable_rows_answers(client):
    rows = " ".join(f'(<http://example.org/policy/id/task/T{n:06d}> "2024-01-{n % 28 + 1:02d}"'
                    f"^^<http://www.w3.org/2001/XMLSchema#date>)" for n in range(5000))
    text = f"SELECT ?task ?date {{ VALUES (?task ?date) {{ {rows} }} }}"
    response = client.post("/sparql", data=text.encode(), content_type="application/sparql-query",
                           query_string={"max-rows": "10000"})
    assert response.status_code == 200, response.data[:200]
    assert len(json.loads(response.data)["results"]["bindings"]) == 5000
