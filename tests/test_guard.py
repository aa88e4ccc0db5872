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
        f"ASK {{ VALUES ?e {{ <{url}> }} SERVICE ?e {{}} }}",
    ]


ALLOWED = "http://127.0.0.1:9/sparql"  # allow-listed; nothing listens there (SILENT: its failure is ignored)


@pytest.fixture(scope="module")
def federated():
    """An endpoint with an allow-list: a query naming only allowed endpoints runs in a worker that may connect
    out, so the guard alone (not the worker's sandbox) must keep every other endpoint away."""
    app = make_app(EXECUTORS=1, SERVICE_ALLOWLIST=[ALLOWED])
    yield app
    app.extensions["kg"].close()


# Case 0 is finding 1 itself (the old lexer let it through); the others are spellings it happened to catch.
@pytest.mark.parametrize("case", [pytest.param(0, marks=pytest.mark.reliability), *range(1, 12)])
def test_service_however_spelled_is_400_and_never_connects(federated, listener, case):  # noqa: F811
    port, contacts = listener
    query = walkarounds(port)[case]
    query = query[:query.rindex("}")] + f" SERVICE SILENT <{ALLOWED}> {{}} }}"
    response = federated.test_client().get("/sparql", query_string={"query": query})
    assert response.status_code == 400, response.data
    assert contacts == []


def test_allow_listed_service_alone_is_let_through(federated):
    query = f"SELECT * {{ SERVICE SILENT <{ALLOWED}> {{ ?s ?p ?o }} }}"
    assert federated.test_client().get("/sparql", query_string={"query": query}).status_code == 200


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
    "disjunctions": (lambda n: "ASK{FILTER(1" + "||1" * n + ")}", 9375),
    "path steps": (lambda n: "ASK{<s> " + "/".join(["<p>"] * n) + " ?o}", 8202),
    "blank nodes": (lambda n: "ASK{?s " + "<http://e/p>[" * n + "<http://e/p> 1" + "]" * n + "}", 3466),
    "collection items": (lambda n: "ASK{?s <http://e/p> (" + " ".join(["1"] * n) + ")}", 4101),
    "exists": (lambda n: "ASK{FILTER(" + "EXISTS{FILTER(" * n + "true" + ")}" * n + ")}", 708),
    "escaped braces": (lambda n: "ASK{" + "\\u007B" * n + "\\u007D" * n + "}", 2197),
}


def largest(fits, start: int) -> int:
    """The largest n >= start with fits(n), for fits true at start and monotone (bounded: ~60 calls)."""
    low, high = start, start * 2
    while fits(high):  # doubles until past: at most ~20 times for texts up to 1 MiB
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


def post(client, text: str, **params):
    return client.post("/sparql", data=text.encode(), content_type="application/sparql-query", query_string=params)


# Escaped braces never crashed (pyoxigraph rejects them as syntax); every other construct did.
@pytest.mark.parametrize("construct", [c if c == "escaped braces" else pytest.param(c, marks=pytest.mark.reliability)
                                       for c in sorted(NESTED)])
def test_nesting_ten_times_past_the_crash_never_crashes_the_worker(app, client, construct):
    generate, crash = NESTED[construct]
    pids = app.extensions["kg"].pool(app).pids()
    response = post(client, generate(10 * crash), timeout="2")
    # Within the bound it runs on the worker's deep stack (long chains may just be slow: 503 at the time
    # limit, the worker killed on purpose); past it, a 400 before parsing. Never a 500 from a crashed worker.
    assert response.status_code in (200, 400, 503), response.data[:200]
    if response.status_code != 503:
        assert app.extensions["kg"].pool(app).pids() == pids  # the same worker, alive


@pytest.mark.parametrize("construct", sorted(NESTED))
def test_nesting_up_to_the_body_limit_is_400_naming_the_limit(client, construct):
    generate, crash = NESTED[construct]
    text = generate(largest(lambda n: len(generate(n).encode()) <= LIMIT, crash))
    assert LIMIT - 20 < len(text.encode()) <= LIMIT
    started = time.monotonic()
    response = post(client, text)
    assert response.status_code == 400, response.data[:200]
    assert f"limit {bounds.BUDGET:,}".encode() in response.data
    assert time.monotonic() - started < 2


@pytest.mark.reliability
@pytest.mark.parametrize("construct", ["braces", "exists", "parentheses", "negations"])
def test_nesting_just_under_the_bound_answers_and_keeps_the_worker(app, client, construct):
    generate, crash = NESTED[construct]
    n = largest(lambda n: bounds.weight(generate(n)) <= bounds.BUDGET, crash)
    assert n > 5 * crash  # far past what the default 8 MiB stack survives
    pids = app.extensions["kg"].pool(app).pids()
    response = post(client, generate(n))
    assert response.status_code in (200, 400), response.data[:200]
    assert b"limit" not in response.data  # a 400 here is the parser's, not the bound's
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
