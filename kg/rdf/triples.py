"""A set of triples being built, with the two idioms every resource needs: its types and its zh/en labels."""

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS


class Triples:
    """Collects (s, p, o) for one graph; a set, so describing a resource twice is harmless."""

    def __init__(self, base: str, labels_en: dict[str, str] | None = None):
        self.base = base
        self.labels_en = labels_en or {}
        self.triples: set[tuple] = set()

    def add(self, subject: URIRef, predicate: URIRef, obj) -> None:
        """Add one triple."""
        self.triples.add((subject, predicate, obj))

    def typed(self, subject: URIRef, cls: URIRef, supertypes: tuple[URIRef, ...] = ()) -> None:
        """rdf:type the class and each of its named superclasses."""
        for each in (cls, *supertypes):
            self.add(subject, RDF.type, each)

    def label(self, subject: URIRef, zh: str, *, en: str | None = None) -> None:
        """rdfs:label @zh always; @en when given or curated in labels-en.csv under the IRI's path below the base."""
        self.add(subject, RDFS.label, Literal(zh, lang="zh"))
        path = subject[len(self.base):] if subject.startswith(self.base) else None
        english = en or self.labels_en.get(path)
        if english:
            self.add(subject, RDFS.label, Literal(english, lang="en"))
