"""/shacl: validate pasted or uploaded Turtle against policykg's shapes (page) or get the sh:ValidationReport (RDF).

This process only reads the request's bytes, admits it (SHACL_CONCURRENCY validations at a time per server
process; 503 with Retry-After when full) and hands the raw bytes to a child (server.web.shacl_child) that parses,
checks and validates them confined: no network, an address-space limit (SHACL_MEMORY_BYTES), killed at
SHACL_TIMEOUT. Nothing is ever fetched: owl:imports, sh:shapesGraph, JavaScript libraries and every SPARQL text
naming SERVICE, LOAD or FROM are refused, decided on rdflib's parse tree.
"""

import multiprocessing
import os
import signal
import threading

from flask import Blueprint, Response, current_app, request

from server.errors import (
    BadRequest,
    OutboundRefused,
    Overloaded,
    PayloadTooLarge,
    QueryTimeout,
    UnsupportedMediaType,
)
from server.sparql import formats, protocol
from server.sparql.formats import RDF
from server.web import pages, shacl_child

bp = Blueprint("shacl_service", __name__)
HTML = formats.Format("text/html", ("html",), "html", "")
REPORTS = tuple(f for f in RDF if f.ox_name in ("TURTLE", "JSON_LD", "N_TRIPLES", "RDF_XML"))
OFFERS = (HTML,) + REPORTS
RETRY_AFTER = 5  # seconds, the Retry-After of a 503 when every validation slot is taken
PREFIXES = {"sh": "http://www.w3.org/ns/shacl#", "pkg": pages.VOCAB, "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}
_CONTEXT = multiprocessing.get_context("spawn")
_SLOTS_LOCK = threading.Lock()


def _config(key: str, cast=int):
    """A SHACL_* setting (server/config.py holds the defaults)."""
    return cast(current_app.config[key])


def _field(name: str) -> bytes | None:
    """A form field or uploaded file as bytes, size-checked; None when empty."""
    limit = _config("SHACL_MAX_BYTES")
    upload = request.files.get(f"{name}_file")
    raw = upload.read(limit + 1) if upload and upload.filename else (request.form.get(name) or "").encode()
    if len(raw) > limit:
        raise PayloadTooLarge(f"{name}: over the limit of {limit} bytes")
    return raw if raw.strip() else None


def _inputs() -> tuple[bytes | None, bytes | None]:
    """(data, shapes) as the client sent them: bytes, never parsed here."""
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return _field("data"), _field("shapes")
    if request.mimetype == "text/turtle":
        limit = _config("SHACL_MAX_BYTES")
        body = protocol.whole_body(request)
        if len(body) > limit:
            raise PayloadTooLarge(f"data: over the limit of {limit} bytes")
        return (body if body.strip() else None), None
    raise UnsupportedMediaType(f"POST body of type {request.mimetype or 'none'}; send text/turtle or a form")


def _slots() -> threading.BoundedSemaphore:
    """This app's validation slots (one set per server process: gunicorn workers do not share them)."""
    with _SLOTS_LOCK:
        if "shacl_slots" not in current_app.extensions:
            current_app.extensions["shacl_slots"] = threading.BoundedSemaphore(_config("SHACL_CONCURRENCY"))
        return current_app.extensions["shacl_slots"]


def run_validation(data: bytes, shapes: bytes | None, report_format: str | None = None):
    """(conforms, report bytes in `report_format` (an ox.RdfFormat name; None for none), results for the page)
    from a confined child; at most SHACL_CONCURRENCY at a time."""
    slots = _slots()
    if not slots.acquire(blocking=False):
        raise Overloaded("another validation is running; try again shortly",
                         headers={"Retry-After": str(RETRY_AFTER)})
    try:
        return _in_child(data, shapes, report_format)
    finally:
        slots.release()


def _in_child(data: bytes, shapes: bytes | None, report_format: str | None):
    timeout = _config("SHACL_TIMEOUT", float)
    memory = _config("SHACL_MEMORY_BYTES")
    parent, child = _CONTEXT.Pipe()
    process = _CONTEXT.Process(target=shacl_child.main, daemon=True,
                               args=(child, os.getpid(), memory, data, shapes, pages.base(), report_format, PREFIXES))
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise QueryTimeout(f"the validation ran longer than {timeout:g} s and was stopped")
        message = parent.recv()
    except EOFError:  # the child died without answering
        process.join(5)
        if process.exitcode != -signal.SIGABRT:  # anything but the abort below is a bug: its traceback is in the log
            raise RuntimeError(f"the validation process exited with code {process.exitcode} without an answer") \
                from None
        message = ("memory",)  # Rust code (pyoxigraph) aborts when it cannot allocate under the memory limit
    finally:
        process.kill()
        process.join(5)
        parent.close()
    kind, *rest = message
    if kind == "memory":
        raise PayloadTooLarge(f"the validation needed more than its memory limit of {memory / (1 << 20):g} MiB "
                              "and was stopped; send less (or less deeply nested) Turtle")
    if kind == "refused":
        raise OutboundRefused(rest[0])
    if kind == "bad":
        raise BadRequest(rest[0])
    return rest


@bp.route("/shacl", methods=["GET", "POST"])
def shacl():
    chosen = formats.require(formats.negotiate(request, OFFERS), OFFERS)
    limit = _config("SHACL_MAX_BYTES")
    if request.method == "GET":
        return pages.page("shacl.html", limit=limit, outcome=None, error=None, data="")
    try:
        data, shapes = _inputs()
        if data is None:
            raise BadRequest("no data: paste Turtle or upload a .ttl file")
        conforms, report, results = run_validation(data, shapes, None if chosen.family == "html" else chosen.ox_name)
    except (BadRequest, PayloadTooLarge, UnsupportedMediaType, Overloaded) as error:
        if chosen.family != "html":
            raise
        response = pages.page("shacl.html", status=error.status, limit=limit, outcome=None, error=error.message,
                              data=request.form.get("data", ""))
        response.headers.update(error.headers)
        return response
    if chosen.family != "html":
        response = Response(report, content_type=chosen.content_type)
        response.headers["X-SHACL-Conforms"] = "true" if conforms else "false"
        response.vary.add("Accept")
        return response
    labels = pages.labels_for({r.focus for r in results if r.focus.startswith("http")}, pages.language())
    return pages.page("shacl.html", limit=limit, outcome={"conforms": conforms, "results": results, "labels": labels},
                      error=None, data=data.decode("utf-8", "replace"))
