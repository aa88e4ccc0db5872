"""New connections go to the gunicorn worker holding the fewest (server/ops/balance.py), so a few keep-alive
clients use every worker instead of sometimes all landing in one (half the rate on two cores)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from serverkit import SAMPLE, command_line, descendants, gunicorn, parent
from test_slow_clients import ASK, read_answer, status

from server.ops import balance


def holder(port: int, client_port: int, workers: list[int]) -> int:
    """The worker process holding the server end of the connection from `client_port`."""
    wanted = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":"), fields[2].split(":")
        if int(local[1], 16) == port and int(remote[1], 16) == client_port:
            wanted = f"socket:[{fields[9]}]"
    assert wanted, f"no server socket for client port {client_port}"
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == wanted:
                    return pid
            except OSError:
                continue
    raise AssertionError(f"no worker holds {wanted}")


def gunicorn_workers(server: subprocess.Popen, count: int) -> list[int]:
    """The server's `count` gunicorn workers, once each waits in its event loop (so each takes part in accepting)."""
    deadline = time.monotonic() + 60
    while True:
        workers = [pid for pid in descendants(server.pid)
                   if parent(pid) == server.pid and b"zygote.py" not in command_line(pid)]
        if len(workers) == count and all("epoll" in Path(f"/proc/{pid}/wchan").read_text() for pid in workers):
            return workers
        assert time.monotonic() < deadline, f"{count} gunicorn workers not all waiting in their event loop: {workers}"
        time.sleep(0.1)


@pytest.mark.parametrize("clients", [4, 8])
def test_keep_alive_connections_are_spread_evenly_over_the_workers(clients):
    with gunicorn(SAMPLE, workers=2) as (url, server):
        port = int(url.rsplit(":", 1)[1])
        workers = gunicorn_workers(server, 2)
        connections = []
        try:
            for _ in range(clients):  # one after another, each answered before the next connects
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                sock.sendall(ASK.encode())
                assert status(read_answer(sock)) == 200
                connections.append(sock)
            held = [holder(port, sock.getsockname()[1], workers) for sock in connections]
            assert sorted(held.count(pid) for pid in workers) == [clients // 2, clients // 2], held
            for sock in connections:  # and every connection still answers (none was left behind)
                sock.sendall(ASK.encode())
                assert status(read_answer(sock)) == 200
        finally:
            for sock in connections:
                sock.close()


def test_the_table_claims_a_free_or_dead_slot_and_ignores_dead_workers():
    table = balance.Table()
    me = table.claim(os.getpid())
    assert table.least_elsewhere(me) is None  # alone
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    other = table.claim(dead.pid)
    table.publish(other, 0)
    table.publish(me, 3)
    assert table.least_elsewhere(me) is None  # the other worker died: it takes no connections
    sibling = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert table.claim(sibling.pid) == other  # the dead worker's slot is reused
        table.publish(other, 1)
        assert table.least_elsewhere(me) == 1
        table.release(other)
        assert table.least_elsewhere(me) is None
    finally:
        sibling.kill()
        sibling.wait()


def test_without_shared_semaphores_the_workers_run_unbalanced_and_the_log_says_so(monkeypatch, caplog):
    def no_semaphores():
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(balance.multiprocessing, "Lock", no_semaphores)
    assert balance.table() is None
    assert "not spread over the workers: [Errno 38] Function not implemented" in caplog.text
    monkeypatch.undo()
    assert isinstance(balance.table(), balance.Table)
