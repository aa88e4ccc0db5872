"""The prefixes the dumps and reports write: standard vocabularies plus the base's own namespaces."""

import re
from collections.abc import Iterable

from kg.rdf.namespace import PREFIXES

# the project's one prefix table (kg.namespace), alphabetically, as the dumps write it
VOCABULARIES = dict(sorted(PREFIXES.items()))

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
