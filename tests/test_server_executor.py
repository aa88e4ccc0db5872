"""The worker pool: every wait has a deadline (then the worker is replaced), and heavy queries cannot starve light ones."""

import os
import select
import signal
import socket
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from serverkit import CROSS_PRODUCT, make_app

from server.engine import admission, executor, worker
from server.errors import Overloaded, QueryTimeout, WorkerStalled

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
    while mode == "by-text":  # light queries answer at once; a query with HEAVY in it never ends
        seq, request = worker.read_request(sock)
        if "HEAVY" in request[1]:
            time.sleep(600)
        worker.send(sock, seq, worker.OK, {"kind": "boolean", "format": "JSON"}, b'{"boolean":true}')
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
HEAVY = ("query", "ASK { HEAVY }", None, None, "JSON", None, 1)


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def stopped_within(pid: int, seconds: float) -> None:
    """Wait until every thread of `pid` is stopped (state T), at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        states = {(task / "stat").read_text().rsplit(")", 1)[1].split()[0] for task in Path(f"/proc/{pid}/task").iterdir()}
        if states == {"T"}:
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not stop")


@pytest.fixture()
def fake_pool(tmp_path, monkeypatch):
    """A pool of fake workers (one general unless `size` says) in the given mode; closed afterwards."""
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE)
    pools = []

    def make(mode: str, size: int = 1, **options) -> admission.Pool:
        monkeypatch.setattr(executor, "command", lambda spec, fd, *network: [sys.executable, str(script), str(fd), mode, ROOT])
        pools.append(admission.Pool({}, size, **options))
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
        stopped_within(pid, 2.0)  # the signal is delivered asynchronously: a query sent at once may still be read
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
    [executor_] = pool.idle[admission.GENERAL]
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


def in_background(pool: admission.Pool, request: tuple, timeout: float) -> dict:
    """Run `request` in a thread; the dict gets "error" (or "answer") and "seconds" end to end."""
    outcome = {}

    def run():
        started = time.monotonic()
        try:
            outcome["answer"] = pool.run(request, timeout)
        except Exception as error:  # noqa: BLE001 - the test inspects whatever it was
            outcome["error"] = error
        outcome["seconds"] = time.monotonic() - started

    outcome["thread"] = threading.Thread(target=run)
    outcome["thread"].start()
    return outcome


@pytest.mark.reliability
def test_time_spent_waiting_for_a_worker_counts_against_the_query_limit():
    app = make_app(EXECUTORS=1, RESERVE_EXECUTORS=0, CACHE=False)
    try:
        assert app.test_client().get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
        first = in_background_request(app.test_client(), CROSS_PRODUCT, timeout="1.5")
        time.sleep(0.3)  # the first cross product has the only worker
        started = time.monotonic()
        second = app.test_client().get("/sparql", query_string={"query": CROSS_PRODUCT, "timeout": "2"})
        elapsed = time.monotonic() - started
        assert second.status_code == 503 and second.headers["Retry-After"]
        assert elapsed < 2 + 0.5, f"{elapsed:.1f} s: the wait for a worker came on top of the query's own limit"
        first["thread"].join(10)
        assert first["response"].status_code == 503
    finally:
        app.extensions["kg"].close()


def test_with_every_worker_busy_and_no_room_to_wait_a_request_is_a_503_at_once(fake_pool):
    pool = fake_pool("by-text", queue=0)
    first = in_background(pool, HEAVY, 2.0)
    time.sleep(0.2)
    started = time.monotonic()
    with pytest.raises(Overloaded) as refused:
        pool.run(ASK, 5.0)
    assert time.monotonic() - started < 0.2
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 2  # when the busy worker's query must end
    first["thread"].join(10)


def test_the_reserve_answers_a_light_query_while_the_general_worker_is_busy(fake_pool):
    pool = fake_pool("by-text", reserve=1)
    first = in_background(pool, HEAVY, 3.0)
    time.sleep(0.2)
    started = time.monotonic()
    assert pool.run(ASK, 3.0).chunks == [b'{"boolean":true}']
    assert time.monotonic() - started < 0.5
    first["thread"].join(10)


def test_a_heavy_query_on_the_reserve_is_stopped_after_heavy_after_and_the_reserve_replaced(fake_pool):
    pool = fake_pool("by-text", reserve=1, heavy_after=0.5)
    first = in_background(pool, HEAVY, 4.0)
    time.sleep(0.2)
    [reserve] = pool.pids(admission.RESERVE)
    started = time.monotonic()
    with pytest.raises(Overloaded, match="stopped after 0.5 s") as stopped:
        pool.run(HEAVY, 4.0)
    assert 0.5 <= time.monotonic() - started < 1.0
    assert int(stopped.value.headers["Retry-After"]) >= 1
    assert not alive(reserve)
    assert len(pool.pids(admission.RESERVE)) == 1 and pool.pids(admission.RESERVE) != [reserve]
    assert pool.run(ASK, 3.0).chunks == [b'{"boolean":true}']  # the new reserve answers while the general is busy
    first["thread"].join(10)


def test_a_light_query_waiting_gets_the_reserve_before_heavy_queries_that_waited_longer(fake_pool):
    pool = fake_pool("by-text", reserve=1, heavy_after=0.6, queue=2)
    general = in_background(pool, HEAVY, 5.0)
    time.sleep(0.2)
    on_reserve = in_background(pool, HEAVY, 5.0)
    time.sleep(0.1)
    queued = in_background(pool, HEAVY, 5.0)
    time.sleep(0.1)
    started = time.monotonic()
    assert pool.run(ASK, 5.0).chunks == [b'{"boolean":true}']  # the newest waiter: the reserve's next turn
    assert time.monotonic() - started < 0.6
    for outcome in (general, on_reserve, queued):
        outcome["thread"].join(10)
    assert isinstance(on_reserve["error"], Overloaded) and on_reserve["seconds"] < 1.0


def test_a_spare_takes_a_killed_workers_place_at_once(fake_pool):
    pool = fake_pool("by-text", spare=1)
    assert pool.run(ASK, 30.0).chunks  # the general worker has started
    [spare] = pool.pids(admission.SPARE)
    with pytest.raises(QueryTimeout):
        pool.run(HEAVY, 0.5)
    assert pool.pids() == [spare]  # the loaded spare is now the general worker
    assert len(pool.pids(admission.SPARE)) == 1 and pool.pids(admission.SPARE) != [spare]


def test_a_query_past_heavy_after_runs_at_a_lower_cpu_priority(fake_pool):
    pool = fake_pool("by-text", heavy_after=0.3)
    [pid] = pool.pids()
    first = in_background(pool, HEAVY, 2.0)
    time.sleep(0.8)
    assert os.getpriority(os.PRIO_PROCESS, pid) == executor.HEAVY_NICENESS
    first["thread"].join(10)


def test_closing_the_pool_stops_busy_workers_too(fake_pool):
    pool = fake_pool("by-text")
    [pid] = pool.pids()
    first = in_background(pool, HEAVY, 30.0)
    time.sleep(0.3)
    pool.close()
    assert not alive(pid)
    first["thread"].join(10)
    assert "error" in first
    assert pool.pids() == [] and not pool.busy  # and nothing started in its place


def ready_pids(pool: admission.Pool, role: str = admission.GENERAL) -> list[int]:
    """The idle workers of `role`, once each has confined itself and opened the store (at most 10 s)."""
    with pool.cond:
        workers = list(pool.idle[role])
    assert all(worker.ready(time.monotonic() + 10) for worker in workers)
    return [worker.process.pid for worker in workers]


def network_flags(pids) -> set[str]:
    """Whether each query worker in `pids` may connect out ("1") or runs under the seccomp filter ("0")."""
    with_filter = {pid: "Seccomp:\t2" in open(f"/proc/{pid}/status").read() for pid in pids}
    return {"0" if filtered else "1" for filtered in with_filter.values()}


def test_only_queries_naming_allow_listed_endpoints_run_in_the_worker_with_network():
    canary = socket.socket()
    canary.bind(("127.0.0.1", 0))
    canary.listen(4)
    canary.settimeout(10)
    endpoint = f"http://127.0.0.1:{canary.getsockname()[1]}/sparql"
    app = make_app(EXECUTORS=1, SERVICE_ALLOWLIST=[endpoint])
    state = app.extensions["kg"]
    try:
        client = app.test_client()
        assert client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).status_code == 200
        assert network_flags(ready_pids(state.pool(app)) + ready_pids(state.pool(app), admission.RESERVE)) == {"0"}
        federated = in_background_request(client, f"ASK {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}")
        connection, _ = canary.accept()  # the query reached the allow-listed endpoint: its worker may connect out
        connection.close()
        federated["thread"].join(30)
        assert network_flags(ready_pids(state.pool(app, network=True))) == {"1"}
    finally:
        state.close()
        canary.close()


def in_background_request(client, query: str, **params) -> dict:
    """GET /sparql?query=… in a thread; the dict gets "response"."""
    outcome = {}
    outcome["thread"] = threading.Thread(
        target=lambda: outcome.update(response=client.get("/sparql", query_string={"query": query, **params})))
    outcome["thread"].start()
    return outcome


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def test_in_memory_the_general_and_reserve_workers_are_forks_of_the_zygote():
    app = make_app(EXECUTORS=1, IN_MEMORY=True)
    state = app.extensions["kg"]
    try:
        pool = state.pool(app)
        [general], [reserve] = ready_pids(pool), ready_pids(pool, admission.RESERVE)
        assert {parent_of(general), parent_of(reserve)} == {state.zygote.process.pid}
    finally:
        state.close()


def test_on_disk_the_reserve_worker_and_the_general_ones_open_the_store_themselves():
    app = make_app(EXECUTORS=1, IN_MEMORY=False)
    state = app.extensions["kg"]
    try:
        pool = state.pool(app)
        [general], [reserve] = pool.pids(), pool.pids(admission.RESERVE)
        assert state.zygote is None
        in_memory = {pid: open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[5] for pid in (general, reserve)}
        assert in_memory == {general: b"0", reserve: b"0"} and parent_of(general) == os.getpid()
    finally:
        state.close()
