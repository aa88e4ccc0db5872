"""Slow, big and pipelined requests against a real `kg serve`: requests are read whole, under deadlines, before a thread."""

import json
import random
import select
import socket
import threading
import time
import urllib.parse

import pytest
from serverkit import SAMPLE, gunicorn

from server.ops import framing

ASK = "GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: t\r\n\r\n"
READ_TIMEOUT = 5.0  # the default READ_TIMEOUT of server/config.py


@pytest.fixture(scope="module")
def served():
    with gunicorn(SAMPLE, workers=2) as (url, _):
        yield int(url.rsplit(":", 1)[1])


def exchange(port: int, data: bytes, *, timeout: float = 10) -> bytes:
    """Send `data` on a fresh connection and read until the server closes it (or `timeout`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(1 << 16)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def read_answer(sock: socket.socket) -> bytes:
    """One whole answer (head and Content-Length body) from a connection that stays open."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        piece = sock.recv(1 << 16)
        assert piece, answer
        answer += piece
    head, body = answer.split(b"\r\n\r\n", 1)
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")))
    while len(body) < length:
        piece = sock.recv(1 << 16)
        assert piece, answer
        body += piece
    return head + b"\r\n\r\n" + body


def status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0


def timed_ask(port: int) -> tuple[int, float]:
    start = time.monotonic()
    answer = exchange(port, ASK.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n").encode(), timeout=5)
    return status(answer), time.monotonic() - start


def trickle(port: int, data: bytes, pause, results: list, stop: float, *, kept_alive: bool = False) -> None:
    """Send `data` one byte at a time, `pause()` seconds apart, until the server answers or closes, or `stop`.

    `kept_alive`: first one whole request and its answer, so `data` is the next request on a kept-alive connection.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        if kept_alive:
            sock.sendall(ASK.encode())
            read_answer(sock)
        start = time.monotonic()
        try:
            for byte in data:
                sock.send(bytes([byte]))
                readable, _, _ = select.select([sock], [], [], min(pause(), max(0.0, stop - time.monotonic())))
                if readable:
                    results.append((status(sock.recv(4096)), time.monotonic() - start))
                    return
                if time.monotonic() >= stop:
                    results.append(("still open", time.monotonic() - start))
                    return
        except OSError:
            results.append(("closed", time.monotonic() - start))


@pytest.mark.reliability
def test_slow_heads_and_slow_bodies_do_not_delay_other_clients(served):
    rng = random.Random(11)
    head = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: t\r\nUser-Agent: a-slow-client-of-many-bytes\r\n\r\n"
    body = b"POST /sparql HTTP/1.1\r\nHost: t\r\nContent-Type: application/sparql-query\r\nContent-Length: 1000\r\n\r\n"
    stop = time.monotonic() + 8
    heads, bodies, threads = [], [], []
    for n in range(32):
        pauses = [rng.uniform(0.5, 2.0) for _ in head]
        threads.append(threading.Thread(target=trickle, args=(served, head, iter(pauses).__next__, heads, stop),
                                        kwargs={"kept_alive": n < 8}))
    for _ in range(16):
        # The head at once, then the body at 1 byte/s.
        data = body + b"ASK {}" + b" " * 994
        pauses = [0.0] * len(body) + [1.0] * 1000
        threads.append(threading.Thread(target=trickle, args=(served, data, iter(pauses).__next__, bodies, stop)))
    for thread in threads:
        thread.start()
    time.sleep(1.5)  # every slow client is connected and sending
    asks = []
    for _ in range(5):
        asks.append(timed_ask(served))
        time.sleep(0.3)
    for thread in threads:
        thread.join(15)
    assert [code for code, _ in asks] == [200] * 5
    assert max(elapsed for _, elapsed in asks) < 1.0, asks
    # Each slow client got its 408 at its deadline (the event loop checks deadlines about once a second).
    assert len(heads) == 32 and len(bodies) == 16
    for code, elapsed in heads + bodies:
        assert code == 408, (code, elapsed)
        assert READ_TIMEOUT - 0.5 < elapsed < READ_TIMEOUT + 2.5, elapsed


def test_clients_that_stop_reading_big_answers_free_their_threads_after_the_send_timeout():
    # About 6 MB of JSON each: more than the kernel's buffers, so a thread's blocking send waits on the client.
    query = urllib.parse.quote("SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } LIMIT 8000")
    request = f"GET /sparql?query={query} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode()
    with gunicorn(SAMPLE, workers=1) as (url, _):  # one process: one result cache, so every request below hits it
        port = int(url.rsplit(":", 1)[1])
        assert status(exchange(port, request)) == 200
        stalled = []
        try:
            for _ in range(24):  # more than the worker's 16 threads; each takes the cached answer and never reads
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.connect(("127.0.0.1", port))
                sock.sendall(request)
                stalled.append(sock)
            time.sleep(1)  # every thread is now stuck in a send
            start, code = time.monotonic(), 0
            while time.monotonic() - start < 20 and code != 200:
                code, _ = timed_ask(port)
            # The threads give up READ_TIMEOUT after their client's last read; the 8 queued ones block 8 threads again.
            assert code == 200 and time.monotonic() - start < READ_TIMEOUT + 5
            assert [timed_ask(port)[1] < 1.0 for _ in range(3)] == [True] * 3
        finally:
            for sock in stalled:
                sock.close()


def chunked(body: bytes, size: int) -> bytes:
    pieces = [body[i:i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def post_chunked(port: int, query: str, size: int) -> bytes:
    head = (b"POST /sparql HTTP/1.1\r\nHost: t\r\nContent-Type: application/sparql-query\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    return exchange(port, head + chunked(query.encode(), size))


@pytest.mark.reliability
def test_a_chunked_body_over_the_limit_is_413_never_cut_and_run(served):
    query = "SELECT * { ?s ?p ?o }" + " " * (2 << 20) + "LIMIT 0"
    answer = post_chunked(served, query, 64 << 10)
    assert status(answer) == 413
    assert b"over the limit of 1048576 bytes" in answer


def test_a_chunked_body_under_the_limit_is_answered(served):
    answer = post_chunked(served, "SELECT (COUNT(*) AS ?n) { ?s a <http://example.org/Task> }", 7)
    assert status(answer) == 200
    body = answer.split(b"\r\n\r\n", 1)[1]
    assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == "3"


def test_a_declared_body_over_the_limit_is_413_before_it_is_sent(served):
    head = b"POST /sparql HTTP/1.1\r\nHost: t\r\nContent-Type: application/sparql-query\r\nContent-Length: 2000000\r\n\r\n"
    start = time.monotonic()
    assert status(exchange(served, head, timeout=5)) == 413
    assert time.monotonic() - start < 1


def ask_for(n: int) -> str:
    return "/sparql?" + urllib.parse.urlencode({"query": f"SELECT ({n} AS ?n) {{}}"})


def test_two_requests_on_one_kept_alive_connection_are_both_answered(served):
    with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
        answers = []
        for n in (1, 2):
            sock.sendall(f"GET {ask_for(n)} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            answers.append(read_answer(sock))
            time.sleep(0.3)  # the second request arrives later, on the kept-alive connection
    assert [status(a) for a in answers] == [200, 200]
    assert b'"value":"1"' in answers[0] and b'"value":"2"' in answers[1]


def test_a_pipelined_pair_is_answered_in_order(served):
    pair = (f"GET {ask_for(1)} HTTP/1.1\r\nHost: t\r\n\r\n"
            f"GET {ask_for(2)} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").encode()
    answer = exchange(served, pair)
    assert answer.count(b"HTTP/1.1 200 ") == 2
    assert answer.index(b'"value":"1"') < answer.index(b'"value":"2"')


def test_a_post_with_expect_100_continue_gets_the_interim_answer_then_the_result(served):
    with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: t\r\nContent-Type: application/sparql-query\r\n"
                     b"Content-Length: 6\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
        assert sock.recv(1 << 16) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"ASK {}")
        answer = read_answer(sock)
    assert status(answer) == 200 and answer.endswith(b'"boolean":true}')


def test_a_next_request_sent_at_once_is_answered_in_every_shape(served):
    """Right after an answer the thread that gave it reads the next request itself for a moment: whole, refused,
    cut in two across that moment, or not sent at all, each ends as it does through the event loop."""
    first = f"GET {ask_for(1)} HTTP/1.1\r\nHost: t\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
        sock.sendall(first)
        assert status(read_answer(sock)) == 200
        sock.sendall(f"GET {ask_for(2)} HTTP/1.1\r\nHost: t\r\n\r\n".encode())  # whole, at once
        assert b'"value":"2"' in read_answer(sock)
        second = f"GET {ask_for(3)} HTTP/1.1\r\nHost: t\r\n\r\n".encode()
        sock.sendall(second[:10])  # the start at once, the rest well after the thread has let go
        time.sleep(0.3)
        sock.sendall(second[10:])
        assert b'"value":"3"' in read_answer(sock)
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: t\r\nContent-Type: application/sparql-query\r\n"
                     b"Content-Length: 2000000\r\n\r\n")  # a refusal at once: 413 before the body, then closed
        start = time.monotonic()
        refused = read_answer(sock)
        assert status(refused) == 413 and time.monotonic() - start < 1
        assert sock.recv(1 << 16) == b""
    with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
        sock.sendall(first)
        assert status(read_answer(sock)) == 200
        sock.shutdown(socket.SHUT_WR)  # no next request: the server closes its side too
        assert sock.recv(1 << 16) == b""


# The framing, without a server.

def framer(max_body: int = 100) -> framing.Framer:
    return framing.Framer(max_body=max_body, max_line=8190, max_head=8190)


def test_the_framer_splits_pipelined_requests_at_their_ends():
    first = b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
    second = b"POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\nTrailer: 1\r\n\r\n"
    split = framer()
    assert split.feed(first + second[:20]) == framing.COMPLETE
    assert split.take() == first
    assert split.feed() == framing.MORE
    assert split.feed(second[20:]) == framing.COMPLETE
    assert split.take() == second and not split.buffer


def test_the_framer_counts_a_chunked_body_as_it_arrives_and_stops_past_the_limit():
    split = framer(max_body=10)
    assert split.feed(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n") == framing.MORE
    assert split.feed(b"3\r\n") == framing.TOO_LARGE


@pytest.mark.parametrize("head", [
    b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n",
    b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"GET / HTTP/1.1\nHost: t\n\n",
])
def test_the_framer_leaves_ambiguous_framing_to_gunicorns_refusal(head):
    assert framer().feed(head) == framing.MALFORMED


def test_the_framer_refuses_a_malformed_chunk():
    assert framer().feed(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") == framing.BAD_CHUNK


@pytest.mark.parametrize("data, refusal", [
    (b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", framing.TOO_LARGE),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n", framing.TOO_LARGE),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", framing.BAD_CHUNK),
    (b"GET / HTTP/1.1\nHost: t\n\n", framing.MALFORMED),
])
def test_a_refusal_stands_when_the_framer_is_asked_again(data, refusal):
    # The thread that reads a next request and the event loop that goes on from it both ask.
    split = framer()
    assert split.feed(data) == refusal
    assert split.feed() == refusal and split.feed(b"more bytes") == refusal


@pytest.mark.reliability
def test_the_app_refuses_a_body_without_length_past_the_limit_rather_than_cut_it():
    # Any WSGI server that passes chunked bodies through (Werkzeug's own, gunicorn) gives the app a stream
    # without Content-Length; Werkzeug reads it up to MAX_CONTENT_LENGTH and returns what it read.
    import io

    from serverkit import make_app
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    app = make_app()
    try:
        for size, expected in ((app.config["MAX_CONTENT_LENGTH"] * 2, 413), (100, 200)):
            query = ("ASK {}" + " " * size)[:size]
            environ = EnvironBuilder(path="/sparql", method="POST", input_stream=io.BytesIO(query.encode()),
                                     headers={"Content-Type": "application/sparql-query"}).get_environ()
            environ.pop("CONTENT_LENGTH", None)  # as a chunked request arrives
            environ["wsgi.input_terminated"] = True
            body, status_line, _ = run_wsgi_app(app, environ, buffered=True)
            assert int(status_line.split()[0]) == expected, b"".join(body)
    finally:
        app.extensions["kg"].close()
