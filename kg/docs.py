"""Render the ontology as one HTML page with pyLODE (dev extra), offline: `python -m kg.docs [OUT]`."""

import sys
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import RDF, SKOS

from kg.paths import BUILD, ONTOLOGY

OUT = BUILD / "docs" / "ontology.html"


def render(out: Path = OUT, *, ontology: Path = ONTOLOGY) -> Path:
    """Write the ontology's HTML documentation to `out` and return its path."""
    from pylode import OntPub  # dev-only dependency: imported here so the pipeline never needs it

    graph = Graph().parse(ontology, format="turtle")
    # pyLODE takes any skos:ConceptScheme for the document's header and picks one at random; ours
    # (pkg:AdministrativeLevels) is a term of the ontology, so the page is rendered without that typing.
    graph.remove((None, RDF.type, SKOS.ConceptScheme))
    out.parent.mkdir(parents=True, exist_ok=True)
    html = OntPub(graph, sort_subjects=True).make_html()
    out.write_text(html if html.endswith("\n") else html + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    print(render(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
