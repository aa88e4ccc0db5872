"""The plans of the corpus: the landing page's list and each plan's sources and where they differ, from queries."""

from server.web import pages

PREFIXES = """PREFIX pkg: <https://policykg.example/def/>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX pav: <http://purl.org/pav/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
"""
# One row per plan: how many issuers, task areas, tasks and sources the graph holds for it. {only} narrows the
# plans (VALUES ?plan {…}) or leaves them all; each count in its own subquery so the counts never multiply.
PLANS = PREFIXES + """SELECT DISTINCT ?plan ?issuers ?areas ?tasks ?sources WHERE {{
  {{ SELECT ?plan (COUNT(DISTINCT ?issuer) AS ?issuers) WHERE {{ {only} ?plan a pkg:Plan .
     OPTIONAL {{ ?plan eli:passed_by ?issuer }} }} GROUP BY ?plan }}
  {{ SELECT ?plan (COUNT(DISTINCT ?area) AS ?areas) (COUNT(DISTINCT ?task) AS ?tasks) WHERE {{ {only} ?plan a pkg:Plan .
     OPTIONAL {{ ?plan pkg:taskArea ?area OPTIONAL {{ ?area pkg:task ?task }} }} }} GROUP BY ?plan }}
  {{ SELECT ?plan (COUNT(DISTINCT ?source) AS ?sources) WHERE {{ {only} ?plan a pkg:Plan .
     OPTIONAL {{ GRAPH ?g {{ ?source pkg:states ?plan }} ?g prov:wasDerivedFrom ?source }} }} GROUP BY ?plan }}
}} ORDER BY ?plan"""
# The parts of plan {plan} a source may state, each with its kind (the order the page lists them in).
PARTS = """{{ BIND({plan} AS ?part) BIND(0 AS ?rank) }}
  UNION {{ {plan} pkg:taskArea ?part BIND(1 AS ?rank) }}
  UNION {{ {plan} pkg:taskArea/pkg:task ?part BIND(2 AS ?rank) }}
  UNION {{ {plan} pkg:goal ?part BIND(3 AS ?rank) }}
  UNION {{ {plan} pkg:measure ?part BIND(4 AS ?rank) }}
  UNION {{ {plan} pkg:aim ?part BIND(5 AS ?rank) }}"""
# Each source of the plan: its document, kind, addresses, the date it was retrieved and its licence note.
SOURCES = PREFIXES + """SELECT DISTINCT ?source ?graph ?kind ?url ?retrieved ?rights WHERE {{
  GRAPH ?graph {{ ?source pkg:states {plan} }} ?graph prov:wasDerivedFrom ?source .
  OPTIONAL {{ ?graph dct:type ?kind }} OPTIONAL {{ ?graph pav:retrievedFrom ?url }}
  OPTIONAL {{ ?graph pav:retrievedOn ?retrieved }} OPTIONAL {{ ?graph dct:rights ?rights }}
}} ORDER BY ?source ?url"""
# Which source states which part of the plan (a part no source states has no ?source).
STATES = PREFIXES + """SELECT DISTINCT ?part ?rank ?source WHERE {{
  {parts}
  OPTIONAL {{ GRAPH ?g {{ ?source pkg:states ?part }} ?g prov:wasDerivedFrom ?source }}
}} ORDER BY ?rank ?part"""
# A source's defect standing where a part of the plan is: its kind, note, and what the source printed there.
STANDS = PREFIXES + """SELECT DISTINCT ?source ?defect ?part ?kind ?comment ?begin ?end ?printed WHERE {{
  {parts}
  GRAPH ?g {{ ?defect pkg:standsWhere ?part }} ?g prov:wasDerivedFrom ?source .
  OPTIONAL {{ ?defect pkg:defectKind ?kind }} OPTIONAL {{ ?defect rdfs:comment ?comment }}
  OPTIONAL {{ ?defect pkg:span ?span . ?span nif:beginIndex ?begin ; nif:endIndex ?end
             OPTIONAL {{ ?span nif:anchorOf ?printed }} }}
}} ORDER BY ?part ?source"""
# A source's own words where they differ from the plan graph's.
WORDINGS = PREFIXES + """SELECT DISTINCT ?part ?rank ?source ?wording ?merged WHERE {{
  {parts}
  GRAPH ?g {{ ?part pkg:wording ?wording }} ?g prov:wasDerivedFrom ?source .
  OPTIONAL {{ GRAPH ?kg {{ ?part rdfs:label ?merged }} FILTER(STRENDS(STR(?kg), "graph/kg") && LANG(?merged) = "zh") }}
}} ORDER BY ?rank ?part ?source"""


