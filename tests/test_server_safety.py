"""Safe public defaults: a real timeout, no outbound requests, token-guarded update, row cap, size limits, CORS."""

import json
import os
import socket
import threading

import pytest
from serverkit import CROSS_PRODUCT, make_app
from serverkit import alive as running

from server.sparql import guard

TOKEN = "s3cret-token"


APP_CONFIG = {"EXECUTORS": 2, "MAX_CONTENT_LENGTH": 4096, "ROW_CAP": 5}  # the shared `app` fixture (tests/conftest.py) serves the sample data with these settings


@pytest.fixture()
def listener():
    """A loopback port that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    contacts, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            contacts.append(1)
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], contacts
    stop.set()
    thread.join(2)
    server.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_query_over_the_time_limit_is_503_and_its_worker_is_killed(app, client):
    pool = app.extensions["kg"].pool(app)
    client.get("/sparql", query_string={"query": "ASK {}"})  # both workers started and idle
    before = set(pool.pids())
    response = client.get("/sparql", query_string={"query": CROSS_PRODUCT, "timeout": "1"})
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert b"1 s" in response.data
    killed = before - set(pool.pids())
    assert len(killed) == 1
    assert not alive(killed.pop())  # the CPU is freed: the process running the query is gone
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


def test_simple_queries_answer_while_a_runaway_query_runs(client, app):
    results = {}

    def runaway():
        results["slow"] = app.test_client().get("/sparql", query_string={"query": CROSS_PRODUCT, "timeout": "4"})

    thread = threading.Thread(target=runaway)
    thread.start()
    fast = [client.get("/sparql", query_string={"query": f"ASK {{ ?s ?p {n} }}"}) for n in range(5)]
    thread.join(30)
    assert [r.status_code for r in fast] == [200] * 5
    assert results["slow"].status_code == 503


def test_timeout_parameter_cannot_raise_the_server_limit(app):
    from server.sparql import protocol

    assert protocol.lowered({"timeout": "99999"}, "timeout", 10.0) == 10.0
    assert protocol.lowered({"timeout": "2.5"}, "timeout", 10.0) == 2.5


def test_bad_timeout_parameter_is_400(client):
    assert client.get("/sparql", query_string={"query": "ASK {}", "timeout": "soon"}).status_code == 400


def test_from_a_remote_iri_never_fetches(client, listener):
    port, contacts = listener
    response = client.get("/sparql", query_string={"query": f"ASK FROM <http://127.0.0.1:{port}/x> {{}}"})
    assert response.status_code == 200
    assert contacts == []


def test_service_is_refused_without_connecting(client, listener):
    port, contacts = listener
    query = f"SELECT * {{ SERVICE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 400
    assert f"http://127.0.0.1:{port}/".encode() in response.data
    assert contacts == []


def test_service_hidden_behind_unicode_escapes_is_refused(client, listener):
    port, contacts = listener
    query = f"SELECT * {{ \\u0053ERVICE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}"
    assert client.get("/sparql", query_string={"query": query}).status_code == 400
    assert contacts == []


def test_service_with_a_variable_endpoint_is_refused(client):
    query = "SELECT * { VALUES ?e { <http://127.0.0.1:9/> } SERVICE ?e { ?s ?p ?o } }"
    assert client.get("/sparql", query_string={"query": query}).status_code == 400


def test_allow_listed_service_is_called(listener):
    # The control experiment: the listener does see pyoxigraph's SERVICE call once the endpoint is allowed.
    port, contacts = listener
    endpoint = f"http://127.0.0.1:{port}/"
    app = make_app(EXECUTORS=1, SERVICE_ALLOWLIST=[endpoint])
    try:
        query = f"SELECT * {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"
        response = app.test_client().get("/sparql", query_string={"query": query})
        assert response.status_code == 400  # our listener hangs up: the remote call fails
        assert contacts
    finally:
        app.extensions["kg"].close()


def test_load_without_token_is_403_and_never_connects(client, listener):
    port, contacts = listener
    response = client.post("/sparql", data={"update": f"LOAD <http://127.0.0.1:{port}/x>"})
    assert response.status_code == 403
    assert contacts == []


def test_update_is_403_on_a_read_only_endpoint(client):
    response = client.post("/sparql", data=b"CLEAR ALL", content_type="application/sparql-update")
    assert response.status_code == 403


@pytest.fixture(scope="module")
def writable_app():
    app = make_app(UPDATE_TOKEN=TOKEN)
    yield app
    app.extensions["kg"].close()


def count_tasks(client) -> tuple[str, str]:
    response = client.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) { ?t a <http://example.org/Task> }"})
    return json.loads(response.data)["results"]["bindings"][0]["n"]["value"], response.headers["ETag"]


def test_update_with_the_wrong_token_is_403(writable_app):
    response = writable_app.test_client().post(
        "/sparql", data={"update": "CLEAR ALL"}, headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 403


def test_update_with_the_token_changes_data_and_etag(writable_app):
    client = writable_app.test_client()
    before, etag_before = count_tasks(client)
    update = "INSERT DATA { GRAPH <http://example.org/graph/a> { <http://example.org/task9> a <http://example.org/Task> } }"
    response = client.post("/sparql", data=update.encode(), content_type="application/sparql-update",
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 204
    after, etag_after = count_tasks(client)
    assert (before, after) == ("3", "4")
    assert etag_before != etag_after


def test_load_from_a_source_not_allow_listed_is_refused_even_with_the_token(writable_app, listener):
    port, contacts = listener
    response = writable_app.test_client().post(
        "/sparql", data={"update": f"LOAD <http://127.0.0.1:{port}/x>"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 400
    assert contacts == []


def test_row_cap_truncates_and_says_so(client):
    response = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }"})
    assert response.status_code == 200
    assert response.headers["X-Result-Truncated"] == "5"
    body = json.loads(response.data)
    assert len(body["results"]["bindings"]) == 5
    assert body["truncated"] == {"rowCap": 5}


def test_row_cap_applies_to_every_format_and_to_construct(client):
    tsv = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }", "format": "tsv"})
    assert len(tsv.data.decode().splitlines()) == 1 + 5
    nt = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "nt"})
    assert nt.headers["X-Result-Truncated"] == "5"
    assert len(nt.data.decode().splitlines()) == 5


def test_answers_under_the_cap_are_not_marked(client):
    response = client.get("/sparql", query_string={"query": "SELECT * { ?s a ?type }"})
    assert "X-Result-Truncated" not in response.headers
    assert "truncated" not in json.loads(response.data)


def test_max_rows_lowers_the_cap_per_request(client):
    response = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }", "max-rows": "2", "format": "tsv"})
    assert response.headers["X-Result-Truncated"] == "2"
    assert len(response.data.decode().splitlines()) == 3


def test_body_over_the_limit_is_413(client):
    response = client.post("/sparql", data=b"ASK {} " + b"#" * 5000, content_type="application/sparql-query")
    assert response.status_code == 413


def test_cors_allows_any_origin_for_queries(client):
    response = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Origin": "https://elsewhere.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/sparql", headers={"Origin": "https://elsewhere.example",
                                                   "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]


def test_unexpected_errors_are_500_with_an_id_and_no_traceback(client, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(guard, "refused_targets", explode)
    # A query asked nowhere else in this module: a cached answer would be replayed without the view.
    response = client.get("/sparql", query_string={"query": "ASK { ?s ?p 'unexpected' }"})
    assert response.status_code == 500
    assert b"secret internals" not in response.data and b"Traceback" not in response.data
    error_id = response.data.decode().split("quote id ")[1].split()[0]
    assert any(error_id in record.getMessage() for record in caplog.records)


def test_errors_are_an_html_page_for_browsers(client):
    response = client.get("/sparql", query_string={"query": "SELECT"}, headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 400
    assert response.content_type == "text/html; charset=utf-8"
    assert b"<h1>400" in response.data


def test_literals_that_look_like_row_separators_do_not_truncate(client):
    # The fast path counts "},{" as a row bound; a literal full of them forces the exact re-count.
    query = 'SELECT ?x { VALUES ?x { "},{},{},{" "a},{b" "},{" } }'
    response = client.get("/sparql", query_string={"query": query})
    assert "X-Result-Truncated" not in response.headers
    assert [b["x"]["value"] for b in json.loads(response.data)["results"]["bindings"]] == ["},{},{},{", "a},{b", "},{"]


def test_big_answers_cross_the_process_boundary_in_chunks():
    app = make_app(EXECUTORS=1)
    try:
        values = " ".join(str(n) for n in range(4000))
        response = app.test_client().get("/sparql", query_string={"query": f"SELECT ?n {{ VALUES ?n {{ {values} }} }}"})
        assert response.status_code == 200
        assert len(response.data) > 64 * 1024
        assert len(json.loads(response.data)["results"]["bindings"]) == 4000
    finally:
        app.extensions["kg"].close()


def test_guard_and_bound_examples_hold():
    import doctest

    from server.sparql import bounds

    results = [doctest.testmod(module) for module in (guard, bounds)]
    assert [r.failed for r in results] == [0, 0] and min(r.attempted for r in results) >= 2


def test_a_crashed_worker_is_a_500_with_an_id_and_is_replaced():
    import signal
    import time

    app = make_app(EXECUTORS=1)
    try:
        client = app.test_client()
        assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
        [pid] = app.extensions["kg"].pool(app).pids()
        os.kill(pid, signal.SIGKILL)
        while running(pid):  # neither reaped nor a zombie yet (the reap may come between two looks)
            time.sleep(0.05)
        crashed = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
        assert crashed.status_code == 500
        assert b"quote id" in crashed.data and b"Traceback" not in crashed.data
        assert client.get("/sparql", query_string={"query": "ASK { ?s ?p 1 }"}).status_code == 200
    finally:
        app.extensions["kg"].close()
