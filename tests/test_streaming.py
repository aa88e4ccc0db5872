"""Long answers stream from the query worker to the client: bounded memory at any size, the row cap cut exactly."""

import http.client
import io
import itertools
import json
import os
import random
import signal
import time
import urllib.parse
from pathlib import Path

import pyoxigraph as ox
import pytest
from serverkit import alive, command_line, descendants, gone_within, kg_serve, make_app, parent, served_by

from server.engine.executor import MARGIN
from server.engine.rows import Cut, Full
from server.engine.store import load_into
from server.engine.worker import FRAME

TRIPLES = 110_000
EX = "http://example.org/"
# Values that look like the row boundaries the cut looks for, in every results format.
TRICKY = ['a},{"b', "x\n,{y", '<result>"q"', 'tab\tcr\r\nend', 'back\\slash\\"', "[{", "é 中文"]
SELECT = f"SELECT ?s ?o {{ ?s <{EX}p> ?o }}"
ENDLESS = f"SELECT ?s ?o ?t {{ ?s <{EX}p> ?o . ?t <{EX}p> ?u }}"  # 10^10 rows: longer than any buffer between us
CONSTRUCT = f"CONSTRUCT {{ ?s <{EX}p> ?o }} WHERE {{ ?s <{EX}p> ?o }}"
RESULTS = {"application/sparql-results+json": "JSON", "application/sparql-results+xml": "XML",
           "text/csv": "CSV", "text/tab-separated-values": "TSV"}
GRAPHS = {"application/n-triples": "N_TRIPLES", "text/turtle": "TURTLE", "application/rdf+xml": "RDF_XML",
          "application/ld+json": "JSON_LD"}
ONE_WORKER = {"KG_EXECUTORS": "1", "KG_RESERVE_EXECUTORS": "0", "KG_SPARE_EXECUTORS": "0", "KG_CACHE": "false",
              "KG_ROW_CAP": "1000000", "KG_WORKER_COPIED_BYTES": "null"}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """TRIPLES triples, one per subject, a tenth of them with literals that look like row boundaries."""
    path = tmp_path_factory.mktemp("streaming") / "data.nt"
    with path.open("w", encoding="utf-8") as out:
        for i in range(TRIPLES):
            value = TRICKY[i % len(TRICKY)] + str(i) if i % 10 == 0 else f"value {i}"
            out.write(f"<{EX}s{i}> <{EX}p> {ox.Literal(value)} .\n")
    return path


@pytest.fixture(scope="module")
def reference(data) -> ox.Store:
    """The data loaded as the server loads it (same order of rows)."""
    store = ox.Store()
    load_into(store, [data])
    return store


@pytest.fixture(scope="module")
def app(data):
    app = make_app(files=(data,), ROW_CAP=1_000_000, CACHE=False, EXECUTORS=1)
    yield app
    app.extensions["kg"].close()


def whole(store: ox.Store, query: str, fmt) -> bytes:
    return store.query(query, use_default_graph_as_union=True).serialize(format=fmt)


@pytest.mark.parametrize("media_type", list(RESULTS) + list(GRAPHS))
def test_an_answer_longer_than_a_frame_streams_the_bytes_of_the_whole_serialisation(app, reference, media_type):
    query = SELECT if media_type in RESULTS else CONSTRUCT
    fmt = (getattr(ox.QueryResultsFormat, RESULTS[media_type]) if media_type in RESULTS
           else getattr(ox.RdfFormat, GRAPHS[media_type]))
    response = app.test_client().post("/sparql", data={"query": query}, headers={"Accept": media_type})
    assert response.status_code == 200
    assert "Content-Length" not in response.headers  # relayed as it is written
    assert response.headers["X-Result-Row-Cap"] == "1000000" and "X-Result-Truncated" not in response.headers
    assert len(response.data) > 10 * FRAME
    assert response.data == whole(reference, query, fmt)


