"""gunicorn's threaded worker, with every request read whole by its event loop before a thread sees it.

gunicorn's gthread worker hands a connection to a thread as soon as its first bytes arrive, and the
thread then reads the rest of the request blocking, with no deadline: a few clients sending one byte
at a time hold every thread. Here the event loop (the worker's poller thread) reads each request
without blocking into a buffer (server.ops.framing says when it is complete), under deadlines: the
head within READ_TIMEOUT of its first byte, the body at READ_MIN_RATE bytes/s on average after that
grace. Too slow: 408; a body over MAX_CONTENT_LENGTH (declared, or chunked as it arrives): 413 at
once. Only then does a thread get the connection, with gunicorn's own parser reading the buffered
request (never the socket), so threads never wait for a client to send; and a client that takes no bytes
of its answer for READ_TIMEOUT seconds loses it (a send timeout), so none waits long for a client to read.
New connections go to the worker holding the fewest (server.ops.balance).
"""

import errno
import os
import select
import selectors
import socket
import struct
import time
from functools import partial
from http import HTTPStatus
from typing import NamedTuple

from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser
from gunicorn.http.unreader import Unreader
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

from server.ops import balance, framing

RECV = 1 << 16
LINGER = 2.0  # seconds a closing connection is drained, so the client reads our last answer (no RST)
# A client that waits for each answer sends its next request at once: a thread that has just answered reads it
# itself for this long (then hands the connection back to the event loop), instead of two handoffs between threads.
NEXT_REQUEST_WAIT = 0.001


class Limits(NamedTuple):
    """How long a client may take to send a request, and how big its body may be."""

    max_body: int  # bytes (MAX_CONTENT_LENGTH)
    read_timeout: float  # seconds for the head from its first byte; the body's grace before its rate counts
    min_rate: float  # body bytes per second, on average, after the grace


def configured(limits: Limits) -> type:
    """The worker class with these limits and one connection table for its forks (gunicorn takes a class as its
    worker_class, in the master, before it forks the workers)."""
    return type("BufferedWorker", (BufferedWorker,), {"limits": limits, "table": balance.table()})


def _answer(status: int, title: str, text: str) -> bytes:
    """A complete plain-text answer, worded as the app's errors are (server/errors.py)."""
    body = f"{title}: {text}\n".encode()
    head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode() + body


class _Buffered(Unreader):
    """What gunicorn's parser reads: the bytes of one complete request, then end of input (never the socket)."""

    def chunk(self, size_hint=None):
        return b""

    def feed(self, data: bytes) -> None:
        self.buf.seek(0, os.SEEK_END)
        self.buf.write(data)


class _Request(Request):
    def parse(self, unreader):
        rest = super().parse(unreader)
        self._expected_100_continue = False  # the event loop sent "100 Continue" before it read the body
        return rest


class _Parser(RequestParser):
    mesg_class = _Request

    def __init__(self, cfg, client):
        super().__init__(cfg, (), client)
        self.unreader = _Buffered()


class _Conn(TConn):
    """A connection with its receive buffer, the time its request began, and its current deadline."""

    def __init__(self, cfg, sock, client, server, framer: framing.Framer, send_timeout: float):
        super().__init__(cfg, sock, client, server)
        # A thread's blocking send gives up when the client takes no bytes for `send_timeout` (see handle_request).
        # The kernel's timer restarts with each send() call and sendall() makes two after the last progress (the one
        # that returns the part it sent, then one that fails), so each gets half.
        half = send_timeout / 2
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", int(half), int(half % 1 * 1e6)))
        self.parser = _Parser(cfg, client)
        self.data_ready = True  # gthread's handle() must not wait on the socket: the request is in the parser
        self.framer, self.deadline, self.began, self.head_at = framer, 0.0, None, None
        self.close_after = self.lingering = False


