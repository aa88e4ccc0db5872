"""Replays cached /sparql answers before Flask routing: the exact bytes and headers Flask produced.

A warm hit through Flask costs ~0.4 ms of Python (request and response objects, routing, protocol
parsing, negotiation); most of that is work whose outcome the raw request already determines. So the
first time Flask answers a cacheable query with 200, this layer records its status, headers and body
under a key made of every part of the raw request the answer can depend on; the same raw request
again gets that recording without entering Flask. Correct by construction: anything not in the key
(conditional requests, credentials, unknown body length) goes through Flask, and the recordings live
in the app's result cache, so the byte budget, `KG_CACHE=false` and an update's clear apply to them.
"""

import io
import time

from server import metrics

ENDPOINT = "/sparql"
ENDPOINT_NAME = "sparql.endpoint"  # the Flask endpoint answers given before Flask are counted under
RECORD = "kg.fastpath"  # environ key: answering.py puts the answer's ETag there when the answer may be replayed
# Request headers (WSGI names) an answer depends on, besides method, URL and body.
VARY = ("HTTP_ACCEPT", "CONTENT_TYPE", "HTTP_ORIGIN", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME",
        "wsgi.url_scheme", "HTTP_ACCEPT_LANGUAGE", "HTTP_COOKIE")  # the pages' language choice lives in a cookie
# Requests that always go through Flask: conditional, authorised or partial ones.
PASS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_AUTHORIZATION", "HTTP_RANGE")


def buffered_body(environ: dict, limit: int) -> bytes | None:
    """The whole body, read once and put back as a stream to read again; None if its length is unknown or over `limit`."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        return None
    if not 0 <= length <= limit or environ.get("HTTP_TRANSFER_ENCODING"):
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    return body


class FastPath:
    """WSGI middleware around `app.wsgi_app`; `hits` counts answers served without Flask."""

    def __init__(self, app, wsgi_app):
        self.app, self.wsgi_app, self.hits = app, wsgi_app, 0
        self.limit = int(app.config.get("MAX_CONTENT_LENGTH") or 1 << 20)

    def _key(self, environ: dict, state) -> tuple | None:
        """Everything the answer can depend on, or None when this request is not for replay."""
        method = environ.get("REQUEST_METHOD")
        if environ.get("PATH_INFO") != ENDPOINT or method not in ("GET", "POST", "HEAD") or state.cache is None:
            return None
        if any(name in environ for name in PASS):
            return None
        body = b""
        if method == "POST":
            body = buffered_body(environ, self.limit)  # Flask reads it again on a miss
            if body is None:
                return None
        return ("fastpath", state.version, method, environ.get("QUERY_STRING", ""), body,
                *(environ.get(name) for name in VARY))

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        state = self.app.extensions["kg"]
        key = self._key(environ, state)
        if key is None:
            return self.wsgi_app(environ, start_response)
        hit = state.cache.get(key)
        if hit is not None:
            (status, headers, etag, length), chunks = hit
            start_response(status, headers)
            self.hits += 1
            self._account(environ, status, length, etag, started)
            return chunks
        return self._record(key, environ, start_response, state)

    def _record(self, key, environ, start_response, state):
        """Let Flask answer; keep the answer when the endpoint marked it replayable."""
        seen = {}

        def capture(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, capture)
        etag = environ.get(RECORD)
        if etag is None or not seen.get("status", "").startswith("200 "):
            return body
        try:
            chunks = [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()
        length = next((int(v) for k, v in seen["headers"] if k.lower() == "content-length"), len(chunks[0]))
        state.cache.put(key, (seen["status"], list(seen["headers"]), etag, length), chunks)
        return chunks

    def _account(self, environ, status: str, length: int, etag: str, started: float) -> None:
        """What ops.py does after a Flask request: metrics and the access-log line."""
        metrics.cache_lookups("hit").inc()
        metrics.account(environ, ENDPOINT_NAME, int(status.split(" ", 1)[0]), time.perf_counter() - started, length,
                    {"cache": "hit", "etag": etag}, self.app.config["ACCESS_LOG"])
