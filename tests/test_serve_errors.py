"""`kg serve` refuses a store it cannot read, at start, and leaves no temporary folder on any exit."""

import os
import shutil
import signal
import subprocess

import pytest
from serverkit import KG, ROOT, SAMPLE, free_port, kg_serve, sample_store_at


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    """The sample data as an on-disk store, as `kg build` writes one (flushed into .sst files)."""
    return sample_store_at(tmp_path_factory.mktemp("built") / "store")


@pytest.fixture
def tmpdir_env(tmp_path):
    """A private TMPDIR for the server, so its kg-serve-* folders can be listed."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


def serve(*args, tmpdir, env=None) -> subprocess.CompletedProcess:
    command = KG + ["serve", "--bind", f"127.0.0.1:{free_port()}", *map(str, args)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "TMPDIR": str(tmpdir), **(env or {})})


def damaged_copy(store, tmp_path, damage) -> str:
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    tables = sorted(copy.glob("*.sst"), key=lambda f: f.stat().st_size)
    assert tables, "the store has no table files to damage"
    damage(tables)
    return copy


def truncate_one(tables):
    with open(tables[-1], "r+b") as table:  # the largest, like `truncate -s 1000`
        table.truncate(1000)


def scramble_every_index_block(tables):
    # Same sizes; the checksums of the first data blocks no longer match (read only when that index is read).
    for table in tables:
        data = bytearray(table.read_bytes())
        data[100:600] = bytes(b ^ 0x5A for b in data[100:600])
        table.write_bytes(bytes(data))


@pytest.mark.reliability
@pytest.mark.parametrize("in_memory", ["true", "false"])  # read by the zygote's copy / by the check of every index
@pytest.mark.parametrize("damage", [truncate_one, scramble_every_index_block])
def test_a_corrupt_store_stops_kg_serve_at_start_with_exit_2_and_the_reason(sample_store, tmp_path, tmpdir_env, damage,
                                                                           in_memory):
    store = damaged_copy(sample_store, tmp_path, damage)
    result = serve("--store", store, tmpdir=tmpdir_env, env={"KG_IN_MEMORY": in_memory})
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"kg serve: error: the store at {store} cannot be read: Corruption")
    assert not list(tmpdir_env.glob("kg-serve-*"))


@pytest.mark.reliability
def test_a_missing_store_is_exit_2_and_leaves_no_temporary_folder(tmp_path, tmpdir_env):
    result = serve("--store", tmp_path / "nonexistent", tmpdir=tmpdir_env)
    assert result.returncode == 2
    assert "no Oxigraph store" in result.stderr
    assert not list(tmpdir_env.glob("kg-serve-*"))


@pytest.mark.parametrize("name, content, message", [
    ("missing.ttl", None, "no such file"),
    ("bad.ttl", "<a> <b> ", "bad.ttl"),
    ("data.csv", "a,b\n", "unknown RDF file extension"),
])
def test_a_bad_data_file_is_exit_2_and_leaves_no_temporary_folder(tmp_path, tmpdir_env, name, content, message):
    file = tmp_path / name
    if content is not None:
        file.write_text(content)
    result = serve("--data", file, tmpdir=tmpdir_env)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not list(tmpdir_env.glob("kg-serve-*"))


def test_sigterm_stops_kg_serve_and_leaves_no_temporary_folder(sample_store, tmpdir_env):
    with kg_serve("--store", sample_store, env={"TMPDIR": str(tmpdir_env)}) as (_, process):
        assert len(list(tmpdir_env.glob("kg-serve-*"))) == 1  # in use while it runs
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    assert not list(tmpdir_env.glob("kg-serve-*"))


def test_a_sound_store_with_many_numeric_literals_passes_the_check(tmp_path):
    # pyoxigraph's on-disk scan by a numeric object also yields quads that only share its encoding's prefix:
    # the check must count the quads equal to its pattern, or it refuses every real build (which has many numbers).
    import gc

    import pyoxigraph as ox

    from server.engine.store import check_readable

    store = ox.Store(str(tmp_path / "store"))
    p, g = ox.NamedNode("http://example.org/p"), ox.NamedNode("http://example.org/g")
    store.extend(ox.Quad(ox.NamedNode(f"http://example.org/s{n}"), p, ox.Literal(str(n), datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer")), g) for n in range(3000))
    store.flush()
    del store
    gc.collect()
    assert check_readable(tmp_path / "store", timeout=60) is None


def test_kg_serve_refuses_to_start_where_query_workers_cannot_be_confined(monkeypatch, capsys, tmp_path):
    from kg.cli import main
    from server.engine import sandbox

    monkeypatch.setattr(sandbox, "unavailable", lambda: "this kernel has no seccomp filters (CONFIG_SECCOMP_FILTER)")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert main(["serve", "--data", str(SAMPLE)]) == 2
    error = capsys.readouterr().err
    assert "cannot be confined" in error and "CONFIG_SECCOMP_FILTER" in error
    assert not list(tmp_path.iterdir())
