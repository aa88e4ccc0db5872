"""`kg serve` under real gunicorn, and `kg query`: the commands people run."""

import json
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from serverkit import CROSS_PRODUCT, KG, ROOT, SAMPLE, cpu_seconds, descendants, gunicorn, sample_store_at

from server import create_app


def get(url: str, query: str, **params) -> tuple[int, dict, bytes]:
    address = f"{url}/sparql?" + urllib.parse.urlencode({"query": query, **params})
    try:
        with urllib.request.urlopen(address, timeout=60) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def served():
    with gunicorn(SAMPLE, workers=2) as (url, process):
        yield url, process


def test_kg_serve_data_answers_queries_under_gunicorn(served):
    url, _ = served
    status, headers, body = get(url, "SELECT (COUNT(*) AS ?n) { ?s a <http://example.org/Task> }")
    assert status == 200
    assert headers["Server"].startswith("gunicorn")
    assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == "3"


def test_metrics_are_summed_over_gunicorn_workers(served):
    url, _ = served
    for _ in range(6):
        get(url, "ASK {}")
    with urllib.request.urlopen(url + "/metrics", timeout=30) as answer:
        text = answer.read().decode()
    line = next(x for x in text.splitlines() if x.startswith('kg_http_requests_total{endpoint="sparql.endpoint"'))
    assert float(line.rsplit(" ", 1)[1]) >= 6


def test_timeout_frees_the_cpu_and_other_queries_keep_answering(served):
    url, process = served
    slow = {}

    def runaway():
        slow["answer"] = get(url, CROSS_PRODUCT, timeout="3")

    thread = threading.Thread(target=runaway)
    thread.start()
    answers = [get(url, f"ASK {{ ?s ?p {n} }}")[0] for n in range(10)]
    thread.join(60)
    assert answers == [200] * 10
    status, headers, _ = slow["answer"]
    assert status == 503 and headers["Retry-After"]
    time.sleep(2)  # let the replacement worker finish loading its store
    tree = [process.pid] + descendants(process.pid)
    before = cpu_seconds(tree)
    time.sleep(1)
    assert cpu_seconds(tree) - before < 0.5  # nothing is still grinding through the cross product


def test_kg_serve_with_a_missing_data_file_is_a_usage_error(tmp_path):
    result = subprocess.run(KG + ["serve", "--data", str(tmp_path / "nothing.ttl")], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_kg_serve_with_a_missing_store_path_is_a_usage_error(tmp_path):
    result = subprocess.run(KG + ["serve", "--store", str(tmp_path / "none")], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no Oxigraph store" in result.stderr


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    """The sample data written as an on-disk store, like `kg build` writes one."""
    return sample_store_at(tmp_path_factory.mktemp("store") / "store")


def kg_query(*args) -> subprocess.CompletedProcess:
    return subprocess.run(KG + ["query", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_kg_query_prints_json_by_default_over_the_union_of_graphs(sample_store):
    result = kg_query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", "--store", str(sample_store))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"]["bindings"][0]["n"]["value"] == "20"


def test_kg_query_prints_csv_and_turtle(sample_store):
    csv = kg_query("SELECT ?s { ?s a <http://example.org/Task> } ORDER BY ?s", "--format", "csv", "--store", str(sample_store))
    assert csv.stdout.splitlines()[:2] == ["s", "http://example.org/task1"]
    turtle = kg_query("CONSTRUCT WHERE { ?s a <http://example.org/Agency> }", "--store", str(sample_store))
    assert "<http://example.org/org1>" in turtle.stdout


def test_kg_query_syntax_error_is_exit_2(sample_store):
    result = kg_query("SELECT * {", "--store", str(sample_store))
    assert result.returncode == 2
    assert "syntax error" in result.stderr


def test_kg_query_with_a_graph_format_for_select_is_exit_2(sample_store):
    assert kg_query("SELECT * {}", "--format", "turtle", "--store", str(sample_store)).returncode == 2


def test_the_endpoint_serves_the_real_built_store(built):
    # The one test on the lead's extraction: the built KG answers through the endpoint.
    app = create_app({"TESTING": True, "STORE": str(built.store), "EXECUTORS": 1})
    try:
        client = app.test_client()
        query = "SELECT (COUNT(*) AS ?n) { ?task a <https://policykg.example/def/Task> }"
        response = client.get("/sparql", query_string={"query": query})
        assert response.status_code == 200
        assert int(response.get_json()["results"]["bindings"][0]["n"]["value"]) > 0
        assert client.get("/healthz").get_json()["triples"] > 100
    finally:
        app.extensions["kg"].close()


def test_kg_serve_builds_the_default_store_when_it_is_missing(tmp_path, monkeypatch):
    import kg.pipeline
    from server import cli as serve

    store = tmp_path / "build" / "store"
    calls = []

    def fake_build(*, out_dir, **options):
        calls.append(out_dir)
        (out_dir / "store").mkdir(parents=True)
        (out_dir / "store" / "CURRENT").write_text("MANIFEST-000001\n")

    monkeypatch.setattr(serve, "STORE", store)
    monkeypatch.setattr(serve, "BUILD", store.parent)
    monkeypatch.setattr(kg.pipeline, "build", fake_build)
    serve._ensure_store(store)
    assert calls == [store.parent]
    serve._ensure_store(store)  # present now: no second build
    assert len(calls) == 1


def test_kg_query_without_a_store_is_exit_2(tmp_path):
    result = kg_query("ASK {}", "--store", str(tmp_path / "none"))
    assert result.returncode == 2
    assert "kg build" in result.stderr
