"""The people-facing pages: landing page, plan pages, linked-data pages with their RDF twins, dumps, escaping."""

import json
import re
import tomllib
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import BUILD_TIME

from kg.paths import SOURCES
from server import create_app
from server.web.i18n import TEXT
from server.web.pictures import LAYOUT

BASE = "https://policykg.example/"
PLAN = "/id/plan/east-west-st-2022"
CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
PREFIXES = ("PREFIX pkg: <https://policykg.example/def/> PREFIX eli: <http://data.europa.eu/eli/ontology#> "
            "PREFIX prov: <http://www.w3.org/ns/prov#> ")
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


def count(client, pattern: str) -> int:
    """COUNT(DISTINCT ?x) of a graph pattern, asked through /sparql (not through the pages' own queries)."""
    response = client.post("/sparql", data={"query": f"{PREFIXES} SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {pattern} }}"},
                           headers={"Accept": "application/sparql-results+json"})
    return int(json.loads(response.data)["results"]["bindings"][0]["n"]["value"])


def graph_counts(client, plan: str) -> dict[str, int]:
    """A plan's issuers, task areas, tasks and sources as the graph holds them."""
    iri = f"<{BASE}{plan.lstrip('/')}>"
    return {"issuers": count(client, f"{iri} eli:passed_by ?x"), "areas": count(client, f"{iri} pkg:taskArea ?x"),
            "tasks": count(client, f"{iri} pkg:taskArea/pkg:task ?x"),
            "sources": count(client, f"GRAPH ?g {{ ?x pkg:states {iri} }} ?g prov:wasDerivedFrom ?x")}


def listed_counts(body: str, plan: str) -> dict[str, int]:
    """The counts the landing page prints in a plan's row."""
    row = re.search(rf'<tr class="plan-row"><th scope="row"><a class="plan-link" href="{re.escape(plan)}">.*?</tr>', body, re.S)
    assert row, f"{plan} is not listed"
    return {name: int(n) for name, n in re.findall(r'<td data-count="(\w+)">(\d+)</td>', row.group(0))}


def section(body: str, name: str) -> str:
    """The HTML of the page section headed by id={name}-h."""
    found = re.search(rf'<section aria-labelledby="{name}-h">(.*?)</section>', body, re.S)
    assert found, f"no {name} section"
    return found.group(1)


def test_landing_page_is_in_chinese_by_default(client):
    response, body = html(client, "/")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in body and f'<h2 id="plans-h">{TEXT["zh"]["plans"]} (1)</h2>' in body


