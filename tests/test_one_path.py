"""One request path (finding 12 of issue 11): every /sparql request goes through the same view, with the same
after-request work, and each answer is kept once in the one result cache of the process."""

import pytest
from flask import Flask
from serverkit import make_app

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def app():
    made = make_app()
    yield made
    made.extensions["kg"].close()


def test_a_query_with_lang_sets_the_language_cookie_like_any_page(app):
    response = app.test_client().get("/sparql", query_string={"query": "ASK {}", "lang": "en"})
    assert response.status_code == 200
    assert response.headers.get("Set-Cookie", "").startswith("lang=en;")


def test_get_and_post_of_one_query_answer_the_same_bytes_and_headers(app):
    client = app.test_client()
    query = "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 3"
    by_get = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/csv", "Origin": "http://x"})
    by_form = client.post("/sparql", data={"query": query}, headers={"Accept": "text/csv", "Origin": "http://x"})
    by_body = client.post("/sparql", data=query.encode(), headers={"Accept": "text/csv", "Origin": "http://x",
                                                                     "Content-Type": "application/sparql-query"})
    for response in (by_form, by_body):
        assert response.status_code == by_get.status_code == 200
        assert response.data == by_get.data
        for header in ("Content-Type", "ETag", "Cache-Control", "Vary", "Access-Control-Allow-Origin"):
            assert response.headers.get(header) == by_get.headers.get(header), header


def test_an_answer_is_kept_once_in_the_one_result_cache(app):
    cache = app.extensions["kg"].cache
    client = app.test_client()
    before = len(cache.entries)
    query = {"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"}
    first = client.get("/sparql", query_string=query)
    second = client.get("/sparql", query_string=query)
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]
    assert len(cache.entries) == before + 1


def test_nothing_stands_between_the_server_and_flask(app):
    # the replay layer and the lane that answered /sparql before Flask are gone: Flask's own wsgi_app serves
    assert app.wsgi_app.__func__ is Flask.wsgi_app
