"""What the people-facing pages share: queries through the endpoint's workers, language choice, IRI ↔ path."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask import current_app, render_template, request

from kg.rdf.namespace import PKG_IRI
from kg.rdf.prefixes import VOCABULARIES

LANGS = ("zh", "en")
COOKIE = "lang"
VOCAB = PKG_IRI  # fixed vocabulary namespace: /def/ never moves with the base IRI
# Characters an IRI path may keep as they are; everything else is percent-encoded, so that any request path
# makes a valid SPARQL IRIREF (no <, >, ", {, }, |, ^, `, \ or spaces can reach a query).
_SAFE = "/:@!$&'()*+,;=-._~%"
MORE_PREFIXES = {"dcterms": "http://purl.org/dc/terms/"}  # an alias readers of older data know
# What names a thing, best first per language: rdfs:label, skos:prefLabel, then dct:title and schema:name.
LABELS = ("<http://www.w3.org/2000/01/rdf-schema#label>|<http://www.w3.org/2004/02/skos/core#prefLabel>|"
          "<http://purl.org/dc/terms/title>|<https://schema.org/name>")


@dataclass(frozen=True)
class Term:
    """One RDF term from a SPARQL JSON answer."""

    kind: str  # uri | literal | bnode
    value: str
    lang: str = ""
    datatype: str = ""

    @property
    def is_iri(self) -> bool:
        return self.kind == "uri"


def _term(cell: dict) -> Term:
    return Term(cell["type"].replace("typed-literal", "literal"), cell["value"], cell.get("xml:lang", ""),
                cell.get("datatype", ""))


def _run(text: str, results: str | None, rdf: str | None, cap: int) -> list[bytes]:
    """Body chunks of one query, from the endpoint's result cache when the same dataset version answered it before."""
    state = current_app.extensions["kg"]
    key = "pages:" + hashlib.sha256(repr((state.version, text, results, rdf, cap)).encode()).hexdigest()
    hit = state.cache.get(key) if state.cache is not None else None
    if hit:
        return hit[1]
    timeout = float(current_app.config["QUERY_TIMEOUT"])
    answer = state.pool(current_app).run(("query", text, None, None, results, rdf, cap), timeout)
    if state.cache is not None:
        state.cache.put(key, answer.meta, answer.chunks)
    return answer.chunks


def not_modified(tag: str):
    """A 304 when the client already holds this version of the page, else None."""
    if tag in request.if_none_match:
        response = current_app.response_class(status=304)
        return validated(response, tag)
    return None


def validated(response, tag: str):
    """ETag, Cache-Control and Vary on a page or twin that only changes with the dataset (and the language)."""
    if response.status_code in (200, 304):
        response.set_etag(tag)
        response.headers["Cache-Control"] = f"public, max-age={int(current_app.config['CACHE_MAX_AGE'])}"
    for header in ("Accept", "Accept-Language", "Cookie"):
        response.vary.add(header)
    return response


def etag(*parts) -> str:
    """A validator for a page: the dataset version, the request and whatever else chose its content."""
    state = current_app.extensions["kg"]
    material = repr((state.version, request.full_path, language(), *parts))
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def select(text: str, *, cap: int = 5000) -> list[dict[str, Term]]:
    """Rows of a SELECT run by the same worker pool as /sparql (union default graph)."""
    document = json.loads(b"".join(_run(text, "JSON", None, cap)))
    return [{name: _term(cell) for name, cell in row.items()} for row in document["results"]["bindings"]]


def construct(text: str, ox_name: str, *, cap: int = 20000) -> bytes:
    """A CONSTRUCT answer in the RDF format named by pyoxigraph's RdfFormat attribute."""
    return b"".join(_run(text, None, ox_name, cap))


def base() -> str:
    return current_app.config["BASE_IRI"]


def iri_for_path(path: str) -> str:
    """The IRI a request path names: /def/ under the fixed vocabulary, the rest under the base IRI."""
    path = quote(path.lstrip("/"), safe=_SAFE)
    if path.startswith("def/"):
        return VOCAB + path[4:]
    return base() + path


def local(iri: str) -> str | None:
    """The path on this service for an IRI we serve (base IRI or vocabulary), else None."""
    if iri.startswith(VOCAB):
        return "/def/" + iri[len(VOCAB):]
    if iri.startswith(base()):
        return "/" + iri[len(base()):]
    return None


def compact(iri: str) -> str:
    """prefix:local for well-known vocabularies, the IRI otherwise."""
    for prefix, namespace in (*VOCABULARIES.items(), *MORE_PREFIXES.items()):
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def language() -> str:
    """?lang= (remembered in a cookie by `remember`), else the cookie, else Accept-Language, else zh."""
    chosen = request.args.get("lang") or request.cookies.get(COOKIE)
    if chosen in LANGS:
        return chosen
    return request.accept_languages.best_match(LANGS, default="zh") or "zh"


def remember(response):
    """Set the language cookie when the request chose one with ?lang=."""
    chosen = request.args.get("lang")
    if chosen in LANGS:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def pick(labels: list[Term], lang: str) -> str:
    """The label in `lang`, else the other language, else any."""
    for wanted in (lang, *[x for x in LANGS if x != lang], ""):
        for label in labels:
            if label.lang.split("-")[0] == wanted:
                return label.value
    return labels[0].value if labels else ""


def labels_for(iris: set[str], lang: str) -> dict[str, str]:
    """rdfs:label / skos:prefLabel of each IRI in the chosen language (one query)."""
    iris = sorted(i for i in iris if i)[:800]
    if not iris:
        return {}
    values = " ".join(f"<{i}>" for i in iris)
    rows = select("SELECT ?s ?l WHERE { VALUES ?s { " + values + " } "
                  "?s " + LABELS + " ?l }")
    found: dict[str, list[Term]] = {}
    for row in rows:
        found.setdefault(row["s"].value, []).append(row["l"])
    return {iri: pick(labels, lang) for iri, labels in found.items()}


def dumps_dir() -> Path:
    """Where `kg build` wrote the dumps: KG_DUMPS, else next to the store."""
    return Path(current_app.config.get("DUMPS") or Path(current_app.config["STORE"]).parent / "dumps")


def page(template: str, *, status: int = 200, alternates=(), **context):
    """Render a site page in the chosen language, with its machine-readable twins for <link rel=alternate>."""
    body = render_template(f"site/{template}", alternates=alternates, **context)
    response = current_app.response_class(body, status, content_type="text/html; charset=utf-8")
    if alternates:
        response.headers["Link"] = ", ".join(f'<{href}>; rel="alternate"; type="{mt}"' for href, mt in alternates)
    response.vary.add("Accept")
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response
