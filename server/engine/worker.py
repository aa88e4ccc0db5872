"""The query worker: a child process that holds the store and runs one query at a time.

It exists so that a runaway query can be stopped: pyoxigraph cannot cancel a query and releases the
GIL while evaluating, so the only way to free the CPU at the time limit is to kill the process.
Requests in: a frame (sequence number, pickled tuple (op, text, default_graph, named_graphs,
results_format, rdf_format, row_cap[, base_iri])). Answers out (frames, below): one READY frame
first, then per request frames echoing the sequence number. An answer whose body fits in FRAME bytes
is one OK frame (meta as JSON: kind, format, truncated, bytes, rows of a graph; body = the answer as pyoxigraph
wrote it); a longer one streams as it is written: OK (meta {kind, format, more: true}, the first
FRAME bytes), MORE frames (body only), then END (the rest and the final meta). Errors: SYNTAX /
EVALUATION (body = the message), also in place of MORE/END if the engine fails mid-answer.
The row cap is applied while writing (server/engine/rows.py), so no answer is ever held whole.
"""

import io
import json
import os
import pickle
import resource
import socket
import struct
import sys

import pyoxigraph as ox

from server.engine import sandbox
from server.engine.rows import Capped, Cut, Full
from server.engine.store import copy_in_memory, load_into
from server.sparql import bounds

# The wire, both ends (server.executor reads with deadlines; the worker may block: it has nothing else to do).
# A frame is a fixed header, then `meta_len` bytes of JSON, then `body_len` bytes of body. No pickle on
# the way back: the body is pyoxigraph's output as is, so the parent can hand it to the client unchanged.
HEADER = struct.Struct("!IBII")  # sequence number, kind, meta length, body length
REQUEST = struct.Struct("!II")  # sequence number, pickle length (requests come from our own parent only)
READY, OK, SYNTAX, EVALUATION, MORE, END = range(6)
SMALL = 1 << 16  # frames up to this size go out in one write
FRAME = SMALL  # body bytes per frame of a streamed answer (and the most an answer sent whole may have)


def send(sock: socket.socket, seq: int, kind: int, meta: dict, body: bytes = b"") -> None:
    """Write one answer frame (the worker's side)."""
    head = json.dumps(meta, separators=(",", ":")).encode()
    header = HEADER.pack(seq, kind, len(head), len(body))
    if len(body) <= SMALL:
        sock.sendall(header + head + body)
    else:  # no copy of a big body
        sock.sendall(header + head)
        sock.sendall(body)


def _exactly(sock: socket.socket, size: int) -> bytes:
    parts, left = [], size
    while left:
        part = sock.recv(left)
        if not part:
            raise EOFError
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def read_request(sock: socket.socket) -> tuple[int, tuple]:
    """Block for the next request frame: (sequence number, request tuple)."""
    seq, size = REQUEST.unpack(_exactly(sock, REQUEST.size))
    return seq, pickle.loads(_exactly(sock, size))


def pack_request(seq: int, request: tuple) -> bytes:
    """The parent's side: one request frame."""
    data = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
    return REQUEST.pack(seq, len(data)) + data


def open_store(path: str, *, in_memory: bool, writable: bool, files=()) -> ox.Store:
    """The on-disk store read-only, or in memory (several times faster on scans), or writable.

    In memory: the RDF files it was loaded from when there are some (--data: parsing is about 3x faster than a
    dump and reload, and gives the zygote's order of rows), else a copy of the store on disk (StoreUnreadable when
    it cannot be read in full).
    """
    if writable:
        return ox.Store(path)
    if in_memory and files:
        memory = ox.Store()
        load_into(memory, files)
        return memory
    return copy_in_memory(path) if in_memory else ox.Store.read_only(path)


def _graphs(iris):
    """Protocol graph IRIs as pyoxigraph terms (None keeps the store's own dataset)."""
    return None if iris is None else [ox.NamedNode(iri) for iri in iris]


class Hangup(Exception):
    """The server process let go of this worker (its end of the socket is closed)."""


class _Frames(io.RawIOBase):
    """One answer's body on its way out: held while it fits in FRAME bytes (then sent whole, in one OK frame with
    the final meta), else sent in frames as pyoxigraph writes it: OK (`more`), MORE..., END (the final meta)."""

    def __init__(self, sock: socket.socket, seq: int):
        self.sock, self.seq, self.parts, self.size, self.sent, self.head = sock, seq, [], 0, 0, {}

    def writable(self) -> bool:
        return True

    def begin(self, kind: str, fmt: str) -> None:
        """What the first frame of a streamed answer says (the rest of the meta is known at the end)."""
        self.head = {"kind": kind, "format": fmt, "more": True}

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        if self.size >= FRAME:
            self._send(MORE if self.sent else OK, {} if self.sent else self.head)
        return len(data)

    def end(self, meta: dict) -> None:
        """The last frame: the whole answer (OK) or the end of a streamed one (END), with the final meta."""
        meta["bytes"] = self.sent + self.size
        self._send(END if self.sent else OK, meta)

    def fail(self, kind: int, message: str) -> None:
        """SYNTAX / EVALUATION, instead of the answer or in the middle of it."""
        self.parts, self.size = [message.encode()], 0
        self._send(kind, {})

    def _send(self, kind: int, meta: dict) -> None:
        body = b"".join(self.parts)
        try:
            send(self.sock, self.seq, kind, meta, body)
        except OSError as error:  # also inside pyoxigraph's writer: it passes the exception on
            raise Hangup(str(error)) from None
        self.sent += self.size
        self.parts, self.size = [], 0