def _count(row: dict, name: str) -> int:
    return int(row[name].value) if name in row else 0


def listing(lang: str, only: str | None = None) -> dict:
    """The plans (all, or the one IRI `only`) with their counts and titles, and the query that counted them."""
    text = PLANS.format(only=f"VALUES ?plan {{ <{only}> }}" if only else "")
    rows = pages.select(text)
    labels = pages.labels_for({r["plan"].value for r in rows}, lang)
    plans = [{"iri": r["plan"].value, "title": labels.get(r["plan"].value, pages.compact(r["plan"].value)),
              **{name: _count(r, name) for name in ("issuers", "areas", "tasks", "sources")}} for r in rows]
    return {"plans": plans, "query": text}


def _sources(plan: str, lang: str) -> tuple[list[dict], str]:
    text = SOURCES.format(plan=f"<{plan}>")
    found: dict[str, dict] = {}
    for row in pages.select(text):
        source = found.setdefault(row["source"].value, {"iri": row["source"].value, "urls": [], "rights": [],
                                                         "kind": row["kind"].value if "kind" in row else "",
                                                         "retrieved": row["retrieved"].value if "retrieved" in row else ""})
        if "url" in row and row["url"].value not in source["urls"]:
            source["urls"].append(row["url"].value)
        if "rights" in row and row["rights"] not in source["rights"]:
            source["rights"].append(row["rights"])
    for source in found.values():
        source["rights"] = pages.pick(source["rights"], lang)
    return list(found.values()), text


def _order(iri: str, rank: int) -> tuple:
    """Plan first, then areas, tasks, goals, measures, aim; within a kind by their numbers (1.2 before 1.10)."""
    tail = iri.rsplit("/", 1)[-1]
    return rank, [int(x) if x.isdigit() else 0 for x in tail.split(".")], iri


def differences(plan: str, lang: str) -> dict:
    """Per source: what it states, what it lacks (with any defect standing there), and its differing words."""
    parts = PARTS.format(plan=f"<{plan}>")
    sources, sources_query = _sources(plan, lang)
    states_query = STATES.format(parts=parts)
    stated: dict[str, set[str]] = {}
    ranks: dict[str, int] = {}
    for row in pages.select(states_query):
        ranks[row["part"].value] = int(row["rank"].value)
        stated.setdefault(row["part"].value, set())
        if "source" in row:
            stated[row["part"].value].add(row["source"].value)
    ordered = sorted(ranks, key=lambda iri: _order(iri, ranks[iri]))
    stands_query = STANDS.format(parts=parts)
    stands: dict[tuple[str, str], list[dict]] = {}
    for row in pages.select(stands_query):
        defect = {name: row[name].value for name in ("defect", "kind", "comment", "begin", "end", "printed") if name in row}
        if "begin" in defect:
            document = pages.local(row["source"].value) or row["source"].value
            defect["href"] = f"{document}?span={defect['begin']},{defect['end']}#char={defect['begin']},{defect['end']}"
        stands.setdefault((row["source"].value, row["part"].value), []).append(defect)
    wordings_query = WORDINGS.format(parts=parts)
    wordings = [{"part": r["part"].value, "source": r["source"].value, "wording": r["wording"].value,
                 "merged": r["merged"].value if "merged" in r else ""} for r in pages.select(wordings_query)]
    iris = {plan, *ordered, *(s["iri"] for s in sources), *(s["kind"] for s in sources if s["kind"]),
            *(d["defect"] for found in stands.values() for d in found)}
    labels = pages.labels_for(iris, lang)
    lacks = {s["iri"]: [part for part in ordered if s["iri"] not in stated[part]] for s in sources}
    return {"sources": sources, "parts": ordered, "stated": stated, "lacks": lacks, "stands": stands,
            "wordings": wordings, "labels": labels, "sources_query": sources_query, "states_query": states_query,
            "stands_query": stands_query, "wordings_query": wordings_query}
