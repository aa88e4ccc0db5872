"""One in-memory copy of the store per `kg serve`: query workers are forks of one zygote (issue 13, item 1)."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pyoxigraph
import pytest
from serverkit import CROSS_PRODUCT, ROOT, SAMPLE, alive, gone_within, make_app, parent

from server.engine import admission, executor
from server.errors import QueryTimeout

QUERIES = sorted((ROOT / "bench" / "queries").glob("*.rq"))
GONE_WITHIN = 2.0  # seconds after a death by which a query worker must be gone
REFORK_WITHIN = 0.5  # seconds a killed worker's replacement may take to be ready (a fork, not a load)
COUNT = ("query", "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", None, None, "JSON", None, 10)
ASK = ("query", "ASK { <http://example.org/policy/id/task/T000042> ?p ?o }", None, None, "JSON", None, 1)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """10^5 triples of bench/gen_data.py: a load takes a noticeable time, a fork does not."""
    path = tmp_path_factory.mktemp("zygote") / "synthetic.ttl"
    subprocess.run([sys.executable, str(ROOT / "bench" / "gen_data.py"), "--triples", "100000", "--out", str(path)],
                   check=True, capture_output=True, timeout=120)
    return path


@pytest.fixture()
def app_of(request):
    """make_app(files, **config), its State closed afterwards."""
    apps = []

    def make(*files, **config):
        apps.append(make_app(files or (SAMPLE,), **config))
        return apps[-1]

    yield make
    for app in apps:
        app.extensions["kg"].close()


def ready_workers(pool: admission.Pool) -> list[executor.Executor]:
    """Every idle worker of `pool`, once each has opened the store (at most 30 s)."""
    with pool.cond:
        workers = [worker for role in pool.idle.values() for worker in role]
    assert all(worker.ready(time.monotonic() + 30) for worker in workers)
    return workers


def rollup_kib(pid: int, *keys: str) -> int:
    """The sum of `keys` of /proc/PID/smaps_rollup, in KiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    return sum(int(fields[key].split()[0]) for key in keys)


def pss_kib(pid: int) -> int:
    """Proportional set size: a page shared by n processes counts 1/n in each."""
    return rollup_kib(pid, "Pss")


def private_kib(pid: int) -> int:
    """Pages only this process holds (written since the fork, or its own)."""
    return rollup_kib(pid, "Private_Clean", "Private_Dirty")


def test_the_store_is_loaded_once_and_every_worker_is_a_fork_of_the_zygote(app_of, synthetic):
    app = app_of(synthetic, EXECUTORS=3, RESERVE_EXECUTORS=1, SPARE_EXECUTORS=1)
    state = app.extensions["kg"]
    workers = ready_workers(state.pool(app))
    zygote = state.zygote.process.pid
    assert len(workers) == 5
    assert {worker.loaded_by for worker in workers} == {zygote}  # none loaded the store itself
    assert {parent(worker.process.pid) for worker in workers} == {zygote}
    assert {worker.triples for worker in workers} == {len(list(pyoxigraph.parse(path=synthetic)))}


def test_the_workers_share_the_zygotes_pages_instead_of_copying_them(app_of, synthetic):
    app = app_of(synthetic, EXECUTORS=4, RESERVE_EXECUTORS=0, SPARE_EXECUTORS=0, CACHE=False)
    state = app.extensions["kg"]
    pool = state.pool(app)
    workers = ready_workers(pool)
    for _ in workers:
        pool.run(ASK, 10.0)
    zygote = state.zygote.process.pid
    store = rollup_kib(zygote, "Rss")  # the loaded store (and an interpreter)
    for worker in workers:
        assert private_kib(worker.process.pid) < store / 4, "a worker copied the store's pages"
    one_copy = sum(pss_kib(pid) for pid in [zygote, *(worker.process.pid for worker in workers)])
    assert one_copy < 1.5 * store  # one copy (and a little per worker), not five


def test_a_worker_that_copied_many_of_the_stores_pages_is_replaced_by_a_fresh_fork(app_of, synthetic):
    app = app_of(synthetic, EXECUTORS=1, RESERVE_EXECUTORS=0, SPARE_EXECUTORS=0, CACHE=False,
                 WORKER_COPIED_BYTES=8 << 20)
    state = app.extensions["kg"]
    pool = state.pool(app)
    [scanner] = ready_workers(pool)
    answer = pool.run(COUNT, 30.0)  # a full scan: reading the in-memory store writes to its pages
    assert answer.meta["copied"] > 8 << 20
    assert gone_within([scanner.process.pid], GONE_WITHIN) == []  # replaced after its answer, off its path
    deadline = time.monotonic() + 2.0
    while not pool.pids() and time.monotonic() < deadline:
        time.sleep(0.01)
    [fresh] = ready_workers(pool)
    assert fresh.loaded_by == state.zygote.process.pid
    assert private_kib(fresh.process.pid) < 8 << 10
    assert pool.run(ASK, 10.0).meta["copied"] < 8 << 20
    assert ready_workers(pool) == [fresh]  # a light query leaves the worker in place


def test_a_killed_worker_is_back_in_under_half_a_second_without_loading_the_store(app_of, synthetic):
    app = app_of(synthetic, EXECUTORS=1, RESERVE_EXECUTORS=0, SPARE_EXECUTORS=0)
    state = app.extensions["kg"]
    pool = state.pool(app)
    [old] = ready_workers(pool)
    with pytest.raises(QueryTimeout):
        pool.run(("query", CROSS_PRODUCT, None, None, "JSON", None, 10), 0.5)
    killed_at = time.monotonic()
    assert not alive(old.process.pid)
    with pool.cond:
        [fresh] = pool.idle[admission.GENERAL]
    assert fresh.ready(killed_at + REFORK_WITHIN), "the replacement was not ready within 0.5 s"
    assert fresh.loaded_by == state.zygote.process.pid and fresh.triples == old.triples


