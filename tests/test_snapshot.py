"""The graph built from the article equals the golden snapshot, compared as graphs (isomorphism) with a readable diff.

Run `pytest tests/test_snapshot.py --update-snapshots` to accept a deliberate change, then review the diff in git.
"""

import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import graph_diff, to_isomorphic

from kg.paths import ROOT
from kg.rdf.build import DEFAULT_BASE

SNAPSHOTS = ROOT / "tests" / "data" / "snapshots"
GRAPHS = ("kg", "provenance")


def _graph(dataset: Dataset, name: str) -> Graph:
    graph = Graph()
    for triple in dataset.graph(URIRef(f"{DEFAULT_BASE}graph/{name}")):
        graph.add(triple)
    return graph


def _readable(graph: Graph, limit: int = 25) -> str:
    lines = sorted(graph.serialize(format="nt").splitlines())
    more = f"\n  … and {len(lines) - limit} more" if len(lines) > limit else ""
    return "\n".join("  " + line for line in lines[:limit]) + more


@pytest.mark.parametrize("name", GRAPHS)
def test_the_built_graph_matches_its_snapshot(assembled, request, name):
    _, _, dataset, _ = assembled
    fresh = _graph(dataset, name)
    path = SNAPSHOTS / f"{name}.nt"
    if request.config.getoption("--update-snapshots"):
        path.write_text("".join(sorted(line + "\n" for line in fresh.serialize(format="nt").splitlines() if line)),
                        encoding="utf-8")
    assert path.exists(), f"{path} is missing: run pytest {__file__} --update-snapshots"
    golden = Graph().parse(path, format="nt")
    assert len(golden) > 100
    in_both, only_fresh, only_golden = graph_diff(to_isomorphic(fresh), to_isomorphic(golden))
    assert not only_fresh and not only_golden, (
        f"graph {name} differs from {path.name}:\n+ only in the fresh build:\n{_readable(only_fresh)}\n"
        f"- only in the snapshot:\n{_readable(only_golden)}"
    )
