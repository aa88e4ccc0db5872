"""The ontology file: well-formed OWL, every minted term documented in zh and en, mirrored by kg.namespace."""

import pytest
from opencc import OpenCC
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from kg.paths import ONTOLOGY
from kg.rdf.namespace import PKG, PKG_IRI, PREFIXES, bind_prefixes

DECLARATION_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, SKOS.Concept, SKOS.ConceptScheme)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    assert ONTOLOGY.is_file(), ONTOLOGY
    return Graph().parse(ONTOLOGY)


def minted_terms(graph: Graph) -> set[URIRef]:
    """Every subject in the pkg: namespace other than the ontology itself."""
    return {s for s in graph.subjects() if isinstance(s, URIRef) and s.startswith(PKG_IRI) and s != URIRef(PKG_IRI)}


def test_ontology_declares_itself_with_a_version(ontology):
    iri = URIRef(PKG_IRI)
    assert (iri, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(iri, OWL.versionInfo) is not None
    assert ontology.value(iri, OWL.versionIRI) is not None


def test_python_namespace_and_ontology_file_list_the_same_terms(ontology):
    in_python = {PKG[name] for name in PKG.__annotations__}
    assert in_python, "kg.rdf.namespace.PKG declares no terms"
    assert minted_terms(ontology) == in_python


def test_python_namespace_refuses_undeclared_terms():
    with pytest.raises(AttributeError):
        PKG.taskarea  # noqa: B018


def test_every_minted_term_is_declared_with_a_type(ontology):
    terms = minted_terms(ontology)
    assert terms
    undeclared = [t for t in terms if not any((t, RDF.type, kind) in ontology for kind in DECLARATION_TYPES)]
    assert undeclared == []


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_minted_term_has_exactly_one_label_in(ontology, language):
    terms = minted_terms(ontology)
    assert terms
    wrong = [t for t in terms if len([o for o in ontology.objects(t, RDFS.label) if o.language == language]) != 1]
    assert wrong == []


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_minted_term_has_a_comment_in(ontology, language):
    terms = minted_terms(ontology)
    assert terms
    missing = [t for t in terms if not any(o.language == language for o in ontology.objects(t, RDFS.comment))]
    assert missing == []


def test_chinese_text_of_the_ontology_is_simplified(ontology):
    t2s = OpenCC("t2s")
    chinese = [o for o in ontology.objects() if isinstance(o, Literal) and o.language == "zh"]
    assert chinese
    assert [str(o) for o in chinese if t2s.convert(str(o)) != str(o)] == []


def test_reused_vocabularies_are_linked_not_reminted(ontology):
    # every minted class specialises a reused class or another minted class, except pure policykg notions
    own = {PKG.Aim, PKG.Goal, PKG.Measure}
    classes = set(ontology.subjects(RDF.type, OWL.Class))
    assert classes
    orphans = [c for c in classes - own if ontology.value(c, RDFS.subClassOf) is None]
    assert orphans == []


def test_properties_have_a_domain_or_a_parent_property(ontology):
    props = set(ontology.subjects(RDF.type, OWL.ObjectProperty)) | set(ontology.subjects(RDF.type, OWL.DatatypeProperty))
    assert props
    vague = [p for p in props if (p, RDFS.domain, None) not in ontology and (p, RDFS.subPropertyOf, None) not in ontology
             and (p, RDFS.range, None) not in ontology]
    assert vague == []


def test_bind_prefixes_binds_pkg_to_the_fixed_vocabulary_namespace():
    graph = bind_prefixes(Graph())
    bound = dict(graph.namespaces())
    assert str(bound["pkg"]) == PKG_IRI
    assert all(str(bound[p]) == iri for p, iri in PREFIXES.items())


def test_ontology_readme_documents_every_minted_term(ontology):
    readme = (ONTOLOGY.parent / "README.md").read_text(encoding="utf-8")
    terms = minted_terms(ontology)
    assert terms
    assert [t for t in terms if f"`pkg:{t[len(PKG_IRI):]}`" not in readme] == []


def test_ontology_documentation_names_every_class_and_property(ontology, tmp_path):
    pytest.importorskip("pylode", reason="pyLODE is in the dev extra")
    from kg.docs import render

    html = render(tmp_path / "ontology.html").read_text(encoding="utf-8")
    documented = set(ontology.subjects(RDF.type, OWL.Class)) | set(ontology.subjects(RDF.type, OWL.ObjectProperty)) \
        | set(ontology.subjects(RDF.type, OWL.DatatypeProperty))
    assert documented
    assert [t for t in documented if str(t) not in html] == []
    assert "<h1>" in html and "policykg" in html
