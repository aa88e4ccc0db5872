"""A small pool of query worker processes per server process, with a real, CPU-freeing timeout."""

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from server.errors import BadRequest, Overloaded, QuerySyntaxError, QueryTimeout, ServiceError

log = logging.getLogger("server.executor")
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # so the child finds `server`


class EvaluationError(ServiceError):
    """The engine refused to evaluate a query that parsed (e.g. SERVICE failure, bad graph)."""

    status, title = 400, "Query evaluation error"


@dataclass
class Answer:
    """What a worker sent back: meta (kind, format, truncated, bytes) and the body in chunks."""

    meta: dict
    chunks: list[bytes] = field(default_factory=list)


class Executor:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, spec: dict):
        # A fresh interpreter (not fork: the parent may run threads and hold a RocksDB handle; not
        # multiprocessing's spawn: it re-imports the caller's __main__), talking over a socket pair.
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-m", "server.worker", str(theirs.fileno()), spec["path"],
                   str(int(spec["in_memory"])), str(int(spec["writable"]))]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")])))
        self.process = subprocess.Popen(command, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env)
        theirs.close()
        self.conn = Connection(ours.detach())
        self.triples: int | None = None

    def wait_ready(self, timeout: float) -> None:
        """Block until the worker has opened its store (first use only)."""
        if self.triples is not None:
            return
        if not self.conn.poll(timeout):
            raise Overloaded("the query worker did not start in time", headers={"Retry-After": "5"})
        status, triples = self.conn.recv()
        self.triples = triples

    def run(self, request: tuple, timeout: float) -> Answer:
        """Send one request and collect the answer; raises QueryTimeout after `timeout` seconds."""
        self.conn.send(request)
        if not self.conn.poll(timeout):
            raise TimeoutError
        message = self.conn.recv()
        if message[0] == "error":
            _, kind, text = message
            raise QuerySyntaxError(text) if kind == "syntax" else EvaluationError(text)
        answer = Answer(message[1])
        if len(message) == 3:
            answer.chunks.append(message[2])
            return answer
        while chunk := self.conn.recv_bytes():
            answer.chunks.append(chunk)
        return answer

    def kill(self) -> None:
        """SIGKILL: the only way to stop a query running inside pyoxigraph."""
        self.process.kill()
        self.process.wait(5)
        self.conn.close()


class Pool:
    """Up to `size` workers for this server process; a timed-out worker is killed and replaced."""

    def __init__(self, spec: dict, size: int, *, start_timeout: float = 120.0):
        self.spec, self.size, self.start_timeout = spec, size, start_timeout
        self.pid = os.getpid()
        self.idle: list[Executor] = []
        self.total = 0
        self.timeouts = 0
        self.cond = threading.Condition()
        for _ in range(size):  # start them all now: each loads the store, in parallel
            self.idle.append(Executor(spec))
            self.total += 1

    def _acquire(self, wait: float) -> Executor:
        deadline = time.monotonic() + wait
        with self.cond:
            while not self.idle and self.total >= self.size:
                if not self.cond.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() >= deadline:
                    raise Overloaded("all query workers are busy; retry shortly", headers={"Retry-After": "5"})
            if self.idle:
                return self.idle.pop()
            self.total += 1
        return Executor(self.spec)

    def _release(self, executor: Executor | None) -> None:
        with self.cond:
            if executor is None:
                self.total -= 1
            else:
                self.idle.append(executor)
            self.cond.notify()

    def run(self, request: tuple, timeout: float) -> Answer:
        """Run `request` in a worker; a 503 QueryTimeout after `timeout` s, the worker killed at once."""
        executor = self._acquire(timeout)
        try:
            executor.wait_ready(self.start_timeout)
            started = time.monotonic()
            answer = executor.run(request, timeout)
        except TimeoutError:
            executor.kill()
            self.timeouts += 1
            log.warning("query timeout after %.1f s; worker %s killed", time.monotonic() - started, executor.process.pid)
            self._replace()
            raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped",
                               headers={"Retry-After": "30"}) from None
        except (QuerySyntaxError, EvaluationError, BadRequest):
            self._release(executor)
            raise
        except BaseException:
            executor.kill()  # state unknown (broken pipe, interrupted read): never reuse it
            self._replace()
            raise
        self._release(executor)
        return answer

    def _replace(self) -> None:
        """Start a fresh worker in the dead one's place, so it loads while other requests go on."""
        with self.cond:
            self.idle.append(Executor(self.spec))
            self.cond.notify()

    def pids(self) -> list[int]:
        """Process ids of the idle workers (for tests and /healthz)."""
        with self.cond:
            return [e.process.pid for e in self.idle]

    def triples(self) -> int | None:
        """Triple count reported by any started worker."""
        with self.cond:
            return next((e.triples for e in self.idle if e.triples is not None), None)

    def close(self) -> None:
        """Stop every idle worker (busy ones exit when their pipe closes)."""
        with self.cond:
            for executor in self.idle:
                executor.kill()
            self.idle.clear()
            self.total = 0
