"""Federation offline: the main endpoint joins tasks to their places' parent divisions served by a second endpoint."""

import pyoxigraph as ox
import pytest
from serverkit import gunicorn, make_app

from kg.paths import ROOT
from kg.rdf.oxi import to_quads

BASE = "https://policykg.example/"
QUERY = (ROOT / "queries" / "federated-parent-divisions.rq").read_text(encoding="utf-8")
PLACEHOLDER = "http://127.0.0.1:8001/sparql"


@pytest.fixture(scope="module")
def split(assembled, tmp_path_factory):
    """The built dataset as two files: the reference table alone, and everything else (so the join must federate)."""
    folder = tmp_path_factory.mktemp("federation")
    divisions = ox.NamedNode(f"{BASE}graph/divisions")
    quads = to_quads(assembled[2])
    files = {"divisions": [q for q in quads if q.graph_name == divisions],
             "main": [q for q in quads if q.graph_name != divisions]}
    assert files["divisions"] and files["main"]
    paths = {}
    for name, part in files.items():
        paths[name] = folder / f"{name}.nq"
        ox.serialize(part, output=str(paths[name]), format=ox.RdfFormat.N_QUADS)
    return paths


@pytest.fixture(scope="module")
def reference(split):
    """A second policykg endpoint under gunicorn on 127.0.0.1, serving only the division table."""
    with gunicorn(split["divisions"]) as (url, _):
        yield f"{url}/sparql"


def ask(app, query):
    with app.test_client() as client:
        return client.post("/sparql", data=query.encode(), headers={
            "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})


def test_a_federated_query_joins_tasks_to_parent_divisions_from_the_second_endpoint(split, reference):
    app = make_app([split["main"]], SERVICE_ALLOWLIST=[reference])
    answer = ask(app, QUERY.replace(PLACEHOLDER, reference))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    rows = {(b["task"]["value"].rsplit("/", 1)[1], b["divisionName"]["value"], b["parentName"]["value"])
            for b in answer.get_json()["results"]["bindings"]}
    assert rows == {
        ("4.2", "昆明市", "云南省"), ("4.2", "曲靖市", "云南省"), ("4.2", "玉溪市", "云南省"), ("4.2", "楚雄彝族自治州", "云南省"),
        ("7.2", "浦东新区", "上海市"), ("7.2", "兰州市", "甘肃省"), ("7.2", "白银市", "甘肃省"),
    }


def test_the_main_endpoint_alone_has_no_division_table(split):
    app = make_app([split["main"]])
    local = QUERY.replace(f"SERVICE <{PLACEHOLDER}> {{", "{")
    answer = ask(app, local)
    assert answer.status_code == 200 and answer.get_json()["results"]["bindings"] == []


def test_the_same_query_is_refused_when_the_endpoint_is_not_allow_listed(split, reference):
    app = make_app([split["main"]])
    answer = ask(app, QUERY.replace(PLACEHOLDER, reference))
    assert answer.status_code == 400
    assert reference in answer.get_data(as_text=True)