def first_rows(store: ox.Store, n: int, fmt) -> bytes:
    """The first `n` rows of SELECT, as pyoxigraph writes a result set of just those rows."""
    rows = list(store.query(SELECT + f" LIMIT {n}", use_default_graph_as_union=True))
    lines = ["?s\t?o"] + [f"{row['s']}\t{row['o']}" for row in rows]
    return ox.parse_query_results(("\n".join(lines) + "\n").encode(), format=ox.QueryResultsFormat.TSV).serialize(
        format=fmt)


@pytest.mark.parametrize("media_type", list(RESULTS))
def test_the_row_cap_cuts_a_streamed_result_set_at_exactly_n_rows(app, reference, media_type):
    cap = 20_011
    response = app.test_client().post("/sparql", data={"query": SELECT, "max-rows": cap},
                                      headers={"Accept": media_type})
    assert response.status_code == 200 and "Content-Length" not in response.headers
    assert response.headers["X-Result-Row-Cap"] == str(cap)
    assert "X-Result-Truncated" not in response.headers  # the headers were out before the cut
    assert response.data == first_rows(reference, cap, getattr(ox.QueryResultsFormat, RESULTS[media_type]))


@pytest.mark.parametrize("media_type", list(GRAPHS))
def test_the_row_cap_cuts_a_streamed_graph_at_exactly_n_triples(app, reference, media_type):
    cap = 20_011
    response = app.test_client().post("/sparql", data={"query": CONSTRUCT, "max-rows": cap},
                                      headers={"Accept": media_type})
    assert response.status_code == 200 and "Content-Length" not in response.headers
    assert response.headers["X-Result-Row-Cap"] == str(cap)
    triples = list(reference.query(CONSTRUCT + f" LIMIT {cap}", use_default_graph_as_union=True))
    assert response.data == ox.serialize(triples, format=getattr(ox.RdfFormat, GRAPHS[media_type]))


def test_an_answer_that_fits_in_one_frame_is_sent_whole_with_its_truncation_header(app):
    response = app.test_client().post("/sparql", data={"query": SELECT, "max-rows": 7},
                                      headers={"Accept": "application/sparql-results+json"})
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert response.headers["X-Result-Truncated"] == "7" and response.headers["X-Result-Row-Cap"] == "7"
    assert json.loads(response.data)["truncated"] == {"rowCap": 7}


def test_a_streamed_answer_is_cached_while_it_fits_one_cache_entry_and_not_when_it_does_not(data):
    app = make_app(files=(data,), ROW_CAP=1_000_000, CACHE_BYTES=4 << 20, EXECUTORS=1)  # entries up to 1 MiB
    try:
        client, cache = app.test_client(), app.extensions["kg"].cache
        small = {"query": SELECT, "max-rows": 3000}  # about 200 KB of JSON: streamed, and cached
        first = client.post("/sparql", data=small)
        assert "Content-Length" not in first.headers and "X-Result-Truncated" not in first.headers
        assert first.data and len(cache.entries) == 1
        again = client.post("/sparql", data=small)  # from the cache: whole, so its cut is said as for a short one
        assert int(again.headers["Content-Length"]) == len(again.data) and again.headers["X-Result-Truncated"] == "3000"
        assert json.loads(again.data) == {"truncated": {"rowCap": 3000}, **json.loads(first.data)}
        big = client.post("/sparql", data={"query": SELECT})
        assert "Content-Length" not in big.headers and len(big.data) > 4 << 20 and len(cache.entries) == 1
        assert big.headers["Cache-Control"].startswith("public")  # still an answer for HTTP caches (see answering)
    finally:
        app.extensions["kg"].close()


def test_a_row_of_megabytes_streams_in_time_proportional_to_its_size(app, reference):
    query = f'SELECT (GROUP_CONCAT(?o; separator="{"-" * 100}") AS ?all) {{ ?s ?p ?o }}'  # one 12 MB value
    started = time.perf_counter()
    expected = whole(reference, query, ox.QueryResultsFormat.JSON)
    alone = time.perf_counter() - started
    started = time.perf_counter()
    response = app.test_client().post("/sparql", data={"query": query})
    assert response.data == expected and len(expected) > 10 << 20
    assert time.perf_counter() - started < 10 * alone + 1  # read again at each write, it took 100 times as long


