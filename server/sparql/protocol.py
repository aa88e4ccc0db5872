"""SPARQL 1.1 Protocol: turns an HTTP request into one query or update operation, or refuses it."""

import functools
import math
from dataclasses import dataclass
from urllib.parse import parse_qsl

from flask import Request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from server.errors import BadRequest, UnsupportedMediaType

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


@dataclass(frozen=True)
class Operation:
    """One query or update with its protocol dataset and options."""

    kind: str  # "query" or "update"
    text: str
    default_graphs: tuple[str, ...] | None  # None: the query's own FROM, else the union of all graphs
    named_graphs: tuple[str, ...] | None
    params: MultiDict


def _utf8_only(request: Request) -> None:
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"charset {charset} is not supported; send UTF-8")


def whole_body(request: Request) -> bytes:
    """The whole body; 413 past MAX_CONTENT_LENGTH without Content-Length too (Werkzeug returns it cut at the limit)."""
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
    return data


def _body_text(request: Request) -> str:
    try:
        return whole_body(request).decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"the body is not valid UTF-8 ({error.reason} at byte {error.start})") from None


def _form(request: Request) -> MultiDict:
    """Form fields decoded strictly as UTF-8 (Werkzeug would silently replace bad bytes)."""
    body = _body_text(request)
    try:
        fields = _fields(body) if len(body) <= MEMO_BODY else _parse(body)
    except UnicodeDecodeError as error:
        raise BadRequest(f"a form field is not valid UTF-8 ({error.reason})") from None
    return MultiDict(fields)


def _parse(body: str) -> tuple[tuple[str, str], ...]:
    return tuple(parse_qsl(body, keep_blank_values=True, encoding="utf-8", errors="strict"))


# Clients send the same query forms over and over (a UI, a dashboard, a benchmark), and percent-decoding
# a query costs ~0.1 ms of Python: decode each small body once. (Errors are not memoised: they raise.)
MEMO_BODY = 16 << 10
_fields = functools.lru_cache(maxsize=256)(_parse)


def _one(params: MultiDict, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"{len(values)} '{name}' parameters; send exactly one")
    return values[0] if values else None


def _dataset(params: MultiDict, kind: str) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """Protocol dataset: when either list is given, both replace the query's FROM / FROM NAMED."""
    if kind == "update":
        if params.getlist("using-graph-uri") or params.getlist("using-named-graph-uri"):
            raise BadRequest("using-graph-uri / using-named-graph-uri are not supported; use USING in the update")
        return None, None
    default, named = params.getlist("default-graph-uri"), params.getlist("named-graph-uri")
    if not default and not named:
        return None, None
    return tuple(default), tuple(named)


def parse(request: Request) -> Operation | None:
    """The operation in `request`; None for a GET with neither query nor update (service description)."""
    if request.method in ("GET", "HEAD"):
        params = request.args
        if "update" in params:
            raise BadRequest("SPARQL Update must be sent with POST")
        text = _one(params, "query")
        if text is None:
            return None
        kind = "query"
    elif request.method == "POST":
        mimetype = request.mimetype
        if mimetype == FORM:
            _utf8_only(request)
            params = MultiDict(request.args)
            params.update(_form(request))
            query, update = _one(params, "query"), _one(params, "update")
            if query is not None and update is not None:
                raise BadRequest("both 'query' and 'update' given; send one operation")
            if query is None and update is None:
                raise BadRequest("the form has no 'query' or 'update' field")
            kind, text = ("query", query) if query is not None else ("update", update)
        elif mimetype in (QUERY, UPDATE):
            _utf8_only(request)
            params = request.args
            kind = "query" if mimetype == QUERY else "update"
            if kind in params or ("update" if kind == "query" else "query") in params:
                raise BadRequest(f"a {mimetype} body and a query/update parameter: send one operation")
            text = _body_text(request)
        else:
            shown = mimetype or "none"
            raise UnsupportedMediaType(f"POST body of type {shown}; use {FORM}, {QUERY} or {UPDATE}")
    else:
        raise BadRequest(f"method {request.method}")  # routing answers 405 before this
    default, named = _dataset(params, kind)
    return Operation(kind, text, default, named, params)


def present(params: MultiDict, name: str) -> str | None:
    """params.get(name), without the exception MultiDict builds (and .get swallows) for a missing key."""
    return params[name] if name in params else None


def lowered(params: MultiDict, name: str, ceiling: float, cast=float) -> float:
    """A per-request limit (timeout=, max-rows=): may lower the server's ceiling, never raise it."""
    raw = present(params, name)
    if raw is None or raw == "":
        return ceiling
    try:
        value = cast(raw)
    except ValueError:
        raise BadRequest(f"{name}={raw!r} is not a number") from None
    smallest_allowed = value >= 0 if cast is int else value > 0  # max-rows=0 asks for no rows; timeout=0 is nothing
    if not (math.isfinite(value) and smallest_allowed):  # float() takes "nan" and "inf"
        raise BadRequest(f"{name} must be a positive finite number")
    return min(value, ceiling)
