"""The SPARQL endpoint at /sparql: protocol, limits, caching, and the service description / UI."""

import functools
import hashlib
import hmac
import re
import time

from flask import Blueprint, Response, current_app, g, render_template, request
from werkzeug.sansio.utils import get_current_url

from server import fastpath, formats, guard, metrics, protocol, service
from server.errors import Forbidden, OutboundRefused, QueryTimeout
from server.formats import RDF, RESULTS

bp = Blueprint("sparql", __name__)
TRUNCATED = "X-Result-Truncated"
# Answers that change between runs are never cached (checked on the text: a false positive only costs a cache miss).
_VOLATILE = re.compile(r"\b(RAND|NOW|UUID|STRUUID|BNODE)\s*\(", re.IGNORECASE)
_VOLATILE_WORDS = ("rand", "now", "uuid", "bnode")  # a cheap test first: the regex costs ~40 µs on a long query


def _volatile(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in _VOLATILE_WORDS) and bool(_VOLATILE.search(text))


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint():
    """One route, three jobs: queries, updates, and (GET without query) the service description or UI."""
    operation = protocol.parse(request)
    if operation is None:
        return _describe()
    if operation.kind == "update":
        return _update(operation)
    return _query(operation)


# request.base_url, memoised: Werkzeug's IRI conversion of the same few endpoint URLs costs ~30 µs a request.
_base_url = functools.lru_cache(maxsize=64)(get_current_url)


def _state():
    return current_app.extensions["kg"]


def _refuse_outbound(text: str) -> None:
    refused = guard.refused_targets(text, current_app.config["SERVICE_ALLOWLIST"])
    if refused:
        raise OutboundRefused("no outbound requests from this endpoint; not allow-listed: " + ", ".join(refused))


def _query(op: protocol.Operation) -> Response:
    config, state = current_app.config, _state()
    _refuse_outbound(op.text)
    timeout = protocol.lowered(op.params, "timeout", float(config["QUERY_TIMEOUT"]))
    cap = int(protocol.lowered(op.params, "max-rows", int(config["ROW_CAP"]), int))
    results_fmt, rdf_fmt = formats.negotiate(request, RESULTS, op.params), formats.negotiate(request, RDF, op.params)
    endpoint_url = _base_url(request.scheme, request.host, request.root_path, request.path)
    if results_fmt is None and rdf_fmt is None:
        formats.require(None, RESULTS + RDF)
    request_key = repr((state.version, endpoint_url, op.text, op.default_graphs, op.named_graphs,
                        results_fmt and results_fmt.ox_name, rdf_fmt and rdf_fmt.ox_name, cap))
    etag = hashlib.sha256(request_key.encode()).hexdigest()[:32]
    cacheable = not _volatile(op.text)
    g.etag = etag  # the access log names the query by it (the text itself stays out of the log)
    # If-None-Match uses the weak comparison (RFC 9110 13.1.2), so W/"…" from a proxy still matches.
    if cacheable and (request.if_none_match.star_tag or request.if_none_match.contains_weak(etag)):
        return _finish(Response(status=304), etag, cacheable)
    cache = state.cache if cacheable else None
    hit = cache.get(etag) if cache is not None else None
    metrics.cache_lookups("off" if cache is None else ("hit" if hit else "miss")).inc()
    g.cache = "off" if cache is None else ("hit" if hit else "miss")
    if hit:
        meta, chunks = hit
    else:
        started = time.perf_counter()
        # The query's own FROM / FROM NAMED choose its dataset; otherwise the default graph is the union.
        union = op.default_graphs is None and not guard.has_dataset_clause(op.text)
        request_tuple = ("query" if union else "query-dataset", op.text, op.default_graphs, op.named_graphs,
                         results_fmt and results_fmt.ox_name, rdf_fmt and rdf_fmt.ox_name, cap, endpoint_url)
        try:
            answer = state.pool(current_app).run(request_tuple, timeout)
        except QueryTimeout:
            metrics.TIMEOUTS.inc()
            raise
        g.query_ms = round((time.perf_counter() - started) * 1000, 2)
        meta, chunks = answer.meta, answer.chunks
        if meta["format"] is None:
            formats.require(None, RDF if meta["kind"] == "graph" else RESULTS)
        if meta.get("truncated") and meta["format"] == "JSON" and meta["kind"] == "solutions":
            # A field the UI can show; SPARQL JSON readers ignore members they do not know.
            note = b'{"truncated":{"rowCap":%d},' % cap
            chunks = [note + chunks[0][1:]] + chunks[1:]
        if cache is not None:
            cache.put(etag, meta, chunks)
    family = "rdf" if meta["kind"] == "graph" else "results"
    fmt = formats.by_name(family, meta["format"])
    response = Response(chunks, content_type=fmt.content_type)
    response.content_length = sum(len(c) for c in chunks)
    if meta.get("truncated"):
        response.headers[TRUNCATED] = str(cap)
    if cache is not None:
        request.environ[fastpath.RECORD] = etag  # the same raw request may get these bytes again before Flask
    return _finish(response, etag, cacheable)


