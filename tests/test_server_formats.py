"""Result formats and content negotiation: every standard format, written by Oxigraph, negotiated exactly."""

import pyoxigraph as ox
import pytest

SELECT = "SELECT ?s ?label { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?s ?label"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <http://example.org/graph/a> { ?s ?p ?o } }"
TRICKY = "SELECT ?c { ?s <http://www.w3.org/2000/01/rdf-schema#comment> ?c }"


def expected_rows() -> list:
    store = ox.Store()
    store.load(path="tests/data/server/sample.trig", format=ox.RdfFormat.TRIG)
    return [tuple(row) for row in store.query(SELECT, use_default_graph_as_union=True)]


@pytest.mark.parametrize("media_type, fmt", [
    ("application/sparql-results+json", ox.QueryResultsFormat.JSON),
    ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
    ("text/csv", ox.QueryResultsFormat.CSV),
    ("text/tab-separated-values", ox.QueryResultsFormat.TSV),
])
def test_select_answers_in_each_results_format_and_round_trips(client, media_type, fmt):
    response = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.content_type == f"{media_type}; charset=utf-8"
    if fmt == ox.QueryResultsFormat.CSV:  # CSV drops language tags by design (and cannot be parsed back)
        lines = response.data.decode().splitlines()
        assert lines[0] == "s,label"
        assert lines[1:] == [f"{s.value},{label.value}" for s, label in expected_rows()]
    else:
        rows = [tuple(row) for row in ox.parse_query_results(response.data, format=fmt)]
        assert rows == expected_rows()


@pytest.mark.parametrize("media_type", ["application/sparql-results+json", "application/sparql-results+xml",
                                        "text/tab-separated-values"])
def test_literals_with_tabs_quotes_and_newlines_round_trip(client, media_type):
    response = client.get("/sparql", query_string={"query": TRICKY}, headers={"Accept": media_type})
    fmt = ox.QueryResultsFormat.from_media_type(media_type)
    [row] = list(ox.parse_query_results(response.data, format=fmt))
    assert row["c"].value == 'tab\there, quote " and newline\nend'


@pytest.mark.parametrize("media_type", ["text/turtle", "application/n-triples", "application/rdf+xml",
                                        "application/ld+json", "application/trig", "application/n-quads"])
def test_construct_answers_in_each_rdf_format(client, media_type):
    response = client.get("/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.content_type == f"{media_type}; charset=utf-8"
    quads = list(ox.parse(response.data, format=ox.RdfFormat.from_media_type(media_type)))
    assert len(quads) == 15


def test_ask_answers_in_xml(client):
    response = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+xml"})
    assert response.status_code == 200
    assert b"<boolean>true</boolean>" in response.data


def test_no_accept_gets_json_for_select_and_turtle_for_construct(client):
    assert client.get("/sparql", query_string={"query": SELECT}).content_type.startswith("application/sparql-results+json")
    assert client.get("/sparql", query_string={"query": CONSTRUCT}).content_type.startswith("text/turtle")


def test_star_star_gets_the_documented_default(client):
    response = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": "*/*"})
    assert response.content_type.startswith("application/sparql-results+json")


def test_q_values_choose_the_preferred_format(client):
    accept = "application/sparql-results+json;q=0.5, text/csv;q=0.9, application/sparql-results+xml;q=0.1"
    response = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": accept})
    assert response.content_type.startswith("text/csv")


def test_nothing_acceptable_is_406_naming_the_offers(client):
    response = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert b"application/sparql-results+json" in response.data and b"text/tab-separated-values" in response.data


def test_select_asked_only_for_an_rdf_format_is_406(client):
    response = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": "text/turtle"})
    assert response.status_code == 406
    assert b"text/csv" in response.data


def test_format_parameter_overrides_accept(client):
    response = client.get("/sparql", query_string={"query": SELECT, "format": "tsv"}, headers={"Accept": "text/csv"})
    assert response.content_type.startswith("text/tab-separated-values")
    response = client.get("/sparql", query_string={"query": CONSTRUCT, "format": "nt"}, headers={"Accept": "text/turtle"})
    assert response.content_type.startswith("application/n-triples")


def test_unknown_format_parameter_is_400(client):
    assert client.get("/sparql", query_string={"query": SELECT, "format": "yaml"}).status_code == 400


def test_every_answer_varies_on_accept(client):
    for query in (SELECT, CONSTRUCT, "ASK {}"):
        assert "Accept" in client.get("/sparql", query_string={"query": query}).headers["Vary"]


def test_json_alias_application_json_is_understood(client):
    response = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.content_type.startswith("application/sparql-results+json")
