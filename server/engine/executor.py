"""One query worker process and the parent's end of its socket, with a real, CPU-freeing timeout.

Every wait here has a deadline: for a worker to start, for the first byte of an answer (the query's time
limit) and for the rest of it (the limit + MARGIN), a streamed answer's last frame included. A worker that misses one is killed (SIGKILL works on
stopped processes too); server/engine/admission.py replaces it, and the request gets a named error.
A worker is a fork of the zygote (server/engine/zygote.py: the store loaded once, shared) when there is one,
else a fresh interpreter that opens the store itself; both speak the same frames (server/engine/worker.py).
"""

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from server.engine import allocator, worker
from server.engine.zygote import Client, Forked
from server.errors import QuerySyntaxError, ServiceError

log = logging.getLogger("server.executor")
_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
MARGIN = 5.0  # seconds an answer that has started may take to arrive in full (local socket: milliseconds)
BUFFER = 1 << 16  # first read: header, meta and a small body in one system call (below malloc's mmap threshold)
KILL_WAIT = 0.5  # seconds a request waits for a killed worker to be gone (then a thread reaps it)
HEAVY_NICENESS = 10  # a query past HEAVY_AFTER runs at this niceness (CFS weight 110 against 1024 at 0)


class EvaluationError(ServiceError):
    """The engine refused to evaluate a query that parsed (e.g. SERVICE failure, bad graph)."""

    status, title = 400, "Query evaluation error"


class WorkerCrashed(RuntimeError):
    """The worker hung up or answered out of step: an internal error (500 with a log id), never reused."""


class Stalled(Exception):
    """An answer began but did not end in time (a stopped or wedged worker)."""


@dataclass
class Answer:
    """What a worker sent back: meta (kind, format, truncated, rows, bytes) and the body in chunks.

    A long answer arrives as it is written: `chunks` is its first frame, `rest` yields the others as they come
    (meta["more"] until the last, whose meta then completes `meta`); None once the answer is whole.
    """

    meta: dict
    chunks: list[bytes] = field(default_factory=list)
    rest: Iterator[bytes] | None = None


def command(spec: dict, fd: int, network: bool) -> list[str]:
    """The worker's command line: a fresh interpreter (never a fork of this threaded process).

    It names this process, so the worker dies with it, and whether the worker may open network sockets.
    """
    # -P: the script's folder (server/engine/) stays off sys.path, so its module names shadow nothing.
    return [sys.executable, "-P", _WORKER, str(fd), spec["path"], str(int(spec["in_memory"])),
            str(int(spec["writable"])), str(os.getpid()), str(int(network)), *spec.get("files", ())]


