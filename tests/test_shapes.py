"""The shapes proven both ways: valid fixtures conform, each invalid fixture fails on exactly the shape it names."""

from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, SH

from kg import paths
from kg.publish.validate import validate
from kg.rdf.oxi import union_graph
from kg.rdf.rdffile import load

FIXTURES = Path(__file__).parent / "data" / "shapes"
VALID = sorted((FIXTURES / "valid").glob("*.t*"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))
PKGSH = "https://policykg.example/def/shapes#"
# a node shape's own constraint parameters (as opposed to sh:property, which hands the check to another shape)
OWN = (SH.sparql, SH.nodeKind, SH.pattern, SH["class"], SH["not"], SH.path)


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return union_graph(load(paths.SHAPES))


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return union_graph(load(paths.ONTOLOGY))


def _shape_names(shapes: rdflib.Graph) -> set[str]:
    named = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape))
    return {str(s).removeprefix(PKGSH) for s in named if str(s).startswith(PKGSH)}


def _expected(path: Path) -> str:
    return path.name.split("--")[0]


def test_fixture_files_are_found():
    assert len(VALID) >= 6  # the minimal graph and one per part a source may lack
    assert len(INVALID) >= 50


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixture_conforms_without_any_result(path, shapes, ontology):
    validation = validate(path, shapes=shapes, ontology=ontology)
    assert validation.conforms and validation.results == (), validation.text()


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_fixture_fails_on_exactly_its_shape(path, shapes, ontology):
    expected = PKGSH + _expected(path)
    validation = validate(path, shapes=shapes, ontology=ontology)
    assert validation.results, f"{path.name} raised nothing"
    assert {r.source_shape for r in validation.results} == {expected}, validation.text()
    severity = shapes.value(rdflib.URIRef(expected), SH.severity)
    assert validation.conforms == (severity != SH.Violation)
    assert all(r.message_zh and r.message_en for r in validation.results)


def test_every_shape_has_an_invalid_fixture(shapes):
    tested = {_expected(p) for p in INVALID}
    names = _shape_names(shapes)
    assert tested <= names, f"fixtures name unknown shapes: {tested - names}"
    for name in sorted(names - tested):
        node = rdflib.URIRef(PKGSH + name)
        # a node shape with no constraint of its own is proven by the fixtures of its property shapes
        own = [p for p in OWN if (node, p, None) in shapes]
        properties = {str(o).removeprefix(PKGSH) for o in shapes.objects(node, SH.property)}
        assert not own and properties and properties <= tested, f"no invalid fixture fails on pkgsh:{name}"


def test_every_ontology_class_has_a_node_shape(shapes, ontology):
    classes = {c for c in ontology.subjects(RDF.type, OWL.Class) if str(c).startswith("https://policykg.example/def/")}
    targeted = set(shapes.objects(None, SH.targetClass)) | set(shapes.objects(None, SH.targetNode))
    assert classes and classes <= targeted, f"no node shape for {classes - targeted}"


def test_every_shape_says_its_severity_and_speaks_both_languages(shapes):
    for name in _shape_names(shapes):
        node = rdflib.URIRef(PKGSH + name)
        assert shapes.value(node, SH.severity) in (SH.Violation, SH.Warning, SH.Info), name
        carriers = [node, *shapes.objects(node, SH.sparql)]
        languages = {m.language for c in carriers for m in shapes.objects(c, SH.message)}
        if (node, SH.property, None) in shapes and languages == set():
            continue  # a node shape that only groups property shapes: their messages speak
        assert languages == {"zh", "en"}, name


def test_untranslated_task_is_a_warning_not_a_failure(shapes, ontology):
    validation = validate(FIXTURES / "invalid" / "label-en--untranslated-task.ttl", shapes=shapes, ontology=ontology)
    assert validation.conforms and validation.count("Warning") == 1


def test_agency_without_official_english_name_is_a_warning_that_says_so(shapes, ontology):
    validation = validate(FIXTURES / "invalid" / "Agency-label-en--agency-without-english-label.ttl", shapes=shapes,
                          ontology=ontology)
    assert validation.conforms and validation.count("Warning") == 1
    assert "official English name is not known" in validation.results[0].message_en


@pytest.mark.parametrize(("fixture", "said"), [
    ("NewsItem-dated--news-item-without-date", "no publication date"),
    ("Plan-taskArea-known--plan-without-areas", "no task area"),
])
def test_a_part_a_reader_should_know_is_missing_is_one_warning_that_says_so(fixture, said, shapes, ontology):
    validation = validate(FIXTURES / "invalid" / f"{fixture}.ttl", shapes=shapes, ontology=ontology)
    assert validation.conforms and validation.count("Warning") == 1 and validation.count("Violation") == 0
    assert said in validation.results[0].message_en


@pytest.mark.parametrize(("fixture", "value"), [
    ("TaskAreaTargetsRegion--names-a-province-it-does-not-target", "<https://policykg.example/id/region/650000>"),
    ("TaskAreaTargetsRegion--targets-a-province-it-does-not-name", "<https://policykg.example/id/region/650000>"),
    ("PlanPeriodInTitle--five-year-plan-title-without-period", '"“十四五”测试方案"@zh'),
])
def test_a_part_the_text_names_is_still_required_and_the_report_names_it(fixture, value, shapes, ontology):
    validation = validate(FIXTURES / "invalid" / f"{fixture}.ttl", shapes=shapes, ontology=ontology)
    assert not validation.conforms
    assert [r.value for r in validation.results] == [value]


def test_a_copied_task_outside_any_area_fails_on_its_area_and_its_label(shapes, ontology, tmp_path):
    # item 7 of issue 12: a task resource copied under a new IRI, hung from the plan but listed by no area
    graph = union_graph(load(FIXTURES / "valid" / "minimal.trig"))
    task = rdflib.URIRef("https://policykg.example/id/plan/test/task/1.2")
    copy = rdflib.URIRef("https://policykg.example/id/plan/test/task/9.9")
    for p, o in list(graph.predicate_objects(task)):
        graph.add((copy, p, o))
    (tmp_path / "copied.ttl").write_bytes(graph.serialize(format="turtle", encoding="utf-8"))
    validation = validate(tmp_path / "copied.ttl", shapes=shapes, ontology=ontology)
    assert not validation.conforms
    assert {(r.source_shape, r.focus) for r in validation.results} == {
        (PKGSH + "Task-area", str(copy)), (PKGSH + "UniqueTaskLabels", "https://policykg.example/id/plan/test")}
