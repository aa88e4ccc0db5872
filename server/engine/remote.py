"""A remote SPARQL 1.1 endpoint as the store (`kg serve --backend URL`): the pool's `run(request, timeout)` over HTTP.

Every layer above the pool stays as it is (guard, bounds, negotiation, ETag, cache, pages); this module only sends
a query and gives back an `Answer` exactly like a local query worker's:

- The query goes as a form POST (`query=`), never as a direct POST: Virtuoso 7.2 never answers
  `Content-Type: application/sparql-query`, and a form carries any number of graph parameters.
- The remote is asked for one neutral format, chosen from the query form read in the prologue (`form`): SPARQL
  XML results for SELECT/ASK, N-Triples for CONSTRUCT/DESCRIBE. One media type per request, because Virtuoso
  answers a mixed Accept by its first entry (CONSTRUCT with a results type first is a 406; SELECT with
  N-Triples first is the result set as triples), and its own TSV/JSON writers are not the W3C formats. The
  answer is read incrementally by pyoxigraph's parsers, cut after `cap` rows (cap + 1 read: `truncated`), and
  written in the negotiated format by pyoxigraph, so clients get the same bytes the local engine would write.
- The time limit is the request's deadline on every socket operation; past it the request is abandoned (its
  connection closed) and the engine told to stop where it can: Virtuoso gets `timeout=` in milliseconds and stops
  the query itself (its "anytime" answer, `X-SQL-State: S1TAT`, is a 503, never a partial result); the Oxigraph
  server has no per-query limit (start it with `--timeout-s`): closing the connection is all that can be done.
- The union default graph: with BACKEND_GRAPHS, a query without its own dataset gets those graphs as
  `default-graph-uri` and `named-graph-uri` (exact on any engine: the default graph is their merge and GRAPH ranges
  over them only; Virtuoso's own default graph also holds its system graphs). Without it, the remote's default
  graph: Virtuoso's is already the union of all its graphs; the Oxigraph server gets `union-default-graph`.
- The dataset version is BACKEND_VERSION when set, else a digest of the URL and each served graph's triple count,
  asked once at start (`probe`): a change that keeps every count is not seen; set BACKEND_VERSION then.
"""

import hashlib
import http.client
import io
import itertools
import os
import re
import threading
import time
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox

from server.engine.executor import Answer, EvaluationError
from server.errors import BackendFailed, BackendUnavailable, Forbidden, QuerySyntaxError, QueryTimeout
from server.sparql import bounds

RESULTS_XML, N_TRIPLES = "application/sparql-results+xml", "application/n-triples"
FORMS = {"select": "solutions", "ask": "boolean", "construct": "graph", "describe": "graph"}
# The prologue (BASE <iri>, PREFIX p: <iri>, comments, whitespace), then the form's keyword.
_PROLOGUE = re.compile(r"(?:\s+|#[^\n\r]*|BASE\s*<[^>]*>|PREFIX\s*[^\s:]*:\s*<[^>]*>)*", re.IGNORECASE)
_FORM = re.compile(r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)
_IRI = re.compile(r'[^\x00-\x20<>"{}|^`\\]+')
VIRTUOSO_CBD = 'define sql:describe-mode "CBD" '
PROBE = "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
CONNECT_TIMEOUT = 5.0  # seconds to open a connection to the backend (it is near: a refused one fails at once)
RETRY_AFTER = {"Retry-After": "5"}


def form(text: str) -> str | None:
    """The query form ("select", "ask", "construct", "describe") after the prologue; None when it cannot be read."""
    text = bounds.unescape(text)  # \u escapes may spell the keyword: SPARQL decodes them before parsing
    match = _FORM.match(text, _PROLOGUE.match(text).end())
    return match.group(1).lower() if match else None


class _Deadline(io.RawIOBase):
    """The remote's answer as a readable stream whose every read ends by the deadline (then `expired` is set)."""

    def __init__(self, response: http.client.HTTPResponse, sock, deadline: float):
        self.response, self.sock, self.deadline, self.expired = response, sock, deadline, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.expired = True
            raise TimeoutError("query time limit")
        self.sock.settimeout(left)
        try:
            return self.response.readinto(buffer)
        except TimeoutError:
            self.expired = True
            raise


