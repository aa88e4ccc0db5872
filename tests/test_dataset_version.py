"""The dataset version (finding 13 of issue 11): a content digest, the same for byte-identical copies, and a
rebuild under a running server served whole or not at all; bounded metric labels."""

import gc
import os
import shutil

import pyoxigraph as ox
import pytest

from kg.publish.step import VERSION_FILE
from server import create_app
from server.engine import snapshot

pytestmark = pytest.mark.reliability
QUERY = {"query": "SELECT ?o { ?s ?p ?o } ORDER BY ?o"}


def make_store(path, *values):
    """An on-disk Oxigraph store holding one triple per value, closed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    store = ox.Store(str(path))
    for value in values:
        store.add(ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal(value),
                          ox.NamedNode("http://example.org/g")))
    store.flush()
    del store
    gc.collect()  # the RocksDB lock goes with the Store object
    return path


@pytest.fixture
def apps():
    made = []

    def app_for(store):
        app = create_app({"TESTING": True, "STORE": str(store), "EXECUTORS": 1, "CACHE": False})
        made.append(app)
        return app

    yield app_for
    for app in made:
        app.extensions["kg"].close()


def test_byte_identical_copies_of_a_store_answer_with_the_same_etag(tmp_path, apps):
    first = make_store(tmp_path / "a" / "store", "one", "two")
    second = tmp_path / "b" / "store"
    shutil.copytree(first, second)  # new inode, new mtimes: only the bytes are the same
    os.utime(second / "CURRENT", (1, 1))
    answers = [apps(store).test_client().get("/sparql", query_string=QUERY) for store in (first, second)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].headers["ETag"] == answers[1].headers["ETag"]
    assert answers[0].data == answers[1].data


def test_the_version_the_build_wrote_is_the_version_served(tmp_path, apps):
    store = make_store(tmp_path / "store", "one")
    (store / VERSION_FILE).write_text("0123456789abcdef" * 4 + "\n")  # a SHA-256 in hex, as the build writes
    health = apps(store).test_client().get("/healthz").get_json()
    assert health["dataset_version"].startswith("0123456789abcdef")


def test_stores_with_other_content_have_other_versions(tmp_path):
    first, second = make_store(tmp_path / "a", "one"), make_store(tmp_path / "b", "two")
    assert snapshot.content_version(first) != snapshot.content_version(second)


def test_a_rebuild_under_a_running_server_is_not_half_served(tmp_path, apps):
    store = make_store(tmp_path / "build" / "store", "old")
    app = apps(store)
    client = app.test_client()
    before = client.get("/sparql", query_string=QUERY)
    assert b"old" in before.data
    # The build swaps a new store in with renames, as kg build does.
    make_store(tmp_path / "build" / "new", "new")
    (tmp_path / "build" / "store").rename(tmp_path / "build" / "previous")
    (tmp_path / "build" / "new").rename(tmp_path / "build" / "store")
    shutil.rmtree(tmp_path / "build" / "previous")
    pool = app.extensions["kg"].pool(app)
    for pid in pool.pids():  # a worker replaced after the rebuild (a timeout, a crash) reopens the store
        os.kill(pid, 9)
    after = client.get("/sparql", query_string=QUERY)
    while after.status_code != 200:  # the killed worker is noticed and replaced: at most one failed answer each
        after = client.get("/sparql", query_string=QUERY)
    assert after.data == before.data
    assert after.headers["ETag"] == before.headers["ETag"]


def test_the_snapshot_is_removed_with_the_app_and_stale_ones_at_the_next_start(tmp_path):
    store = make_store(tmp_path / "store", "one")
    held = snapshot.take(store)
    assert held is not None and (held.path / "CURRENT").is_file()
    held.close()
    assert not held.path.exists()
    stale = tmp_path / f"{snapshot.PREFIX}999999999-store"  # no such pid
    stale.mkdir()
    snapshot.take(store).close()
    assert not stale.exists()


def test_metric_labels_do_not_take_the_method_as_sent(tmp_path, apps):
    client = apps(make_store(tmp_path / "store", "one")).test_client()
    for n in range(5):
        assert client.open("/sparql", method=f"BREW{n}").status_code == 405
    exposition = client.get("/metrics").data.decode()
    assert "BREW" not in exposition
    assert 'method="other"' in exposition



def test_two_snapshots_of_one_store_in_one_process_are_independent(tmp_path):
    store = make_store(tmp_path / "store", "one")
    first, second = snapshot.take(store), snapshot.take(store)
    assert first.path != second.path
    first.close()
    assert (second.path / "CURRENT").is_file()
    second.close()