class Executor:
    """One worker process and the parent's end of its socket."""

    def __init__(self, spec: dict, *, network: bool = False, zygote: Client | None = None):
        """A fork of `zygote` (the store shared, in milliseconds) when given and alive, else a fresh process."""
        ours, theirs = socket.socketpair()
        self.process: subprocess.Popen | Forked | None = None
        if zygote is not None:
            try:
                self.process = zygote.fork(theirs, network=network)
            except OSError as error:  # the zygote is gone: this worker loads the store itself
                log.error("the zygote is gone (%s): a query worker loads the store itself", error)
        if self.process is None:
            self.process = subprocess.Popen(command(spec, theirs.fileno(), network), pass_fds=(theirs.fileno(),),
                                            stdin=subprocess.DEVNULL, env=allocator.environment(spec.get("preload")))
        theirs.close()
        self.sock = ours
        self.started = time.monotonic()
        self.triples: int | None = None
        self.loaded_by: int | None = None  # the pid of the process that loaded the store (the zygote, if forked)
        self.seq = 0
        self.ahead = b""  # bytes read past the end of a frame: the start of the next one (streamed answers)

    def _recv(self, size: int, deadline: float) -> bytes:
        """Up to `size` bytes, waiting at most until `deadline`; TimeoutError past it, WorkerCrashed on EOF."""
        # Past the deadline, still take what has already arrived (a worker that started long ago is ready).
        self.sock.settimeout(max(deadline - time.monotonic(), 0.0))
        try:
            data = self.sock.recv(size)
        except BlockingIOError:  # timeout 0 makes the socket non-blocking: nothing there yet
            raise TimeoutError from None
        if not data:
            raise WorkerCrashed(f"query worker {self.process.pid} hung up (exit status {self.process.poll()})")
        return data

    def _frame(self, first: float, rest: float) -> tuple[int, int, dict, list[bytes]]:
        """One frame: its first bytes by `first` (else TimeoutError), all of it by `rest` (else Stalled)."""
        data, self.ahead = self.ahead or self._recv(BUFFER, first), b""
        try:
            return self._rest_of_frame(data, rest)
        except TimeoutError:
            raise Stalled(f"query worker {self.process.pid} stopped in the middle of an answer") from None

    def _rest_of_frame(self, data: bytes, rest: float) -> tuple[int, int, dict, list[bytes]]:
        while len(data) < worker.HEADER.size:
            data += self._recv(worker.HEADER.size - len(data), rest)
        seq, kind, meta_len, body_len = worker.HEADER.unpack_from(data)
        head_end = worker.HEADER.size + meta_len
        while len(data) < head_end:
            data += self._recv(BUFFER, rest)
        meta = json.loads(data[worker.HEADER.size:head_end])
        if len(data) > head_end + body_len:  # the next frame of a streamed answer began in the same read
            data, self.ahead = data[:head_end + body_len], data[head_end + body_len:]
        chunks, got = [data[head_end:]] if len(data) > head_end else [], len(data) - head_end
        while got < body_len:  # the rest of the frame as it comes; kept as the chunks it came in
            chunk = self._recv(min(body_len - got, 1 << 20), rest)
            chunks.append(chunk)
            got += len(chunk)
        return seq, kind, meta, chunks

    def ready(self, deadline: float) -> bool:
        """True once the worker has opened its store; False if it has not by `deadline` (still starting)."""
        if self.triples is not None:
            return True
        try:
            seq, kind, meta, _ = self._frame(deadline, deadline + MARGIN)
        except TimeoutError:
            return False
        except Stalled as error:
            raise WorkerCrashed(str(error)) from None
        if kind != worker.READY:
            raise WorkerCrashed(f"query worker {self.process.pid} did not start properly")
        if isinstance(self.process, Forked) and not self.process.attach(MARGIN):  # its pid, sent before it ran
            raise WorkerCrashed("the zygote did not say which process the query worker is")
        self.triples, self.loaded_by = meta["triples"], meta.get("loaded_by")
        return True

    def loaded(self) -> bool:
        """Whether the worker has opened its store (never waits; False for one that crashed while starting)."""
        try:
            return self.ready(time.monotonic())
        except WorkerCrashed:
            return False

    def run(self, request: tuple, timeout: float, *, heavy_after: float | None = None) -> Answer:
        """Send one request, collect the answer; TimeoutError, Stalled or WorkerCrashed as in `_frame`.

        Past `heavy_after` s the worker's CPU priority is lowered until the answer is in: a long query yields
        the CPU to short ones, to workers loading the store and to the server process itself.
        """
        self.seq += 1
        started = time.monotonic()
        deadline = started + timeout
        self.sock.settimeout(timeout)
        self.sock.sendall(worker.pack_request(self.seq, request))
        try:
            seq, kind, meta, chunks = self._frame(min(deadline, started + (heavy_after or timeout)), deadline + MARGIN)
        except TimeoutError:
            if heavy_after is None or time.monotonic() >= deadline:
                raise
            self._nice(HEAVY_NICENESS)
            seq, kind, meta, chunks = self._frame(deadline, deadline + MARGIN)
            self._nice(0)
        if seq != self.seq:
            raise WorkerCrashed(f"query worker {self.process.pid} answered request {seq}, not {self.seq}")
        if kind == worker.SYNTAX:
            raise QuerySyntaxError(b"".join(chunks).decode())
        if kind == worker.EVALUATION:
            raise EvaluationError(b"".join(chunks).decode())
        answer = Answer(meta, chunks)
        if meta.get("more"):
            answer.rest = self._rest(answer, deadline + MARGIN)
        return answer

    def _rest(self, answer: Answer, until: float) -> Iterator[bytes]:
        """A streamed answer's further frames, one body chunk each, all by `until` (else Stalled); the last one's meta
        completes `answer.meta`. An error the engine met mid-answer raises EvaluationError."""
        while True:
            if time.monotonic() > until:  # a reader that takes a frame now and then must not hold the worker longer
                raise Stalled(f"query worker {self.process.pid}: answer not finished within its limit + {MARGIN:g} s")
            try:
                seq, kind, meta, chunks = self._frame(until, until)
            except TimeoutError:
                raise Stalled(f"query worker {self.process.pid} stopped in the middle of an answer") from None
            if seq != self.seq:
                raise WorkerCrashed(f"query worker {self.process.pid} answered request {seq}, not {self.seq}")
            if kind in (worker.SYNTAX, worker.EVALUATION):
                raise EvaluationError(b"".join(chunks).decode())
            if kind not in (worker.MORE, worker.END):
                raise WorkerCrashed(f"query worker {self.process.pid} sent a frame of kind {kind} mid-answer")
            body = b"".join(chunks)
            if kind == worker.END:
                del answer.meta["more"]
                answer.meta.update(meta)
                if body:
                    yield body
                return
            yield body

    def _nice(self, niceness: int) -> None:
        """Set the worker's niceness; going back to 0 needs privilege (root, RLIMIT_NICE): it stays lower otherwise."""
        try:
            os.setpriority(os.PRIO_PROCESS, self.process.pid, niceness)
        except (PermissionError, ProcessLookupError):
            pass

    def kill(self) -> None:
        """SIGKILL: the only way to stop a query running inside pyoxigraph (or a stopped worker)."""
        self.process.kill()
        self.sock.close()
        try:
            self.process.wait(KILL_WAIT)
        except subprocess.TimeoutExpired:
            # A worker holding a big store (and niced) may take seconds to free it: the request does not wait.
            threading.Thread(target=self._reap, name="query-worker-reaper", daemon=True).start()

    def _reap(self) -> None:
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            log.error("query worker %s did not exit in 60 s after SIGKILL", self.process.pid)