def answer(store: ox.Store, request: tuple, out: _Frames) -> dict:
    """Run one request against `store`, writing its body into `out`; returns the final meta.

    Raises SyntaxError/OSError/ValueError (Hangup when the server process is gone).
    """
    op, text, default_graph, named_graphs, results_fmt, rdf_fmt, cap = request[:7]
    base_iri = request[7] if len(request) > 7 else None  # relative IRIs resolve against the endpoint
    if op == "update":
        store.update(text, base_iri=base_iri)
        return {"kind": "update"}
    # op "query": default graph = union of all graphs; "query-dataset": the protocol's graphs, or
    # (both None) the query's own FROM / FROM NAMED.
    options = {"default_graph": _graphs(default_graph), "named_graphs": _graphs(named_graphs)}
    if op == "query":
        options = {"use_default_graph_as_union": True}
    results = store.query(text, **options, base_iri=base_iri)
    if isinstance(results, ox.QueryBoolean):
        kind, fmt = "boolean", results_fmt
    elif isinstance(results, ox.QuerySolutions):
        kind, fmt = "solutions", results_fmt
    else:
        kind, fmt = "graph", rdf_fmt
    if fmt is None:
        return {"kind": kind, "format": None}
    out.begin(kind, fmt)
    if kind == "boolean":
        out.write(results.serialize(format=getattr(ox.QueryResultsFormat, fmt)))
        return {"kind": kind, "format": fmt, "rows": 1}
    if kind == "solutions":
        cut = Cut(fmt, cap, out)
        try:
            results.serialize(cut, format=getattr(ox.QueryResultsFormat, fmt))
        except Full:
            pass
        cut.finish()
        return {"kind": kind, "format": fmt, "truncated": cut.truncated}
    triples = Capped(results, cap)
    ox.serialize(iter(triples), out, format=getattr(ox.RdfFormat, fmt))
    return {"kind": kind, "format": fmt, "truncated": triples.truncated, "rows": triples.rows}


def main(sock: socket.socket, path: str, in_memory: bool, writable: bool, *, parent_pid: int, network: bool,
         files=()) -> None:
    """Process entry point: confine this process, open the store, then answer requests until the parent hangs up."""
    # First, before any query text is read: die with the server process; no network unless allow-listed SERVICE.
    sandbox.confine(network=network, parent_pid=parent_pid)
    loaded = open_store(path, in_memory=in_memory, writable=writable, files=files)
    serve(sock, loaded, {"triples": len(loaded), "loaded_by": os.getpid()})


class _Copied:
    """How much of the zygote's memory a forked worker has copied: reading Oxigraph's in-memory store writes to the
    pages it reads (copy on write), so a scan copies them. Measured as the drop in shared pages since the fork; the
    worker's own allocations (a deep query's stack, its answers) do not count.

    /proc/self/smaps_rollup walks every page table, so it is read again only after enough page faults (a copy on
    write is one) to matter; a light query costs one getrusage.
    """

    FAULTS = 2048  # pages (8 MiB) of faults between two readings

    def __init__(self):
        self.faults, self.bytes = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, 0
        self.shared = self._shared()

    @staticmethod
    def _shared() -> int:
        with open("/proc/self/smaps_rollup") as rollup:
            fields = dict(line.split(":", 1) for line in rollup.read().splitlines()[1:])
        return 1024 * sum(int(fields[key].split()[0]) for key in ("Shared_Clean", "Shared_Dirty"))

    def __call__(self) -> int:
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        if faults - self.faults >= self.FAULTS:
            self.faults = faults
            self.bytes = max(self.shared - self._shared(), 0)
        return self.bytes


def serve(sock: socket.socket, store: ox.Store, ready: dict) -> None:
    """Send READY (`ready`: the triple count and the pid of the process that loaded the store), then answer
    requests until the other end hangs up. A fresh worker and one forked by the zygote both end here; a forked
    one adds to each answer's meta the bytes of the store it has copied ("copied"), so the pool can replace it by
    a fresh fork before it holds a copy of its own."""
    copied = _Copied() if ready.get("loaded_by") != os.getpid() else None
    try:
        send(sock, 0, READY, ready)
    except (ConnectionError, OSError):  # the server process let go of this worker before it was ready
        return
    while True:
        try:
            seq, request = read_request(sock)
        except (EOFError, ConnectionError, KeyboardInterrupt):
            return
        out = _Frames(sock, seq)
        try:
            try:
                meta = bounds.call_for(request[1], answer, store, request, out)  # deep texts: a deep stack
            except SyntaxError as error:
                out.fail(SYNTAX, str(error))
                continue
            except (OSError, ValueError, RuntimeError, TypeError) as error:
                out.fail(EVALUATION, f"{type(error).__name__}: {error}")
                continue
            if copied is not None:
                meta["copied"] = copied()
            out.end(meta)
        except Hangup:  # the server process stopped reading this answer (it kills this worker next)
            return


if __name__ == "__main__":
    # The command line written by server/engine/executor.py's command().
    fd, store_path, memory, write, parent, net = sys.argv[1:7]
    # A stack of known size for the texts run in line (a thread per request costs 0.1-1 ms a query).
    bounds.call_on_deep_stack(main, socket.socket(fileno=int(fd)), store_path, memory == "1", write == "1",
                              parent_pid=int(parent), network=net == "1", files=sys.argv[7:],
                              stack_bytes=bounds.SHALLOW_STACK_BYTES)