class Pieces(io.RawIOBase):
    """pyoxigraph's writes passed on in pieces of 1 to 50 bytes, so row starts, escapes and values straddle them."""

    def __init__(self, inner, seed: int):
        self.inner, self.random = inner, random.Random(seed)

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data, at = bytes(data), 0
        while at < len(data):  # at least one byte a step
            step = self.random.randint(1, 50)
            self.inner.write(data[at:at + step])
            at += step
        return len(data)


def test_the_cut_keeps_exactly_n_rows_whatever_the_values_and_wherever_the_writes_split():
    store, rng = ox.Store(), random.Random(7)
    pieces = ['a', '}', '{', ',', '[', '"', '\\', '\n', '\r', '<result>', ',{', '[{', '{}', '\t', '""', '\\"', ',{"x']
    for i in range(3000):
        value = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(f"{EX}p"), ox.Literal(value)))
        if i % 7 == 0:
            store.add(ox.Quad(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(f"{EX}q"), ox.BlankNode()))
    queries = (f"SELECT ?s ?o ?x {{ ?s <{EX}p> ?o OPTIONAL {{ ?s <{EX}q> ?x }} }} ORDER BY ?s ?o",
               f"SELECT ?x ?o {{ ?s <{EX}p> ?v OPTIONAL {{ ?s <{EX}q> ?x }} "  # rows with no binding: `{}`
               f"OPTIONAL {{ ?s <{EX}p> ?o FILTER(CONTAINS(?o, '{{')) }} }} ORDER BY ?s", "SELECT * {}")
    for (query, fmt), cap in itertools.product(itertools.product(queries, ("JSON", "XML", "CSV", "TSV")),
                                               (0, 1, 2, 999, 2999, 3000, 3001)):
        rows = list(itertools.islice(store.query(query), cap + 1))
        names = store.query(query).variables
        lines = ["\t".join(str(v) for v in names)] + ["\t".join("" if row[v] is None else str(row[v]) for v in names)
                                                     for row in rows[:cap]]
        expected = ox.parse_query_results(("\n".join(lines) + "\n").encode(), format=ox.QueryResultsFormat.TSV)
        out = io.BytesIO()
        cut = Cut(fmt, cap, out)
        try:
            store.query(query).serialize(Pieces(cut, cap), format=getattr(ox.QueryResultsFormat, fmt))
        except Full:
            pass
        cut.finish()
        assert cut.truncated == (len(rows) > cap), (query, fmt, cap)
        assert out.getvalue() == expected.serialize(format=getattr(ox.QueryResultsFormat, fmt)), (query, fmt, cap)


# -- a real server: memory, stalls, clients that go away

def the_query_worker(server_pid: int) -> int:
    """The one query worker (ONE_WORKER): a child of the zygote."""
    for _ in range(100):
        for pid in descendants(server_pid):
            try:
                if b"zygote.py" in command_line(parent(pid)):
                    return pid
            except OSError:  # gone meanwhile
                continue
        time.sleep(0.05)
    raise AssertionError("no query worker")


def peak(pid: int) -> int:
    """Peak resident memory of `pid` so far, in bytes (VmHWM)."""
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def open_answer(url: str, params: dict) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    connection = http.client.HTTPConnection(urllib.parse.urlsplit(url).netloc, timeout=30)
    connection.request("POST", "/sparql", body=urllib.parse.urlencode(params),
                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                "Accept": "application/sparql-results+json"})
    return connection, connection.getresponse()


def read_all(response: http.client.HTTPResponse, limit: float = 60) -> tuple[int, bool]:
    """(bytes read, whether the body ended properly), reading in 64 KiB pieces and keeping none of them."""
    size, deadline = 0, time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            piece = response.read(1 << 16)
            if not piece:
                return size, True
            size += len(piece)
    except (http.client.IncompleteRead, ConnectionError, http.client.HTTPException):
        return size, False
    raise AssertionError("the answer did not end")


