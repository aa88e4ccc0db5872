"""Every example query in queries/ answers something against the built store, through the real /sparql endpoint."""

import json
import re
from pathlib import Path

import pytest

from server import create_app

QUERIES = Path(__file__).resolve().parent.parent / "queries"
FILES = sorted(QUERIES.glob("*.rq"))
# Federated examples need a second endpoint; tests/test_link_federation.py runs them.
LOCAL = [f for f in FILES if not re.search(r"^\s*SERVICE\b", f.read_text(encoding="utf-8"), re.M | re.I)]


@pytest.fixture(scope="module")
def client(site_build):
    app = create_app({"TESTING": True, "STORE": str(site_build / "store"), "EXECUTORS": 1, "ACCESS_LOG": False})
    yield app.test_client()
    app.extensions["kg"].close()


def test_there_are_at_least_ten_example_queries_to_run():
    assert len(LOCAL) >= 10, [f.name for f in FILES]


def test_every_file_of_queries_is_run_here_or_by_the_federation_tests():
    """A new .rq file is picked up by the glob: none is left out, and the sources examples are among them."""
    on_disk = {p.name for p in QUERIES.iterdir() if p.suffix == ".rq"}
    assert {f.name for f in FILES} == on_disk
    assert {"sources-of-each-task.rq", "official-text-not-in-report.rq", "differing-wordings.rq",
            "plans-of-the-corpus.rq"} <= {f.name for f in LOCAL}
    federated = {f.name for f in FILES} - {f.name for f in LOCAL}
    assert federated == {"federated-parent-divisions.rq"}


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_each_example_says_what_it_asks_in_a_leading_comment(path):
    assert path.read_text(encoding="utf-8").startswith("# ")


@pytest.mark.parametrize("path", LOCAL, ids=[f.stem for f in LOCAL])
def test_example_query_has_a_non_empty_answer(client, path):
    response = client.post("/sparql", data={"query": path.read_text(encoding="utf-8")},
                           headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = json.loads(response.data)
    assert answer["results"]["bindings"], f"{path.name} found nothing"


def rows(client, name: str) -> list[dict[str, str]]:
    text = (QUERIES / name).read_text(encoding="utf-8")
    response = client.post("/sparql", data={"query": text}, headers={"Accept": "application/sparql-results+json"})
    return [{k: v["value"] for k, v in row.items()} for row in json.loads(response.data)["results"]["bindings"]]


def test_official_text_example_finds_the_four_tasks_the_report_repeats_stand_for(client):
    found = rows(client, "official-text-not-in-report.rq")
    assert [r["part"].rsplit("/", 1)[1] for r in found] == ["1.2", "4.3", "6.1", "6.3"]
    assert all(r["inItsPlace"] for r in found)  # each with the report's defect standing there


def test_sources_example_says_task_1_2_has_only_the_official_source(client):
    found = [r for r in rows(client, "sources-of-each-task.rq") if r["task"].endswith("/task/1.2")]
    assert [(r["source"].rsplit("/", 1)[1], r["kind"].rsplit("/", 1)[1]) for r in found] == [
        ("official-east-west-st-2022", "OfficialOutline")]


def test_xinjiang_example_finds_the_carbon_task(client):
    text = (QUERIES / "tasks-for-xinjiang.rq").read_text(encoding="utf-8")
    response = client.post("/sparql", data={"query": text}, headers={"Accept": "text/csv"})
    assert "/task/1.1" in response.get_data(as_text=True)
