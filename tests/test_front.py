"""`kg serve --front nginx`: nginx's cache answers repeated queries with exactly the app's bytes, and only those."""

import http.client
import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from serverkit import CROSS_PRODUCT, KG, ROOT, SAMPLE, descendants, gunicorn

from server.ops import front

TASKS = "SELECT ?t { ?t a <http://example.org/Task> } ORDER BY ?t"
PLANS = "SELECT ?t { ?t a <http://example.org/Plan> } ORDER BY ?t"  # as long as TASKS: same body length
GRAPH = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <http://example.org/graph/a> { ?s ?p ?o } }"
# Headers that must be the same with and without the front (Date, Server, Connection are the proxy's own; the
# ETag names the endpoint URL, so it differs between the two servers, but not between a miss and a hit).
SAME = ("Content-Type", "Content-Length", "Vary", "Cache-Control", "X-Result-Truncated",
        "Access-Control-Allow-Origin", "Retry-After")
TOKEN = "front-test-token"


def ask(url: str, method: str, query: str | None = None, *, accept: str = "application/sparql-results+json",
        headers: dict | None = None, body: bytes | None = None, params: dict | None = None):
    """One request on a fresh connection; (status, headers, body)."""
    parts = urlsplit(url)
    path = "/sparql"
    sent = {"Accept": accept, **(headers or {})}
    if method in ("GET", "HEAD"):
        fields = {**({"query": query} if query else {}), **(params or {})}
        path += "?" + urllib.parse.urlencode(fields) if fields else ""
    elif body is None:
        body = urllib.parse.urlencode({"query": query, **(params or {})}).encode()
        sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=sent)
        answer = connection.getresponse()
        return answer.status, answer.headers, answer.read()  # headers: case-insensitive
    finally:
        connection.close()


def until_hit(send, tries: int = 40):
    """The first answer nginx serves from its cache: a miss is stored as the app's answer finishes arriving, which
    may be a moment after the client has what it needs (a HEAD has only the headers)."""
    for _ in range(tries):
        answer = send()
        if answer[1].get("X-Cache") == "HIT":
            return answer
        time.sleep(0.05)
    return answer


def app_requests(url: str) -> float:
    """Answers the app itself gave at /sparql so far (its Prometheus counter; nginx's hits are not in it)."""
    with urllib.request.urlopen(url + "/metrics", timeout=30) as answer:
        text = answer.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith('kg_http_requests_total{endpoint="sparql.endpoint"'))


@pytest.fixture(scope="module")
def fronted():
    with gunicorn(SAMPLE, workers=2, extra=("--front", "nginx")) as (url, _):
        yield url


@pytest.fixture(scope="module")
def direct():
    with gunicorn(SAMPLE, workers=1) as (url, _):
        yield url


CASES = [
    ("POST", TASKS, "application/sparql-results+json"),
    ("POST", TASKS, "application/sparql-results+xml"),
    ("GET", TASKS, "text/csv"),
    ("GET", TASKS, "text/tab-separated-values"),
    ("POST", "ASK { ?s ?p ?o }", "application/sparql-results+json"),
    ("POST", GRAPH, "text/turtle"),
    ("GET", "DESCRIBE <http://example.org/task1>", "application/n-triples"),
    ("HEAD", TASKS, "application/sparql-results+json"),
    ("GET", None, "text/turtle"),  # the service description
]


@pytest.mark.parametrize(("method", "query", "accept"), CASES)
def test_the_front_gives_the_apps_bytes_and_headers_then_serves_them_from_its_cache(fronted, direct, method, query,
                                                                                     accept):
    expected = ask(direct, method, query, accept=accept)
    first = ask(fronted, method, query, accept=accept)
    again = until_hit(lambda: ask(fronted, method, query, accept=accept)) if query else first
    assert expected[0] == first[0] == again[0] == 200
    # The service description names its endpoint: the same bytes once the two servers' addresses are swapped.
    assert first[2] == again[2] == expected[2].replace(direct.encode(), fronted.encode())
    for name in SAME:
        assert first[1].get(name) == again[1].get(name) == expected[1].get(name), name
    assert first[1].get("ETag") == again[1].get("ETag") and (first[1].get("ETag") is None) == (
        expected[1].get("ETag") is None)
    if query is not None:  # answers are cached; the service description goes to the app each time
        assert first[1]["X-Cache"] in ("MISS", "HIT") and again[1]["X-Cache"] == "HIT"


