"""The SHACL page and service at /shacl: a readable report for people, sh:ValidationReport for machines."""

import io

import pyoxigraph as ox
import pytest

from server import create_app

SH = "http://www.w3.org/ns/shacl#"
INVALID = ('@prefix pkg: <https://policykg.example/def/> .\n'
           '<https://policykg.example/id/plan/x/task/1.1> a pkg:Task .\n')
VALID = ('@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n'
         '<https://policykg.example/id/org/xyz> rdfs:label "某部"@zh , "Some ministry"@en .\n')
TURTLE = {"Accept": "text/turtle", "Content-Type": "text/turtle"}


@pytest.fixture(scope="module")
def app(site_build):
    app = create_app({"TESTING": True, "STORE": str(site_build / "store"), "EXECUTORS": 1, "ACCESS_LOG": False})
    yield app
    app.extensions["kg"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def report(data: bytes) -> set[tuple[str, str, str]]:
    return {(q.subject.value, q.predicate.value, q.object.value) for q in ox.parse(data, format=ox.RdfFormat.TURTLE)}


def test_shacl_page_offers_a_form_with_paste_upload_and_the_size_limit(client):
    body = client.get("/shacl", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert '<textarea id="data" name="data"' in body and 'type="file"' in body and "262,144 B" in body


def test_pasted_invalid_turtle_shows_the_violations_as_a_table_in_chinese(client):
    response = client.post("/shacl", data={"data": INVALID}, headers={"Accept": "text/html"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="verdict">不符合' in body and 'class="sev-Violation">Violation' in body
    assert "缺少中文标签" in body and "no Chinese label" in body


def test_uploaded_file_is_validated_with_english_messages_first(client):
    response = client.post("/shacl?lang=en", data={"data_file": (io.BytesIO(INVALID.encode()), "bad.ttl")},
                           headers={"Accept": "text/html"}, content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert 'id="verdict">Does not conform' in body and '<span lang="en">no Chinese label' in body


def test_post_with_rdf_accept_returns_the_validation_report(client):
    response = client.post("/shacl", data=INVALID, headers=TURTLE)
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    triples = report(response.data)
    assert any(p == SH + "conforms" and o == "false" for _, p, o in triples)
    assert any(p == SH + "focusNode" and o == "https://policykg.example/id/plan/x/task/1.1" for _, p, o in triples)
    assert response.headers["X-SHACL-Conforms"] == "false"


def test_conforming_data_gives_a_conforming_report(client):
    response = client.post("/shacl", data=VALID, headers=TURTLE)
    assert any(p == SH + "conforms" and o == "true" for _, p, o in report(response.data))


def test_syntax_error_is_400_quoting_line_and_column(client):
    response = client.post("/shacl", data="<a> <b> .", headers=TURTLE)
    assert response.status_code == 400 and b"line 1 column" in response.data
    page = client.post("/shacl", data={"data": "<a> <b> ."}, headers={"Accept": "text/html"})
    assert page.status_code == 400 and "line 1 column" in page.get_data(as_text=True)


@pytest.mark.parametrize("shapes", [
    "@prefix owl: <http://www.w3.org/2002/07/owl#> . <https://x.example/s> owl:imports <http://example.org/shapes.ttl> .",
    "@prefix sh: <http://www.w3.org/ns/shacl#> . <https://x.example/s> sh:select "
    "\"SELECT $this WHERE { SERVICE <http://example.org/sparql> { $this ?p ?o } }\" .",
    "@prefix sh: <http://www.w3.org/ns/shacl#> . <https://x.example/s> sh:jsLibraryURL \"http://example.org/lib.js\" .",
])
def test_shapes_that_would_fetch_anything_are_refused(client, shapes):
    response = client.post("/shacl", data={"data": VALID, "shapes": shapes}, headers={"Accept": "text/turtle"})
    assert response.status_code == 400 and b"refused, never fetched" in response.data


def test_data_with_owl_imports_is_refused(client):
    data = "@prefix owl: <http://www.w3.org/2002/07/owl#> . <https://x.example/d> owl:imports <http://example.org/d> ."
    assert client.post("/shacl", data=data, headers=TURTLE).status_code == 400


def test_data_over_the_size_limit_is_413(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SHACL_MAX_BYTES", 100)
    assert client.post("/shacl", data=VALID * 3, headers=TURTLE).status_code == 413


def test_other_body_types_are_415(client):
    response = client.post("/shacl", data="{}", headers={"Accept": "text/turtle", "Content-Type": "application/json"})
    assert response.status_code == 415


def test_validation_past_the_time_limit_is_stopped_with_503(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SHACL_TIMEOUT", 0.001)
    assert client.post("/shacl", data=VALID, headers=TURTLE).status_code == 503
