"""The people-facing pages: landing page, linked-data pages with their RDF twins, dumps, escaping."""

import json
import re

import pyoxigraph as ox
import pytest

from server import create_app
from server.web.pictures import LAYOUT

BASE = "https://policykg.example/"
TWINS = {"text/turtle": ox.RdfFormat.TURTLE, "application/ld+json": ox.RdfFormat.JSON_LD,
         "application/n-triples": ox.RdfFormat.N_TRIPLES, "application/rdf+xml": ox.RdfFormat.RDF_XML}


@pytest.fixture(scope="module")
def app(site_build):
    app = create_app({"TESTING": True, "STORE": str(site_build / "store"), "DUMPS": str(site_build / "dumps"),
                      "EXECUTORS": 1, "ACCESS_LOG": False})
    yield app
    app.extensions["kg"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def html(client, path, **headers):
    response = client.get(path, headers={"Accept": "text/html", **headers})
    return response, response.get_data(as_text=True)


def test_landing_page_is_in_chinese_by_default(client):
    response, body = html(client, "/")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in body and "七个重点任务方面" in body


def test_accept_language_english_gives_the_english_page(client):
    _, body = html(client, "/", **{"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in body and "The seven task areas" in body


def test_language_switch_is_remembered_in_a_cookie(client):
    response, body = html(client, "/?lang=en")
    assert "The seven task areas" in body
    assert "lang=en" in response.headers["Set-Cookie"]
    _, later = html(client, "/id/region/650000", **{"Accept-Language": "zh"})
    assert '<html lang="en">' in later and "Xinjiang" in later


def test_landing_page_lists_the_seven_task_areas_with_links(client):
    _, body = html(client, "/")
    for n in range(1, 8):
        assert f'href="/id/plan/east-west-st-2022/area/{n}"' in body


def test_landing_page_embeds_a_schema_org_dataset(client):
    _, body = html(client, "/")
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    assert found, "no JSON-LD script"
    document = json.loads(found.group(1))
    assert document["@type"] == "Dataset" and document["license"].startswith("https://creativecommons.org/")
    assert any(d["contentUrl"].endswith("/dumps/kg.ttl") for d in document["distribution"])


def test_landing_page_lists_dumps_with_sizes_and_checksums(client, site_build):
    _, body = html(client, "/")
    sums = (site_build / "dumps" / "SHA256SUMS").read_text().split()
    assert len(sums) >= 10
    for digest, name in zip(sums[::2], sums[1::2], strict=True):
        assert f'href="/dumps/{name}"' in body and digest in body
        assert f"{(site_build / 'dumps' / name).stat().st_size:,} B" in body


def test_tile_map_links_each_province_tile_to_its_region_page(client):
    _, body = html(client, "/")
    tiles = re.findall(r'<a href="(/id/region/\d{6})" class="tile[^"]*" data-code="(\d{6})"', body)
    assert len(tiles) >= 31
    assert all(href.endswith(code) and code in LAYOUT for href, code in tiles)
    assert re.search(r'class="tile west" data-code="650000"', body)
    assert re.search(r'class="tile east" data-code="310000"', body)


def test_every_picture_shows_its_query(client):
    _, body = html(client, "/")
    assert body.count('<details class="query">') >= 4
    assert "pkg:targetsRegion" in body


def test_dump_is_downloadable_and_unlisted_files_are_404(client, site_build):
    response = client.get("/dumps/kg.ttl")
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    assert response.data == (site_build / "dumps" / "kg.ttl").read_bytes()
    assert client.get("/dumps/..%2Fstore%2FCURRENT").status_code == 404
    assert client.get("/dumps/nothing.ttl").status_code == 404


def test_region_page_shows_labels_properties_and_inverse_links(client):
    response, body = html(client, "/id/region/650000")
    assert response.status_code == 200
    assert "<h1>新疆维吾尔自治区</h1>" in body
    assert "pkg:divisionCode" in body and "650000" in body
    assert 'href="/id/plan/east-west-st-2022/area/1"' in body  # used by: the task area that targets it
    assert "http://www.wikidata.org/entity/Q34800" in body  # link out


def test_html_page_links_its_rdf_twins_in_headers_and_elements(client):
    response, body = html(client, "/id/plan/east-west-st-2022/task/1.1")
    assert response.vary.as_set() >= {"accept"}
    for media_type in TWINS:
        assert f'type="{media_type}"' in response.headers["Link"]
        assert f'<link rel="alternate" type="{media_type}"' in body


@pytest.mark.parametrize("media_type", sorted(TWINS))
def test_same_iri_answers_each_rdf_format_by_accept(client, media_type):
    response = client.get("/id/region/650000", headers={"Accept": media_type})
    assert response.status_code == 200 and response.mimetype == media_type
    assert "Accept" in response.headers["Vary"]
    triples = {(q.subject.value, q.predicate.value, q.object.value) for q in ox.parse(response.data, format=TWINS[media_type])}
    assert (BASE + "id/region/650000", BASE + "def/divisionCode", "650000") in triples


def test_format_parameter_overrides_accept(client):
    response = client.get("/def/Task?format=ttl", headers={"Accept": "text/html"})
    assert response.mimetype == "text/turtle"
    assert b"Task" in response.data


def test_unacceptable_accept_is_406(client):
    assert client.get("/id/region/650000", headers={"Accept": "image/png"}).status_code == 406


def test_unknown_iri_is_a_helpful_404(client):
    response, body = html(client, "/id/region/659999")
    assert response.status_code == 404
    assert "/id/region/650000" in body  # a known IRI under the same path is suggested


def test_unknown_iri_is_a_plain_404_for_rdf_clients(client):
    response = client.get("/id/plan/east-west-st-2022/task/9.9", headers={"Accept": "text/turtle"})
    assert response.status_code == 404 and response.mimetype == "text/plain"


@pytest.mark.parametrize("path", [
    "/id/%3Cscript%3E", "/id/a%22b", "/id/x%20y", "/id/%7B%7D%7C%5E%60%5C", "/id/%0Aa", "/doc/%25zz",
    "/def/%3E%20.%20%3Cx", "/id/region/650000%3E%20%3Fp%20%3Fo%20%7D%20%23", "/id/" + "a/" * 300, "/doc/article/%E4%B8%AD",
    "/id/plan/east-west-st-2022/task/1.1?format=nonsense",
])
def test_no_500_for_any_iri_shaped_input(client, path):
    for accept in ("text/html", "text/turtle"):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code in (200, 400, 404), (path, accept, response.status_code)


def test_task_page_links_its_text_span_into_the_article(client):
    _, body = html(client, "/id/plan/east-west-st-2022/task/1.1")
    link = re.search(r'href="(/doc/article/east-west-st-2022\?span=(\d+),(\d+)#char=\2,\3)"', body)
    assert link, "no link to the article span"
    _, article = html(client, link.group(1).split("#")[0])
    assert f'id="char={link.group(2)},{link.group(3)}"' in article
    assert 'class="hl k-task d-' in article and " selected" in article


def test_labels_from_the_data_are_escaped(tmp_path):
    data = tmp_path / "evil.trig"
    data.write_text('<https://policykg.example/graph/kg> { <https://policykg.example/id/org/evil> '
                    '<http://www.w3.org/2000/01/rdf-schema#label> "<script>alert(1)</script>"@zh . }\n')
    app = create_app({"TESTING": True, "DATA": [str(data)], "EXECUTORS": 1, "ACCESS_LOG": False})
    try:
        response, body = html(app.test_client(), "/id/org/evil")
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    finally:
        app.extensions["kg"].close()


@pytest.mark.parametrize("path", ["/", "/sparql", "/id/region/650000", "/doc/article/east-west-st-2022", "/def/Task",
                                  "/id/plan/east-west-st-2022"])
def test_every_html_page_links_a_machine_readable_twin(client, path):
    response, body = html(client, path)
    links = re.findall(r'<link rel="alternate" type="([^"]+)" href="([^"]+)"', body)
    assert links, f"{path} links no twin"
    for media_type, href in links:
        twin = client.get(href.replace("http://localhost", ""))
        assert twin.status_code in (200, 303), (href, twin.status_code)
        assert twin.status_code == 303 or twin.mimetype == media_type


def test_query_page_is_yasgui_with_the_example_queries_and_no_outside_assets(client):
    _, body = html(client, "/sparql")
    assert "vendor/yasgui/yasgui.min.js" in body and 'id="examples"' in body
    assert "tasks-for-xinjiang" in body and "<form" in body  # the plain form stays for browsers without scripts
    head = body.split('<main id="main">')[0]
    hosts = set(re.findall(r'(?:src|href)="(?:https?:)?//([^/"]+)', head)) | set(re.findall(r'<script src="(?:https?:)?//([^/"]+)', body))
    assert hosts <= {"localhost"}, hosts  # no CDN: scripts and styles come from this service


def test_article_page_marks_repairs_in_the_raw_text_and_lists_the_defects(client):
    _, body = html(client, "/doc/article/east-west-st-2022")
    assert body.count('<mark class="r-') > 100
    assert "repeated-sentence" in body and 'href="/doc/article/east-west-st-2022/defect/' in body
    assert body.count('<span class="anchor" id="char=') > 40


def test_article_twin_describes_its_text_spans_too(client):
    response = client.get("/doc/article/east-west-st-2022", headers={"Accept": "application/n-triples"})
    subjects = {q.subject.value for q in ox.parse(response.data, format=ox.RdfFormat.N_TRIPLES)}
    assert BASE + "doc/article/east-west-st-2022#char=470,490" in subjects


def test_language_switch_never_links_to_another_host(client):
    _, body = html(client, "//evil.example/x")
    assert 'href="//evil.example' not in body


def test_ontology_page_lists_its_terms_with_comments(client):
    _, body = html(client, "/def/?lang=en")
    assert "<h1>policykg ontology</h1>" in body
    assert 'href="/def/Task"' in body and 'href="/def/targetsRegion"' in body
    assert "A concrete task listed under a task area." in body


def test_every_tile_and_diagram_link_resolves(client):
    _, body = html(client, "/")
    links = set(re.findall(r'href="(/id/[^"]+)"', body))
    assert len(links) >= 50
    for link in sorted(links):
        assert client.get(link, headers={"Accept": "text/html"}).status_code == 200, link


def test_pages_carry_an_etag_and_answer_304_when_unchanged(client):
    first = client.get("/id/region/650000", headers={"Accept": "text/html"})
    tag = first.headers["ETag"]
    again = client.get("/id/region/650000", headers={"Accept": "text/html", "If-None-Match": tag})
    assert again.status_code == 304
    other = client.get("/id/region/650000", headers={"Accept": "text/turtle", "If-None-Match": tag})
    assert other.status_code == 200  # another format is another representation
    english = client.get("/id/region/650000?lang=en", headers={"Accept": "text/html", "If-None-Match": tag})
    assert english.status_code == 200


def test_clean_text_links_facts_not_repairs(client):
    _, body = html(client, "/doc/article/east-west-st-2022")
    clean = body.split('<div class="text clean"', 1)[1].split("</div>", 1)[0]
    assert "/repair/" not in clean and 'href="/id/plan/east-west-st-2022/task/1.1"' in clean
