"""The landing page `/` (zh, with an English switch): the plans of the corpus, counts, map; the dumps at /dumps/<file>."""

import json
import re
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, redirect, request, send_from_directory, url_for

from kg.paths import QUERIES
from server.web import pages, pictures, plans
from server.web.i18n import TEXT

bp = Blueprint("site", __name__, static_folder="static", static_url_path="/static")
PKG = pages.VOCAB
COUNTS = f"""SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {{
  GRAPH ?g {{ ?s a ?class }} FILTER(STRENDS(STR(?g), "graph/kg") && STRSTARTS(STR(?class), "{PKG}"))
}} GROUP BY ?class ORDER BY DESC(?n)"""
TRIPLES = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
# What the build's catalogue (graph/meta) says of the dataset: title, description, keywords, period covered.
DATASET = """PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?p ?o WHERE {
  ?catalog dcat:dataset ?dataset .
  { ?dataset ?p ?o FILTER(?p IN (dct:title, dct:description, dcat:keyword)) }
  UNION { ?dataset dct:temporal ?period . ?period ?p ?o FILTER(?p IN (dcat:startDate, dcat:endDate)) }
}"""
DCT, DCAT = "http://purl.org/dc/terms/", "http://www.w3.org/ns/dcat#"
_SUM = re.compile(r"([0-9a-f]{64})\s+\*?(\S+)")
MEDIA = {"ttl": "text/turtle; charset=utf-8", "nt": "application/n-triples", "jsonld": "application/ld+json",
         "trig": "application/trig", "nq": "application/n-quads"}
LICENCE = "https://creativecommons.org/licenses/by/4.0/"


def dumps() -> list[dict]:
    """The files listed in SHA256SUMS that exist, with their sizes."""
    folder = pages.dumps_dir()
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        return []
    found = []
    for line in sums.read_text(encoding="utf-8").splitlines():
        match = _SUM.fullmatch(line.strip())
        if match and (folder / match.group(2)).is_file() and "/" not in match.group(2):
            found.append({"name": match.group(2), "sha256": match.group(1), "size": (folder / match.group(2)).stat().st_size})
    return sorted(found, key=lambda f: f["name"]) + [{"name": "SHA256SUMS", "sha256": "", "size": sums.stat().st_size}]


def _dataset() -> dict[str, list[pages.Term]]:
    """The catalogue's statements about the dataset by property (empty when the store has no graph/meta)."""
    found: dict[str, list[pages.Term]] = {}
    for row in pages.select(DATASET):
        if row["o"] not in found.setdefault(row["p"].value, []):
            found[row["p"].value].append(row["o"])
    return found


def _jsonld(lang: str, files: list[dict], counts: list) -> str:
    """schema.org/Dataset for dataset search engines, from the catalogue the build wrote; safe inside <script>
    (no '</' can end it early)."""
    root = request.url_root
    said = _dataset()
    titles = said.get(DCT + "title", [])
    document = {
        "@context": "https://schema.org/", "@type": "Dataset",
        "name": " / ".join(dict.fromkeys(pages.pick(titles, wanted) for wanted in (lang, *pages.LANGS))) or "policykg",
        "description": pages.pick(said.get(DCT + "description", []), lang),
        "url": root, "inLanguage": ["zh", "en"], "license": LICENCE, "isAccessibleForFree": True,
        "spatialCoverage": {"@type": "Place", "name": "China"},
        "keywords": [k.value for k in said.get(DCAT + "keyword", [])],
        "variableMeasured": [c["label"] for c in counts],
        "distribution": [{"@type": "DataDownload", "contentUrl": root + "dumps/" + f["name"], "name": f["name"],
                          "contentSize": str(f["size"])} for f in files if f["sha256"]],
    }
    start, end = said.get(DCAT + "startDate"), said.get(DCAT + "endDate")
    if start and end:
        document["temporalCoverage"] = f"{min(s.value for s in start)[:4]}/{max(e.value for e in end)[:4]}"
    return json.dumps(document, ensure_ascii=False, indent=1).replace("</", "<\\/")


@bp.route("/")
def landing():
    tag = pages.etag()
    return pages.not_modified(tag) or pages.validated(_landing(), tag)


def _landing():
    lang = pages.language()
    counts = pages.select(COUNTS)
    labels = pages.labels_for({r["class"].value for r in counts}, lang)
    counts = [{"iri": r["class"].value, "label": labels.get(r["class"].value, pages.compact(r["class"].value)),
               "n": int(r["n"].value)} for r in counts]
    triples = [(r["g"].value, int(r["n"].value)) for r in pages.select(TRIPLES)]
    tiles = pictures.tiles(lang)
    files = dumps()
    return pages.page("landing.html", counts=counts, triples=triples, plans=plans.listing(lang), tiles=tiles,
                      charts=pictures.charts(lang, tiles), files=files, jsonld=_jsonld(lang, files, counts),
                      alternates=[("/dumps/void.ttl", "text/turtle")])


@bp.route("/dumps/<name>")
def dump(name: str):
    """One dump file; only names SHA256SUMS lists are served (no path tricks reach the disk)."""
    if name not in {f["name"] for f in dumps()}:
        abort(404)
    response = send_from_directory(pages.dumps_dir(), name, max_age=int(current_app.config["CACHE_MAX_AGE"]))
    suffix = name.removesuffix(".gz").rsplit(".", 1)[-1]
    response.content_type = "application/gzip" if name.endswith(".gz") else MEDIA.get(suffix, "text/plain; charset=utf-8")
    return response


@bp.route("/void")
def void():
    """The VoID / DCAT description (written by the build next to the dumps)."""
    return redirect(url_for("site.dump", name="void.ttl"), 303)


def examples() -> list[dict]:
    """The example queries in queries/*.rq: name, the first comment line as title, and the text."""
    found = []
    for path in sorted(QUERIES.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        first = next((line[1:].strip() for line in text.splitlines() if line.startswith("#")), path.stem)
        found.append({"name": path.stem, "title": first, "query": text})
    return found


@bp.app_context_processor
def _site_context() -> dict:
    """What every page template may use, also those rendered by other blueprints (the /sparql query page)."""
    lang = pages.language()
    other = pages.LANGS[1 - pages.LANGS.index(lang)]
    # "/" + lstrip: a path like //evil.example must not become a protocol-relative link to another host
    switch = "/" + request.path.lstrip("/") + "?" + urlencode({**request.args.to_dict(), "lang": other})
    return {"lang": lang, "t": TEXT[lang], "other": other, "switch_url": switch, "alternates": (),
            "local": pages.local, "compact": pages.compact, "examples": examples}


@bp.after_app_request
def _remember_language(response):
    """?lang= on any page is remembered in a cookie."""
    return pages.remember(response)
