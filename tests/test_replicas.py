"""Replicas: `kg serve` processes serving copies of one build answer with the same bytes and the same ETags (the
dataset version is the build's content digest), behind one nginx front (`kg front`, `kg serve --front nginx
--upstream`); a front refuses replicas of two builds, and a rolling switch to a new build never mixes versions in
one answer (issue 13, item 4; issue 11, finding 13)."""

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDFS
from serverkit import KG, ROOT, SAMPLE, free_port, kg_serve, stop

pytestmark = pytest.mark.slow
BUILD_TIME = datetime(2026, 1, 1, tzinfo=UTC)
PLAN = "https://policykg.example/id/plan/east-west-st-2022"
QUERIES = ("SELECT ?task ?label WHERE { ?task a <https://policykg.example/def/Task> ; "
           "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?task ?label",
           f"DESCRIBE <{PLAN}>",
           "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")
# Behind one front every replica sees the same Host: the endpoint URL is part of the answer (relative IRIs).
HOST = "data.policykg.example"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    etag: str | None
    cache: str | None  # nginx's X-Cache (HIT, MISS, ...), None from a replica itself

    @property
    def pair(self) -> tuple[bytes, str | None]:
        return self.body, self.etag


def answer(base: str, query: str, timeout: float = 30) -> Answer:
    """GET /sparql?query= on a fresh connection, with the one public Host name; any status is returned."""
    parts = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("GET", "/sparql?" + urllib.parse.urlencode({"query": query}),
                           headers={"Accept": "text/turtle, text/csv", "Host": HOST})
        got = connection.getresponse()
        return Answer(got.status, got.read(), got.getheader("ETag"), got.getheader("X-Cache"))
    finally:
        connection.close()


def ask(base: str, query: str) -> tuple[bytes, str]:
    """The (body, ETag) of a 200 answer."""
    got = answer(base, query)
    assert got.status == 200, got
    return got.pair


def version(base: str) -> str:
    with contextlib.closing(http.client.HTTPConnection(urllib.parse.urlsplit(base).netloc, timeout=30)) as connection:
        connection.request("GET", "/healthz")
        return json.loads(connection.getresponse().read())["dataset_version"]


def address(base: str) -> str:
    return urllib.parse.urlsplit(base).netloc


def sparql_answers(base: str) -> float:
    """Answers a replica itself gave at /sparql so far (its Prometheus counter)."""
    with contextlib.closing(http.client.HTTPConnection(address(base), timeout=30)) as connection:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith('kg_http_requests_total{endpoint="sparql.endpoint"'))


def until(condition, seconds: float, what: str):
    """condition()'s first true value, polled; fails the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.05)
    pytest.fail(f"no {what} within {seconds} s")


@pytest.fixture(scope="module")
def grown(tmp_path_factory):
    """A second build: the bundled article with one more triple, so another content and another version."""
    from kg.pipeline import build

    def one_more(dataset):
        dataset.graph(URIRef("https://policykg.example/graph/kg")).add(
            (URIRef(PLAN), RDFS.comment, Literal("the second build of the replica tests")))

    return build(out_dir=tmp_path_factory.mktemp("grown"), build_time=BUILD_TIME, mutate=one_more)


@pytest.fixture(scope="module")
def replicas(built, grown, tmp_path_factory):
    """Two `kg serve` of copies of `built` ("old") and two of copies of `grown` ("new"): name -> base URL."""
    root = tmp_path_factory.mktemp("replicas")
    with contextlib.ExitStack() as running:
        served = {}
        for name, build in (("old-a", built), ("old-b", built), ("new-a", grown), ("new-b", grown)):
            copy = root / name / "store"
            shutil.copytree(build.store, copy)  # new files, new mtimes: only the content is the same
            served[name], _ = running.enter_context(kg_serve("--store", copy, "--workers", 1))
        yield served


@dataclass
class Front:
    url: str
    process: subprocess.Popen
    log_file: object

    def log(self) -> str:
        self.log_file.seek(0)
        return self.log_file.read().decode(errors="replace")


@contextlib.contextmanager
def kg_front(*args):
    """`kg front --listen <free loopback port> ARGS`, once nginx answers; stopped (SIGTERM) after."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([*KG, "front", "--listen", f"127.0.0.1:{port}", *map(str, args)], cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        front = Front(f"http://127.0.0.1:{port}", process, log)
        try:
            def listening():
                if process.poll() is not None:
                    pytest.fail("kg front exited: " + front.log())
                with contextlib.suppress(OSError), contextlib.closing(http.client.HTTPConnection(
                        "127.0.0.1", port, timeout=5)) as connection:
                    connection.request("GET", "/healthz")
                    return connection.getresponse().status == 200
                return False

            until(listening, 60, "answer from kg front")
            yield front
        finally:
            stop(process, 20)


