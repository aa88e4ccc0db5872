"""Admission: which request gets which query worker of this server process, and when a request is refused.

Heavy queries must not make light ones wait: general workers run anything up to its limit, a reserve worker
takes new work while they are busy but only for a short turn, a few requests may wait, and the rest are refused
at once with 503 + Retry-After. Every wait counts against the query's own limit, so no request ends later than
its limit (+ MARGIN for a big answer to arrive), whatever it waited for.
"""

import logging
import math
import os
import queue
import threading
import time
from concurrent.futures import Future

from server.engine.executor import Answer, EvaluationError, Executor, Stalled, WorkerCrashed
from server.engine.zygote import Client
from server.errors import BadRequest, Overloaded, QuerySyntaxError, QueryTimeout, ServiceError, WorkerStalled

log = logging.getLogger("server.admission")
GENERAL, RESERVE, SPARE = "general", "reserve", "spare"  # a worker's role in its Pool


class _Spawner:
    """Starts worker processes from one long-lived thread of this process.

    A worker's parent-death signal (server/engine/sandbox.py) fires when the *thread* that started it ends, so a
    worker started from a short-lived request thread (a replacement after a timeout) would die with that request.
    """

    def __init__(self):
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="query-worker-spawner", daemon=True).start()

    def _serve(self) -> None:
        while True:
            start, done = self.jobs.get()
            try:
                done.set_result(start())
            except BaseException as error:  # noqa: BLE001 - handed to the caller, which raises it
                done.set_exception(error)

    def __call__(self, start):
        done = Future()
        self.jobs.put((start, done))
        return done.result()


class _Rest:
    """The rest of a streamed answer, for its reader; the worker goes back to the pool when the last frame is in,
    and is killed and replaced when the answer stalls or breaks, or when the reader stops early (close())."""

    def __init__(self, pool: "Pool", executor: Executor, answer: Answer):
        self.pool, self.executor, self.answer, self.frames = pool, executor, answer, answer.rest
        self.settled = False

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        if self.settled:
            raise StopIteration
        try:
            return next(self.frames)
        except StopIteration:
            self._settle(done=True)
            raise
        except EvaluationError:
            self._settle(done=False, release=True)  # a complete, well-formed frame: the worker is in step
            raise
        except BaseException as error:
            if isinstance(error, Stalled):
                log.error("%s; killed", error)
            self._settle(done=False)
            raise

    def close(self) -> None:
        """The reader is done: a worker still writing this answer is out of step, so it is replaced."""
        if not self.settled:
            self.frames.close()
            self._settle(done=False)

    def _settle(self, *, done: bool, release: bool = False) -> None:
        self.settled = True
        if done:
            self.pool._done(self.executor, self.answer)
        elif release:
            self.pool._release(self.executor)
        else:
            self.pool._replace(self.executor)


