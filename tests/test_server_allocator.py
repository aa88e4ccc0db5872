"""The query workers' malloc (server/engine/allocator.py): jemalloc when installed, what was asked for otherwise."""

import os

import pytest
from serverkit import make_app

from server.engine import allocator

ASK = ("query", "ASK {}", None, None, "JSON", None, 1)


def worker_mallocs(app) -> set[str]:
    """What the started query workers really have mapped, read from /proc."""
    pool = app.extensions["kg"].pool(app)
    pool.run(ASK, 30.0)  # every request waits for its worker to start
    return {allocator.loaded(pid) for pid in pool.pids()}


def test_jemalloc_is_installed_here():
    # `make test` installs Debian's libjemalloc2 (make malloc-deps); without it the tests below prove nothing.
    assert allocator.find_jemalloc() is not None


def test_auto_runs_query_workers_with_jemalloc_and_healthz_says_so():
    app = make_app(EXECUTORS=2, ALLOCATOR="auto")
    try:
        assert worker_mallocs(app) == {"jemalloc"}
        health = app.test_client().get("/healthz").get_json()
        assert health["query_worker_malloc"] == "jemalloc"
        # The app's own process is untouched: only the workers are preloaded.
        assert allocator.loaded() == "system"
    finally:
        app.extensions["kg"].close()


def test_system_keeps_glibc_malloc():
    app = make_app(EXECUTORS=1, ALLOCATOR="system")
    try:
        assert worker_mallocs(app) == {"system"}
        assert app.test_client().get("/healthz").get_json()["query_worker_malloc"] == "system"
    finally:
        app.extensions["kg"].close()


def test_a_library_path_is_preloaded_as_given():
    path = next(p for p in allocator.JEMALLOC_PATHS if os.path.isfile(p))
    app = make_app(EXECUTORS=1, ALLOCATOR=path)
    try:
        assert worker_mallocs(app) == {"jemalloc"}
    finally:
        app.extensions["kg"].close()


def test_workers_answer_the_same_with_either_malloc():
    query = "SELECT ?s ?p ?o { ?s ?p ?o } ORDER BY ?s ?p ?o"
    bodies = []
    for choice in ("jemalloc", "system"):
        app = make_app(EXECUTORS=1, ALLOCATOR=choice, CACHE=False)
        try:
            response = app.test_client().get("/sparql", query_string={"query": query, "format": "tsv"})
            assert response.status_code == 200
            bodies.append(response.data)
        finally:
            app.extensions["kg"].close()
    assert bodies[0] == bodies[1] and bodies[0].count(b"\n") == 21  # header + the sample's 20 triples


@pytest.mark.parametrize("choice", ["tcmalloc", "/no/such/libmalloc.so", ""])
def test_an_unusable_choice_stops_the_app_with_its_name(choice):
    with pytest.raises(ValueError, match="ALLOCATOR"):
        make_app(ALLOCATOR=choice)


def test_required_jemalloc_that_is_missing_is_an_error(monkeypatch):
    monkeypatch.setattr(allocator, "JEMALLOC_PATHS", ())
    monkeypatch.setattr(allocator.ctypes.util, "find_library", lambda name: None)
    assert allocator.library("auto") is None  # auto falls back to the system malloc
    with pytest.raises(ValueError, match="libjemalloc2"):
        allocator.library("jemalloc")


def test_preload_goes_ahead_of_an_existing_ld_preload(monkeypatch):
    monkeypatch.setenv("LD_PRELOAD", "/opt/other.so")
    env = allocator.environment("/usr/lib/libjemalloc.so.2")
    assert env["LD_PRELOAD"] == "/usr/lib/libjemalloc.so.2 /opt/other.so"
    assert env["PATH"] == os.environ["PATH"]
    monkeypatch.delenv("LD_PRELOAD")
    assert allocator.environment("/usr/lib/libjemalloc.so.2")["LD_PRELOAD"] == "/usr/lib/libjemalloc.so.2"
    assert allocator.environment(None) is None  # the system malloc: the worker inherits the environment as is