def expected(*bases: str) -> dict[str, tuple[bytes, str]]:
    """query -> the (body, ETag) every one of `bases` gives, asked directly (they must all agree)."""
    pairs = {}
    for query in QUERIES:
        found = {ask(base, query) for base in bases}
        assert len(found) == 1, f"replicas of one build differ on {query}"
        pairs[query] = found.pop()
    return pairs


def test_two_replicas_of_one_build_give_the_same_bytes_and_etags(replicas):
    for query, (body, etag) in expected(replicas["old-a"], replicas["old-b"]).items():
        assert body and etag, query


def test_replicas_of_two_builds_report_two_versions_and_give_other_etags(replicas):
    assert version(replicas["old-a"]) != version(replicas["new-a"])
    old, new = expected(replicas["old-a"]), expected(replicas["new-a"])
    assert all(old[query][1] != new[query][1] for query in QUERIES)
    assert old[QUERIES[1]][0] != new[QUERIES[1]][0] and old[QUERIES[2]][0] != new[QUERIES[2]][0]


def test_a_front_over_two_replicas_answers_as_they_do_and_shares_the_requests(replicas):
    a, b = replicas["old-a"], replicas["old-b"]
    with kg_front("--upstream", address(a), address(b)) as front:
        # Distinct texts (a comment apart), so each is a cache miss that one of the replicas answers.
        for n in range(24):
            query = f"{QUERIES[n % len(QUERIES)]}\n# {n}"
            through = answer(front.url, query)
            assert through.status == 200 and through.cache == "MISS"
            assert through.pair == ask(a, query) == ask(b, query)
        used = re.findall(r'"upstream":"([^"]*)"', front.log())
    assert set(used) == {address(a), address(b)}
    assert front.process.returncode == 0  # SIGTERM: nginx told to finish, kg front done