class Pool:
    """This server process's query workers: `size` general ones, `reserve` kept for new work, a bounded wait.

    Admission, in order: an idle general worker; else an idle reserve worker, for at most `heavy_after` s (a query
    still running then is stopped, so the reserve is soon free for the next light query); else, if fewer than
    `queue` requests wait already, wait; else 503 at once. Waiting requests are served newest first (under
    overload the newest has the most of its limit left, and a burst of heavy queries that queued first does not
    hold the line), and a waiting request takes the reserve only within 2 × `heavy_after` s of its arrival (one
    turn of the query on it, then its own): a light query that came during a heavy one's turn gets the next turn,
    while heavy queries queued behind each other do not hold the reserve turn after turn. The time spent waiting
    counts against the query's limit, so a request ends within its limit (+ MARGIN for a big answer to arrive).
    A killed worker's place is taken by a `spare` (already loaded) when there is one, and a new spare loads.
    With a `zygote`, workers are its forks, and one that has copied more than `copied_bytes` of the store (pages
    it wrote to: reading the in-memory store does) is replaced after its answer by a fresh fork.
    """

    def __init__(self, spec: dict, size: int, *, reserve: int = 0, spare: int = 0, heavy_after: float = 1.0,
                 queue: int = 0, network: bool = False, start_timeout: float = 120.0, zygote: Client | None = None,
                 copied_bytes: int | None = None):
        self.spec, self.network, self.start_timeout, self.zygote = spec, network, start_timeout, zygote
        self.copied_bytes = copied_bytes  # a fork that copied more of the store is replaced after its answer
        self.heavy_after, self.queue = heavy_after, queue
        self.pid = os.getpid()
        self.cond = threading.Condition()
        self.spawn = _Spawner()
        self.role: dict[Executor, str] = {}  # every live worker's role
        # All load the store in parallel.
        self.idle = {role: [self._start(role) for _ in range(count)]
                     for role, count in ((GENERAL, size), (RESERVE, reserve), (SPARE, spare))}
        self.busy: dict[Executor, float] = {}  # running → its deadline
        self.waiters: list[tuple[int, float]] = []  # (thread, arrival) of the waiting requests, oldest first
        self.closed = False

    def _start(self, role: str) -> Executor:
        # With a zygote every worker is a fork of it (the store shared, started in milliseconds). Without one, a
        # reserve worker reads the store on disk: it starts in a fraction of a second whatever the store's size
        # (copying 10^5 triples into memory took 6-9 s beside four busy workers) and holds no copy of its own;
        # its short queries hardly feel the slower scans.
        spec = {**self.spec, "in_memory": False} if role == RESERVE else self.spec
        executor = self.spawn(lambda: Executor(spec, network=self.network, zygote=self.zygote))
        self.role[executor] = role
        return executor

    def _retry_after(self) -> dict[str, str]:
        """Retry-After: when the first general worker is sure to be free (its query's deadline)."""
        deadlines = [d for e, d in self.busy.items() if self.role[e] == GENERAL] or [time.monotonic() + 1]
        return {"Retry-After": str(max(1, math.ceil(min(deadlines) - time.monotonic())))}

    @staticmethod
    def _pick(workers: list[Executor], *, loaded: bool = False) -> Executor | None:
        """(Lock held) take the first of `workers` that has opened the store, else (unless `loaded`) the first."""
        for i, executor in enumerate(workers):
            if executor.loaded():
                return workers.pop(i)
        return None if loaded or not workers else workers.pop(0)

    def _take(self) -> Executor | None:
        """(Lock held) an idle general worker, else an idle reserve worker, else None."""
        for role in (GENERAL, RESERVE):
            if self.idle[role]:
                return self._pick(self.idle[role])
        return None

    def _take_waiting(self) -> Executor | None:
        """(Lock held) the worker this waiting thread is next for, if any (see the class: newest first)."""
        me, now = threading.get_ident(), time.monotonic()
        if self.idle[GENERAL]:
            if self.waiters[-1][0] == me:
                return self._pick(self.idle[GENERAL])
        elif self.idle[RESERVE]:
            eligible = [thread for thread, arrived in self.waiters if now - arrived < 2 * self.heavy_after]
            if eligible and eligible[-1] == me:
                return self._pick(self.idle[RESERVE])
        return None

    def _acquire(self, arrived: float, deadline: float) -> Executor:
        """An idle worker (general first), else a place in the bounded queue until `deadline`; else Overloaded."""
        with self.cond:
            executor = self._take()
            if executor is None:
                if len(self.waiters) >= self.queue:
                    raise Overloaded("heavy queries are running and every query worker is busy; retry later",
                                     headers=self._retry_after())
                self.waiters.append((threading.get_ident(), arrived))
                try:
                    executor = self._wait(deadline)
                finally:
                    self.waiters.remove((threading.get_ident(), arrived))
                if self.idle[GENERAL] or self.idle[RESERVE]:
                    self.cond.notify_all()  # another waiter may be next for what is left
            self.busy[executor] = deadline
            return executor

    def _wait(self, deadline: float) -> Executor:
        """(Lock held) the worker this request is next for (see the class), before `deadline`; else Overloaded."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Overloaded("every query worker stayed busy for this query's whole time limit; retry later",
                                 headers=self._retry_after())
            self.cond.wait(left)
            executor = self._take_waiting()
            if executor is not None:
                return executor

    def _release(self, executor: Executor) -> None:
        with self.cond:
            self.busy.pop(executor, None)
            if not self.closed:
                self.idle[self.role[executor]].append(executor)
                self.cond.notify_all()  # waiters differ in what they may take (see the class)
                return
        executor.kill()  # the pool was closed while it ran

    def _replace(self, executor: Executor) -> None:
        """Kill `executor`; a loaded spare takes its place (and a new spare loads), or a fresh worker starts."""
        with self.cond:
            self.busy.pop(executor, None)
            fresh = self._pick(self.idle[SPARE], loaded=True)  # one still loading is no faster than a fresh one
        executor.kill()
        role = self.role.pop(executor)
        if self.closed:
            return
        if fresh is None:
            fresh = self._start(role)  # outside the lock: starting a process takes milliseconds
        else:
            self.role[fresh] = role
            self._release(self._start(SPARE))
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

    def run(self, request: tuple, timeout: float, *, stream: bool = False) -> Answer:
        """Run `request` within `timeout` s of now, waits included; 503 past it, the worker killed at once.

        A long answer is read whole before returning, unless `stream`: then its `rest` yields the body as it
        arrives (by the limit + MARGIN) and must be read to the end or closed; the worker is busy until then.
        """
        arrived = time.monotonic()
        deadline = arrived + timeout
        executor = self._acquire(arrived, deadline)
        try:
            self._ready(executor, deadline)
        except WorkerCrashed:
            self._replace(executor)
            raise
        started = time.monotonic()
        limit = deadline - started
        if limit <= 0:  # the wait took it all: the worker never saw the query, so it stays
            self._release(executor)
            raise self._stopped(False, timeout, started - arrived, 0.0)
        cut = self.role[executor] == RESERVE and self.heavy_after < limit  # the reserve's short limit applies
        if cut:
            limit = self.heavy_after
        try:
            answer = executor.run(request, max(limit, 0.0), heavy_after=self.heavy_after)
        except TimeoutError:
            self._replace(executor)
            raise self._stopped(cut, timeout, started - arrived, limit) from None
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
        if answer.rest is None:
            self._done(executor, answer)
            return answer
        answer.rest = _Rest(self, executor, answer)
        if not stream:
            try:
                answer.chunks.extend(answer.rest)
            except Stalled:
                raise WorkerStalled("the query worker stopped answering and was replaced; retry",
                                    headers={"Retry-After": "5"}) from None
            answer.rest = None
        return answer

    def _done(self, executor: Executor, answer: Answer) -> None:
        """An answer is in: the worker takes the next request, or is replaced by a fresh fork if it copied too much."""
        if self.copied_bytes is not None and answer.meta.get("copied", 0) > self.copied_bytes:
            # A fresh fork shares the store again (milliseconds); the answer does not wait for the kill.
            threading.Thread(target=self._replace, args=(executor,), name="query-worker-recycler", daemon=True).start()
        else:
            self._release(executor)

    def _stopped(self, cut: bool, timeout: float, waited: float, limit: float) -> ServiceError:
        """The 503 for a query stopped at its limit (`cut`: at the reserve's short one), and the log line."""
        log.warning("query stopped after running %.1f s (and waiting %.1f s for a worker)", limit, waited)
        if cut:
            with self.cond:
                headers = self._retry_after()
            return Overloaded(f"heavy queries are running: this one was stopped after {limit:g} s; retry later",
                              headers=headers)
        waiting = f" ({waited:.1f} s of it waiting for a free query worker)" if waited >= 0.1 else ""
        return QueryTimeout(f"the query ran longer than {timeout:g} s{waiting} and was stopped",
                            headers={"Retry-After": "30"})

    def pids(self, role: str = GENERAL) -> list[int]:
        """Process ids of the idle workers of `role` (for tests and /healthz); a fork the zygote has not made yet
        (it is still loading the store) has none."""
        with self.cond:
            return [e.process.pid for e in self.idle[role] if e.process.pid is not None]

    def triples(self) -> int | None:
        """Triple count reported by any started worker."""
        with self.cond:
            return next((e.triples for e in self.idle[GENERAL] + self.idle[RESERVE] if e.triples is not None), None)

    def close(self) -> None:
        """Stop every worker, busy ones too (a query running in pyoxigraph never reads its socket's end)."""
        with self.cond:
            self.closed = True
            executors = [*self.idle[GENERAL], *self.idle[RESERVE], *self.idle[SPARE], *self.busy]
            self.idle = {GENERAL: [], RESERVE: [], SPARE: []}
            self.busy = {}
        for executor in executors:
            executor.kill()
