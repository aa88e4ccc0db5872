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


def test_select_asked_only_for_an_rdf_format_gets_the_results_default(client):
    # A client sends one Accept for every query form (rdflib's SPARQLStore): the other family gets its default.
    response = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.content_type.startswith("application/sparql-results+json")


def test_construct_asked_only_for_a_results_format_gets_turtle(client):
    response = client.get("/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    assert len(list(ox.parse(response.data, format=ox.RdfFormat.TURTLE))) == 15


def test_format_parameter_overrides_accept(client):
    response = client.get("/sparql", query_string={"query": SELECT, "format": "tsv"}, headers={"Accept": "text/csv"})
    assert response.content_type.startswith("text/tab-separated-values")
    response = client.get("/sparql", query_string={"query": CONSTRUCT, "format": "nt"}, headers={"Accept": "text/turtle"})
    assert response.content_type.startswith("application/n-triples")


def test_unknown_format_name_falls_back_to_accept(client):
    response = client.get("/sparql", query_string={"query": SELECT, "format": "yaml"}, headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/csv")


# (format= value, query, media type answered) for names answered from the start ...
NAMED = [
    ("jsonld", CONSTRUCT, "application/ld+json"), ("json", CONSTRUCT, "application/ld+json"),
    ("json", SELECT, "application/sparql-results+json"), ("turtle", CONSTRUCT, "text/turtle"),
    ("ttl", CONSTRUCT, "text/turtle"), ("rdf", CONSTRUCT, "application/rdf+xml"),
    ("rdfxml", CONSTRUCT, "application/rdf+xml"), ("xml", CONSTRUCT, "application/rdf+xml"),
    ("xml", SELECT, "application/sparql-results+xml"), ("nt", CONSTRUCT, "application/n-triples"),
    ("trig", CONSTRUCT, "application/trig"), ("csv", SELECT, "text/csv"), ("tsv", SELECT, "text/tab-separated-values"),
    ("JSON", SELECT, "application/sparql-results+json"), ("Turtle", CONSTRUCT, "text/turtle"),
    ("application/rdf+xml", CONSTRUCT, "application/rdf+xml"), ("text/turtle", CONSTRUCT, "text/turtle"),
    ("application/sparql-results+json", SELECT, "application/sparql-results+json"),
    ("text/tab-separated-values", SELECT, "text/tab-separated-values"),
    ("text/plain", CONSTRUCT, "application/n-triples"), ("application/json", SELECT, "application/sparql-results+json"),
    ("", SELECT, "application/sparql-results+json"),
]
# ... and the names SPARQLWrapper, Fuseki and Virtuoso clients send that were a 400 or a 406 (issue 11, finding 10).
CLIENT_NAMES = [
    ("json-ld", CONSTRUCT, "application/ld+json"), ("n3", CONSTRUCT, "text/turtle"), ("text", CONSTRUCT, "text/turtle"),
    ("rdf+xml", CONSTRUCT, "application/rdf+xml"), ("sparql", SELECT, "application/sparql-results+xml"),
    ("n-triples", CONSTRUCT, "application/n-triples"), ("n-quads", CONSTRUCT, "application/n-quads"),
    ("text/rdf+n3", CONSTRUCT, "text/turtle"), ("application/x-trig", CONSTRUCT, "application/trig"),
    ("application/sparql-results+json; charset=utf-8", SELECT, "application/sparql-results+json"),
    # names of the other query form's family are ignored: Accept (none here, so the default) decides
    ("turtle", SELECT, "application/sparql-results+json"), ("n3", SELECT, "application/sparql-results+json"),
    ("rdf+xml", SELECT, "application/sparql-results+json"), ("json-ld", SELECT, "application/sparql-results+json"),
    ("text/turtle", SELECT, "application/sparql-results+json"), ("csv", CONSTRUCT, "text/turtle"),
    ("html", SELECT, "application/sparql-results+json"),
]


@pytest.mark.parametrize("name, query, media_type", NAMED)
def test_format_names_and_media_types_pick_the_format(client, name, query, media_type):
    response = client.get("/sparql", query_string={"query": query, "format": name})
    assert response.status_code == 200, response.data
    assert response.mimetype == media_type


@pytest.mark.reliability
@pytest.mark.parametrize("name, query, media_type", CLIENT_NAMES)
def test_every_format_name_clients_send_is_answered_never_a_4xx(client, name, query, media_type):
    response = client.get("/sparql", query_string={"query": query, "format": name})
    assert response.status_code == 200, response.data
    assert response.mimetype == media_type


@pytest.mark.reliability
@pytest.mark.parametrize("raw, media_type", [("rdf+xml", "application/rdf+xml"),
                                             ("application/rdf+xml", "application/rdf+xml"),
                                             ("application/ld+json", "application/ld+json")])
def test_a_plus_left_unencoded_in_the_url_still_names_the_format(client, raw, media_type):
    # `+` in a query string is a space once decoded; a format name or media type never has one.
    response = client.get(f"/sparql?query=CONSTRUCT%20WHERE%20%7B%3Fs%20%3Fp%20%3Fo%7D&format={raw}")
    assert response.status_code == 200
    assert response.mimetype == media_type


def test_fuseki_output_parameter_names_the_format(client):
    response = client.get("/sparql", query_string={"query": SELECT, "output": "tsv"})
    assert response.content_type.startswith("text/tab-separated-values")
    response = client.get("/sparql", query_string={"query": CONSTRUCT, "output": "nt"})
    assert response.content_type.startswith("application/n-triples")


def test_format_wins_over_output(client):
    response = client.get("/sparql", query_string={"query": SELECT, "format": "csv", "output": "tsv"})
    assert response.content_type.startswith("text/csv")


def test_the_first_repeated_value_that_names_a_format_wins(client):
    # SPARQLWrapper sends format=json-ld&format=application/ld+json (and the same as output=, results=)
    query = [("query", CONSTRUCT), ("format", "json-ld"), ("format", "application/ld+json")]
    assert client.get("/sparql", query_string=query).mimetype == "application/ld+json"
    query = [("query", SELECT), ("format", "json-ld"), ("format", ""), ("output", "xml")]
    assert client.get("/sparql", query_string=query).mimetype == "application/sparql-results+xml"


def test_format_in_a_posted_form_names_the_format(client):
    response = client.post("/sparql", data={"query": CONSTRUCT, "format": "rdf+xml"})
    assert response.status_code == 200 and response.mimetype == "application/rdf+xml"


@pytest.mark.parametrize("accept, media_type", [("text/n3", "text/turtle"), ("application/x-turtle", "text/turtle"),
                                                ("application/x-json+ld", "application/ld+json")])
def test_media_type_aliases_in_accept_are_understood(client, accept, media_type):
    response = client.get("/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == media_type


def test_service_description_takes_format_names_too(client):
    response = client.get("/sparql", query_string={"format": "rdf+xml"}, headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "application/rdf+xml"


def test_every_answer_varies_on_accept(client):
    for query in (SELECT, CONSTRUCT, "ASK {}"):
        assert "Accept" in client.get("/sparql", query_string={"query": query}).headers["Vary"]


def test_json_alias_application_json_is_understood(client):
    response = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.content_type.startswith("application/sparql-results+json")
