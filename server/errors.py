"""Every error the service reports, named by meaning, each with one exact HTTP status."""

import logging
import uuid

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

log = logging.getLogger("server.errors")


class ServiceError(Exception):
    """Base class: an error with a status code and a message safe to show to the client."""

    status = 500
    title = "Internal error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(ServiceError):
    """The request breaks the SPARQL protocol (two queries, update via GET, bad parameter...)."""

    status, title = 400, "Bad request"


class QuerySyntaxError(BadRequest):
    """The query or update does not parse; the message quotes the parser with line and column."""

    title = "SPARQL syntax error"


class OutboundRefused(BadRequest):
    """SERVICE or LOAD names a remote endpoint that the allow-list does not contain."""

    title = "Outbound request refused"


class Forbidden(ServiceError):
    """SPARQL Update without a valid bearer token (or with updates disabled)."""

    status, title = 403, "Forbidden"


class MethodNotAllowed(ServiceError):
    """An HTTP method the endpoint does not offer."""

    status, title = 405, "Method not allowed"


class NotAcceptable(ServiceError):
    """Nothing in Accept (or ?format=) is a format this answer can be written in."""

    status, title = 406, "Not acceptable"


class PayloadTooLarge(ServiceError):
    """The request body is over the configured limit."""

    status, title = 413, "Payload too large"


class UnsupportedMediaType(ServiceError):
    """POST body of a media type (or charset) the protocol does not allow."""

    status, title = 415, "Unsupported media type"


class QueryTimeout(ServiceError):
    """The query ran past its time limit; its worker process was killed."""

    status, title = 503, "Query timeout"


class Overloaded(ServiceError):
    """Every query worker stayed busy for the whole wait."""

    status, title = 503, "Service overloaded"


class WorkerStalled(ServiceError):
    """The query worker began an answer and stopped sending it; it was killed and replaced."""

    status, title = 503, "Query worker stalled"


class BackendUnavailable(ServiceError):
    """The remote SPARQL endpoint (`kg serve --backend`) cannot be reached or closed the connection."""

    status, title = 503, "Backend unavailable"


class BackendFailed(ServiceError):
    """The remote SPARQL endpoint answered with a server error, or an answer that cannot be read."""

    status, title = 502, "Backend error"


def _wants_html() -> bool:
    """Browsers (text/html preferred over text/plain) get a page; API clients get plain text."""
    accept = request.accept_mimetypes
    return "text/html" in accept.values() and accept.best_match(["text/plain", "text/html"]) == "text/html"


def render(status: int, title: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """The response body for an error: text/plain, or an HTML page for browsers."""
    if _wants_html():
        body = render_template("error.html", status=status, title=title, message=message)
        response = Response(body, status, content_type="text/html; charset=utf-8")
    else:
        response = Response(f"{title}: {message}\n", status, content_type="text/plain; charset=utf-8")
    response.headers.update(headers or {})
    response.vary.add("Accept")
    return response


def register(app: Flask) -> None:
    """Install the handlers: named errors, Werkzeug's HTTP errors, and a 500 with a log id for the rest."""

    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError):
        return render(error.status, error.title, error.message, error.headers)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error):
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return render(413, PayloadTooLarge.title, f"the request body is over the limit of {limit} bytes")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        headers = dict(error.get_headers()) if error.code == 405 else {}
        headers.pop("Content-Type", None)
        return render(error.code or 500, error.name, error.description or error.name, headers)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        # No traceback reaches the client: it gets an id that finds the traceback in the log.
        error_id = uuid.uuid4().hex[:12]
        log.exception("unexpected error %s on %s %s", error_id, request.method, request.path)
        return render(500, "Internal error", f"unexpected error; quote id {error_id} to the operators")
