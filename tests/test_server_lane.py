"""Plain queries answered before Flask (server/lane.py): byte for byte what Flask gives, for answers and errors."""

import json
import logging
import time

import pytest
from prometheus_client import REGISTRY
from serverkit import CROSS_PRODUCT, make_app

TASKS = "SELECT ?s { ?s a <http://example.org/Task> } ORDER BY ?s"
JSON = "application/sparql-results+json"
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"


def apps(**config):
    """The same service twice: with the lane (the default) and with every request through Flask."""
    built = [make_app(CACHE=False, LANE=lane, **config) for lane in (True, False)]
    return built


def lane_of(app):
    return app.wsgi_app.wsgi_app  # FastPath(Lane(Flask))


@pytest.fixture(scope="module")
def pair():
    built = apps()
    yield built
    for app in built:
        app.extensions["kg"].close()


# (method, query string, body, content type, headers, whether the lane answers it itself)
CASES = {
    "get-json": ("GET", {"query": TASKS}, None, None, {"Accept": JSON}, True),
    "get-format-csv": ("GET", {"query": TASKS, "format": "csv"}, None, None, {}, True),
    "form-tsv": ("POST", {}, {"query": TASKS}, FORM, {"Accept": "text/tab-separated-values"}, True),
    "direct-xml": ("POST", {}, TASKS, DIRECT, {"Accept": "application/sparql-results+xml"}, True),
    "direct-charset": ("POST", {}, TASKS, DIRECT + "; charset=utf-8", {"Accept": JSON}, True),
    "cors-origin": ("POST", {}, {"query": TASKS}, FORM, {"Origin": "https://elsewhere.example"}, True),
    "construct-turtle": ("GET", {"query": "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <http://example.org/graph/a> "
                                          "{ ?s ?p ?o } }"}, None, None, {"Accept": "text/turtle"}, True),
    "describe-nt": ("POST", {}, {"query": "DESCRIBE <http://example.org/task1>"}, FORM,
                    {"Accept": "application/n-triples"}, True),
    "default-graph-uri": ("GET", {"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
                                  "default-graph-uri": "http://example.org/graph/b"}, None, None, {}, True),
    "named-graph-uri": ("POST", {"named-graph-uri": "http://example.org/graph/a"},
                        "SELECT ?g { GRAPH ?g { ?s ?p ?o } } LIMIT 1", DIRECT, {}, True),
    "row-cap": ("GET", {"query": TASKS, "max-rows": "1"}, None, None, {"Accept": JSON}, True),
    "volatile": ("GET", {"query": "SELECT (STRLEN(STR(NOW())) > 0 AS ?ok) {}"}, None, None, {}, True),
    "ask": ("POST", {}, {"query": "ASK { ?s ?p ?o }"}, FORM, {"Accept": "text/csv"}, True),
    # refused before the query runs: Flask answers, as without the lane
    "bad-timeout": ("GET", {"query": TASKS, "timeout": "soon"}, None, None, {}, False),
    "nothing-acceptable": ("GET", {"query": TASKS}, None, None, {"Accept": "image/png"}, False),
    "service-refused": ("GET", {"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}, None, None, {},
                        False),
    "update-via-get": ("GET", {"query": TASKS, "update": "CLEAR ALL"}, None, None, {}, False),
    "update-read-only": ("POST", {}, {"update": "CLEAR ALL"}, FORM, {}, False),
    "latin-1": ("POST", {}, TASKS, DIRECT + "; charset=latin-1", {}, False),
    "two-queries": ("POST", {}, "query=ASK{}&query=ASK{}", FORM, {}, False),
    "bad-utf8": ("POST", {}, b"query=ASK%20%7B%22\xff%22%7D", FORM, {}, False),
    # not taken at all (conditional, HEAD, service description)
    "if-none-match": ("GET", {"query": TASKS}, None, None, {"If-None-Match": '"x"'}, False),
    "head": ("HEAD", {"query": TASKS}, None, None, {}, False),
    "service-description": ("GET", {}, None, None, {"Accept": "text/turtle"}, False),
    # errors once the query ran: rendered by Flask's handlers, not run twice
    "syntax-error": ("POST", {}, {"query": "SELECT * WHERE { ?s ?p }"}, FORM, {}, False),
    "syntax-error-html": ("GET", {"query": "SELECT"}, None, None, {"Accept": "text/html,*/*;q=0.8"}, False),
    "graph-for-select": ("GET", {"query": TASKS}, None, None, {"Accept": "text/turtle"}, False),
}


def send(app, method, params, body, content_type, headers):
    client = app.test_client()
    if isinstance(body, dict):
        return client.open("/sparql", method=method, query_string=params, data=body, headers=headers)
    data = body.encode() if isinstance(body, str) else body
    return client.open("/sparql", method=method, query_string=params, data=data, content_type=content_type,
                       headers=headers)


@pytest.mark.parametrize("name", list(CASES))
def test_the_lane_gives_exactly_what_flask_gives(pair, name):
    method, params, body, content_type, headers, taken = CASES[name]
    with_lane, through_flask = pair
    before = lane_of(with_lane).answered
    fast = send(with_lane, method, params, body, content_type, headers)
    slow = send(through_flask, method, params, body, content_type, headers)
    assert fast.status == slow.status
    assert list(fast.headers.items()) == list(slow.headers.items())  # the same headers, in the same order
    if name == "volatile":  # NOW() differs between two runs; the shape does not
        assert json.loads(fast.get_data())["head"] == json.loads(slow.get_data())["head"]
    else:
        assert fast.get_data() == slow.get_data()
    assert lane_of(with_lane).answered == before + (1 if taken else 0)


@pytest.mark.parametrize(("name", "status"), [("row-cap", 200), ("bad-timeout", 400), ("nothing-acceptable", 406),
                                              ("service-refused", 400), ("update-read-only", 403),
                                              ("latin-1", 415), ("syntax-error", 400), ("graph-for-select", 406),
                                              ("if-none-match", 200), ("head", 200)])
def test_cases_have_the_statuses_they_are_meant_to(pair, name, status):
    method, params, body, content_type, headers, _ = CASES[name]
    response = send(pair[0], method, params, body, content_type, headers)
    assert response.status_code == status
    if name == "row-cap":
        assert response.headers["X-Result-Truncated"] == "1"
        assert json.loads(response.get_data())["truncated"] == {"rowCap": 1}


def test_the_access_log_line_and_metrics_match(pair, caplog):
    lines = []
    for app in pair:
        counter = {"method": "POST", "endpoint": "sparql.endpoint", "status": "200"}
        before = REGISTRY.get_sample_value("kg_http_requests_total", counter) or 0
        with caplog.at_level(logging.INFO, logger="server.access"):
            caplog.clear()
            send(app, "POST", {}, {"query": TASKS}, FORM, {"Accept": JSON})
        records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "server.access"]
        assert len(records) == 1
        assert REGISTRY.get_sample_value("kg_http_requests_total", counter) == before + 1
        lines.append({k: v for k, v in records[0].items() if k not in ("ms", "query_ms")})
    assert lines[0] == lines[1]
    assert lines[0]["cache"] == "off" and lines[0]["status"] == 200 and lines[0]["query"]


