"""Linked-data pages for /id/…, /doc/… and /def/…: an HTML page and its RDF twins on the same IRI."""

from flask import Blueprint, Response, request

from kg.rdf import namespace
from server.sparql import formats
from server.sparql.formats import RDF
from server.web import article, pages, pictures, plans

bp = Blueprint("resources", __name__)
HTML = formats.Format("text/html", ("html",), "html", "")
# Triple formats only: a resource description is one graph (TriG / N-Quads stay with /sparql and the dumps).
TWINS = tuple(f for f in RDF if f.ox_name in ("TURTLE", "JSON_LD", "N_TRIPLES", "RDF_XML"))
OFFERS = (HTML,) + TWINS
PKG = pages.VOCAB
NIF = str(namespace.NIF)
OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
FIRST = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", RDFS + "label")  # shown before the rest (alphabetical)
LIMIT = 3000  # triples about one resource shown or returned (a province has hundreds of subdivisions)


@bp.route("/id/<path:rest>")
@bp.route("/doc/<path:rest>")
@bp.route("/def/<path:rest>")
@bp.route("/def/", defaults={"rest": ""})
def resource(rest: str) -> Response:
    """Describe the IRI this path names, in the negotiated format; a helpful 404 when nothing is known."""
    iri = pages.iri_for_path(request.path)
    chosen = formats.require(formats.negotiate(request, OFFERS), OFFERS)
    tag = pages.etag(chosen.media_type)
    return pages.not_modified(tag) or pages.validated(_answer(iri, chosen), tag)


def _answer(iri: str, chosen: formats.Format) -> Response:
    rows = _about(iri)
    if chosen.family == "html" and article.is_article(iri):
        if not rows:
            return _not_found(iri)
        return article.page(iri, alternates=_alternates())
    if not rows:
        return _not_found(iri) if chosen.family == "html" else _plain_404(iri)
    if chosen.family != "html":
        return _twin(iri, chosen)
    return _html(iri, rows)


def _about(iri: str) -> list[dict]:
    text = (f"SELECT ?g ?dir ?p ?o WHERE {{ {{ GRAPH ?g {{ <{iri}> ?p ?o }} BIND(\"out\" AS ?dir) }} "
            f"UNION {{ GRAPH ?g {{ ?o ?p <{iri}> }} BIND(\"in\" AS ?dir) }} }} LIMIT {LIMIT}")
    return pages.select(text, cap=LIMIT)


def _alternates() -> list[tuple[str, str]]:
    path = request.path
    return [(f"{path}?format={fmt.names[0]}", fmt.media_type) for fmt in TWINS]


def _twin(iri: str, fmt: formats.Format) -> Response:
    text = f"CONSTRUCT {{ <{iri}> ?p ?o . ?s ?q <{iri}> }} WHERE {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?q <{iri}> }} }}"
    if article.is_article(iri):
        # The document also answers for its hash IRIs (text spans #char=b,e): a client fetching one gets this.
        text = (f"CONSTRUCT {{ <{iri}> ?p ?o . ?s ?q <{iri}> . ?f ?fp ?fo }} WHERE {{ {{ <{iri}> ?p ?o }} UNION "
                f"{{ ?s ?q <{iri}> }} UNION {{ ?f ?fp ?fo FILTER(STRSTARTS(STR(?f), \"{iri}#\")) }} }}")
    body = pages.construct(text, fmt.ox_name, cap=LIMIT * 2)
    response = Response(body, content_type=fmt.content_type)
    response.headers["Link"] = f'<{request.path}>; rel="alternate"; type="text/html"'
    response.vary.add("Accept")
    return response


def _plain_404(iri: str) -> Response:
    response = Response(f"Not found: nothing is known about <{iri}>\n", 404, content_type="text/plain; charset=utf-8")
    response.vary.add("Accept")
    return response


def _not_found(iri: str) -> Response:
    """404 page that lists known IRIs sharing the nearest parent path (typos in a code or a task number)."""
    parent = iri.rstrip("/").rsplit("/", 1)[0] + "/"
    # The plan's own resources (graph/kg) first, then the reference tables (thousands of divisions).
    rows = pages.select(f'SELECT ?s (MAX(IF(STRENDS(STR(?g), "graph/kg"), 1, 0)) AS ?own) WHERE {{ GRAPH ?g {{ ?s a ?type }} '
                        f'FILTER(STRSTARTS(STR(?s), "{parent}")) }} GROUP BY ?s ORDER BY DESC(?own) ?s LIMIT 40', cap=40)
    nearby = [row["s"].value for row in rows]
    labels = pages.labels_for(set(nearby), pages.language())
    return pages.page("notfound.html", status=404, iri=iri, nearby=nearby, labels=labels)


