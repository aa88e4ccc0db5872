"""Plain SPARQL queries answered before Flask: the same code as the Flask view, without Flask's per-request cost.

Under gunicorn, Flask's request context, routing, hooks and context-local lookups cost more CPU than
everything else a cheap query needs (measured cold: ASK ≈1,390 → ≈1,650 req/s, DESCRIBE ≈1,250 → ≈1,480). This WSGI
layer takes the requests whose handling it can reproduce exactly: GET ?query=, POST form or
application/sparql-query to /sparql, with no conditional, credential or range headers and a known body
length within the limit. It answers them with server/answering.py (the code the Flask view calls), then
adds what Flask's after-request hook adds (CORS: server/ops.py; metrics and the access-log line:
server/metrics.py).

Everything else goes to Flask untouched, and so does any request refused or failing before its query runs
(Flask gives the same refusal, with its error pages). An error after the query ran (timeout, syntax,
evaluation, anything unexpected) is rendered by Flask's own error handlers, without running it again.
`tests/test_server_lane.py` checks that status, headers and body are the same byte for byte either way.
"""

import io
import time

from flask import g
from werkzeug.wrappers import Request

from server import answering, metrics, ops, protocol
from server.fastpath import ENDPOINT, ENDPOINT_NAME, PASS, buffered_body

DIRECT = (protocol.FORM, protocol.QUERY)


class Lane:
    """WSGI middleware around Flask's `wsgi_app` (inside the fast path, so its answers can be replayed too)."""

    def __init__(self, app, flask_wsgi):
        self.app, self.flask_wsgi = app, flask_wsgi
        self.answered = 0  # requests the lane answered itself (tests read it)
        self.limit = int(app.config.get("MAX_CONTENT_LENGTH") or 1 << 20)

    def _body(self, environ: dict) -> bytes | None:
        """The request body (b"" for GET), or None when the request is not one the lane takes."""
        if environ.get("PATH_INFO") != ENDPOINT or any(name in environ for name in PASS):
            return None
        method = environ.get("REQUEST_METHOD")
        if method == "GET":
            return b"" if "query=" in environ.get("QUERY_STRING", "") else None
        if method != "POST" or environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower() not in DIRECT:
            return None
        return buffered_body(environ, self.limit)

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        body = self._body(environ)
        if body is None:
            return self.flask_wsgi(environ, start_response)
        request = Request(environ)
        try:
            operation = protocol.parse(request)
            if operation is None or operation.kind != "query":
                return self._to_flask(environ, body, start_response)
            response = answering.query(self.app, request, operation)
        except Exception as error:  # noqa: BLE001 - every error is Flask's to render, as without the lane
            if not environ.get(answering.RAN):
                return self._to_flask(environ, body, start_response)
            return self._error(environ, error, started, start_response)
        self.answered += 1
        config = self.app.config
        ops.add_cors(response, environ.get("HTTP_ORIGIN"), environ["REQUEST_METHOD"], config["CORS_ORIGINS"])
        metrics.account(environ, ENDPOINT_NAME, response.status_code, time.perf_counter() - started,
                    response.content_length, environ.get(answering.LOG, {}), config["ACCESS_LOG"])
        return response(environ, start_response)

    def _to_flask(self, environ, body: bytes, start_response):
        """Hand the request to Flask as it came (the body rewound), with nothing of the lane's left in it."""
        for key in (answering.LOG, answering.RAN):
            environ.pop(key, None)
        environ["wsgi.input"] = io.BytesIO(body)
        return self.flask_wsgi(environ, start_response)

    def _error(self, environ, error: Exception, started: float, start_response):
        """An error after the query ran, rendered by Flask's handlers and after-request hooks (no second run)."""
        with self.app.request_context(environ):
            self.app.preprocess_request()
            g.started = started
            try:
                outcome = self.app.handle_user_exception(error)  # server/errors.py's handlers
            except Exception as unhandled:  # noqa: BLE001 - no handler: Flask's own last resort, as in its wsgi_app
                outcome = self.app.handle_exception(unhandled)
            response = self.app.finalize_request(outcome)
            return response(environ, start_response)
