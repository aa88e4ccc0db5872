"""/shacl: validate pasted or uploaded Turtle against policykg's shapes (page) or get the sh:ValidationReport (RDF).

Validation runs in a child process that is killed at the time limit (pySHACL cannot be interrupted), and
nothing is ever fetched: data or shapes naming owl:imports, sh:shapesGraph, JavaScript libraries or SERVICE
are refused before pySHACL sees them.
"""

import multiprocessing
import re

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from server.errors import BadRequest, PayloadTooLarge, QueryTimeout, UnsupportedMediaType
from server.sparql import formats
from server.sparql.formats import RDF
from server.web import pages

bp = Blueprint("shacl_service", __name__)
HTML = formats.Format("text/html", ("html",), "html", "")
REPORTS = tuple(f for f in RDF if f.ox_name in ("TURTLE", "JSON_LD", "N_TRIPLES", "RDF_XML"))
OFFERS = (HTML,) + REPORTS
LIMIT = 256 * 1024  # bytes of Turtle per field (SHACL_MAX_BYTES overrides)
TIMEOUT = 30.0  # seconds per validation (SHACL_TIMEOUT overrides)
# Predicates that make a SHACL engine (or an OWL tool) load something from elsewhere.
REMOTE = {"http://www.w3.org/2002/07/owl#imports", "http://www.w3.org/ns/shacl#shapesGraph",
          "http://www.w3.org/ns/shacl#jsLibrary", "http://www.w3.org/ns/shacl#jsLibraryURL"}
_SERVICE = re.compile(r"\b(SERVICE|LOAD)\b|\bFROM\s", re.IGNORECASE)
PREFIXES = {"sh": "http://www.w3.org/ns/shacl#", "pkg": pages.VOCAB, "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}
_CONTEXT = multiprocessing.get_context("spawn")


def _field(name: str) -> str | None:
    """A form field or uploaded file as text (UTF-8), size-checked."""
    limit = int(current_app.config.get("SHACL_MAX_BYTES", LIMIT))
    upload = request.files.get(f"{name}_file")
    raw = upload.read(limit + 1) if upload and upload.filename else (request.form.get(name) or "").encode()
    if len(raw) > limit:
        raise PayloadTooLarge(f"{name}: over the limit of {limit} bytes")
    try:
        return raw.decode("utf-8") if raw.strip() else None
    except UnicodeDecodeError as error:
        raise BadRequest(f"{name}: not UTF-8 (byte {error.start})") from None


def _parse(text: str, what: str) -> list[ox.Quad]:
    """Turtle → quads; a syntax error is a 400 quoting the parser (line and column); remote loads refused."""
    try:
        quads = list(ox.parse(text.encode(), format=ox.RdfFormat.TURTLE, base_iri=pages.base()))
    except SyntaxError as error:
        raise BadRequest(f"{what}: Turtle syntax error: {error}") from None
    for quad in quads:
        if quad.predicate.value in REMOTE:
            raise BadRequest(f"{what}: <{quad.predicate.value}> would load a remote document; refused, never fetched")
        if isinstance(quad.object, ox.Literal) and quad.predicate.value.startswith("http://www.w3.org/ns/shacl#") \
                and _SERVICE.search(quad.object.value):
            raise BadRequest(f"{what}: a SPARQL constraint with SERVICE, LOAD or FROM; refused, never fetched")
    return quads


def _child(conn, data: bytes, shapes: bytes | None) -> None:
    """Child process: validate and send back (conforms, report as N-Triples, results)."""
    from kg.validate import validate

    parse = lambda b: list(ox.parse(b, format=ox.RdfFormat.N_QUADS)) if b is not None else None  # noqa: E731
    try:
        outcome = validate(parse(data), shapes=parse(shapes))
        conn.send(("ok", outcome.conforms, outcome.report_graph.serialize(format="nt"), outcome.results))
    except Exception as error:  # noqa: BLE001 - reported to the parent, which answers 400
        conn.send(("error", f"{type(error).__name__}: {error}"))


def run_validation(data: list[ox.Quad], shapes: list[ox.Quad] | None):
    """(conforms, report N-Triples, results) from a killable child process."""
    timeout = float(current_app.config.get("SHACL_TIMEOUT", TIMEOUT))
    dump = lambda quads: ox.serialize(quads, format=ox.RdfFormat.N_QUADS)  # noqa: E731
    parent, child = _CONTEXT.Pipe()
    process = _CONTEXT.Process(target=_child, args=(child, dump(data), dump(shapes) if shapes else None), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise QueryTimeout(f"the validation ran longer than {timeout:g} s and was stopped")
        message = parent.recv()
    finally:
        process.kill()
        process.join(5)
        parent.close()
    if message[0] == "error":
        raise BadRequest(f"validation failed: {message[1]}")
    return message[1:]


def _inputs() -> tuple[str | None, str | None]:
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return _field("data"), _field("shapes")
    if request.mimetype == "text/turtle":
        limit = int(current_app.config.get("SHACL_MAX_BYTES", LIMIT))
        body = request.get_data()
        if len(body) > limit:
            raise PayloadTooLarge(f"data: over the limit of {limit} bytes")
        try:
            return body.decode("utf-8"), None
        except UnicodeDecodeError as error:
            raise BadRequest(f"data: not UTF-8 (byte {error.start})") from None
    raise UnsupportedMediaType(f"POST body of type {request.mimetype or 'none'}; send text/turtle or a form")


@bp.route("/shacl", methods=["GET", "POST"])
def shacl():
    chosen = formats.require(formats.negotiate(request, OFFERS), OFFERS)
    limit = int(current_app.config.get("SHACL_MAX_BYTES", LIMIT))
    if request.method == "GET":
        return pages.page("shacl.html", limit=limit, outcome=None, error=None, data="")
    try:
        data_text, shapes_text = _inputs()
        if data_text is None:
            raise BadRequest("no data: paste Turtle or upload a .ttl file")
        data = _parse(data_text, "data")
        shapes = _parse(shapes_text, "shapes") if shapes_text else None
        conforms, report, results = run_validation(data, shapes)
    except (BadRequest, PayloadTooLarge, UnsupportedMediaType) as error:
        if chosen.family != "html":
            raise
        return pages.page("shacl.html", status=error.status, limit=limit, outcome=None, error=error.message,
                          data=request.form.get("data", ""))
    if chosen.family != "html":
        triples = [q.triple for q in ox.parse(report.encode(), format=ox.RdfFormat.N_TRIPLES)]
        body = ox.serialize(triples, format=chosen.ox(), prefixes=PREFIXES) if chosen.ox_name == "TURTLE" \
            else ox.serialize(triples, format=chosen.ox())
        response = Response(body, content_type=chosen.content_type)
        response.headers["X-SHACL-Conforms"] = "true" if conforms else "false"
        response.vary.add("Accept")
        return response
    labels = pages.labels_for({r.focus for r in results if r.focus.startswith("http")}, pages.language())
    return pages.page("shacl.html", limit=limit, outcome={"conforms": conforms, "results": results, "labels": labels},
                      error=None, data=data_text)