class Backend:
    """A remote SPARQL endpoint with the interface of server/engine/admission.Pool (run, pids, triples, close)."""

    def __init__(self, url: str, *, graphs=(), version: str | None = None):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url}: not an http(s) URL of a SPARQL endpoint")
        self.url, self.graphs, self.configured_version = url, list(graphs), version
        self._parts = parts
        self.dialect = ""  # "virtuoso", "oxigraph" or "" (from the Server header at the probe)
        self.counts: dict[str, int] = {}
        self.pid = os.getpid()
        self._local = threading.local()  # one kept-alive connection per thread (and per process: see _connection)

    # -- the pool's interface

    def run(self, request: tuple, timeout: float, *, stream: bool = False) -> Answer:
        """Send one request tuple (see server/engine/worker.py) to the remote; the Answer (always whole: `stream`
        is the pool's option), or a named error."""
        op, text, default_graphs, named_graphs, results_fmt, rdf_fmt, cap = request[:7]
        if op == "update":
            raise Forbidden("updates go to the backend itself; through this service it is read-only")
        query_form = form(text)
        kind = FORMS.get(query_form or "select")  # unreadable: let the remote name the syntax error
        fields = [("query", self._text(text, query_form, request[7] if len(request) > 7 else None))]
        if op == "query":  # the union default graph (no FROM, no protocol dataset)
            fields += self._union_fields()
        else:
            fields += [("default-graph-uri", g) for g in default_graphs or ()]
            fields += [("named-graph-uri", g) for g in named_graphs or ()]
        deadline = time.monotonic() + timeout
        if self.dialect == "virtuoso":  # the engine stops the query itself at (about) the limit
            fields.append(("timeout", str(max(int(timeout * 1000), 1))))
        fmt = rdf_fmt if kind == "graph" else results_fmt
        accept = N_TRIPLES if kind == "graph" else RESULTS_XML
        connection, response = self._send(fields, accept, deadline)
        body = None
        try:
            self._check(response, connection, deadline)
            if fmt is None:
                return Answer({"kind": kind, "format": None})
            body = _Deadline(response, connection.sock, deadline)
            meta, data = _rewrite(body, kind, fmt, cap, response.getheader("X-SPARQL-MaxRows"))
        except (OSError, SyntaxError, ValueError) as error:
            connection.close()
            self._local.connection = None
            if isinstance(error, TimeoutError) or getattr(body, "expired", False):
                raise QueryTimeout(f"over {timeout:g} s; the backend was told to stop", headers=RETRY_AFTER) from None
            raise BackendFailed(f"the backend's answer could not be read: {error}") from None
        if meta.get("truncated") or not response.isclosed():  # rows left unread: the connection cannot be reused
            connection.close()
            self._local.connection = None
        meta["bytes"] = len(data)
        return Answer(meta, [data])

    def pids(self) -> list[int]:
        return []  # no local query worker processes

    def triples(self) -> int | None:
        """Triples counted by the probe at start (None with BACKEND_VERSION set: nothing was counted)."""
        return sum(self.counts.values()) if self.counts else None

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()

    # -- start

    def probe(self, timeout: float) -> str:
        """Reach the backend, learn its dialect and, without a configured version, count each served graph's triples;
        returns the dataset version. Raises BackendUnavailable (unreachable, or no SPARQL answer)."""
        connection, response = self._send([("query", "ASK {}")], RESULTS_XML, time.monotonic() + timeout)
        server = (response.getheader("Server") or "").lower()
        self.dialect = next((name for name in ("virtuoso", "oxigraph") if name in server), "")
        try:
            self._check(response, connection, time.monotonic() + timeout)
            ox.parse_query_results(response.read(), format=ox.QueryResultsFormat.XML)
        except (OSError, SyntaxError, ValueError, BackendFailed) as error:
            raise BackendUnavailable(f"{self.url} does not answer ASK {{}} as a SPARQL endpoint: {error}") from None
        finally:
            connection.close()  # never kept: a gunicorn worker forked from this process must not share it
            self._local.connection = None
        if self.configured_version:
            return hashlib.sha256(f"{self.url}\n{self.configured_version}".encode()).hexdigest()[:16]
        answer = self.run(("query", PROBE, None, None, "TSV", None, 1_000_000), timeout)
        self.close()
        self._local.connection = None
        lines = b"".join(answer.chunks).decode().splitlines()[1:]
        self.counts = {g[1:-1]: int(n.split("^^")[0].strip('"')) for g, n in (line.split("\t") for line in lines)}
        listing = "\n".join(f"{g}\t{n}" for g, n in sorted(self.counts.items()))
        return hashlib.sha256(f"{self.url}\n{listing}".encode()).hexdigest()[:16]

    # -- HTTP

    def _text(self, text: str, query_form: str | None, endpoint_url: str | None) -> str:
        """The query as the remote must read it to answer as the local engine would (same line numbers)."""
        if endpoint_url and _IRI.fullmatch(endpoint_url):  # relative IRIs resolve against this endpoint, not the
            text = f"BASE <{endpoint_url}> {text}"  # remote's; the query's own BASE, later, still wins
        if self.dialect == "virtuoso" and query_form == "describe":  # its default DESCRIBE adds triples *to* the
            text = VIRTUOSO_CBD + text  # resource; the Concise Bounded Description is what Oxigraph answers
        return text

    def _union_fields(self) -> list[tuple[str, str]]:
        if self.graphs:
            return [("default-graph-uri", g) for g in self.graphs] + [("named-graph-uri", g) for g in self.graphs]
        return [("union-default-graph", "")] if self.dialect == "oxigraph" else []

    def _connection(self) -> http.client.HTTPConnection:
        """This thread's connection (a fresh one after a fork or after the last was abandoned)."""
        connection = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            cls = http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
            connection = cls(self._parts.hostname, self._parts.port, timeout=CONNECT_TIMEOUT)
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def _send(self, fields, accept: str, deadline: float):
        """POST the form; (connection, response) once the head arrived, or a named error."""
        body = urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
        target = self._parts.path or "/"
        for attempt in range(2):  # a kept-alive connection the remote closed meanwhile: one retry on a new one
            connection = self._connection()
            try:
                if connection.sock is not None:
                    connection.sock.settimeout(max(deadline - time.monotonic(), 0.001))
                connection.request("POST", target, body=body, headers=headers)
                connection.sock.settimeout(max(deadline - time.monotonic(), 0.001))
                return connection, connection.getresponse()
            except TimeoutError:
                connection.close()
                self._local.connection = None
                raise QueryTimeout("the backend did not answer within the time limit", headers=RETRY_AFTER) from None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
                connection.close()
                self._local.connection = None
                if attempt:
                    raise BackendUnavailable(f"the backend closed the connection: {error}") from None
            except OSError as error:
                connection.close()
                self._local.connection = None
                raise BackendUnavailable(f"the backend at {self.url} cannot be reached: {error}") from None
        raise AssertionError("unreachable")

    def _check(self, response: http.client.HTTPResponse, connection, deadline: float) -> None:
        """Raise the named error a non-2xx answer, or Virtuoso's interrupted answer, stands for."""
        state = response.getheader("X-SQL-State", "")
        if 200 <= response.status < 300 and state != "S1TAT":
            return
        connection.sock.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            message = " ".join(response.read(4096).decode("utf-8", "replace").split())
        except TimeoutError:
            message = ""
        connection.close()
        self._local.connection = None
        if state == "S1TAT" or "estimated execution time" in message:  # stopped at, or estimated over, the limit
            raise QueryTimeout("the backend stopped the query at its time limit", headers=RETRY_AFTER)
        message = message.split(" SPARQL query:")[0]  # Virtuoso repeats the whole query after its message
        if response.status == 400 and ("syntax" in message.lower() or message.startswith("error at ")):
            raise QuerySyntaxError(f"(from the backend) {message}")
        if 400 <= response.status < 500:
            raise EvaluationError(f"(from the backend, {response.status}) {message}")
        raise BackendFailed(f"the backend answered {response.status}: {message[:500]}")