def _html(iri: str, rows: list[dict]) -> Response:
    lang = pages.language()
    out: dict[str, list] = {}
    used_by: dict[str, list] = {}
    graphs: set[str] = set()
    for row in rows:
        target = out if row["dir"].value == "out" else used_by
        values = target.setdefault(row["p"].value, [])
        if row["o"] not in values:  # the same triple may sit in several graphs (kg and divisions)
            values.append(row["o"])
        graphs.add(row["g"].value)
    iris = {iri, *out, *used_by, *(t.value for ts in (*out.values(), *used_by.values()) for t in ts if t.is_iri)}
    labels = pages.labels_for(iris, lang)
    for values in (*out.values(), *used_by.values()):
        values.sort(key=lambda t: (t.lang != lang, labels.get(t.value, t.value)))
    spans = pages.select(
        f"SELECT ?s ?b ?e ?a WHERE {{ <{iri}> <{PKG}span> ?s . ?s <{NIF}beginIndex> ?b ; <{NIF}endIndex> ?e . "
        f"OPTIONAL {{ ?s <{NIF}anchorOf> ?a }} }} ORDER BY ?b")
    spans = [dict(row, href=_span_link(row)) for row in spans]
    out = dict(sorted(out.items(), key=lambda kv: (kv[0] not in FIRST, FIRST.index(kv[0]) if kv[0] in FIRST else 0,
                                                   labels.get(kv[0], pages.compact(kv[0])).lower())))
    types = [t.value for t in out.get("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", [])]
    types.sort(key=lambda ty: (not ty.startswith(PKG), ty))  # policykg's own class first
    title = labels.get(iri) or pages.compact(iri)
    return pages.page("resource.html", alternates=_alternates(), iri=iri, title=title, types=types, out=out,
                      used_by=used_by, labels=labels, spans=spans, graphs=sorted(graphs),
                      terms=_terms(iri, lang) if OWL + "Ontology" in types else [],
                      plan=_plan(iri, lang) if PKG + "Plan" in types else None)


def _plan(iri: str, lang: str) -> dict:
    """What a plan's page adds: its counts, diagram, map and charts, its sources and where they differ."""
    tiles = pictures.tiles(lang, iri)
    return {"counts": plans.listing(lang, iri), "diagram": pictures.diagram(lang, iri), "tiles": tiles,
            "charts": pictures.charts(lang, tiles, iri), "sources": plans.differences(iri, lang)}


def _terms(iri: str, lang: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """An ontology's own terms by kind: (kind label, [(term, label, comment)])."""
    rows = pages.select(f'SELECT ?term ?kind ?comment WHERE {{ ?term a ?kind FILTER(STRSTARTS(STR(?term), "{iri}") '
                        f"&& ?kind IN (<{OWL}Class>, <{OWL}ObjectProperty>, <{OWL}DatatypeProperty>, "
                        f"<http://www.w3.org/2004/02/skos/core#Concept>)) OPTIONAL {{ ?term <{RDFS}comment> ?comment "
                        f'FILTER(LANGMATCHES(LANG(?comment), "{lang}")) }} }} ORDER BY ?kind ?term')
    labels = pages.labels_for({r["term"].value for r in rows}, lang)
    groups: dict[str, list] = {}
    for row in rows:
        entry = (row["term"].value, labels.get(row["term"].value, pages.compact(row["term"].value)),
                 row["comment"].value if "comment" in row else "")
        if entry not in groups.setdefault(pages.compact(row["kind"].value), []):
            groups[pages.compact(row["kind"].value)].append(entry)
    return list(groups.items())


def _span_link(row: dict) -> str:
    """The article page with this span selected and scrolled to (#char=b,e is the span's own IRI fragment)."""
    document = row["s"].value.split("#", 1)[0]
    b, e = row["b"].value, row["e"].value
    return f"{pages.local(document) or document}?span={b},{e}#char={b},{e}"
