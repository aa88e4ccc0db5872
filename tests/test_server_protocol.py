"""SPARQL 1.1 Protocol at /sparql: operations, dataset parameters, bad requests, service description."""

import json

import pyoxigraph as ox
import pytest

GRAPH_A, GRAPH_B = "http://example.org/graph/a", "http://example.org/graph/b"
COUNT_TASKS = "SELECT (COUNT(?t) AS ?n) { ?t a <http://example.org/Task> }"


def boolean(response) -> bool:
    assert response.status_code == 200, response.data
    return json.loads(response.data)["boolean"]


def first_value(response) -> str:
    assert response.status_code == 200, response.data
    return json.loads(response.data)["results"]["bindings"][0]["n"]["value"]


def test_get_with_query_parameter_answers(client):
    assert first_value(client.get("/sparql", query_string={"query": COUNT_TASKS})) == "3"


def test_post_form_answers(client):
    assert first_value(client.post("/sparql", data={"query": COUNT_TASKS})) == "3"


def test_post_sparql_query_body_answers(client):
    response = client.post("/sparql", data=COUNT_TASKS.encode(), content_type="application/sparql-query")
    assert first_value(response) == "3"


def test_default_graph_is_the_union_of_all_named_graphs(client):
    query = "ASK { <http://example.org/task1> <http://example.org/lead> ?o ; a <http://example.org/Task> }"
    assert boolean(client.get("/sparql", query_string={"query": query})) is True


def test_default_graph_uri_replaces_the_union(client):
    query = "ASK { <http://example.org/org1> ?p ?o }"
    only_a = client.get("/sparql", query_string={"query": query, "default-graph-uri": GRAPH_A})
    assert boolean(only_a) is False
    only_b = client.get("/sparql", query_string={"query": query, "default-graph-uri": GRAPH_B})
    assert boolean(only_b) is True


def test_named_graph_uri_limits_graph_patterns(client):
    query = "SELECT (COUNT(DISTINCT ?g) AS ?n) { GRAPH ?g { ?s ?p ?o } }"
    response = client.get("/sparql", query_string={"query": query, "named-graph-uri": GRAPH_B})
    assert first_value(response) == "1"


def test_protocol_dataset_overrides_from_in_the_query(client):
    query = f"ASK FROM <{GRAPH_A}> {{ <http://example.org/org1> ?p ?o }}"
    assert boolean(client.get("/sparql", query_string={"query": query})) is False
    response = client.get("/sparql", query_string={"query": query, "default-graph-uri": GRAPH_B})
    assert boolean(response) is True


def test_put_is_405_with_allow_header(client):
    response = client.put("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


def test_two_query_parameters_are_400(client):
    response = client.get("/sparql?query=ASK%20%7B%7D&query=SELECT%20*%20%7B%7D")
    assert response.status_code == 400
    assert b"exactly one" in response.data


def test_post_with_text_plain_is_415(client):
    assert client.post("/sparql", data=b"ASK {}", content_type="text/plain").status_code == 415


def test_post_without_content_type_is_415(client):
    assert client.post("/sparql", data=b"query=ASK%20%7B%7D").status_code == 415


def test_post_in_utf16_is_415(client):
    body = "ASK {}".encode("utf-16")
    response = client.post("/sparql", data=body, content_type="application/sparql-query; charset=UTF-16")
    assert response.status_code == 415


def test_body_that_is_not_utf8_is_400(client):
    response = client.post("/sparql", data=b"ASK { ?s ?p \"\xff\" }", content_type="application/sparql-query")
    assert response.status_code == 400


def test_syntax_error_is_400_quoting_line_and_column(client):
    response = client.get("/sparql", query_string={"query": "SELECT * {\n  ?s ?p }"})
    assert response.status_code == 400
    assert response.content_type.startswith("text/plain")
    assert b"error at 2:" in response.data


def test_update_via_get_is_400(client):
    assert client.get("/sparql", query_string={"update": "CLEAR ALL"}).status_code == 400


def test_query_and_update_in_one_form_are_400(client):
    assert client.post("/sparql", data={"query": "ASK {}", "update": "CLEAR ALL"}).status_code == 400


def test_head_answers_without_body(client):
    response = client.head("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Type"].startswith("application/sparql-results+json")


def test_service_description_is_rdf_with_the_endpoint_and_union_default_graph(client):
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.content_type == "text/turtle; charset=utf-8"
    store = ox.Store()
    store.load(response.data, format=ox.RdfFormat.TURTLE)
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert store.query(f"ASK {{ ?s a <{sd}Service> ; <{sd}endpoint> <http://localhost/sparql> }}")
    assert store.query(f"ASK {{ ?s <{sd}feature> <{sd}UnionDefaultGraph> ; <{sd}supportedLanguage> <{sd}SPARQL11Query> }}")
    assert store.query(f"ASK {{ ?d <{sd}namedGraph> [ <{sd}name> <{GRAPH_A}> ] }}")


def test_service_description_without_accept_is_turtle(client):
    response = client.get("/sparql")
    assert response.content_type == "text/turtle; charset=utf-8"


def test_browser_get_without_query_gets_the_query_page(client):
    response = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert b"<form" in response.data and b"union" in response.data


def test_relative_iris_resolve_against_the_endpoint(client):
    response = client.post("/sparql", data=b"CONSTRUCT { <s> <p> 1 } WHERE {}", content_type="application/sparql-query",
                           headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    assert response.data.startswith(b"<http://localhost/s> <http://localhost/p> ")


@pytest.mark.reliability
@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "0", "-1", "1e999"])
def test_a_timeout_that_is_not_a_positive_finite_number_is_400(client, value):
    response = client.get("/sparql", query_string={"query": "ASK {}", "timeout": value})
    assert response.status_code == 400
    assert b"timeout must be a positive finite number" in response.data


def test_max_rows_zero_asks_for_no_rows(client):
    response = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }", "max-rows": "0"},
                          headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.data.decode().strip().count("\n") == 0
