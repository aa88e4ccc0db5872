"""Query workers die with the server process that started them, even mid-query (issue 11, finding 5)."""

import os
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from serverkit import (
    CROSS_PRODUCT,
    SAMPLE,
    command_line,
    cpu_seconds,
    descendants,
    gone_within,
    kg_serve,
    parent,
    served_by,
)

GONE_WITHIN = 2.0  # seconds after its parent's death by which a query worker must be gone


def query_workers(server_pid: int) -> list[int]:
    """The query worker processes below `server_pid`: fresh ones (server/engine/worker.py) and the zygote's forks."""
    found = []
    for pid in descendants(server_pid):
        try:
            if b"worker.py" in command_line(pid) or b"zygote.py" in command_line(parent(pid)):
                found.append(pid)
        except OSError:
            continue
    return found


def start_runaway(url: str) -> threading.Thread:
    """A cross product in a background request (its connection dies with the server process that takes it)."""
    address = f"{url}/sparql?" + urllib.parse.urlencode({"query": CROSS_PRODUCT})

    def run():
        try:
            with urllib.request.urlopen(address, timeout=20) as answer:
                answer.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # the server process was killed under it: what this test does

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def busy_worker(server_pid: int) -> int:
    """The query worker using the CPU (the one running the cross product); waits up to 10 s for it to start."""
    for _ in range(40):
        workers = query_workers(server_pid)
        before = {pid: cpu_seconds([pid]) for pid in workers}
        time.sleep(0.25)
        busy = [pid for pid in workers if cpu_seconds([pid]) - before[pid] > 0.1]
        if busy:
            return busy[0]
    raise AssertionError("no query worker started running the cross product")


@pytest.mark.reliability
def test_kill_9_of_a_server_process_ends_its_busy_query_worker():
    with kg_serve("--data", SAMPLE) as (url, process):
        runaway = start_runaway(url)
        worker = busy_worker(process.pid)
        server_process = served_by(worker)
        assert server_process != process.pid  # a gunicorn worker, not the master
        assert b"zygote.py" not in command_line(server_process)
        os.kill(server_process, signal.SIGKILL)
        assert gone_within([worker], GONE_WITHIN) == [], "the query worker outlived its server process"
        runaway.join(5)


@pytest.mark.reliability
def test_kill_9_of_the_whole_kg_serve_leaves_no_query_worker():
    with kg_serve("--data", SAMPLE) as (url, process):
        runaway = start_runaway(url)
        busy_worker(process.pid)
        workers = query_workers(process.pid)
        # The master and its gunicorn workers, as an OOM killer or a supervisor that signals pids would.
        servers = [pid for pid in descendants(process.pid) if pid not in workers]
        for pid in [process.pid, *servers]:
            os.kill(pid, signal.SIGKILL)
        process.wait(5)
        assert gone_within(workers, GONE_WITHIN) == [], "query workers outlived kg serve"
        runaway.join(5)
