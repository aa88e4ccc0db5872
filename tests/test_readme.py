"""The README's example queries give the answers the README prints."""

import re

import pyoxigraph as ox
import pytest

from kg.paths import ROOT

EXAMPLE = re.compile(r"```sparql\n(?P<query>(?s:.*?))```\s*\n(?P<table>(?:\|.*\|\n)+)")


def examples():
    return [(m.group("query"), m.group("table")) for m in EXAMPLE.finditer((ROOT / "README.md").read_text(encoding="utf-8"))]


def table_rows(table: str) -> list[list[str]]:
    lines = [line.strip().strip("|").split("|") for line in table.strip().splitlines()]
    return [[cell.strip() for cell in line] for line in lines[2:]]  # skip the header and the |---| line


def test_the_readme_has_example_queries():
    assert len(examples()) >= 3


@pytest.mark.parametrize("number", range(len(examples())))
def test_a_readme_query_gives_the_printed_answer(built, number):
    query, table = examples()[number]
    store = ox.Store.read_only(str(built.store))
    rows = [[term.value for term in solution] for solution in store.query(query, use_default_graph_as_union=True)]
    assert rows == table_rows(table)