def _rewrite(stream, kind: str, fmt: str, cap: int, remote_cap: str | None) -> tuple[dict, bytes]:
    """Parse the remote's neutral answer as it arrives and write `fmt` with pyoxigraph, cut at `cap` rows."""
    reader = io.BufferedReader(stream, 1 << 16)
    if kind == "graph":
        triples = list(itertools.islice(ox.parse(reader, format=ox.RdfFormat.N_TRIPLES), cap + 1))
        body = ox.serialize(triples[:cap], format=getattr(ox.RdfFormat, fmt))
        return {"kind": kind, "format": fmt, "truncated": len(triples) > cap, "rows": min(len(triples), cap)}, body
    results = ox.parse_query_results(reader, format=ox.QueryResultsFormat.XML)
    if isinstance(results, ox.QueryBoolean):
        return {"kind": "boolean", "format": fmt, "rows": 1}, results.serialize(format=getattr(ox.QueryResultsFormat, fmt))
    variables = results.variables
    rows = list(itertools.islice(results, cap + 1))
    # Virtuoso cuts answers at its ResultSetMaxRows and says so in X-SPARQL-MaxRows: an answer of exactly that
    # many rows may have been cut, so it is marked truncated too.
    truncated = len(rows) > cap or (remote_cap is not None and remote_cap.isdigit() and len(rows) >= int(remote_cap))
    # Rows back into pyoxigraph's writer through TSV (its terms are N-Triples terms: lossless).
    lines = ["\t".join(str(v) for v in variables)]
    lines += ["\t".join("" if row[v] is None else str(row[v]) for v in variables) for row in rows[:cap]]
    capped = ox.parse_query_results(("\n".join(lines) + "\n").encode(), format=ox.QueryResultsFormat.TSV)
    return {"kind": "solutions", "format": fmt, "truncated": truncated}, capped.serialize(
        format=getattr(ox.QueryResultsFormat, fmt))


def from_config(config) -> Backend:
    """The backend BACKEND names, with BACKEND_GRAPHS and BACKEND_VERSION."""
    return Backend(config["BACKEND"], graphs=config.get("BACKEND_GRAPHS") or (), version=config.get("BACKEND_VERSION"))
