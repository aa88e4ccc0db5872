"""A small pool of query worker processes per server process, with a real, CPU-freeing timeout.

Every wait here has a deadline: for an idle worker, for a worker to start, for the first byte of an
answer (the query's time limit) and for the rest of it (the limit + MARGIN). A worker that misses one
is killed (SIGKILL works on stopped processes too) and replaced, and the request gets a named error.
"""

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from server.engine import allocator, worker
from server.errors import BadRequest, Overloaded, QuerySyntaxError, QueryTimeout, ServiceError, WorkerStalled

log = logging.getLogger("server.executor")
_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
MARGIN = 5.0  # seconds an answer that has started may take to arrive in full (local socket: milliseconds)
BUFFER = 1 << 16  # first read: header, meta and a small body in one system call (below malloc's mmap threshold)


class EvaluationError(ServiceError):
    """The engine refused to evaluate a query that parsed (e.g. SERVICE failure, bad graph)."""

    status, title = 400, "Query evaluation error"


class WorkerCrashed(RuntimeError):
    """The worker hung up or answered out of step: an internal error (500 with a log id), never reused."""


class Stalled(Exception):
    """An answer began but did not end in time (a stopped or wedged worker)."""


@dataclass
class Answer:
    """What a worker sent back: meta (kind, format, truncated, bytes) and the body in chunks."""

    meta: dict
    chunks: list[bytes] = field(default_factory=list)


def command(spec: dict, fd: int) -> list[str]:
    """The worker's command line: a fresh interpreter (never a fork of this threaded process)."""
    # -P: the script's folder (server/engine/) stays off sys.path, so its module names shadow nothing.
    return [sys.executable, "-P", _WORKER, str(fd), spec["path"],
            str(int(spec["in_memory"])), str(int(spec["writable"]))]


class Executor:
    """One worker process and the parent's end of its socket."""

    def __init__(self, spec: dict):
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(command(spec, theirs.fileno()), pass_fds=(theirs.fileno(),),
                                        stdin=subprocess.DEVNULL, env=allocator.environment(spec.get("preload")))
        theirs.close()
        self.sock = ours
        self.started = time.monotonic()
        self.triples: int | None = None
        self.seq = 0

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
        data = self._recv(BUFFER, first)
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
        chunks, got = [data[head_end:]] if len(data) > head_end else [], len(data) - head_end
        while got < body_len:  # big answers arrive as they come; kept as the chunks they came in
            chunk = self._recv(min(body_len - got, 1 << 20), rest)
            chunks.append(chunk)
            got += len(chunk)
        if got != body_len:
            raise WorkerCrashed(f"query worker {self.process.pid} sent {got} bytes for a {body_len}-byte answer")
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
        self.triples = meta["triples"]
        return True

    def run(self, request: tuple, timeout: float) -> Answer:
        """Send one request, collect the answer; TimeoutError, Stalled or WorkerCrashed as in `_frame`."""
        self.seq += 1
        started = time.monotonic()
        self.sock.settimeout(timeout)
        self.sock.sendall(worker.pack_request(self.seq, request))
        seq, kind, meta, chunks = self._frame(started + timeout, started + timeout + MARGIN)
        if seq != self.seq:
            raise WorkerCrashed(f"query worker {self.process.pid} answered request {seq}, not {self.seq}")
        if kind == worker.SYNTAX:
            raise QuerySyntaxError(b"".join(chunks).decode())
        if kind == worker.EVALUATION:
            raise EvaluationError(b"".join(chunks).decode())
        return Answer(meta, chunks)

    def kill(self) -> None:
        """SIGKILL: the only way to stop a query running inside pyoxigraph (or a stopped worker)."""
        self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            log.error("query worker %s did not exit after SIGKILL", self.process.pid)
        self.sock.close()


class Pool:
    """Up to `size` workers for this server process; a worker that misses a deadline is killed and replaced."""

    def __init__(self, spec: dict, size: int, *, start_timeout: float = 120.0):
        self.spec, self.size, self.start_timeout = spec, size, start_timeout
        self.pid = os.getpid()
        self.idle: list[Executor] = [Executor(spec) for _ in range(size)]  # all load the store in parallel
        self.timeouts = 0
        self.cond = threading.Condition()

    def _acquire(self, deadline: float) -> Executor:
        with self.cond:
            while not self.idle:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Overloaded("all query workers are busy; retry shortly", headers={"Retry-After": "5"})
                self.cond.wait(left)
            return self.idle.pop()

    def _release(self, executor: Executor) -> None:
        with self.cond:
            self.idle.append(executor)
            self.cond.notify()

    def _replace(self, executor: Executor) -> None:
        """Kill `executor` and start a fresh worker in its place (it loads while other requests go on)."""
        executor.kill()
        fresh = Executor(self.spec)  # outside the lock: starting a process takes milliseconds
        self._release(fresh)

    def _ready(self, executor: Executor, deadline: float) -> None:
        """Wait for a starting worker until the request's deadline; one past its start time is replaced."""
        if executor.ready(min(deadline, executor.started + self.start_timeout)):
            return
        if time.monotonic() >= executor.started + self.start_timeout:
            log.error("query worker %s did not start in %.0f s; replaced", executor.process.pid, self.start_timeout)
            self._replace(executor)
        else:
            self._release(executor)  # still loading the store: another request may find it ready
        raise Overloaded("the query workers are still starting; retry shortly", headers={"Retry-After": "5"})

    def run(self, request: tuple, timeout: float) -> Answer:
        """Run `request` in a worker; QueryTimeout (503) after `timeout` s, the worker killed at once."""
        executor = self._acquire(time.monotonic() + timeout)
        try:
            self._ready(executor, time.monotonic() + timeout)
        except WorkerCrashed:
            self._replace(executor)
            raise
        started = time.monotonic()
        try:
            answer = executor.run(request, timeout)
        except TimeoutError:
            self.timeouts += 1
            log.warning("query timeout after %.1f s; worker %s killed", time.monotonic() - started, executor.process.pid)
            self._replace(executor)
            raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped",
                               headers={"Retry-After": "30"}) from None
        except Stalled as error:
            log.error("%s; killed", error)
            self._replace(executor)
            raise WorkerStalled("the query worker stopped answering and was replaced; retry",
                                headers={"Retry-After": "5"}) from None
        except (QuerySyntaxError, EvaluationError, BadRequest):
            self._release(executor)  # a complete, well-formed answer: the worker is in step
            raise
        except BaseException:
            self._replace(executor)  # state unknown (hung up, out of step, interrupted): never reuse it
            raise
        self._release(executor)
        return answer

    def pids(self) -> list[int]:
        """Process ids of the idle workers (for tests and /healthz)."""
        with self.cond:
            return [e.process.pid for e in self.idle]

    def triples(self) -> int | None:
        """Triple count reported by any started worker."""
        with self.cond:
            return next((e.triples for e in self.idle if e.triples is not None), None)

    def close(self) -> None:
        """Stop every idle worker (busy ones exit when their socket closes)."""
        with self.cond:
            idle, self.idle = self.idle, []
        for executor in idle:
            executor.kill()
