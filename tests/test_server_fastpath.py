"""Cached /sparql answers replayed before Flask: the same bytes and headers, never a stale or wrong one."""

import json
import logging

import pytest
from serverkit import make_app

from server import answering

QUERY = "SELECT ?s { ?s a <http://example.org/Task> } ORDER BY ?s"
TOKEN = "fast-token"


APP_CONFIG = {"EXECUTORS": 1}  # the shared `app` fixture (tests/conftest.py) serves the sample data with these settings


def hits(app) -> int:
    return app.wsgi_app.hits


def same(first, second) -> None:
    assert second.status == first.status
    assert second.get_data() == first.get_data()
    assert sorted(second.headers.items()) == sorted(first.headers.items())


@pytest.mark.parametrize("send", [
    lambda c: c.post("/sparql", data={"query": QUERY}, headers={"Accept": "text/csv"}),
    lambda c: c.get("/sparql", query_string={"query": QUERY, "format": "xml"}),
    lambda c: c.post("/sparql", data=QUERY.encode(), content_type="application/sparql-query",
                     headers={"Origin": "https://elsewhere.example"}),
    lambda c: c.post("/sparql", data={"query": "DESCRIBE <http://example.org/task1>"},
                     headers={"Accept": "application/n-triples"}),
    lambda c: c.head("/sparql", query_string={"query": QUERY}),
], ids=["form-csv", "get-xml", "direct-post-cors", "describe-nt", "head"])
def test_a_repeated_query_gets_the_same_bytes_and_headers_without_flask(app, client, send, monkeypatch):
    first = send(client)
    assert first.status_code == 200
    before = hits(app)
    monkeypatch.setattr(answering, "query", lambda *args: pytest.fail("the replay answered the query again"))
    second = send(client)
    assert hits(app) == before + 1
    same(first, second)
    assert second.headers["ETag"] and second.headers["Vary"] == "Accept"
    assert second.headers["Content-Length"] == str(len(first.get_data())) or first.request.method == "HEAD"


def test_another_accept_or_host_is_another_answer(app, client):
    client.post("/sparql", data={"query": QUERY})
    before = hits(app)
    tsv = client.post("/sparql", data={"query": QUERY}, headers={"Accept": "text/tab-separated-values"})
    elsewhere = client.post("/sparql", data={"query": QUERY}, base_url="http://other.example")
    client.set_cookie("lang", "en")
    with_cookie = client.post("/sparql", data={"query": QUERY})
    assert hits(app) == before
    assert with_cookie.status_code == 200
    assert tsv.content_type.startswith("text/tab-separated-values")
    assert elsewhere.headers["ETag"] != tsv.headers["ETag"]


def test_conditional_requests_go_through_flask_and_get_304(app, client):
    etag = client.get("/sparql", query_string={"query": QUERY}).headers["ETag"]
    client.get("/sparql", query_string={"query": QUERY})
    before = hits(app)
    response = client.get("/sparql", query_string={"query": QUERY}, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert hits(app) == before


def test_errors_and_volatile_answers_are_never_replayed(app, client):
    for _ in range(2):
        assert client.get("/sparql", query_string={"query": "SELECT"}).status_code == 400
        client.get("/sparql", query_string={"query": "SELECT (RAND() AS ?r) {}"})
    before = hits(app)
    client.get("/sparql", query_string={"query": "SELECT (RAND() AS ?r) {}"})
    assert hits(app) == before


def test_replayed_answers_are_counted_and_logged(app, client, caplog):
    client.get("/sparql", query_string={"query": "ASK { ?s ?p 7 }"})
    with caplog.at_level(logging.INFO, logger="server.access"):
        client.get("/sparql", query_string={"query": "ASK { ?s ?p 7 }"})
    line = json.loads([r for r in caplog.records if r.name == "server.access"][-1].getMessage())
    assert line["cache"] == "hit" and line["status"] == 200 and line["query"]
    text = client.get("/metrics").data.decode()
    assert 'kg_result_cache_total{outcome="hit"}' in text


def test_no_replay_when_the_cache_is_off():
    app = make_app(EXECUTORS=1, CACHE=False)
    try:
        client = app.test_client()
        for _ in range(3):
            assert client.get("/sparql", query_string={"query": QUERY}).status_code == 200
        assert hits(app) == 0
    finally:
        app.extensions["kg"].close()


def test_an_update_ends_every_replay():
    app = make_app(UPDATE_TOKEN=TOKEN)
    try:
        client = app.test_client()
        count = "SELECT (COUNT(*) AS ?n) { ?t a <http://example.org/Task> }"
        first = client.get("/sparql", query_string={"query": count})
        assert client.get("/sparql", query_string={"query": count}).get_data() == first.get_data()
        update = "INSERT DATA { GRAPH <http://example.org/graph/a> { <http://example.org/t9> a <http://example.org/Task> } }"
        assert client.post("/sparql", data={"update": update}, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 204
        after = client.get("/sparql", query_string={"query": count})
        assert after.get_json()["results"]["bindings"][0]["n"]["value"] == "4"
        assert after.headers["ETag"] != first.headers["ETag"]
    finally:
        app.extensions["kg"].close()
