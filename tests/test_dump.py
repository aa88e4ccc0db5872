"""The dumps: sorted, byte-reproducible, complete, with gzip twins and checksums; the store swap."""

import gzip
import hashlib
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from kg.publish.dump import write_checksums, write_dumps
from kg.publish.store import write_store
from kg.rdf.oxi import to_dataset, to_quads

BASE = "https://policykg.example/"
SAMPLE = Path(__file__).parent / "data" / "dump" / "sample.trig"


@pytest.fixture
def quads() -> list[ox.Quad]:
    assert SAMPLE.is_file()
    return list(ox.parse(path=str(SAMPLE)))


@pytest.fixture
def dumps(quads, tmp_path) -> dict[str, Path]:
    return {p.name: p for p in write_dumps(to_dataset(quads), tmp_path / "dumps", base=BASE)}


def _graph(quads, name):
    graph = rdflib.Graph()
    graph += to_dataset([q for q in quads if q.graph_name == ox.NamedNode(name)]).graph(rdflib.URIRef(name))
    return graph


def test_every_dump_and_its_gzip_twin_is_written(dumps):
    for name in ("kg.ttl", "kg.nt", "kg.jsonld", "policykg.trig", "policykg.nq"):
        assert name in dumps and f"{name}.gz" in dumps
        assert gzip.decompress(dumps[f"{name}.gz"].read_bytes()) == dumps[name].read_bytes()


def test_gzip_header_has_no_time_and_no_file_name(dumps):
    header = dumps["kg.ttl.gz"].read_bytes()[:10]
    assert header[4:8] == b"\0\0\0\0"  # MTIME
    assert header[3] & 0x08 == 0  # FNAME flag


def test_two_writes_are_byte_identical(quads, tmp_path):
    first = write_dumps(to_dataset(quads), tmp_path / "a", base=BASE)
    second = write_dumps(to_dataset(list(reversed(quads))), tmp_path / "b", base=BASE)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_kg_dumps_hold_exactly_the_facts_graph(quads, dumps):
    facts = _graph(quads, f"{BASE}graph/kg")
    for name, fmt in (("kg.ttl", "turtle"), ("kg.nt", "nt"), ("kg.jsonld", "json-ld")):
        assert isomorphic(rdflib.Graph().parse(dumps[name], format=fmt), facts), name


def test_trig_and_nquads_hold_every_graph_but_meta(quads, dumps):
    expected = {q for q in quads if q.graph_name != ox.NamedNode(f"{BASE}graph/meta")}
    for name in ("policykg.trig", "policykg.nq"):
        got = set(ox.parse(path=str(dumps[name])))
        assert {q.graph_name for q in got} == {q.graph_name for q in expected}
        assert len(got) == len(expected)


def test_ntriples_lines_are_sorted(dumps):
    lines = dumps["kg.nt"].read_bytes().splitlines()
    assert lines and lines == sorted(lines)


def test_turtle_has_one_block_per_subject_with_prefixes(dumps):
    text = dumps["kg.ttl"].read_text()
    assert "@prefix pkg: <https://policykg.example/def/> ." in text
    assert "task:1.1 a pkg:Task ;" in text
    blocks = [line.split()[0] for line in text.splitlines() if line and not line[0].isspace() and not line.startswith("@")]
    assert len(blocks) == len(set(blocks)) == 6  # 3 named resources, 3 blank nodes


def test_jsonld_embeds_the_published_context(dumps):
    document = json.loads(dumps["kg.jsonld"].read_text())
    published = json.loads(dumps["context.jsonld"].read_text())
    assert document["@context"] == published["@context"]
    assert published["@context"]["pkg"] == "https://policykg.example/def/"


def test_blank_nodes_get_canonical_labels(dumps):
    assert "_:c14n0" in dumps["kg.ttl"].read_text()


def test_checksums_match_the_files(dumps, tmp_path):
    sums = write_checksums(list(dumps.values()), tmp_path / "dumps")
    lines = sums.read_text().splitlines()
    assert len(lines) == len(dumps)
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256(dumps[name].read_bytes()).hexdigest() == digest


def test_no_temporary_files_are_left_behind(dumps, tmp_path):
    assert not [p for p in (tmp_path / "dumps").iterdir() if p.name.startswith(".")]


def test_store_holds_every_quad_and_opens_read_only(quads, tmp_path):
    path = write_store(to_dataset(quads), tmp_path / "store")
    write_store(to_dataset(quads[:1]), path)  # replacing an existing store swaps it whole
    store = ox.Store.read_only(str(path))
    assert len(store) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


def test_store_round_trip_keeps_named_graphs(quads, tmp_path):
    store = ox.Store.read_only(str(write_store(to_dataset(quads), tmp_path / "store")))
    def ground(qs):
        return {q for q in qs if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode)}

    assert len(to_quads(store)) == len(quads)
    assert ground(to_quads(store)) == ground(quads)
    assert {g.value for g in store.named_graphs()} == {f"{BASE}graph/{n}" for n in ("kg", "provenance", "meta")}
