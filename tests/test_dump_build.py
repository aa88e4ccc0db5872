"""The gate and the dumps on the real article: corrupted graphs write nothing, rebuilds are byte-identical,
the committed dumps/kg.ttl is what a fresh build writes, and the published description conforms to DCAT-AP."""

from pathlib import Path

import pytest
import rdflib
from conftest import BUILD_TIME
from rdflib.namespace import RDF, RDFS

from kg import pipeline
from kg.cli import main
from kg.paths import ROOT
from kg.rdf.namespace import PKG
from kg.rdf.oxi import to_dataset, to_quads

BASE = "https://policykg.example/"
COMMITTED = ROOT / "dumps" / "kg.ttl"
KG = rdflib.URIRef(f"{BASE}graph/kg")
PROVENANCE = rdflib.URIRef(f"{BASE}graph/provenance")
TASK = rdflib.URIRef(f"{BASE}id/plan/east-west-st-2022/task/1.1")
OTHER_TASK = rdflib.URIRef(f"{BASE}id/plan/east-west-st-2022/task/2.1")
REGION = rdflib.URIRef(f"{BASE}id/region/650000")
AGENCY = rdflib.URIRef(f"{BASE}id/org/most")


def _task_without_span(dataset):
    dataset.graph(PROVENANCE).remove((TASK, PKG.span, None))


def _region_with_five_digit_code(dataset):
    for graph in dataset.graphs():
        graph.remove((REGION, PKG.divisionCode, None))
    dataset.graph(KG).add((REGION, PKG.divisionCode, rdflib.Literal("65000")))


def _two_tasks_with_the_same_label(dataset):
    label = next(o for o in dataset.graph(KG).objects(TASK, RDFS.label) if o.language == "zh")
    dataset.graph(KG).remove((OTHER_TASK, RDFS.label, None))
    dataset.graph(KG).add((OTHER_TASK, RDFS.label, label))


def _agency_without_chinese_label(dataset):
    for graph in dataset.graphs():
        for label in [o for o in graph.objects(AGENCY, RDFS.label) if o.language == "zh"]:
            graph.remove((AGENCY, RDFS.label, label))


CORRUPTIONS = {
    "task without a span": (_task_without_span, "span"),
    "region with a five-digit code": (_region_with_five_digit_code, "RegionCode"),
    "two tasks with the same label": (_two_tasks_with_the_same_label, "UniqueTaskLabels"),
    "agency without a Chinese label": (_agency_without_chinese_label, "label-zh"),
}


@pytest.fixture
def reassemble(assembled, monkeypatch):
    """kg.pipeline.assemble replaced by a fresh copy of the session's assembled dataset (no re-extraction)."""
    text, article, dataset, *rest = assembled
    quads = to_quads(dataset)

    def fake(**_options):
        return (text, article, to_dataset(quads), *rest)

    monkeypatch.setattr(pipeline, "assemble", fake)
    return fake


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.mark.slow
@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corrupted_graph_fails_the_gate_and_writes_nothing(corruption, reassemble, tmp_path):
    change, shape = CORRUPTIONS[corruption]
    with pytest.raises(pipeline.NonConforming) as failure:
        pipeline.build(out_dir=tmp_path / "out", build_time=BUILD_TIME, mutate=change)
    shapes = {r.source_shape.rsplit("#", 1)[-1] for r in failure.value.validation.results if r.severity == "Violation"}
    assert shape in shapes
    assert _files(tmp_path / "out") == []


@pytest.mark.slow
def test_kg_build_of_a_corrupted_graph_exits_1_with_a_readable_report(reassemble, monkeypatch, tmp_path, capsys):
    def corrupted(**options):
        parts = reassemble(**options)
        _task_without_span(parts[2])
        return parts

    monkeypatch.setattr(pipeline, "assemble", corrupted)
    assert main(["build", "--out", str(tmp_path / "out"), "--build-time", BUILD_TIME.isoformat()]) == 1
    report = capsys.readouterr().err
    assert "pkg:span" in report and str(TASK) in report
    assert "no text span" in report and "没有原文片段" in report
    assert _files(tmp_path / "out") == []


@pytest.mark.slow
def test_the_article_conforms_without_violations(built):
    assert built.validation.conforms
    assert built.validation.count("Violation") == 0


@pytest.mark.slow
def test_two_builds_write_byte_identical_dumps(built, reassemble, tmp_path):
    again = pipeline.build(out_dir=tmp_path / "again", build_time=BUILD_TIME)
    first = {p.name: p for p in built.dumps}
    for path in again.dumps:
        assert path.read_bytes() == first[path.name].read_bytes(), path.name
    assert {"kg.ttl", "kg.nt", "SHA256SUMS"} <= set(first)


@pytest.mark.slow
def test_committed_kg_ttl_is_what_a_fresh_build_writes(built, request):
    fresh = next(p for p in built.dumps if p.name == "kg.ttl").read_bytes()
    if request.config.getoption("--update-snapshots"):
        COMMITTED.parent.mkdir(exist_ok=True)
        COMMITTED.write_bytes(fresh)
    assert COMMITTED.is_file(), "dumps/kg.ttl is missing: run pytest --update-snapshots"
    assert COMMITTED.read_bytes() == fresh, "dumps/kg.ttl is stale: run pytest --update-snapshots and commit it"


@pytest.mark.slow
def test_committed_kg_ttl_has_every_plan_part(request):
    graph = rdflib.Graph().parse(COMMITTED)
    for cls, count in ((PKG.Plan, 1), (PKG.TaskArea, 7), (PKG.Agency, 9)):
        assert len(set(graph.subjects(RDF.type, cls))) == count, cls


@pytest.mark.slow
def test_published_description_conforms_to_dcat_ap(built):
    from test_describe import DCAT_AP, _dcat_ap_shapes

    if not DCAT_AP.is_file():
        pytest.skip("DCAT-AP 3.0.1 shapes not present in ../shared/reference")
    import pyshacl

    void = next(p for p in built.dumps if p.name == "void.ttl")
    conforms, _report, text = pyshacl.validate(rdflib.Graph().parse(void), shacl_graph=_dcat_ap_shapes(), inference="none")
    assert conforms, text


@pytest.mark.slow
def test_kg_dump_rewrites_the_build_dumps_byte_identically(built, tmp_path):
    assert main(["dump", "--store", str(built.store), "--out", str(tmp_path / "dumps")]) == 0
    for path in built.dumps:
        assert (tmp_path / "dumps" / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.slow
def test_the_published_trig_dump_passes_kg_validate(built, capsys):
    trig = next(p for p in built.dumps if p.name == "policykg.trig")
    assert main(["validate", str(trig), "--format", "json"]) == 0
    assert '"conforms": true' in capsys.readouterr().out
