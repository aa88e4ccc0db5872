"""The worker pool never waits forever: every wait has a deadline, after which the worker is replaced."""

import os
import select
import signal
import sys
import textwrap
import time

import pytest
from serverkit import make_app

from server.engine import executor, worker
from server.errors import Overloaded, WorkerStalled

# A stand-in worker that speaks the wire protocol and then misbehaves as `mode` says.
FAKE = textwrap.dedent("""
    import socket, sys, time
    sys.path.insert(0, sys.argv[3])
    from server.engine import worker
    sock = socket.socket(fileno=int(sys.argv[1]))
    mode = sys.argv[2]
    if mode == "never-ready":
        time.sleep(600)
    worker.send(sock, 0, worker.READY, {"triples": 1})
    seq, request = worker.read_request(sock)
    if mode == "half-answer":  # the header promises 100 bytes; 10 come, then nothing
        sock.sendall(worker.HEADER.pack(seq, worker.OK, 2, 100) + b"{}" + b"x" * 10)
    elif mode == "answer":
        worker.send(sock, seq, worker.OK, {"kind": "boolean", "format": "JSON"}, b'{"boolean":true}')
    elif mode == "out-of-step":
        worker.send(sock, seq + 7, worker.OK, {"kind": "boolean", "format": "JSON"}, b"{}")
    time.sleep(600)
""")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASK = ("query", "ASK {}", None, None, "JSON", None, 1)


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture()
def fake_pool(tmp_path, monkeypatch):
    """A pool of one fake worker in the given mode; closed afterwards."""
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE)
    pools = []

    def make(mode: str, **options) -> executor.Pool:
        monkeypatch.setattr(executor, "command", lambda spec, fd: [sys.executable, str(script), str(fd), mode, ROOT])
        pools.append(executor.Pool({}, 1, **options))
        return pools[-1]

    yield make
    for pool in pools:
        pool.close()


def test_a_stopped_worker_makes_the_query_a_503_at_its_time_limit_and_the_next_query_succeeds():
    app = make_app(EXECUTORS=1)
    try:
        client = app.test_client()
        assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
        [pid] = app.extensions["kg"].pool(app).pids()
        os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        stopped = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }", "timeout": "1"})
        assert stopped.status_code == 503
        assert time.monotonic() - started < 1 + executor.MARGIN  # the deadline, not forever
        assert not alive(pid)  # SIGKILL ends a stopped process too
        assert client.get("/sparql", query_string={"query": "ASK { ?s ?p 1 }"}).status_code == 200
    finally:
        app.extensions["kg"].close()


def test_a_worker_that_stops_in_the_middle_of_an_answer_is_replaced_with_a_named_error(fake_pool, monkeypatch):
    monkeypatch.setattr(executor, "MARGIN", 0.5)
    pool = fake_pool("half-answer")
    [pid] = pool.pids()
    with pytest.raises(WorkerStalled) as raised:
        pool.run(ASK, 1.0)
    assert raised.value.status == 503 and raised.value.headers["Retry-After"]
    assert not alive(pid)
    assert len(pool.pids()) == 1 and pool.pids() != [pid]


def test_an_answer_out_of_step_is_never_taken_for_this_request(fake_pool):
    pool = fake_pool("out-of-step")
    [pid] = pool.pids()
    with pytest.raises(executor.WorkerCrashed, match="answered request 8, not 1"):
        pool.run(ASK, 5.0)
    assert not alive(pid)


def test_a_worker_that_never_starts_costs_a_request_its_time_limit_not_the_start_timeout(fake_pool):
    pool = fake_pool("never-ready", start_timeout=600)
    with pytest.raises(Overloaded, match="still starting"):
        pool.run(ASK, 0.5)
    assert len(pool.pids()) == 1  # still within its start time: kept, not killed


def test_a_worker_past_its_start_timeout_is_replaced(fake_pool):
    pool = fake_pool("never-ready", start_timeout=0.3)
    [pid] = pool.pids()
    with pytest.raises(Overloaded):
        pool.run(ASK, 2.0)
    assert not alive(pid)
    assert len(pool.pids()) == 1 and pool.pids() != [pid]


def test_a_worker_that_started_long_ago_is_used_not_replaced(fake_pool):
    pool = fake_pool("answer", start_timeout=0.2)
    [pid] = pool.pids()
    [executor_] = pool.idle
    assert select.select([executor_.sock], [], [], 60)[0]  # its READY waits in the socket...
    time.sleep(0.3)  # ...and is first read after the start timeout has passed
    assert pool.run(ASK, 2.0).chunks == [b'{"boolean":true}']
    assert pool.pids() == [pid]


def test_big_answers_arrive_whole_in_the_chunks_they_came_in():
    app = make_app(EXECUTORS=1)
    try:
        values = " ".join(f'"{"x" * 200}{n}"' for n in range(3000))
        request = ("query", f"SELECT ?v {{ VALUES ?v {{ {values} }} }}", None, None, "TSV", None, 10_000)
        answer = app.extensions["kg"].pool(app).run(request, 10.0)
        body = b"".join(answer.chunks)
        assert len(body) == answer.meta["bytes"] > worker.SMALL
        assert body.count(b"\n") == 3001
    finally:
        app.extensions["kg"].close()
