"""Many sources, one graph: one plan resource per plan, each source's own graph, the official text's tasks and dates."""

import csv
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from kg.cli import main
from kg.manifest import shipped
from kg.paths import ARTICLE, SOURCES
from kg.pipeline import InputError, assemble
from kg.publish.validate import validate
from kg.rdf.namespace import ELI, PAV, PKG, SDO

BASE = "https://policykg.example/"
WHEN = datetime(2026, 1, 1, tzinfo=UTC)
CORPUS = Path(__file__).parent / "data" / "corpus"
PLAN = URIRef(f"{BASE}id/plan/east-west-st-2022")
ARTICLE_DOC = URIRef(f"{BASE}doc/article/east-west-st-2022")
OFFICIAL_DOC = URIRef(f"{BASE}doc/article/official-east-west-st-2022")
ARTICLE_GRAPH = URIRef(f"{BASE}graph/source/east-west-st-2022")
OFFICIAL_GRAPH = URIRef(f"{BASE}graph/source/official-east-west-st-2022")
DEFECT_SLOTS = ("1.2", "4.3", "6.1", "6.3")  # where the seed article prints a repeat (official-…facts.csv)

WHO_STATES_TASK = """
PREFIX pkg: <https://policykg.example/def/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?source ?kind WHERE {
  GRAPH ?g { ?source pkg:states <https://policykg.example/id/plan/east-west-st-2022/task/%s> }
  ?g prov:wasDerivedFrom ?source ; dct:type ?kind .
} ORDER BY ?source
"""

OFFICIAL_BUT_NOT_ARTICLE = """
PREFIX pkg: <https://policykg.example/def/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?part ?text WHERE {
  <https://policykg.example/doc/article/official-east-west-st-2022> pkg:states ?part .
  FILTER NOT EXISTS { <https://policykg.example/doc/article/east-west-st-2022> pkg:states ?part }
  ?part rdfs:label ?text FILTER(lang(?text) = "zh")
} ORDER BY ?part
"""


