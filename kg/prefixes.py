"""The prefixes the dumps and reports write: standard vocabularies plus the base's own namespaces."""

import re
from collections.abc import Iterable

VOCABULARIES = {
    "adms": "http://www.w3.org/ns/adms#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "eli": "http://data.europa.eu/eli/ontology#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "nif": "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#",
    "oa": "http://www.w3.org/ns/oa#",
    "org": "http://www.w3.org/ns/org#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "pkg": "https://policykg.example/def/",
    "pplan": "http://purl.org/net/p-plan#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "schema": "https://schema.org/",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "sh": "http://www.w3.org/ns/shacl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "time": "http://www.w3.org/2006/time#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "void": "http://rdfs.org/ns/void#",
    "wd": "http://www.wikidata.org/entity/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

# Parts of a plan get their own prefix (task:1.1) so that Turtle needs no escaped slashes (plan:x\/task\/1.1).
_PLAN_PARTS = {"task": "task", "area": "taskarea", "goal": "goal", "measure": "measure", "claim": "claim"}


def prefixes(base: str, iris: Iterable[str] = (), *, only_used: bool = False) -> dict[str, str]:
    """Prefix → namespace for `base`, plus prefixes for the parts of the plan `iris` name; `only_used` keeps those `iris` use."""
    table = dict(VOCABULARIES)
    table |= {
        "region": f"{base}id/region/",
        "agency": f"{base}id/org/",
        "area": f"{base}id/area/",
        "plan": f"{base}id/plan/",
        "graph": f"{base}graph/",
    }
    iris = set(iris)
    plan_part = re.compile(re.escape(f"{base}id/plan/") + r"([^/#]+)/([a-z]+)/")
    slugs = {m.group(1) for iri in iris if (m := plan_part.match(iri))}
    if len(slugs) == 1:  # one plan per dataset: its parts are unambiguous
        slug = slugs.pop()
        table |= {name: f"{base}id/plan/{slug}/{part}/" for part, name in _PLAN_PARTS.items()}
    if not only_used:
        return table
    return {name: ns for name, ns in table.items() if any(iri.startswith(ns) for iri in iris)}
