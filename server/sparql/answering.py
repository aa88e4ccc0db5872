"""Answering one SPARQL query: limits, negotiation, ETag, result cache, the worker pool, the response.

Called by the one /sparql view (server/sparql/endpoint.py) for every query; it takes the app and the
request as arguments and leaves what the access log needs in the WSGI environ (LOG).

Every answer with rows names its row cap before the body (X-Result-Row-Cap). One that fits in the worker's
first frame (server/engine/worker.py: FRAME bytes), or comes from the result cache, is sent whole, with
Content-Length and, when the cap cut it, X-Result-Truncated and a JSON "truncated" member. A longer one is
relayed as the worker writes it (no Content-Length): its cut is known only at its end, after the headers, so
it holds at most the cap's rows, and exactly that many means it may have been cut.
"""

import errno
import functools
import hashlib
import logging
import re
import time

from werkzeug.sansio.utils import get_current_url
from werkzeug.wrappers import Request, Response

from server.engine.executor import EvaluationError, Stalled, WorkerCrashed
from server.errors import BadRequest, OutboundRefused, QueryTimeout
from server.ops import metrics
from server.sparql import bounds, formats, guard, protocol
from server.sparql.formats import RDF, RESULTS

TRUNCATED = "X-Result-Truncated"
ROW_CAP = "X-Result-Row-Cap"
LOG = "kg.log"  # environ key: {"etag", "cache", "query_ms"} for the access-log line
# Answers that change between runs are never cached (checked on the text: a false positive only costs a cache miss).
_VOLATILE = re.compile(r"\b(RAND|NOW|UUID|STRUUID|BNODE)\s*\(", re.IGNORECASE)
_VOLATILE_WORDS = ("rand", "now", "uuid", "bnode")  # a cheap test first: the regex costs ~40 µs on a long query
# request.base_url, memoised: Werkzeug's IRI conversion of the same few endpoint URLs costs ~30 µs a request.
_base_url = functools.lru_cache(maxsize=64)(get_current_url)
logger = logging.getLogger("server.answering")


class AnswerCut(ConnectionResetError):
    """A streamed answer that could not be finished; raised into the WSGI server, which drops the connection (the
    status line is out, so the client can only tell by the body's missing end)."""


def volatile(text: str) -> bool:
    """Whether the query's answer may change from one run to the next."""
    lowered = text.lower()
    return any(word in lowered for word in _VOLATILE_WORDS) and bool(_VOLATILE.search(text))


def screen(text: str, allowlist, *, update: bool = False) -> guard.Reading:
    """What the guard read in the text; 400 when it could nest past the engine's stack, cannot be read,
    or names a remote endpoint (SERVICE, LOAD) the allow-list does not."""
    too_deep = bounds.excess(text)  # first: it also bounds the guard's own parse
    if too_deep:
        raise BadRequest(too_deep)
    try:
        reading = guard.read(text, update=update)
    except guard.Unreadable as error:
        raise OutboundRefused(str(error)) from None
    refused = guard.refused_targets(reading.targets, allowlist)
    if refused:
        raise OutboundRefused("no outbound requests from this endpoint; not allow-listed: " + ", ".join(refused))
    return reading


