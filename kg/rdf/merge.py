"""Many sources, one plan: the plan graph (graph/kg) and each source's own graph from what every source states.

Every source's facts use the shared IRIs (one plan, its areas, tasks and goals by position; one agency or region by
its gazetteer key). The plan graph holds each fact once: the union of the sources' facts, except where two sources
give one resource different words; there it keeps the words of the source that ranks first (the official text,
then news reports, then an outline of the official text, which records titles only).

A source's graph holds what only that source says: `<document> pkg:states <resource>` for every resource it states,
and its own words where they differ from the plan graph's (pkg:wording, or the property itself for a value that is
not a label). It never repeats a triple of another graph: Oxigraph's union default graph is a multiset, so a repeated
triple would answer every query over the union once per graph that holds it.
"""

from collections import defaultdict

from rdflib import Literal, URIRef
from rdflib.namespace import RDFS

from kg.rdf.namespace import PKG

# which source's words the plan graph keeps, first to last
RANK = {"official text": 0, "news report": 1, "outline of the official text": 2}


def merge(stated: list[tuple[str, URIRef, set[tuple]]]) -> tuple[set[tuple], list[set[tuple]]]:
    """(kind, document, facts) per source, in input order → (the plan graph's triples, each source graph's triples)."""
    order = sorted(range(len(stated)), key=lambda i: (RANK[stated[i][0]], i))
    chosen: dict[tuple, set[Literal]] = {}
    for i in order:
        found: dict[tuple, set[Literal]] = defaultdict(set)
        for s, p, o in stated[i][2]:
            if isinstance(o, Literal):
                found[s, p, o.language].add(o)
        for key, values in found.items():
            chosen.setdefault(key, values)
    plan: set[tuple] = set()
    graphs: list[set[tuple]] = []
    for _, document, facts in stated:
        own = {(document, PKG.states, s) for s, _, _ in facts if s != document}
        for s, p, o in facts:
            if isinstance(o, Literal) and o not in chosen[s, p, o.language]:
                own.add((s, PKG.wording, o) if p == RDFS.label else (s, p, o))  # a difference, kept as data
            else:
                plan.add((s, p, o))
        graphs.append(own)
    return plan, graphs