def test_accept_language_english_gives_the_english_page(client):
    _, body = html(client, "/", **{"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in body and '<h2 id="plans-h">Plans (1)</h2>' in body


def test_language_switch_is_remembered_in_a_cookie(client):
    response, body = html(client, "/?lang=en")
    assert '<h2 id="plans-h">Plans (1)</h2>' in body
    assert "lang=en" in response.headers["Set-Cookie"]
    _, later = html(client, "/id/region/650000", **{"Accept-Language": "zh"})
    assert '<html lang="en">' in later and "Xinjiang" in later


def test_landing_page_lists_the_plan_with_its_counts_from_the_graph(client):
    _, body = html(client, "/")
    assert listed_counts(body, PLAN) == graph_counts(client, PLAN)
    assert graph_counts(client, PLAN)["sources"] == 2  # the news report and the official outline


def test_plan_page_lists_its_task_areas_with_links_and_their_number_from_the_graph(client):
    _, body = html(client, PLAN + "?lang=en")
    areas = graph_counts(client, PLAN)["areas"]
    assert f'<h2 id="areas-h">Task areas ({areas})</h2>' in body
    for n in range(1, areas + 1):
        assert f'href="{PLAN}/area/{n}"' in section(body, "areas")


def test_plan_page_is_still_rdf_for_rdf_clients(client):
    response = client.get(PLAN, headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    triples = {(q.subject.value, q.predicate.value) for q in ox.parse(response.data, format=ox.RdfFormat.TURTLE)}
    assert (BASE + PLAN.lstrip("/"), BASE + "def/taskArea") in triples


def test_plan_page_lists_both_sources_with_kind_addresses_date_and_licence(client):
    _, body = html(client, PLAN + "?lang=en")
    sources = section(body, "sources")
    manifest = tomllib.loads((SOURCES / "sources.toml").read_text(encoding="utf-8"))["source"]
    assert sources.count('<tr class="source"') == len(manifest) == 2
    for entry in manifest:
        row = sources.split(f'data-source="{BASE}doc/article/{entry["slug"]}"', 1)[1].split("</tr>", 1)[0]
        assert all(url.replace("&", "&amp;") in row for url in entry["urls"])
        assert str(entry["retrieved"]) in row and entry["licence"][:40] in row
    assert 'href="/def/NewsReport"' in sources and 'href="/def/OfficialOutline"' in sources


def test_plan_page_shows_the_four_places_the_report_repeats_stand_with_what_it_printed(client):
    _, body = html(client, PLAN + "?lang=en")
    lacks = section(body, "lacks")
    report = lacks.split(f'<ul class="lacks" data-source="{BASE}doc/article/east-west-st-2022">', 1)[1].split("</ul>", 1)[0]
    parts = re.findall(r'<li data-part="[^"]+/task/([\d.]+)">', report)
    assert parts == ["1.2", "4.3", "6.1", "6.3"]
    for task in parts:
        item = report.split(f'/task/{task}">', 1)[1].split("</li>", 1)[0]
        assert f'href="/doc/article/east-west-st-2022/defect/{task}"' in item and "<q lang=\"zh\">" in item
    assert "支持新疆重点领域碳达峰碳中和技术联合攻关" in report  # what the report printed where task 1.2 stands
    states = section(body, "states")
    row = states.split(f'data-part="{BASE}{PLAN.lstrip("/")}/task/1.2">', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'<td class="(yes|no)">', row) == ["no", "yes"]


def test_plan_page_shows_where_the_sources_word_a_part_differently(client):
    _, body = html(client, PLAN)
    wordings = section(body, "wordings")
    assert wordings.count("<tr><th scope=\"row\">") == count(client, "GRAPH ?g { ?x pkg:wording ?w }") > 0
    assert "西部地区科技创新能力显著提升" in wordings and "西部地区科技创新能力</td>" in wordings


def test_landing_page_embeds_a_schema_org_dataset_described_from_the_graph(client):
    _, body = html(client, "/")
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    assert found, "no JSON-LD script"
    document = json.loads(found.group(1))
    assert document["@type"] == "Dataset" and document["license"].startswith("https://creativecommons.org/")
    assert any(d["contentUrl"].endswith("/dumps/kg.ttl") for d in document["distribution"])
    assert "“十四五”东西部科技合作实施方案" in document["name"] and "“十四五”东西部科技合作实施方案" in document["keywords"]
    assert document["temporalCoverage"] == "2021/2025"  # the plan's pkg:period, through the catalogue


def test_no_words_of_the_pages_state_a_count():
    """Counts come from queries: no UI text or template says how many plans, areas, tasks, agencies or sources."""
    numbers = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten)"
    templates = Path(__file__).resolve().parent.parent / "server" / "templates"
    texts = [(f"{lang}:{key}", text) for lang, words in TEXT.items() for key, text in words.items()]
    texts += [(path.name, path.read_text(encoding="utf-8")) for path in sorted(templates.rglob("*.html"))]
    assert len(texts) > 100
    for name, text in texts:
        assert not re.search(rf"(?i)\b{numbers}\s+(plan|task|area|agenc|source|goal|measure)", text), name
        assert not re.search(r"(?<!同)[一二三四五六七八九十\d]+[个项]?(方案|重点任务|任务|方面|部门|来源|目标)", text), name
        assert "east-west-st-2022" not in text, name  # no page links one plan by name


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
    assert body.count('<details class="query">') >= 3
    assert "pkg:targetsRegion" in body and "eli:passed_by" in body
    _, plan = html(client, PLAN)
    assert plan.count('<details class="query">') >= 9  # counts, diagram, map, 2 charts, sources, states, lacks, words


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
                                  "/id/plan/east-west-st-2022", "/id/plan/east-west-st-2022/task/1.2"])
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
    links = {link for path in ("/", PLAN) for link in re.findall(r'href="(/(?:id|doc)/[^"?#]+)', html(client, path)[1])}
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


