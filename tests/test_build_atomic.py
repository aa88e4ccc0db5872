"""Builds are atomic: a build or dump that fails at any point leaves the previous output byte for byte as it was,
exits 3 with one line, and leaves no staging or temporary files; the build writes its dataset version."""

import errno
import hashlib
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import BUILD_TIME

import kg.publish.store
from kg.cli import EXIT_OUTPUT, main
from kg.publish.staging import OutputError
from kg.publish.step import VERSION_FILE, dataset_version, publish, publish_dumps

BASE = "https://policykg.example/"
SAMPLE = Path(__file__).parent / "data" / "dump" / "sample.trig"
LATER = "2026-06-01T00:00:00+00:00"  # a second build differs from the first (provenance, void.ttl, SHA256SUMS)


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _checksums_hold(dumps: Path) -> bool:
    return subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=dumps, capture_output=True,
                          timeout=60).returncode == 0


@pytest.fixture(scope="module")
def first_build(tmp_path_factory) -> Path:
    """A complete `kg build` at BUILD_TIME, copied by each test that damages its output."""
    out = tmp_path_factory.mktemp("first")
    assert main(["build", "--out", str(out), "--build-time", BUILD_TIME.isoformat()]) == 0
    return out


@pytest.fixture
def previous(first_build, tmp_path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(first_build, out)
    assert _checksums_hold(out / "dumps")
    return out


def _fsync_failing_at(monkeypatch, call: int) -> None:
    """The disk fills up: the `call`-th flush to disk (one per file written) fails with ENOSPC."""
    real, count = os.fsync, [0]

    def fsync(fd):
        count[0] += 1
        if count[0] == call:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def _assert_unchanged(out: Path, before: dict[str, str], capsys) -> None:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("kg build: error: could not write ") or err.startswith("kg dump: error: could not write ")
    assert "Traceback" not in err
    assert _hashes(out) == before
    assert _checksums_hold(out / "dumps")
    assert sorted(p.name for p in out.iterdir()) == ["dumps", "store"]


@pytest.mark.reliability
@pytest.mark.slow
@pytest.mark.parametrize("call", [2, 9, 15], ids=["after-the-first-file", "after-policykg-trig", "after-every-dump"])
def test_a_disk_full_half_way_through_kg_build_leaves_the_previous_build_byte_identical(
        previous, monkeypatch, capsys, call):
    before = _hashes(previous)
    capsys.readouterr()
    _fsync_failing_at(monkeypatch, call)
    assert main(["build", "--out", str(previous), "--build-time", LATER]) == EXIT_OUTPUT
    _assert_unchanged(previous, before, capsys)


@pytest.mark.reliability
@pytest.mark.slow
def test_a_disk_full_message_is_one_line_naming_the_folder_and_the_cause(previous, monkeypatch, capsys):
    capsys.readouterr()
    _fsync_failing_at(monkeypatch, 2)
    assert main(["build", "--out", str(previous), "--build-time", LATER]) == EXIT_OUTPUT
    assert capsys.readouterr().err == f"kg build: error: could not write {previous}: No space left on device\n"


class _FailingStore:
    """An Oxigraph store whose bulk load fails half way with an I/O error, as RocksDB reports one."""

    def __init__(self, path: str):
        self.store = ox.Store(path)

    def bulk_extend(self, quads):
        quads = list(quads)
        self.store.bulk_extend(quads[: len(quads) // 2])
        self.store.flush()
        raise OSError(errno.EIO, os.strerror(errno.EIO))


@pytest.mark.reliability
@pytest.mark.slow
def test_an_io_error_while_writing_the_store_leaves_the_previous_build_byte_identical(previous, monkeypatch, capsys):
    before = _hashes(previous)
    capsys.readouterr()
    monkeypatch.setattr(kg.publish.store, "ox", type("ox", (), {"Store": _FailingStore}))
    assert main(["build", "--out", str(previous), "--build-time", LATER]) == EXIT_OUTPUT
    _assert_unchanged(previous, before, capsys)


@pytest.fixture
def quads() -> list[ox.Quad]:
    assert SAMPLE.is_file()
    return list(ox.parse(path=str(SAMPLE)))


@pytest.fixture
def published(quads, tmp_path) -> Path:
    out = tmp_path / "out"
    publish(quads, base=BASE, build_time=BUILD_TIME, out=out)
    return out


def test_an_unexpected_exception_while_publishing_changes_nothing_and_leaves_no_staging(published, quads, monkeypatch):
    before = _hashes(published)

    def broken(dataset, path):
        Path(path).mkdir()
        (Path(path) / "half").write_bytes(b"x" * 1000)
        raise RuntimeError("a bug in the store writer")

    monkeypatch.setattr("kg.publish.step.fill_store", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        publish(quads, base=BASE, build_time=datetime(2026, 6, 1, tzinfo=UTC), out=published)
    assert _hashes(published) == before
    assert sorted(p.name for p in published.iterdir()) == ["dumps", "store"]


def test_a_failed_rename_during_the_swap_puts_every_entry_back(published, quads, monkeypatch):
    before = _hashes(published)
    real, count = Path.rename, [0]

    def rename(self, target):
        count[0] += 1
        if count[0] == 3:  # dumps moved aside and swapped in; moving the old store aside fails
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(self))
        return real(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OutputError, match="Input/output error"):
        publish(quads, base=BASE, build_time=datetime(2026, 6, 1, tzinfo=UTC), out=published)
    assert count[0] > 3  # the rollback renamed the new dumps out and the old ones back
    assert _hashes(published) == before
    assert sorted(p.name for p in published.iterdir()) == ["dumps", "store"]


@pytest.mark.reliability
def test_a_disk_full_during_kg_dump_leaves_the_previous_dumps_byte_identical(published, monkeypatch, capsys):
    before = _hashes(published)
    _fsync_failing_at(monkeypatch, 3)
    args = ["dump", "--store", str(published / "store"), "--out", str(published / "dumps")]
    assert main(args) == EXIT_OUTPUT
    _assert_unchanged(published, before, capsys)


def test_kg_dump_rewrites_the_dumps_whole(published, capsys):
    (published / "dumps" / "kg.ttl").write_bytes(b"damaged")
    (published / "dumps" / "stray.txt").write_bytes(b"not a dump")
    assert main(["dump", "--store", str(published / "store"), "--out", str(published / "dumps")]) == 0
    assert not (published / "dumps" / "stray.txt").exists()  # a new folder, not files written over the old
    assert _checksums_hold(published / "dumps")


def test_what_a_killed_publisher_left_is_put_back_and_removed(published, quads):
    (published / "store").rename(published / "old-store")
    (published / ".previous-99999").mkdir()
    (published / "old-store").rename(published / ".previous-99999" / "store")
    (published / ".staging-99999" / "dumps").mkdir(parents=True)
    publish_dumps(quads, base=BASE, build_time=BUILD_TIME, folder=published / "dumps")
    assert sorted(p.name for p in published.iterdir()) == ["dumps", "store"]
    assert len(ox.Store.read_only(str(published / "store"))) > 0


def test_the_dataset_version_is_the_digest_of_the_checksums_and_the_store_still_opens(first_build, built):
    version = dataset_version(first_build / "store")
    assert version == hashlib.sha256((first_build / "dumps" / "SHA256SUMS").read_bytes()).hexdigest()
    assert (first_build / "store" / VERSION_FILE).read_text() == f"{version}\n"
    assert dataset_version(built.store) == version  # two builds of one checkout at one build time
    store = ox.Store.read_only(str(first_build / "store"))
    assert store.query("ASK { GRAPH ?g { ?s ?p ?o } }")


def test_the_dataset_version_changes_with_the_content(published, quads, tmp_path):
    other = tmp_path / "other"
    publish(quads[:-1], base=BASE, build_time=BUILD_TIME, out=other)
    assert dataset_version(other / "store") != dataset_version(published / "store") is not None


def test_a_store_without_a_written_version_has_none(tmp_path):
    assert dataset_version(tmp_path / "nothing") is None
    kg.publish.store.write_store([], tmp_path / "store")
    assert dataset_version(tmp_path / "store") is None
    (tmp_path / "store" / VERSION_FILE).write_text("not a digest\n")
    assert dataset_version(tmp_path / "store") is None


def test_oxigraphs_own_tools_read_a_store_with_the_version_file(published):
    tool = Path(sys.executable).parent / "oxigraph"  # the dev extra's Oxigraph server binary
    tool = tool if tool.exists() else shutil.which("oxigraph")
    if tool is None:
        pytest.skip("the oxigraph binary (dev extra) is not installed")
    answer = subprocess.run([str(tool), "query", "--location", str(published / "store"), "--results-format", "csv",
                             "--query", "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"],
                            capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    assert int(answer.stdout.split()[1]) == len(ox.Store.read_only(str(published / "store")))
    assert dataset_version(published / "store") is not None