def query(app, request: Request, op: protocol.Operation) -> Response:
    """The response to query `op`, or a ServiceError."""
    config, state = app.config, app.extensions["kg"]
    log = request.environ[LOG] = {}
    reading = screen(op.text, config["SERVICE_ALLOWLIST"])
    timeout = protocol.lowered(op.params, "timeout", float(config["QUERY_TIMEOUT"]))
    cap = int(protocol.lowered(op.params, "max-rows", int(config["ROW_CAP"]), int))
    results_fmt, rdf_fmt = formats.for_query(request, op.params)
    endpoint_url = _base_url(request.scheme, request.host, request.root_path, request.path)
    if results_fmt is None and rdf_fmt is None:
        formats.require(None, RESULTS + RDF)
    request_key = repr((state.version, endpoint_url, op.text, op.default_graphs, op.named_graphs,
                        results_fmt and results_fmt.ox_name, rdf_fmt and rdf_fmt.ox_name, cap))
    etag = hashlib.sha256(request_key.encode()).hexdigest()[:32]
    cacheable = not volatile(op.text)
    log["etag"] = etag  # the access log names the query by it (the text itself stays out of the log)
    # If-None-Match uses the weak comparison (RFC 9110 13.1.2), so W/"…" from a proxy still matches.
    if cacheable and (request.if_none_match.star_tag or request.if_none_match.contains_weak(etag)):
        return finish(app, app.response_class(status=304), etag, cacheable)
    cache = state.cache if cacheable else None
    hit = cache.get(etag) if cache is not None else None
    log["cache"] = "off" if cache is None else ("hit" if hit else "miss")
    metrics.cache_lookups(log["cache"]).inc()
    rest = None
    if hit:
        meta, chunks = hit
    else:
        started = time.perf_counter()
        # The query's own FROM / FROM NAMED choose its dataset; otherwise the default graph is the union.
        union = op.default_graphs is None and not reading.dataset
        request_tuple = ("query" if union else "query-dataset", op.text, op.default_graphs, op.named_graphs,
                         results_fmt and results_fmt.ox_name, rdf_fmt and rdf_fmt.ox_name, cap, endpoint_url)
        # Allow-listed SERVICE targets (the others were refused above) run in the worker that may connect out.
        network = bool(config["SERVICE_ALLOWLIST"]) and bool(reading.targets)
        try:
            answer = state.pool(app, network=network).run(request_tuple, timeout, stream=True)
        except QueryTimeout:
            metrics.TIMEOUTS.inc()
            raise
        log["query_ms"] = round((time.perf_counter() - started) * 1000, 2)
        meta, chunks, rest = answer.meta, answer.chunks, answer.rest
        if meta["format"] is None:
            formats.require(None, RDF if meta["kind"] == "graph" else RESULTS)
        if cache is not None and rest is None:
            cache.put(etag, meta, chunks)
    family = "rdf" if meta["kind"] == "graph" else "results"
    fmt = formats.by_name(family, meta["format"])
    if rest is None:
        if meta.get("truncated") and meta["format"] == "JSON" and meta["kind"] == "solutions":
            # A field the UI can show; SPARQL JSON readers ignore members they do not know before "results"
            # (pyoxigraph's refuses any after it, so a streamed answer, whose cut is known last, has none).
            chunks = [b'{"truncated":{"rowCap":%d},' % cap + chunks[0][1:], *chunks[1:]]
        response = app.response_class(chunks, content_type=fmt.content_type)
        response.content_length = sum(len(c) for c in chunks)
    else:
        response = app.response_class(_relay(meta, chunks, rest, cache, etag), content_type=fmt.content_type)
        response.call_on_close(rest.close)  # also when the body was never read: the worker is freed either way
    if meta["kind"] != "boolean":
        response.headers[ROW_CAP] = str(cap)
    if meta.get("truncated"):
        response.headers[TRUNCATED] = str(cap)
    return finish(app, response, etag, cacheable)


def _relay(meta: dict, first: list[bytes], rest, cache, etag: str):
    """A streamed answer's body as it arrives; kept for the result cache while it fits one entry."""
    kept = list(first) if cache is not None else None
    size = sum(len(c) for c in first)
    yield from first
    try:
        for chunk in rest:
            size += len(chunk)
            if kept is not None and cache.fits(size):
                kept.append(chunk)
            else:
                kept = None
            yield chunk
    except (Stalled, WorkerCrashed, EvaluationError) as error:  # the worker is already killed (or, in step, freed)
        logger.error("a streamed answer (%d bytes sent) broke off: %s; connection dropped", size, error)
        raise AnswerCut(errno.ECONNRESET, "the answer broke off") from None
    if kept is not None:
        cache.put(etag, meta, kept)


def finish(app, response: Response, etag: str, cacheable: bool) -> Response:
    """Vary, and the ETag and Cache-Control an answer (or its 304) carries."""
    response.vary.add("Accept")
    if cacheable:
        response.set_etag(etag)
        response.headers["Cache-Control"] = f"public, max-age={int(app.config['CACHE_MAX_AGE'])}"
    else:
        response.headers["Cache-Control"] = "no-store"
    return response
