"""Prometheus metrics (prometheus-client), multi-process aware under gunicorn, and the access log: how answers are counted."""

import functools
import json
import logging
import os

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

REQUESTS = Counter("kg_http_requests_total", "HTTP requests answered", ["method", "endpoint", "status"])
LATENCY = Histogram("kg_http_request_seconds", "Time to answer a request", ["endpoint"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
ERRORS = Counter("kg_http_errors_total", "Answers with a 4xx or 5xx status", ["status"])
TIMEOUTS = Counter("kg_query_timeouts_total", "Queries stopped at their time limit (worker killed)")
CACHE = Counter("kg_result_cache_total", "Result cache lookups", ["outcome"])
access = logging.getLogger("server.access")


def exposition() -> bytes:
    """The text format; with PROMETHEUS_MULTIPROC_DIR set (kg serve does), summed over all processes."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)


# Label values are chosen from closed sets, so no client can make the number of series grow: the methods the
# service answers (anything else is "other"), Flask endpoint names (or "unmatched") and the statuses it sends.
METHODS = frozenset(("GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"))


@functools.lru_cache(maxsize=1024)
def request_counters(method: str, endpoint: str, status: int) -> tuple:
    """The labelled children for one kind of answer, looked up once (labels() costs more than inc())."""
    errors = ERRORS.labels(str(status)) if status >= 400 else None
    return REQUESTS.labels(method, endpoint, str(status)), LATENCY.labels(endpoint), errors


@functools.lru_cache(maxsize=8)
def cache_lookups(outcome: str):
    """The result-cache counter for one outcome (hit, miss, off)."""
    return CACHE.labels(outcome)


def count(method: str, endpoint: str, status: int, seconds: float) -> None:
    """Count one answer and its latency (and its error status)."""
    requests, latency, errors = request_counters(method, endpoint, status)
    requests.inc()
    latency.observe(seconds)
    if errors is not None:
        errors.inc()


def account(environ: dict, endpoint: str, status: int, elapsed: float, length: int | None, log: dict,
            access_log: bool) -> None:
    """Count one answer and write its access-log line: for every answer (server/ops/health.py)."""
    method = environ["REQUEST_METHOD"]
    count(method if method in METHODS else "other", endpoint, status, elapsed)
    if access_log and access.isEnabledFor(logging.INFO):
        access.info(json.dumps({
            "method": method, "path": environ.get("PATH_INFO"), "status": status, "ms": round(elapsed * 1000, 2),
            "bytes": length, "cache": log.get("cache"), "query_ms": log.get("query_ms"), "query": log.get("etag"),
            "remote": environ.get("REMOTE_ADDR"),
        }))