def test_a_hit_does_not_reach_the_app(fronted):
    until_hit(lambda: ask(fronted, "POST", "SELECT ?s { ?s ?p 1 }"))
    before = app_requests(fronted)
    answers = [ask(fronted, "POST", "SELECT ?s { ?s ?p 1 }") for _ in range(5)]
    assert [a[1]["X-Cache"] for a in answers] == ["HIT"] * 5
    assert app_requests(fronted) == before


def test_the_key_tells_bodies_and_accept_headers_apart(fronted):
    assert len(TASKS) == len(PLANS)
    for _ in range(2):
        tasks = json.loads(ask(fronted, "POST", TASKS)[2])
        plans = json.loads(ask(fronted, "POST", PLANS)[2])
        assert [b["t"]["value"] for b in tasks["results"]["bindings"]] == [
            "http://example.org/task1", "http://example.org/task2", "http://example.org/task3"]
        assert [b["t"]["value"] for b in plans["results"]["bindings"]] == ["http://example.org/plan"]
    csv = ask(fronted, "POST", TASKS, accept="text/csv")
    assert csv[1]["Content-Type"].startswith("text/csv") and csv[2].startswith(b"t\r\n")
    direct_body = ask(fronted, "POST", None, body=PLANS.encode(), headers={"Content-Type": "application/sparql-query"})
    assert json.loads(direct_body[2])["results"]["bindings"][0]["t"]["value"] == "http://example.org/plan"


def test_errors_and_volatile_answers_are_never_cached(fronted):
    before = app_requests(fronted)
    for _ in range(2):
        status, headers, body = ask(fronted, "POST", "SELECT * { ?s ?p }")
        assert status == 400 and headers["X-Cache"] != "HIT" and body.startswith(b"SPARQL syntax error: ")
        status, headers, _ = ask(fronted, "POST", "SELECT (RAND() AS ?r) {}")
        assert status == 200 and headers["Cache-Control"] == "no-store" and headers["X-Cache"] != "HIT"
    assert app_requests(fronted) == before + 4


def test_requests_with_credentials_bypass_the_cache(fronted):
    ask(fronted, "POST", "ASK { ?s ?p 2 }")
    status, headers, _ = ask(fronted, "POST", "ASK { ?s ?p 2 }", headers={"Authorization": "Bearer x"})
    assert status == 200 and headers["X-Cache"] == "BYPASS"