# A corpus of three plans: the East–West plan from its two sources, and two fixtures of other plans.
CORPUS_FILES = (SOURCES / "article-east-west-st-2022.txt", SOURCES / "official-east-west-st-2022.txt",
                CORPUS / "notice-outline.txt", CORPUS / "plan-nine-agencies.txt")
OTHERS = ("notice-outline", "plan-nine-agencies")


@pytest.fixture(scope="module")
def corpus_client(tmp_path_factory):
    from kg.pipeline import build

    out = tmp_path_factory.mktemp("corpus-site")
    build(inputs=[Path(str(f)) for f in CORPUS_FILES], out_dir=out, build_time=BUILD_TIME)
    app = create_app({"TESTING": True, "STORE": str(out / "store"), "DUMPS": str(out / "dumps"), "EXECUTORS": 1,
                      "ACCESS_LOG": False})
    yield app.test_client()
    app.extensions["kg"].close()


def expected(slug: str) -> dict:
    return tomllib.loads((CORPUS / f"{slug}.expected.toml").read_text(encoding="utf-8"))


def test_landing_page_of_a_three_plan_corpus_lists_each_plan_with_its_own_counts(corpus_client):
    _, body = html(corpus_client, "/?lang=en")
    plans = re.findall(r'<a class="plan-link" href="([^"]+)">', body)
    assert sorted(plans) == sorted([PLAN, *(f"/id/plan/{slug}" for slug in OTHERS)])
    assert '<h2 id="plans-h">Plans (3)</h2>' in body
    for plan in plans:
        assert listed_counts(body, plan) == graph_counts(corpus_client, plan)
    for slug in OTHERS:  # and the graph's counts are the fixture's facts
        facts = expected(slug)
        assert listed_counts(body, f"/id/plan/{slug}") == {
            "issuers": len(facts["issuers"]), "areas": len(facts["area_headlines"]), "tasks": sum(facts["area_tasks"]),
            "sources": 1}


@pytest.mark.parametrize("slug", ["east-west-st-2022", *OTHERS])
def test_each_plan_page_shows_its_own_diagram_map_and_sources(corpus_client, slug):
    plan = f"/id/plan/{slug}"
    response, body = html(corpus_client, plan + "?lang=en")
    assert response.status_code == 200
    counts = graph_counts(corpus_client, plan)
    tree = section(body, "diagram")
    areas = re.findall(r'class="node area" href="([^"]+)"', tree)
    tasks = re.findall(r'class="node task" href="([^"]+)"', tree)
    assert (len(areas), len(tasks)) == (counts["areas"], counts["tasks"])
    assert all(link.startswith(plan + "/") for link in areas + tasks)  # no other plan's parts
    assert f'<h2 id="areas-h">Task areas ({counts["areas"]})</h2>' in body
    assert section(body, "sources").count('<tr class="source"') == counts["sources"]
    shaded = re.findall(r'data-code="(\d{6})"><title>[^<]*: (\d+)</title>', body)
    regions = expected(slug).get("area_regions", []) if slug in OTHERS else []
    assert {code for code, n in shaded if n != "0"} >= {code for codes in regions for code in codes}


def test_a_plan_with_one_source_has_no_differences_to_show(corpus_client):
    _, body = html(corpus_client, "/id/plan/notice-outline?lang=en")
    assert 'id="states-h"' not in body and 'id="lacks-h"' not in body
    assert "黄河流域" in body


def test_the_east_west_plan_in_the_corpus_still_shows_where_its_sources_differ(corpus_client):
    _, body = html(corpus_client, PLAN + "?lang=en")
    report = section(body, "lacks").split(f'data-source="{BASE}doc/article/east-west-st-2022">', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'<li data-part="[^"]+/task/([\d.]+)">', report) == ["1.2", "4.3", "6.1", "6.3"]


def test_the_dataset_description_names_every_plan_of_the_corpus(corpus_client):
    _, body = html(corpus_client, "/")
    document = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S).group(1))
    for title in ("“十四五”东西部科技合作实施方案", expected("notice-outline")["title"], expected("plan-nine-agencies")["title"]):
        assert title in document["name"] and title in document["keywords"]
