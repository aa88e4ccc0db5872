"""The SPARQL endpoint at /sparql: the one path for queries (server/sparql/answering.py), updates, the service description / UI."""

import hmac

from flask import Blueprint, Response, current_app, render_template, request

from server.errors import Forbidden
from server.sparql import answering, formats, protocol, service
from server.sparql.formats import RDF

bp = Blueprint("sparql", __name__)


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint():
    """One route, three jobs: queries, updates, and (GET without query) the service description or UI."""
    operation = protocol.parse(request)
    if operation is None:
        return _describe()
    if operation.kind == "update":
        return _update(operation)
    return answering.query(current_app._get_current_object(), request._get_current_object(), operation)


def _state():
    return current_app.extensions["kg"]


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
    answering.screen(op.text, current_app.config["SERVICE_ALLOWLIST"], update=True)
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