def test_kg_front_stops_with_status_1_when_nginx_cannot_take_the_port(replicas):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = subprocess.run([*KG, "front", "--listen", f"127.0.0.1:{taken.getsockname()[1]}", "--upstream",
                               address(replicas["old-a"])], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Address already in use" in done.stderr and "nginx exited with status 1" in done.stderr


def test_kg_serve_with_an_upstream_shares_the_requests_between_itself_and_the_replica():
    with kg_serve("--data", SAMPLE, "--workers", 1) as (replica, _):
        with kg_serve("--data", SAMPLE, "--workers", 1, "--front", "nginx", "--upstream", address(replica)) as (url, _):
            before = sparql_answers(replica)
            queries = [f"SELECT ?s {{ ?s ?p ?o }} ORDER BY ?s LIMIT {n}" for n in range(1, 13)]
            answers = [answer(url, query) for query in queries]
            reached = sparql_answers(replica) - before
            assert [(got.status, got.cache) for got in answers] == [(200, "MISS")] * len(queries)
            assert [got.pair for got in answers] == [ask(replica, query) for query in queries]
    assert 0 < reached < len(queries)  # the rest went to the front's own gunicorn


def test_a_front_refuses_to_start_over_replicas_of_two_builds(replicas):
    old, new = replicas["old-a"], replicas["new-a"]
    done = subprocess.run([*KG, "front", "--listen", f"127.0.0.1:{free_port()}", "--upstream", address(old),
                           address(new)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"{address(old)} {version(old)}" in lines[0] and f"{address(new)} {version(new)}" in lines[0]


def test_a_front_refuses_to_start_when_a_replica_does_not_answer(replicas):
    gone = f"127.0.0.1:{free_port()}"
    done = subprocess.run([*KG, "front", "--listen", f"127.0.0.1:{free_port()}", "--upstream",
                           address(replicas["old-a"]), gone], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"{gone} unreachable" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_kg_serve_refuses_a_replica_of_another_build(replicas):
    new = replicas["new-a"]
    done = subprocess.run([*KG, "serve", "--front", "nginx", "--upstream", address(new), "--data", str(SAMPLE),
                           "--workers", "1", "--bind", f"127.0.0.1:{free_port()}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 2
    refusal = done.stderr.strip().splitlines()[-1]
    assert refusal.startswith("kg serve: error: ") and "this kg serve " in refusal
    assert f"{address(new)} {version(new)}" in refusal


def test_a_switch_to_replicas_of_two_builds_is_refused_and_the_old_replicas_kept(replicas, tmp_path):
    old_a, old_b, new = replicas["old-a"], replicas["old-b"], replicas["new-a"]
    listed = tmp_path / "upstreams"
    listed.write_text(f"{address(old_a)}\n{address(old_b)}\n")
    old = expected(old_a)
    with kg_front("--upstreams", listed) as front:
        assert ask(front.url, QUERIES[2]) == old[QUERIES[2]]
        for text, why in ((f"# mixed\n{address(old_a)}\n{address(new)}\n", f"{address(new)} {version(new)}"),
                          ("old-a and new-a\n", "is not an upstream address")):
            listed.write_text(text)
            refusals = front.log().count("switch refused")
            front.process.send_signal(signal.SIGHUP)
            until(lambda seen=refusals: front.log().count("switch refused") > seen, 30, "refusal")
            refusal = [line for line in front.log().splitlines() if "switch refused" in line][-1]
            assert why in refusal and f"still serving dataset version {version(old_a)}" in refusal
            for query in QUERIES:
                assert ask(front.url, query) == old[query]


def test_a_rolling_switch_never_mixes_two_builds_in_one_answer_and_then_serves_only_the_new(replicas, tmp_path):
    old_a, old_b, new_a, new_b = (replicas[name] for name in ("old-a", "old-b", "new-a", "new-b"))
    old, new, target = expected(old_a, old_b), expected(new_a, new_b), version(new_a)
    listed, pidfile = tmp_path / "upstreams", tmp_path / "front.pid"
    listed.write_text(f"{address(old_a)}\n{address(old_b)}\n")
    with kg_front("--upstreams", listed, "--pidfile", pidfile) as front:
        for query in QUERIES:  # in nginx's cache before the switch, under the old version
            until(lambda q=query: answer(front.url, q).cache == "HIT", 10, "cached answer")
            assert ask(front.url, query) == old[query]
        answers, stopping = [], threading.Event()

        def client(offset: int):  # bounded: until told, at most 20,000 answers or 120 s
            deadline, n = time.monotonic() + 120, offset
            while not stopping.is_set() and len(answers) < 20_000 and time.monotonic() < deadline:
                query, started = QUERIES[n % len(QUERIES)], time.monotonic()
                answers.append((started, query, answer(front.url, query)))
                n += 1
                time.sleep(0.005)  # a steady stream across the switch, not a burst that ends before it

        clients = [threading.Thread(target=client, args=(n,)) for n in range(2)]
        for thread in clients:
            thread.start()
        try:
            time.sleep(0.5)
            listed.write_text(f"{address(new_a)}\n{address(new_b)}\n")
            asked = time.monotonic()
            os.kill(int(pidfile.read_text()), signal.SIGHUP)
            until(lambda: f"switched to dataset version {target}" in front.log(), 60, "switch")
            switched = time.monotonic()
            until(lambda: sum(started > switched for started, _, _ in answers) >= 60, 60, "answers after the switch")
        finally:
            stopping.set()
            for thread in clients:
                thread.join(60)
    before = [(query, got) for started, query, got in answers if started < asked]
    after = [(query, got) for started, query, got in answers if started > switched]
    assert before and after
    assert [got.status for _, _, got in answers] == [200] * len(answers)
    for _, query, got in answers:  # each answer is one build's bytes with that build's ETag
        assert got.pair in (old[query], new[query]), (query, got)
    assert all(got.pair == old[query] for query, got in before)
    assert all(got.pair == new[query] for query, got in after)
    assert {got.cache for _, got in after} >= {"HIT"}  # the new answers come from nginx's cache too
