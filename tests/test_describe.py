"""The dataset description: DCAT 3 catalogue, distributions with sizes and checksums, VoID per graph, DCAT-AP."""

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from rdflib.namespace import DCAT, DCTERMS, RDF, SH, VOID, XSD

from kg.cli import main
from kg.publish.describe import SPDX, describe
from kg.publish.step import publish
from kg.rdf.oxi import to_dataset

BASE = "https://policykg.example/"
SAMPLE = Path(__file__).parent / "data" / "dump" / "sample.trig"
DCAT_AP = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dcat-ap-3.0.1" / "dcat-ap-SHACL.ttl"
BUILT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DATASET = rdflib.URIRef(f"{BASE}id/dataset/policykg")


@pytest.fixture
def published(tmp_path) -> tuple[list[Path], Path]:
    assert SAMPLE.is_file()
    quads = list(ox.parse(path=str(SAMPLE)))
    written = publish(quads, base=BASE, build_time=BUILT, out=tmp_path)
    return written, tmp_path


@pytest.fixture
def meta(published) -> rdflib.Graph:
    written, tmp_path = published
    graph = rdflib.Graph().parse(tmp_path / "dumps" / "void.ttl")
    assert len(graph) > 100
    return graph


def test_every_dump_is_a_distribution_with_size_and_checksum(published, meta):
    written, tmp_path = published
    dumps = [p for p in written if p.name.split(".")[0] in ("kg", "policykg")]
    assert len(dumps) == 10
    for path in dumps:
        distribution = rdflib.URIRef(f"{DATASET}/distribution/{path.name}")
        assert (DATASET, DCAT.distribution, distribution) in meta
        assert meta.value(distribution, DCAT.byteSize).toPython() == path.stat().st_size
        assert meta.value(distribution, DCAT.downloadURL) == rdflib.URIRef(f"{BASE}dumps/{path.name}")
        checksum = meta.value(distribution, SPDX.checksum)
        assert str(meta.value(checksum, SPDX.checksumValue)) == hashlib.sha256(path.read_bytes()).hexdigest()
        assert meta.value(distribution, DCAT.mediaType) is not None


def test_gzip_distributions_name_their_compression(meta):
    distribution = rdflib.URIRef(f"{DATASET}/distribution/kg.ttl.gz")
    assert meta.value(distribution, DCAT.compressFormat) == rdflib.URIRef(
        "http://www.iana.org/assignments/media-types/application/gzip")
    assert meta.value(distribution, DCAT.mediaType) == rdflib.URIRef("http://www.iana.org/assignments/media-types/text/turtle")


def test_temporal_coverage_is_absent_when_the_data_has_no_period():
    graph = describe([], [], base=BASE, build_time=BUILT)
    assert graph.value(DATASET, DCTERMS.temporal) is None


def test_dataset_has_licence_language_coverage_publisher_and_dates(meta):
    for predicate in (DCTERMS.license, DCTERMS.language, DCTERMS.spatial, DCTERMS.publisher, DCTERMS.issued):
        assert meta.value(DATASET, predicate) is not None, predicate
    temporal = meta.value(DATASET, DCTERMS.temporal)
    assert meta.value(temporal, DCAT.startDate) == rdflib.Literal("2021-01-01", datatype=XSD.date)
    assert meta.value(temporal, DCAT.endDate) == rdflib.Literal("2025-12-31", datatype=XSD.date)
    assert meta.value(DATASET, DCTERMS.modified).toPython() == BUILT


def test_void_counts_each_named_graph_but_meta(meta):
    subsets = {str(s).rsplit("/", 1)[-1]: s for s in meta.objects(DATASET, VOID.subset)}
    assert set(subsets) == {"kg", "provenance"}
    assert meta.value(subsets["kg"], VOID.triples).toPython() == 14
    assert meta.value(subsets["provenance"], VOID.triples).toPython() == 1
    assert meta.value(DATASET, VOID.triples).toPython() == 15
    assert meta.value(subsets["kg"], VOID.classes).toPython() == 3


def test_sparql_endpoint_is_a_data_service_with_union_default_graph(meta):
    service = rdflib.URIRef(f"{BASE}id/service/sparql")
    assert (service, RDF.type, DCAT.DataService) in meta
    assert meta.value(service, DCAT.endpointURL) == rdflib.URIRef(f"{BASE}sparql")
    assert (service, rdflib.URIRef("http://www.w3.org/ns/sparql-service-description#feature"),
            rdflib.URIRef("http://www.w3.org/ns/sparql-service-description#UnionDefaultGraph")) in meta


def test_linksets_already_in_meta_are_kept_as_subsets():
    meta, linkset = ox.NamedNode(f"{BASE}graph/meta"), ox.NamedNode(f"{BASE}id/linkset/wikidata")
    quads = [ox.Quad(linkset, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(VOID.Linkset)), meta)]
    graph = describe(quads, [], base=BASE, build_time=BUILT)
    assert (DATASET, VOID.subset, rdflib.URIRef(linkset.value)) in graph


def test_build_time_defaults_to_the_build_activity_end(tmp_path):
    ended = ox.Quad(ox.NamedNode(f"{BASE}doc/build/x"), ox.NamedNode("http://www.w3.org/ns/prov#endedAtTime"),
                    ox.Literal("2025-05-06T07:08:09Z", datatype=ox.NamedNode(str(XSD.dateTime))),
                    ox.NamedNode(f"{BASE}graph/provenance"))
    graph = describe([ended], [], base=BASE)
    assert graph.value(DATASET, DCTERMS.issued).toPython() == datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_describe_adds_the_meta_graph_to_an_rdflib_dataset():
    dataset = to_dataset(ox.parse(path=str(SAMPLE)))
    graph = describe(dataset, [], base=BASE, build_time=BUILT)
    assert len(dataset.graph(rdflib.URIRef(f"{BASE}graph/meta"))) >= len(graph) > 50


def test_store_holds_the_meta_graph_and_the_dumps_do_not(published):
    written, tmp_path = published
    store = ox.Store.read_only(str(tmp_path / "store"))
    assert ox.NamedNode(f"{BASE}graph/meta") in set(store.named_graphs())
    assert "graph/meta" not in (tmp_path / "dumps" / "policykg.trig").read_text()


def test_kg_dump_from_the_store_rewrites_the_same_bytes(published, tmp_path):
    written, _ = published
    assert main(["dump", "--store", str(tmp_path / "store"), "--out", str(tmp_path / "again")]) == 0
    for path in written:
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes(), path.name


def test_kg_dump_without_a_store_is_a_usage_error(tmp_path):
    assert main(["dump", "--store", str(tmp_path / "none"), "--out", str(tmp_path / "out")]) == 2


def test_naive_build_time_is_refused():
    with pytest.raises(ValueError):
        describe([], [], base=BASE, build_time=datetime(2026, 1, 1))


def _dcat_ap_shapes() -> rdflib.Graph:
    shapes = rdflib.Graph().parse(DCAT_AP)
    # The release references two DataService property shapes it never defines (they live in files it imports);
    # pySHACL refuses dangling sh:property references, so drop exactly those.
    for shape, _, prop in list(shapes.triples((None, SH.property, None))):
        if (prop, SH.path, None) not in shapes:
            shapes.remove((shape, SH.property, prop))
    return shapes


@pytest.mark.skipif(not DCAT_AP.is_file(), reason="DCAT-AP 3.0.1 shapes not present in ../shared/reference")
def test_description_conforms_to_dcat_ap_3(meta):
    conforms, _report, text = pyshacl.validate(meta, shacl_graph=_dcat_ap_shapes(), inference="none")
    assert conforms, text