class BufferedWorker(ThreadWorker):
    """gthread, with requests read by the event loop under deadlines and handed to threads complete."""

    limits = Limits(max_body=1 << 20, read_timeout=5.0, min_rate=8192.0)
    table: balance.Table | None = None  # the open connections of every worker of this server

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.watched = set()  # connections the event loop reads (or drains before closing), with deadlines
        self.slot = None
        self.pending_since = None  # when this worker first left a pending connection to a less loaded one
        self.resume_at = 0.0  # until then it does not watch the listeners

    def init_process(self):
        if self.table is not None:
            self.slot = self.table.claim(os.getpid())
        try:
            super().init_process()  # runs the event loop until the worker stops
        finally:
            if self.slot is not None:
                self.table.release(self.slot)

    @classmethod
    def check_config(cls, cfg, log):
        super().check_config(cfg, log)
        if cfg.is_ssl or cfg.proxy_protocol != "off" or "h2" in cfg.http_protocols or cfg.protocol != "http":
            raise RuntimeError("the buffered worker serves plain HTTP/1.x only (no TLS, PROXY protocol or HTTP/2)")

    # -- connections in

    def accept(self, listener):
        if self._leave_to_others():
            return
        self.pending_since = None
        try:
            sock, client = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._publish()
        cfg = self.cfg  # gunicorn's own limits on the request line and the header section
        framer = framing.Framer(max_body=self.limits.max_body, max_line=cfg.limit_request_line or 8190,
                                max_head=cfg.limit_request_fields * (cfg.limit_request_field_size + 2) + 4)
        send_timeout = max(1.0, self.limits.read_timeout)  # never 0: to the kernel that means no timeout at all
        conn = _Conn(self.cfg, sock, client, listener.getsockname(), framer, send_timeout)
        conn.deadline = time.monotonic() + self.limits.read_timeout  # to send a first byte
        self._watch(conn, self._on_readable)

    def _leave_to_others(self) -> bool:
        """Whether to let a less loaded worker take the pending connection (for GRACE seconds at most)."""
        least = self.table.least_elsewhere(self.slot) if self.slot is not None else None
        if least is None or self.nr_conns <= least:
            return False
        now = time.monotonic()
        if self.pending_since is None:
            self.pending_since = now
        elif now - self.pending_since >= balance.GRACE:
            return False
        self.resume_at = self.pending_since + balance.GRACE
        self.set_accept_enabled(False)  # the listener stays readable: watching it meanwhile would spin
        return True

    def set_accept_enabled(self, enabled):
        if enabled and time.monotonic() < self.resume_at:
            return
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout):
        self._publish()
        paused = self.resume_at - time.monotonic()
        super().wait_for_and_dispatch_events(min(timeout, paused) if paused > 0 else timeout)

    def _publish(self) -> None:
        if self.slot is not None:
            self.table.publish(self.slot, self.nr_conns)

    def on_client_socket_readable(self, conn, client):
        """A kept-alive connection's next request begins: read it here too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._watch(conn, self._on_readable)
        self._on_readable(conn, client)

    def _on_readable(self, conn, _sock):
        try:
            data = conn.sock.recv(RECV)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away: nobody to answer
            self._drop(conn)
            return
        if conn.began is None:
            conn.began = time.monotonic()
        self._progress(conn, conn.framer.feed(data))

    def _progress(self, conn, verdict: str) -> None:
        """Hand a complete request to a thread, refuse a bad one, or set the deadline for the rest."""
        framer = conn.framer
        if verdict in (framing.COMPLETE, framing.MALFORMED):
            self._unwatch(conn)
            conn.close_after = verdict is framing.MALFORMED
            conn.parser.unreader.feed(framer.take_all() if conn.close_after else framer.take())
            self.enqueue_req(conn)
        elif verdict is framing.TOO_LARGE:
            self._refuse(conn, 413, "Payload too large",
                         f"the request body is over the limit of {self.limits.max_body} bytes")
        elif verdict is framing.BAD_CHUNK:
            self._refuse(conn, 400, "Bad request", "the chunked request body is malformed")
        else:
            if framer.head_end is not None and conn.head_at is None:
                conn.head_at = time.monotonic()
                if framer.expects_continue:
                    self._send(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
            conn.deadline = self._deadline(conn)
            if conn not in self.watched:
                self._watch(conn, self._on_readable)

    def _deadline(self, conn) -> float:
        if conn.head_at is None:
            return conn.began + self.limits.read_timeout
        return conn.head_at + self.limits.read_timeout + conn.framer.body_received / self.limits.min_rate

    # -- in a thread: the answer is written blocking, under the socket's send timeout

    def handle(self, conn):
        """Answer the buffered request, and the ones after it that arrive whole within NEXT_REQUEST_WAIT."""
        while True:
            keep = super().handle(conn)
            if keep is not True or not self.alive or conn.close_after or conn.parser.unreader.buf.getvalue():
                return keep
            if not self._next_request_here(conn):
                return keep

    def _next_request_here(self, conn) -> bool:
        """Whether the connection's next request is whole in its parser, read here within NEXT_REQUEST_WAIT. If not,
        the event loop goes on from what the framer holds, under the same deadlines (finish_request)."""
        conn.began = conn.head_at = None
        framer, data = conn.framer, b""
        if not framer.buffer:  # else the client pipelined it: it is already here
            waiting = select.poll()
            waiting.register(conn.sock, select.POLLIN)
            if not waiting.poll(NEXT_REQUEST_WAIT * 1000):
                return False
            try:
                data = conn.sock.recv(RECV)
            except OSError:
                data = b""
            if not data:  # the client closed (or failed) its side: nothing more to answer
                conn.close_after = True
                return False
        conn.began = time.monotonic()
        if framer.feed(data) is not framing.COMPLETE:
            return False
        conn.parser.unreader.feed(framer.take())
        return True

    def handle_request(self, req, conn):
        try:
            return super().handle_request(req, conn)
        except BlockingIOError:  # SO_SNDTIMEO ran out: the client stopped reading its answer, so it loses it
            self.log.info("a client stopped reading its answer for %g s: connection closed (%s)",
                          self.limits.read_timeout, conn.client)
            return False

    # -- connections back from a thread

    def finish_request(self, conn, fs):
        try:
            keep = not fs.cancelled() and fs.result() is True
        except Exception:  # handle() reports its own errors; a failed future only means "do not reuse"
            keep = False
        # Bytes left in gunicorn's parser mean it framed the request differently: never guess where the next starts.
        if not keep or conn.close_after or conn.parser.unreader.buf.getvalue():
            self._linger(conn)
            return
        conn.began = conn.head_at = None
        if conn.framer.buffer:  # the client pipelined its next request
            conn.began = time.monotonic()
            self._progress(conn, conn.framer.feed())
            return
        conn.sock.setblocking(False)
        conn.set_timeout()
        if not self.alive:
            conn.timeout = min(conn.timeout, time.monotonic() + STOP_KEEPALIVE_LINGER)
        self.keepalived_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn))

    # -- deadlines and closing

    def murder_pending(self):
        """Called by gthread's loop about once a second: also expire what the event loop reads or drains."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c in self.watched if c.deadline <= now]:
            if conn.lingering or conn.began is None:
                self._drop(conn)  # drained long enough, or never sent a byte
            else:
                self._refuse(conn, 408, "Request timeout",
                             f"the request did not arrive in time (its head within {self.limits.read_timeout:g} s, "
                             f"its body at {self.limits.min_rate:g} bytes/s or faster)")

    def _refuse(self, conn, status: int, title: str, text: str) -> None:
        self.log.info("%s %s from %s", status, text, conn.client)
        self._send(conn, _answer(status, title, text))
        self._linger(conn)

    def _send(self, conn, data: bytes) -> None:
        """A short answer, written without blocking (it fits a socket buffer; if not, the client was not reading)."""
        try:
            conn.sock.setblocking(False)
            conn.sock.send(data)
        except OSError:
            pass

    def _linger(self, conn) -> None:
        """Close after the answer: half-close, then drain what the client still sends, for LINGER seconds at most."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._drop(conn)
            return
        conn.lingering, conn.deadline = True, time.monotonic() + LINGER
        self._watch(conn, self._on_lingering)

    def _on_lingering(self, conn, _sock):
        try:
            if conn.sock.recv(RECV):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._drop(conn)

    def _watch(self, conn, callback) -> None:
        conn.sock.setblocking(False)
        if conn in self.watched:
            self.poller.modify(conn.sock, selectors.EVENT_READ, partial(callback, conn))
        else:
            self.watched.add(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(callback, conn))

    def _unwatch(self, conn) -> None:
        if conn in self.watched:
            self.watched.discard(conn)
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass

    def _drop(self, conn) -> None:
        self._unwatch(conn)
        self.nr_conns -= 1
        conn.close()