@pytest.fixture(scope="module")
def server(data):
    with kg_serve("--workers", 1, "--data", data, env=ONE_WORKER) as (url, process):
        yield url, process


def test_a_ten_times_longer_answer_costs_the_server_and_the_worker_no_more_peak_memory(server):
    url, process = server
    worker = the_query_worker(process.pid)
    front = served_by(worker)
    sizes, growth = {}, {}
    for rows in (1_000, 10_000, 100_000):  # the first warms both processes up
        before = peak(front), peak(worker)
        connection, response = open_answer(url, {"query": f"{SELECT} LIMIT {rows}"})
        sizes[rows], complete = read_all(response)
        connection.close()
        assert response.status == 200 and complete
        growth[rows] = peak(front) - before[0], peak(worker) - before[1]
    assert the_query_worker(process.pid) == worker
    assert sizes[100_000] > 9 * sizes[10_000] and sizes[100_000] > 8 << 20
    # Held whole, the long answer would raise each peak by at least its own size (11 MB); streamed, by a few frames.
    server_growth, worker_growth = growth[100_000]
    assert server_growth < sizes[100_000] / 4 and worker_growth < sizes[100_000] / 4, growth


def test_a_worker_that_stops_mid_answer_is_killed_and_the_connection_dropped_within_limit_and_margin(server):
    url, process = server
    worker, limit = the_query_worker(process.pid), 2.0
    started = time.monotonic()
    connection, response = open_answer(url, {"query": ENDLESS, "timeout": limit})
    assert response.status == 200 and response.read(1 << 16)
    os.kill(worker, signal.SIGSTOP)
    try:
        size, complete = read_all(response)
        elapsed = time.monotonic() - started
    finally:
        connection.close()
        if alive(worker):
            os.kill(worker, signal.SIGCONT)
    assert not complete and limit + MARGIN - 0.5 < elapsed < limit + MARGIN + 3
    assert gone_within([worker], 5) == []
    connection, response = open_answer(url, {"query": "ASK {}"})
    assert response.status == 200 and json.loads(response.read())["boolean"] is True
    assert the_query_worker(process.pid) != worker


def test_a_client_that_goes_away_mid_answer_frees_the_worker_at_once(server):
    url, process = server
    worker = the_query_worker(process.pid)
    connection, response = open_answer(url, {"query": ENDLESS})
    assert response.status == 200 and response.read(1 << 16)
    response.close()
    connection.close()  # unread bytes left: the kernel resets the connection
    assert gone_within([worker], 5) == []  # a worker mid-answer is out of step: replaced, not reused
    connection, response = open_answer(url, {"query": "ASK {}"})
    assert response.status == 200 and json.loads(response.read())["boolean"] is True


def test_a_client_that_stops_reading_loses_the_worker_by_limit_margin_and_one_send_timeout(server):
    url, process = server
    worker, limit = the_query_worker(process.pid), 2.0
    send_timeout = 10 + 30  # kg serve: QUERY_TIMEOUT + 30 s for a client to take a byte (server/cli.py)
    connection, response = open_answer(url, {"query": ENDLESS, "timeout": limit})
    started = time.monotonic()
    try:
        assert response.status == 200 and response.read(1 << 16)  # then nothing more is read
        left = gone_within([worker], limit + MARGIN + send_timeout)
        held = time.monotonic() - started
    finally:
        connection.close()
    assert left == [] and held < limit + MARGIN + send_timeout
    connection, response = open_answer(url, {"query": "ASK {}"})
    assert response.status == 200 and json.loads(response.read())["boolean"] is True


def test_the_body_of_a_streamed_answer_reads_back_as_the_query_s_rows(server):
    url, _ = server
    connection, response = open_answer(url, {"query": SELECT, "max-rows": 54_321})
    body = response.read()
    connection.close()
    assert response.getheader("Transfer-Encoding") == "chunked" and response.getheader("X-Result-Row-Cap") == "54321"
    solutions = ox.parse_query_results(io.BytesIO(body), format=ox.QueryResultsFormat.JSON)
    assert sum(1 for _ in solutions) == 54_321
