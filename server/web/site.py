"""The landing page `/` (zh, with an English switch) and the dump downloads at /dumps/<file>."""

import json
import re
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, redirect, request, send_from_directory, url_for

from kg.paths import QUERIES
from server.web import pages, pictures
from server.web.i18n import TEXT

bp = Blueprint("site", __name__, static_folder="static", static_url_path="/static")
PKG = pages.VOCAB
COUNTS = f"""SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {{
  GRAPH ?g {{ ?s a ?class }} FILTER(STRENDS(STR(?g), "graph/kg") && STRSTARTS(STR(?class), "{PKG}"))
}} GROUP BY ?class ORDER BY DESC(?n)"""
TRIPLES = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
AREAS = f"""SELECT ?area ?n ?headline WHERE {{
  ?area a <{PKG}TaskArea> ; <{PKG}ordinal> ?n . OPTIONAL {{ ?area <{PKG}headline> ?headline }}
}} ORDER BY ?n"""
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


def _jsonld(lang: str, files: list[dict], counts: list) -> str:
    """schema.org/Dataset for dataset search engines, safe inside <script> (no '</' can end it early)."""
    root = request.url_root
    document = {
        "@context": "https://schema.org/", "@type": "Dataset",
        "name": "《“十四五”东西部科技合作实施方案》知识图谱 / policykg: the 14th Five-Year East–West S&T Cooperation Plan",
        "description": "Linked open data built from a news report on the East–West S&T Cooperation Implementation Plan "
                       "(2021–2025): plan, task areas, tasks, goals, agencies and regions, with text provenance.",
        "url": root, "inLanguage": ["zh", "en"], "license": LICENCE, "isAccessibleForFree": True,
        "temporalCoverage": "2021/2025", "spatialCoverage": {"@type": "Place", "name": "China"},
        "keywords": ["science and technology policy", "East–West cooperation", "linked data", "SPARQL"],
        "variableMeasured": [c["label"] for c in counts],
        "distribution": [{"@type": "DataDownload", "contentUrl": root + "dumps/" + f["name"], "name": f["name"],
                          "contentSize": str(f["size"])} for f in files if f["sha256"]],
    }
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
    areas = pages.select(AREAS)
    area_labels = pages.labels_for({r["area"].value for r in areas}, lang)
    diagram = pictures.diagram(lang)
    tiles = pictures.tiles(lang)
    files = dumps()
    return pages.page("landing.html", counts=counts, triples=triples, areas=areas, area_labels=area_labels,
                      diagram=diagram, tiles=tiles, charts=pictures.charts(lang, tiles["rows"]), files=files,
                      jsonld=_jsonld(lang, files, counts), alternates=[("/dumps/void.ttl", "text/turtle")])


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
