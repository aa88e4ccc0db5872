"""Operations: /healthz, /metrics, structured access logs and CORS headers."""

import json
import logging
import time

import pyoxigraph
from flask import Blueprint, Response, current_app, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST

from server import metrics

bp = Blueprint("ops", __name__)
access = logging.getLogger("server.access")
VERSION = "0.1.0"


@bp.route("/healthz")
def healthz():
    """Store open (a worker answers), triple count, versions; 503 when no worker can open the store."""
    state = current_app.extensions["kg"]
    try:
        answer = state.pool(current_app).run(("query", "ASK {}", None, None, "JSON", None, 1), 30.0)
        ok = b"true" in b"".join(answer.chunks)
    except Exception as error:  # noqa: BLE001 - health must report, not raise
        return jsonify(status="error", error=type(error).__name__), 503
    body = {"status": "ok" if ok else "error", "store": "open", "triples": state.pool(current_app).triples(),
            "dataset_version": state.version, "version": VERSION, "pyoxigraph": pyoxigraph.__version__}
    return jsonify(body), 200 if ok else 503


@bp.route("/metrics")
def prometheus():
    return Response(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


@bp.before_app_request
def _start_clock():
    g.started = time.perf_counter()


@bp.after_app_request
def _account(response: Response) -> Response:
    """Metrics, one JSON access-log line, and CORS: every response passes here."""
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    endpoint = request.endpoint or "unmatched"
    metrics.count(request.method, endpoint, response.status_code, elapsed)
    config = current_app.config
    if config["ACCESS_LOG"] and access.isEnabledFor(logging.INFO):
        access.info(json.dumps({
            "method": request.method, "path": request.path, "status": response.status_code,
            "ms": round(elapsed * 1000, 2), "bytes": response.content_length, "cache": g.get("cache"),
            "query_ms": g.get("query_ms"), "query": g.get("etag"), "remote": request.remote_addr,
        }))
    _cors(response, config["CORS_ORIGINS"])
    return response


def _cors(response: Response, origins) -> None:
    """Read-only data: any origin may GET/POST queries (configurable list, or "" for none)."""
    if not origins:
        return
    origin = request.headers.get("Origin")
    if origins == "*" or origins == ["*"]:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin and origin in (origins if isinstance(origins, list) else origins.split()):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    else:
        return
    response.headers["Access-Control-Expose-Headers"] = "ETag, Retry-After, X-Result-Truncated"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Authorization, Content-Type, If-None-Match"
        response.headers["Access-Control-Max-Age"] = "86400"
