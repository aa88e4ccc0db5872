"""Issue 2's acceptance, asked of the built store with SPARQL: what the graph holds, and what it must never hold."""

import re

import pyoxigraph as ox
import pytest

from kg.text.chinese import to_simplified
from kg.text.normalize import PINYIN

PREFIXES = """PREFIX pkg: <https://policykg.example/def/>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


@pytest.fixture(scope="module")
def store(built):
    return ox.Store.read_only(str(built.store))


def count(store, pattern: str) -> int:
    (row,) = store.query(PREFIXES + f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {pattern} }}", use_default_graph_as_union=True)
    return int(row["n"].value)


def test_the_graph_has_one_plan_nine_issuers_and_seven_task_areas(store):
    assert count(store, "?x a pkg:Plan") == 1
    assert count(store, "?plan a pkg:Plan ; eli:passed_by ?x") == 9
    assert count(store, "?x a pkg:TaskArea") == 7
    assert count(store, "?x a pkg:Goal") == 4
    assert count(store, "?x a pkg:Aim") == 1
    assert count(store, "?x a pkg:Measure") == 3


def test_no_two_tasks_have_the_same_text(store):
    assert count(store, "?x a pkg:Task") == 20  # the official outline's tasks; the article's 4 repeats are defects
    duplicates = list(store.query(PREFIXES + """SELECT ?label WHERE { ?t a pkg:Task ; rdfs:label ?label }
        GROUP BY ?label HAVING (COUNT(?t) > 1)""", use_default_graph_as_union=True))
    assert duplicates == []


def test_the_fifth_areas_first_task_reads_correctly_after_the_repair(store):
    (row,) = store.query(PREFIXES + """SELECT ?label WHERE {
        <https://policykg.example/id/plan/east-west-st-2022/task/5.1> rdfs:label ?label FILTER(lang(?label) = "zh") }""",
                         use_default_graph_as_union=True)
    assert row["label"].value == "科技支撑宁夏重点产业提质增效"


ARTICLE_GRAPHS = ("kg", "provenance", "links")  # what was made from the article (not the reference division table)


def literals(store) -> list[str]:
    graphs = [ox.NamedNode(f"https://policykg.example/graph/{name}") for name in ARTICLE_GRAPHS]
    return [q.object.value for g in graphs for q in store.quads_for_pattern(None, None, None, g)
            if isinstance(q.object, ox.Literal)]


def test_no_literal_holds_pinyin_or_traditional_characters(store):
    values = literals(store)
    assert len(values) > 1000
    assert [v for v in values if PINYIN.search(v) or re.search(r"\([a-z]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]", v)] == []
    assert [v for v in values if to_simplified(v) != v] == []


def test_no_literal_holds_navigation_related_reading_or_copyright_text(store, article_text):
    words = ("首页>", "资讯中心", "相关阅读", "查看更多", "宁夏医科大学", "子洲县", "版权", "免责声明", "兴旺宝")
    assert [(w, v[:40]) for v in literals(store) for w in words if w in v] == []