def test_many_forked_workers_answer_concurrently_and_alike(app_of, synthetic):
    app = app_of(synthetic, EXECUTORS=4, RESERVE_EXECUTORS=0, SPARE_EXECUTORS=0, CACHE=False)
    pool = app.extensions["kg"].pool(app)
    ready_workers(pool)
    request = ("query", QUERIES[1].read_text(), None, None, "JSON", None, 10_000)  # an aggregate over all tasks
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(b"".join(pool.run(request, 30.0).chunks)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 4 and len(set(answers)) == 1 and b"bindings" in answers[0]


@pytest.mark.parametrize("query", QUERIES, ids=lambda path: path.stem)
def test_a_forked_worker_answers_the_same_bytes_as_a_worker_that_loaded_the_store_itself(app_of, synthetic, query):
    app = app_of(synthetic, EXECUTORS=1, RESERVE_EXECUTORS=0, SPARE_EXECUTORS=0)
    state = app.extensions["kg"]
    forked = state.pool(app)
    fresh = admission.Pool(state.spec, 1)  # no zygote: the worker copies the store on disk into memory (as before)
    try:
        text = query.read_text()
        kind = "N_TRIPLES" if text.lstrip().upper().startswith(("DESCRIBE", "CONSTRUCT")) else None
        request = ("query", text, None, None, None if kind else "JSON", kind, 10_000)
        assert b"".join(forked.run(request, 30.0).chunks) == b"".join(fresh.run(request, 30.0).chunks)
    finally:
        fresh.close()


SERVER = textwrap.dedent("""
    # A server process that is not the zygote's parent: asks it for a worker, starts a cross product, waits.
    import socket, sys, time
    from server.engine import executor, zygote
    worker = executor.Executor({}, zygote=zygote.Client(sys.argv[1]))
    assert worker.ready(time.monotonic() + 30)
    worker.sock.sendall(executor.worker.pack_request(1, ("query", sys.argv[2], None, None, "JSON", None, 1)))
    print(worker.process.pid, flush=True)
    time.sleep(600)
""")


@pytest.mark.reliability  # issue 11, finding 5: no query worker outlives what it serves
def test_a_forked_worker_dies_when_the_server_process_it_serves_is_killed(app_of):
    app = app_of(EXECUTORS=1, RESERVE_EXECUTORS=0, SPARE_EXECUTORS=0)
    state = app.extensions["kg"]
    server = subprocess.Popen([sys.executable, "-c", SERVER, state.zygote.address, CROSS_PRODUCT],
                              stdout=subprocess.PIPE, text=True)
    try:
        worker = int(server.stdout.readline())
        assert parent(worker) == state.zygote.process.pid  # so only its watchdog can notice the server's death
        time.sleep(0.3)  # it is running the cross product now
        server.kill()
        assert gone_within([worker], GONE_WITHIN) == [], "the query worker outlived the server process it served"
    finally:
        server.kill()
        server.wait(10)


@pytest.mark.reliability  # issue 11, finding 5: no query worker outlives what it serves
def test_forked_workers_die_with_the_zygote_and_the_next_workers_load_the_store_themselves(app_of):
    app = app_of(EXECUTORS=2, RESERVE_EXECUTORS=0, SPARE_EXECUTORS=0)
    state = app.extensions["kg"]
    pool = state.pool(app)
    pids = [worker.process.pid for worker in ready_workers(pool)]
    os.kill(state.zygote.process.pid, signal.SIGKILL)
    assert gone_within(pids, GONE_WITHIN) == [], "query workers outlived the zygote"
    client = app.test_client()
    statuses = [client.get("/sparql", query_string={"query": f"ASK {{ ?s ?p {n} }}"}).status_code for n in range(3)]
    assert statuses[-1] == 200  # a worker that died with the zygote is a 500 once, then replaced
    assert {worker.loaded_by for worker in ready_workers(pool)} == {worker.process.pid for worker in pool.role}


def built_store(folder: Path) -> Path:
    """An on-disk store such as `kg build` writes (the sample's quads), served without --data. One per app: two
    apps of one process serving one store would share one snapshot folder (server/engine/snapshot.py)."""
    path = folder / "store"
    store = pyoxigraph.Store(str(path))
    store.bulk_load(path=str(SAMPLE), format=pyoxigraph.RdfFormat.TRIG)
    store.flush()
    del store
    return path


@pytest.mark.parametrize("source", ["data", "built"])
def test_the_zygote_is_single_threaded_when_it_forks(app_of, tmp_path, source):
    # Forking a threaded process is unsafe; RocksDB starts threads that outlive a store, so a built store is copied
    # through a child's dump.
    app = app_of(DATA=[], STORE=str(built_store(tmp_path))) if source == "built" else app_of()
    state = app.extensions["kg"]
    ready_workers(state.pool(app))
    assert len(list(Path(f"/proc/{state.zygote.process.pid}/task").iterdir())) == 1


def test_a_built_store_served_by_forks_answers_as_on_disk(app_of, tmp_path):
    query = "SELECT ?s ?p ?o { ?s ?p ?o } ORDER BY ?s ?p ?o"
    answers = []
    for in_memory in (True, False):
        (tmp_path / str(in_memory)).mkdir()
        app = app_of(DATA=[], STORE=str(built_store(tmp_path / str(in_memory))), IN_MEMORY=in_memory)
        assert (app.extensions["kg"].zygote is not None) == in_memory
        answers.append(app.test_client().get("/sparql", query_string={"query": query}).data)
    assert answers[0] == answers[1] and answers[0].count(b'"s":') == 20
