"""Operations and caching: /healthz, /metrics, access logs, ETag / 304 and the result cache."""

import json
import logging

from serverkit import SAMPLE, make_app

QUERY = "SELECT ?s { ?s a <http://example.org/Task> } ORDER BY ?s"


APP_CONFIG = {"EXECUTORS": 1}  # the shared `app` fixture (tests/conftest.py) serves the sample data with these settings


def test_healthz_reports_store_triples_and_versions(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["store"] == "open"
    assert body["triples"] == 20
    assert body["version"] and body["dataset_version"] and body["pyoxigraph"]


def test_metrics_count_requests_by_status_and_latency(client):
    client.get("/sparql", query_string={"query": "ASK {}"})
    client.get("/sparql", query_string={"query": "SELECT"})
    text = client.get("/metrics").data.decode()
    assert 'kg_http_requests_total{endpoint="sparql.endpoint",method="GET",status="200"}' in text
    assert 'kg_http_errors_total{status="400"}' in text
    assert "kg_http_request_seconds_bucket" in text
    assert "kg_query_timeouts_total" in text


def test_access_log_is_one_json_line_with_query_time_and_size(client, caplog):
    with caplog.at_level(logging.INFO, logger="server.access"):
        client.get("/sparql", query_string={"query": QUERY, "format": "tsv"})
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "server.access"]
    assert line["path"] == "/sparql" and line["status"] == 200
    assert line["bytes"] > 0 and "ms" in line and "query_ms" in line


def test_answers_carry_etag_and_cache_control(client):
    response = client.get("/sparql", query_string={"query": QUERY})
    assert response.headers["ETag"]
    assert "max-age" in response.headers["Cache-Control"]


def test_if_none_match_gets_304_without_a_body(client):
    etag = client.get("/sparql", query_string={"query": QUERY}).headers["ETag"]
    response = client.get("/sparql", query_string={"query": QUERY}, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag


def test_etag_differs_by_format_query_and_dataset_parameters(client):
    def etag(**params):
        return client.get("/sparql", query_string={"query": QUERY, **params}).headers["ETag"]

    tags = {etag(), etag(format="tsv"), etag(query=QUERY + " LIMIT 1"),
            etag(**{"default-graph-uri": "http://example.org/graph/a"})}
    assert len(tags) == 4


def test_repeated_query_is_served_from_the_cache(client, caplog):
    client.get("/sparql", query_string={"query": QUERY + " # cache probe"})
    with caplog.at_level(logging.INFO, logger="server.access"):
        second = client.get("/sparql", query_string={"query": QUERY + " # cache probe"})
    assert second.status_code == 200
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "server.access"]
    assert line["cache"] == "hit"


def test_volatile_queries_are_neither_cached_nor_tagged(client):
    response = client.get("/sparql", query_string={"query": "SELECT (RAND() AS ?r) {}"})
    assert "ETag" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_cache_can_be_switched_off():
    app = make_app(EXECUTORS=1, CACHE=False)
    try:
        client = app.test_client()
        first = client.get("/sparql", query_string={"query": QUERY})
        second = client.get("/sparql", query_string={"query": QUERY})
        assert first.data == second.data
        assert app.extensions["kg"].cache is None
        assert first.headers["ETag"] == second.headers["ETag"]  # ETags stay: revalidation is still cheap
    finally:
        app.extensions["kg"].close()


def test_a_changed_dataset_changes_the_etag(tmp_path):
    copy = tmp_path / "sample.trig"
    copy.write_bytes(SAMPLE.read_bytes())
    tags = []
    for extra in ("", "<http://example.org/graph/c> { <http://example.org/x> a <http://example.org/Task> . }\n"):
        copy.write_bytes(SAMPLE.read_bytes() + extra.encode())
        app = make_app(files=[copy], EXECUTORS=1)
        try:
            tags.append(app.test_client().get("/sparql", query_string={"query": QUERY}).headers["ETag"])
        finally:
            app.extensions["kg"].close()
    assert tags[0] != tags[1]