def test_if_none_match_gets_304_from_the_cache(fronted):
    _, headers, _ = ask(fronted, "POST", "ASK { ?s ?p 3 }")
    status, again, body = ask(fronted, "POST", "ASK { ?s ?p 3 }", headers={"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b"" and again["ETag"] == headers["ETag"]


def test_a_body_over_the_limit_reaches_the_app_and_gets_its_413(tmp_path):
    limit = 4096
    with gunicorn(SAMPLE, extra=("--front", "nginx"), env={"KG_MAX_CONTENT_LENGTH": str(limit)}) as (url, _):
        padding = "#" + "x" * (limit + 100) + "\n"
        status, headers, body = ask(url, "POST", padding + "ASK {}", accept="application/sparql-results+json")
        assert status == 413 and headers["Content-Type"].startswith("text/plain")
        assert body.startswith(b"Payload too large:")
        near = "#" + "x" * (limit - 200) + "\n"  # under the limit: in nginx's memory, so in the key and cached
        first, again = ask(url, "POST", near + "ASK {}"), until_hit(lambda: ask(url, "POST", near + "ASK {}"))
        assert first[0] == again[0] == 200 and again[1]["X-Cache"] == "HIT"


def test_timeouts_pass_through_the_front_with_retry_after():
    with gunicorn(SAMPLE, extra=("--front", "nginx")) as (url, _):
        status, headers, body = ask(url, "POST", CROSS_PRODUCT, params={"timeout": "1"})
        assert status == 503 and "Retry-After" in headers and headers["X-Cache"] != "HIT"
        assert body.startswith(b"Query timeout")


def test_with_update_enabled_the_front_only_proxies_so_updates_show_at_once():
    insert = "INSERT DATA { GRAPH <http://example.org/graph/a> { <http://example.org/task9> a <http://example.org/Task> } }"
    count = "SELECT (COUNT(*) AS ?n) { ?t a <http://example.org/Task> }"
    with gunicorn(SAMPLE, extra=("--front", "nginx"), env={"KG_UPDATE_TOKEN": TOKEN}) as (url, _):
        before = ask(url, "POST", count)
        assert "X-Cache" not in before[1]
        assert json.loads(before[2])["results"]["bindings"][0]["n"]["value"] == "3"
        status, _, _ = ask(url, "POST", None, body=insert.encode(), headers={
            "Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
        assert status == 204
        after = ask(url, "POST", count)
        assert json.loads(after[2])["results"]["bindings"][0]["n"]["value"] == "4"
        assert after[1]["ETag"] != before[1]["ETag"]


def test_kg_serve_front_without_nginx_is_a_usage_error(tmp_path):
    done = subprocess.run([*KG, "serve", "--front", "nginx", "--data", str(SAMPLE), "--bind", "127.0.0.1:1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KG_NGINX": str(tmp_path / "no-nginx")})
    assert done.returncode == 2
    assert "--front nginx needs nginx" in done.stderr


def test_the_cache_key_holds_the_dataset_version_and_every_varying_header(tmp_path):
    made = front.Front(listen="127.0.0.1:1", upstreams=("unix:/x.sock",), directory=tmp_path, version="v-123-0")
    text = front.config_text(made)
    key = next(line for line in text.splitlines() if "proxy_cache_key" in line).strip()
    # Newline-separated (nginx reads \n in a quoted string as a newline, which no header value can hold), body last:
    # '|' as a separator would let "Cookie: x|y" plus one body make the key of another body without the cookie.
    parts = key.removeprefix('proxy_cache_key "').removesuffix('";').split("\\n")
    assert parts == ["v-123-0", "$request_method", "$scheme", "$http_host", "$request_uri", "$http_accept",
                     "$content_type", "$http_origin", "$http_accept_language", "$http_cookie", "$request_body"]
    front.check(front.prepare(made))  # nginx itself accepts it
    plain = front.config_text(front.Front(listen="127.0.0.1:1", upstreams=("unix:/x.sock",), directory=tmp_path,
                                          version="v", cache=False))
    assert "proxy_cache " not in plain and "proxy_cache_path" not in plain


def test_kg_serve_stops_with_status_1_when_nginx_cannot_take_the_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([*KG, "serve", "--front", "nginx", "--data", str(SAMPLE), "--bind", f"127.0.0.1:{port}"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Address already in use" in done.stderr and "nginx exited" in done.stderr


def test_kg_serve_stops_when_nginx_dies():
    with gunicorn(SAMPLE, extra=("--front", "nginx")) as (url, process):
        nginx = [pid for pid in descendants(process.pid)
                 if Path(f"/proc/{pid}/comm").read_text().strip() == "nginx"
                 and int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) == process.pid]
        assert len(nginx) == 1  # the master, a child of kg serve (its workers are the master's children)
        os.kill(nginx[0], signal.SIGKILL)
        assert process.wait(60) == 1
        assert not group_members(nginx[0])  # its workers went too: nothing holds the port


def test_nginx_stops_when_kg_serve_is_killed_outright():
    with gunicorn(SAMPLE, extra=("--front", "nginx")) as (url, process):
        nginx = next(pid for pid in descendants(process.pid) if Path(f"/proc/{pid}/comm").read_text().strip() == "nginx")
        os.kill(process.pid, signal.SIGKILL)  # no hook runs: the kernel tells nginx (PR_SET_PDEATHSIG)
        process.wait(30)
        for _ in range(100):
            if not group_members(nginx):
                break
            time.sleep(0.1)
        assert not group_members(nginx)


def group_members(group: int) -> list[int]:
    """Live processes in process group `group` (zombies count as gone)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found
