"""Operations: /healthz, /metrics, structured access logs and CORS headers."""

import time
from importlib import metadata

import pyoxigraph
from flask import Blueprint, Response, current_app, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST

from server.engine import allocator
from server.ops import metrics
from server.sparql.answering import LOG

bp = Blueprint("ops", __name__)
VERSION = metadata.version("policykg")  # the installed package's, so /healthz cannot disagree with pip


@bp.route("/healthz")
def healthz():
    """Store open (a worker answers), triple count, versions; 503 when no worker can open the store."""
    state = current_app.extensions["kg"]
    try:
        answer = state.pool(current_app).run(("query", "ASK {}", None, None, "JSON", None, 1), 30.0)
        ok = b"true" in b"".join(answer.chunks)
    except Exception as error:  # noqa: BLE001 - health must report, not raise
        return jsonify(status="error", error=type(error).__name__), 503
    pool = state.pool(current_app)
    workers = pool.pids()
    body = {"status": "ok" if ok else "error", "store": "open", "triples": pool.triples(),
            "dataset_version": state.version, "version": VERSION, "pyoxigraph": pyoxigraph.__version__,
            "query_worker_malloc": allocator.loaded(workers[0]) if workers else None}
    if state.backend is not None:  # kg serve --backend: the remote endpoint answered ASK {}
        body["backend"] = {"url": state.backend.url, "engine": state.backend.dialect or "unknown"}
    return jsonify(body), 200 if ok else 503


@bp.route("/metrics")
def prometheus():
    return Response(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


@bp.before_app_request
def _start_clock():
    g.started = time.perf_counter()


@bp.after_app_request
def _account(response: Response) -> Response:
    """Metrics, one JSON access-log line, and CORS: every response Flask gives passes here."""
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    config = current_app.config
    log = request.environ.get(LOG, {})  # what server/sparql/answering.py knows of a query
    metrics.account(request.environ, request.endpoint or "unmatched", response.status_code, elapsed, response.content_length,
            log, config["ACCESS_LOG"])
    add_cors(response, request.headers.get("Origin"), request.method, config["CORS_ORIGINS"])
    return response


def add_cors(response: Response, origin: str | None, method: str, origins) -> None:
    """Read-only data: any origin may GET/POST queries (configurable list, or "" for none)."""
    if not origins:
        return
    if origins == "*" or origins == ["*"]:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin and origin in (origins if isinstance(origins, list) else origins.split()):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    else:
        return
    response.headers["Access-Control-Expose-Headers"] = "ETag, Retry-After, X-Result-Truncated, X-Result-Row-Cap"
    if method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Authorization, Content-Type, If-None-Match"
        response.headers["Access-Control-Max-Age"] = "86400"
