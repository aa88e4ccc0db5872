"""RDF: dataclasses to an rdflib Dataset; the only place IRIs are minted."""
