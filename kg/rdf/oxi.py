"""Moves RDF between rdflib (where the graph is built and SHACL-checked) and pyoxigraph (where it is stored and written)."""

from collections.abc import Iterable

import pyoxigraph as ox
import rdflib
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
Data = rdflib.Graph | ox.Store | ox.Dataset | Iterable[ox.Quad]


def _ox_term(term: rdflib.term.Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot store {term!r} in Oxigraph")


def _ox_graph(name: rdflib.term.Node | None) -> ox.NamedNode | ox.BlankNode | ox.DefaultGraph:
    if name is None or name == DATASET_DEFAULT_GRAPH_ID:
        return ox.DefaultGraph()
    return _ox_term(name)


def to_quads(data: Data) -> list[ox.Quad]:
    """Every quad of an rdflib Dataset/Graph, a pyoxigraph Store or Dataset, or an iterable of quads."""
    if isinstance(data, rdflib.Dataset | rdflib.ConjunctiveGraph):
        return [ox.Quad(_ox_term(s), _ox_term(p), _ox_term(o), _ox_graph(g)) for s, p, o, g in data.quads()]
    if isinstance(data, rdflib.Graph):
        graph = _ox_graph(data.identifier if isinstance(data.identifier, rdflib.URIRef) else None)
        return [ox.Quad(_ox_term(s), _ox_term(p), _ox_term(o), graph) for s, p, o in data]
    if isinstance(data, ox.Store):
        return list(data.quads_for_pattern(None, None, None))
    return list(data)


def normalised(data: Data) -> list[ox.Quad]:
    """The quads as an Oxigraph store holds them (canonical lexical forms: "+00:00" becomes "Z"), so that dumps
    written from a fresh build and from the built store are byte-identical."""
    store = ox.Store()  # in memory
    store.bulk_extend(to_quads(data))
    return list(store.quads_for_pattern(None, None, None))


def _rdflib_term(term) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:
            return rdflib.Literal(term.value)  # RDF 1.1 simple literal: rdflib keeps these without a datatype
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    raise TypeError(f"cannot convert {term!r} to rdflib")


def to_dataset(quads: Iterable[ox.Quad]) -> rdflib.Dataset:
    """An rdflib Dataset holding the quads, named graphs kept."""
    dataset = rdflib.Dataset()
    for quad in quads:
        g = quad.graph_name
        graph = dataset.default_graph if isinstance(g, ox.DefaultGraph) else dataset.graph(_rdflib_term(g))
        graph.add((_rdflib_term(quad.subject), _rdflib_term(quad.predicate), _rdflib_term(quad.object)))
    return dataset


def union_graph(data: Data) -> rdflib.Graph:
    """All triples of every graph in one rdflib Graph: what SPARQL's union default graph sees."""
    union = rdflib.Graph()
    for quad in to_quads(data):
        union.add((_rdflib_term(quad.subject), _rdflib_term(quad.predicate), _rdflib_term(quad.object)))
    return union