def official_task_titles() -> dict[str, str]:
    """task n.m → title as the outline's fact table followed it (the first row of each field), numbering and 。 cut."""
    titles: dict[str, str] = {}
    with (SOURCES / "official-east-west-st-2022.facts.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if m := re.fullmatch(r"task\.(\d+\.\d+)\.title", row["field"]):
                titles.setdefault(m.group(1), re.sub(r"^\d+\.\s*|。$", "", row["value"]))
    return titles


@pytest.fixture(scope="module")
def dataset(assembled):
    return assembled[2]


@pytest.fixture(scope="module")
def kg(dataset):
    return dataset.graph(URIRef(f"{BASE}graph/kg"))


def task(number: str) -> URIRef:
    return URIRef(f"{PLAN}/task/{number}")


def test_the_default_build_reads_every_source_of_the_manifest(assembled):
    assert [s.source.slug for s in assembled[3].sources] == [s.slug for s in shipped()]
    assert {s.kind for s in assembled[3].sources} == {"news report", "outline of the official text"}


def test_the_seed_article_and_the_official_outline_are_one_plan_with_the_existing_iri(assembled, dataset):
    assert set(dataset.subjects(RDF.type, PKG.Plan)) == {PLAN}
    assert [s.plan_slug for s in assembled[3].sources] == ["east-west-st-2022", "east-west-st-2022"]


def test_the_plan_has_the_official_task_titles_of_all_seven_areas(kg):
    titles = official_task_titles()
    assert len(titles) == 20
    areas = set(kg.objects(PLAN, PKG.taskArea))
    assert len(areas) == 7
    tasks = {t for a in areas for t in kg.objects(a, PKG.task)}
    assert tasks == {task(n) for n in titles}
    for number, title in titles.items():
        zh = {o for o in kg.objects(task(number), RDFS.label) if o.language == "zh"}
        assert zh == {Literal(title, lang="zh")}, number


def test_each_task_names_the_sources_that_state_it(dataset):
    for number in official_task_titles():
        sources = [(str(r[0]), str(r[1])) for r in dataset.query(WHO_STATES_TASK % number)]
        expected = [(str(OFFICIAL_DOC), str(PKG.OfficialOutline))]
        if number not in DEFECT_SLOTS:
            expected.insert(0, (str(ARTICLE_DOC), str(PKG.NewsReport)))
        assert sources == expected, number


def test_what_the_official_text_says_that_the_article_left_out_is_the_four_tasks_where_it_repeats(dataset):
    rows = [(r[0], str(r[1])) for r in dataset.query(OFFICIAL_BUT_NOT_ARTICLE)]
    titles = official_task_titles()
    assert rows == [(task(n), titles[n]) for n in DEFECT_SLOTS]


def test_the_four_article_defects_point_at_the_official_tasks_in_their_slots(dataset):
    graph = dataset.graph(ARTICLE_GRAPH)
    pointed = {(str(d).rsplit("/", 1)[-1], t) for d, t in graph.subject_objects(PKG.standsWhere)}
    assert pointed == {(n, task(n)) for n in DEFECT_SLOTS}
    for defect, _ in graph.subject_objects(PKG.standsWhere):
        assert (defect, RDF.type, PKG.SourceDefect) in dataset.graph(URIRef(f"{BASE}graph/provenance"))


def test_the_article_graph_does_not_state_its_repeats_as_the_official_tasks(dataset):
    graph = dataset.graph(ARTICLE_GRAPH)
    for number in DEFECT_SLOTS:
        assert (ARTICLE_DOC, PKG.states, task(number)) not in graph
        assert not set(graph.objects(task(number), PKG.wording))


def test_the_plan_has_the_document_number_and_its_own_dates_never_the_reprints(kg):
    assert {str(o) for o in kg.objects(PLAN, ELI.id_local)} == {"国科发区〔2022〕25号"}
    assert set(kg.objects(PLAN, ELI.date_document)) == {Literal("2022-03-03", datatype=XSD.date)}
    assert set(kg.objects(PLAN, ELI.date_publication)) == {Literal("2022-03-04", datatype=XSD.date)}
    assert not any("2022-03-07" in str(o) for o in kg.objects(PLAN))
    assert set(kg.objects(ARTICLE_DOC, SDO.datePublished)) == {Literal("2022-03-07T09:48:19+08:00",
                                                                      datatype=XSD.dateTime)}


def test_each_source_graph_is_described_with_its_document_kind_addresses_date_and_licence(dataset):
    provenance = dataset.graph(URIRef(f"{BASE}graph/provenance"))
    for source in shipped():
        g = URIRef(f"{BASE}graph/source/{source.slug}")
        assert len(dataset.graph(g)) > 0
        assert set(provenance.objects(g, PROV.wasDerivedFrom)) == {URIRef(f"{BASE}doc/article/{source.slug}")}
        assert len(set(provenance.objects(g, DCTERMS.type))) == 1
        assert {str(u) for u in provenance.objects(g, PAV.retrievedFrom)} == set(source.urls)
        assert set(provenance.objects(g, PAV.retrievedOn)) == {Literal(source.retrieved.isoformat(), datatype=XSD.date)}
        assert [o.language for o in provenance.objects(g, DCTERMS.rights)] == ["en"]


def test_a_difference_between_sources_stays_in_the_source_graph_and_out_of_the_plan(dataset, kg):
    goal = URIRef(f"{PLAN}/goal/1")
    assert {o for o in kg.objects(goal, RDFS.label) if o.language == "zh"} == {Literal("西部地区科技创新能力显著提升", lang="zh")}
    assert set(dataset.graph(OFFICIAL_GRAPH).objects(goal, PKG.wording)) == {Literal("西部地区科技创新能力", lang="zh")}


def test_no_triple_of_the_plan_the_sources_or_the_provenance_is_held_by_two_graphs(dataset):
    names = [URIRef(f"{BASE}graph/{n}") for n in ("kg", "provenance")] + [ARTICLE_GRAPH, OFFICIAL_GRAPH]
    held = Counter(t for name in names for t in dataset.graph(name))
    assert [t for t, n in held.items() if n > 1] == []


def test_the_default_build_conforms(dataset):
    assert validate(dataset).conforms


@pytest.fixture(scope="module")
def corpus():
    """The seed, the official notice fixture and the nine-agency plan fixture, built together."""
    return assemble(inputs=[ARTICLE, CORPUS / "notice-outline.txt", CORPUS / "plan-nine-agencies.txt"], build_time=WHEN)


def test_a_corpus_build_gives_one_plan_per_fixture(corpus):
    plans = set(corpus[2].subjects(RDF.type, PKG.Plan))
    assert plans == {PLAN, URIRef(f"{BASE}id/plan/notice-outline"), URIRef(f"{BASE}id/plan/plan-nine-agencies")}


def test_agencies_shared_across_plans_are_one_resource_each(corpus):
    kg = corpus[2].graph(URIRef(f"{BASE}graph/kg"))
    most = URIRef(f"{BASE}id/org/most")
    assert len(set(kg.subjects(ELI.passed_by, most))) == 3
    assert len([o for o in kg.objects(most, RDFS.label) if o.language == "zh"]) == 1
    issuers = {o for o in kg.objects(None, ELI.passed_by)}
    assert all(str(o).startswith(f"{BASE}id/org/") for o in issuers)


def test_a_corpus_build_conforms(corpus):
    assert validate(corpus[2]).conforms


def test_a_reprint_with_other_quotes_and_widths_is_the_same_plan():
    _, _, dataset, read = assemble(inputs=[CORPUS / "guidance-six-agencies.txt",
                                           CORPUS / "guidance-six-agencies-garbled.txt"], build_time=WHEN)
    assert [s.plan_slug for s in read.sources] == ["guidance-six-agencies", "guidance-six-agencies"]
    assert set(dataset.subjects(RDF.type, PKG.Plan)) == {URIRef(f"{BASE}id/plan/guidance-six-agencies")}


def test_a_title_printed_with_half_width_quotes_and_spaces_is_the_same_plan_and_keeps_its_iri(tmp_path):
    copy = tmp_path / "official-copy.txt"
    text = (SOURCES / "official-east-west-st-2022.txt").read_text(encoding="utf-8")
    assert text.count("“十四五”东西部") == 2
    copy.write_text(text.replace("“十四五”东西部", '"十四五" 东西部'), encoding="utf-8")
    _, _, dataset, read = assemble(inputs=[copy, ARTICLE], build_time=WHEN)
    assert [s.plan_slug for s in read.sources] == ["east-west-st-2022", "east-west-st-2022"]
    assert set(dataset.subjects(RDF.type, PKG.Plan)) == {PLAN}


def test_a_document_number_printed_with_square_brackets_is_the_same_document(tmp_path):
    copy = tmp_path / "notice-outline-reprint.txt"
    copy.write_text((CORPUS / "notice-outline.txt").read_text(encoding="utf-8").replace("〔2022〕", "[2022]"),
                    encoding="utf-8")
    _, _, dataset, read = assemble(inputs=[CORPUS / "notice-outline.txt", copy], build_time=WHEN)
    assert [s.plan_slug for s in read.sources] == ["notice-outline", "notice-outline"]


def test_one_title_with_two_document_numbers_is_two_plans(tmp_path):
    other = tmp_path / "notice-outline-78.txt"
    text = (CORPUS / "notice-outline.txt").read_text(encoding="utf-8")
    assert "〔2022〕77号" in text
    other.write_text(text.replace("〔2022〕77号", "〔2022〕78号"), encoding="utf-8")
    _, _, dataset, _ = assemble(inputs=[CORPUS / "notice-outline.txt", other], build_time=WHEN)
    plans = set(dataset.subjects(RDF.type, PKG.Plan))
    assert plans == {URIRef(f"{BASE}id/plan/notice-outline"), URIRef(f"{BASE}id/plan/notice-outline-78")}


def test_the_plan_keeps_its_iri_whichever_source_comes_first_or_alone():
    outline = SOURCES / "official-east-west-st-2022.txt"
    for inputs in ([outline], [outline, ARTICLE]):
        _, _, dataset, _ = assemble(inputs=inputs, build_time=WHEN)
        assert set(dataset.subjects(RDF.type, PKG.Plan)) == {PLAN}, inputs


def test_a_source_given_twice_is_refused():
    with pytest.raises(InputError, match="given twice"):
        assemble(inputs=[ARTICLE, ARTICLE], build_time=WHEN)


def test_the_same_sources_in_the_same_order_give_the_same_quads():
    inputs = [ARTICLE, CORPUS / "notice-outline.txt"]
    first, again = (sorted(assemble(inputs=inputs, build_time=WHEN)[2].quads()) for _ in range(2))
    assert first == again


@pytest.mark.slow
def test_kg_build_of_several_files_builds_one_graph(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", str(ARTICLE), str(CORPUS / "plan-nine-agencies.txt"), "--out", str(out),
                 "--build-time", WHEN.isoformat()]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("2 plan(s) from 2 source(s): east-west-st-2022, plan-nine-agencies")
    assert (out / "store").is_dir() and (out / "dumps" / "kg.ttl").is_file()


@pytest.fixture(scope="module")
def whole_corpus():
    """The default manifest and every corpus fixture, built together as one graph."""
    return assemble(inputs=[*shipped_inputs(), *sorted(CORPUS.glob("*.txt"))], build_time=WHEN)


def shipped_inputs() -> list[Path]:
    return [source.path for source in shipped()]


def expected_fixtures() -> list[dict]:
    import tomllib

    found = sorted(CORPUS.glob("*.expected.toml"))
    assert len(found) >= 4, f"expected the corpus fixtures' facts in {CORPUS}"
    return [tomllib.loads(path.read_text(encoding="utf-8")) for path in found]


@pytest.mark.parametrize("expected", expected_fixtures(), ids=lambda e: e["title"])
def test_every_fixture_keeps_its_facts_in_the_build_of_the_whole_corpus(whole_corpus, expected):
    kg = whole_corpus[2].graph(URIRef(f"{BASE}graph/kg"))
    plans = [p for p in kg.subjects(ELI.title, Literal(expected["title"], lang="zh"))]
    assert len(plans) == 1, f"{expected['title']}: {plans}"
    plan = plans[0]
    assert {str(a).rsplit("/", 1)[1] for a in kg.objects(plan, ELI.passed_by)} == set(expected["issuers"])
    areas = sorted(kg.objects(plan, PKG.taskArea), key=lambda a: int(kg.value(a, PKG.ordinal)))
    assert [len(set(kg.objects(area, PKG.task))) for area in areas] == expected["area_tasks"]
    years = sorted(int(str(kg.value(goal, PKG.targetYear))) for goal in kg.objects(plan, PKG.goal))
    assert years == sorted(expected["goal_years"])


def test_the_whole_corpus_is_one_conforming_graph_with_shared_agencies(whole_corpus):
    dataset = whole_corpus[2]
    kg = dataset.graph(URIRef(f"{BASE}graph/kg"))
    assert len(set(kg.subjects(RDF.type, PKG.Plan))) == 4  # East-West (two sources), the guidance (clean and garbled), two more
    assert len([o for o in kg.objects(URIRef(f"{BASE}id/org/most"), RDFS.label) if o.language == "zh"]) == 1
    assert validate(dataset).conforms