def test_cors_with_a_list_of_origins_matches():
    built = apps(CORS_ORIGINS=["https://a.example"])
    try:
        for origin in ("https://a.example", "https://b.example"):
            fast, slow = (send(app, "GET", {"query": TASKS}, None, None, {"Origin": origin}) for app in built)
            assert list(fast.headers.items()) == list(slow.headers.items())
        assert fast.headers.get("Access-Control-Allow-Origin") is None
        assert lane_of(built[0]).answered == 2
    finally:
        for app in built:
            app.extensions["kg"].close()


def test_a_timeout_in_the_lane_is_503_at_the_limit_not_twice(pair):
    started = time.monotonic()
    response = send(pair[0], "POST", {}, {"query": CROSS_PRODUCT, "timeout": "1"}, FORM, {})
    elapsed = time.monotonic() - started
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_data().startswith(b"Query timeout")
    assert elapsed < 1.9  # one run of one second (a second run would take two)


def test_an_unexpected_error_after_the_run_is_flasks_500_with_an_id(pair, monkeypatch, caplog):
    from server import formats

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(formats, "by_name", explode)  # called once the worker has answered
    response = send(pair[0], "GET", {"query": "ASK { ?s ?p 'lane-unexpected' }"}, None, None, {})
    assert response.status_code == 500
    assert b"secret internals" not in response.get_data() and b"Traceback" not in response.get_data()
    error_id = response.get_data().decode().split("quote id ")[1].split()[0]
    assert any(error_id in record.getMessage() for record in caplog.records)