def _finish(response: Response, etag: str, cacheable: bool) -> Response:
    response.vary.add("Accept")
    if cacheable:
        response.set_etag(etag)
        response.headers["Cache-Control"] = f"public, max-age={int(current_app.config['CACHE_MAX_AGE'])}"
    else:
        response.headers["Cache-Control"] = "no-store"
    return response


def _authorised() -> bool:
    token = current_app.config["UPDATE_TOKEN"]
    header = request.headers.get("Authorization", "")
    scheme, _, sent = header.partition(" ")
    # Constant-time comparison, so response timing does not leak the token.
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), str(token).encode())


def _update(op: protocol.Operation) -> Response:
    if not current_app.config["UPDATE_TOKEN"]:
        raise Forbidden("this endpoint is read-only: SPARQL Update is disabled")
    if not _authorised():
        raise Forbidden("SPARQL Update needs 'Authorization: Bearer <token>' with the configured token")
    _refuse_outbound(op.text)
    state = _state()
    timeout = protocol.lowered(op.params, "timeout", float(current_app.config["QUERY_TIMEOUT"]))
    state.pool(current_app).run(("update", op.text, None, None, None, None, 0, request.base_url), timeout)
    state.generation += 1  # new dataset version: every ETag changes
    if state.cache is not None:
        state.cache.clear()
    response = Response(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response


def _describe() -> Response:
    """Service description for RDF clients, the query page for browsers."""
    # HTML last: `*/*` and no Accept get Turtle (machines); browsers name text/html explicitly.
    offers = RDF + (formats.Format("text/html", ("html",), "html", ""),)
    chosen = formats.require(formats.negotiate(request, offers), offers)
    if chosen.family == "html":
        response = Response(render_template("query.html", endpoint=request.base_url), content_type="text/html; charset=utf-8")
    else:
        config = current_app.config
        text = service.describe(request.base_url, _named_graphs(), update=bool(config["UPDATE_TOKEN"]),
                                federated=bool(config["SERVICE_ALLOWLIST"]))
        response = Response(service.serialise(text, chosen.ox()), content_type=chosen.content_type)
    response.vary.add("Accept")
    response.headers["Cache-Control"] = f"public, max-age={int(current_app.config['CACHE_MAX_AGE'])}"
    return response


def _named_graphs() -> list[str]:
    """The store's named graphs, asked once per dataset version."""
    state = _state()
    cached = getattr(state, "named_graphs", None)
    if cached and cached[0] == state.version:
        return cached[1]
    answer = state.pool(current_app).run(
        ("query", "SELECT DISTINCT ?g { GRAPH ?g {} }", None, None, "TSV", None, 100_000), 30.0)
    lines = b"".join(answer.chunks).decode().splitlines()[1:]
    graphs = [line[1:-1] for line in lines if line.startswith("<")]
    state.named_graphs = (state.version, graphs)
    return graphs
