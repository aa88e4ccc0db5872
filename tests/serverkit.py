"""Helpers shared by the endpoint's tests: an app on the fixture data, and a real gunicorn server."""

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from server import create_app

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "server"
SAMPLE = DATA / "sample.trig"
KG = [str(ROOT / ".venv" / "bin" / "kg")] if (ROOT / ".venv" / "bin" / "kg").exists() else [sys.executable, "-m", "kg"]
# Long enough to run for minutes on 20 triples (20^8 rows to count), so only the time limit stops it.
CROSS_PRODUCT = ("SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
                 "?m ?n1 ?o . ?p ?q ?r . ?s ?t ?u . ?v ?w ?x }")


def make_app(files=(SAMPLE,), **config):
    """The app serving `files` through the same code path as `kg serve --data`."""
    settings = {"TESTING": True, "DATA": [str(f) for f in files], "EXECUTORS": 2, "ACCESS_LOG": True}
    settings.update(config)
    return create_app(settings)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def kg_serve(*args, env=None, kg=KG, cwd=ROOT):
    """`kg serve --bind <free loopback port> ARGS` (gunicorn); yields (base URL, process); stopped (SIGTERM) after.

    `kg` and `cwd` run another installation's command from another folder (tests/test_packaging.py).
    The server's output goes to a temporary file, never a pipe: nobody drains a pipe here, and a full one would
    block the server's access log and hang the test.
    """
    port = free_port()
    command = kg + ["serve", "--bind", f"127.0.0.1:{port}", *map(str, args)]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})},
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"

        def output() -> str:
            log.seek(0)
            return log.read().decode(errors="replace")[-5000:]

        try:
            for _ in range(900):  # up to 90 s on a busy machine
                if process.poll() is not None:
                    raise RuntimeError("kg serve exited: " + output())
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=5) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("kg serve did not become healthy: " + output())
            yield url, process
        finally:
            stop(process, 20)


def stop(process: subprocess.Popen, grace: float) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within `grace` seconds."""
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@contextlib.contextmanager
def gunicorn(*files, workers=1, env=None, extra=()):
    """`kg serve --data FILES` on a free loopback port; yields (base URL, process)."""
    with kg_serve("--workers", workers, *extra, "--data", *files, env=env) as served:
        yield served


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc), for CPU accounting."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pids) -> float:
    """User + system CPU time of `pids` (those still alive)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def sample_store_at(path: Path) -> Path:
    """The sample data written as an on-disk store at `path`, flushed into .sst files as `kg build` leaves one."""
    import gc

    import pyoxigraph as ox

    store = ox.Store(str(path))
    store.load(path=str(SAMPLE), format=ox.RdfFormat.TRIG)  # not bulk_load: its files are laid out unlike a build's
    store.flush()
    del store
    gc.collect()  # the RocksDB lock goes with the Store object
    return path


def http_sender(url: str):
    """send(method, path, headers, body) -> (status, Content-Type, body bytes), one connection per request."""
    import http.client
    from urllib.parse import urlsplit

    netloc = urlsplit(url).netloc

    def send(method, path, headers, body):
        connection = http.client.HTTPConnection(netloc, timeout=30)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        answer = (response.status, response.getheader("Content-Type", ""), response.read())
        connection.close()
        return answer

    return send


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def gone_within(pids, seconds: float) -> list[int]:
    """The processes of `pids` still alive after `seconds` (polled); those are then killed, so none runs on."""
    import signal

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.02)
    left = [pid for pid in pids if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left


def command_line(pid: int) -> bytes:
    """The command line of `pid` (empty once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def parent(pid: int) -> int:
    """The parent process of `pid`."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def served_by(worker: int) -> int:
    """The server process a query worker answers: its parent, or for a fork of the zygote the process whose pidfd
    it holds (the one that asked for it)."""
    if b"zygote.py" not in command_line(parent(worker)):
        return parent(worker)
    for fd in Path(f"/proc/{worker}/fd").iterdir():
        if "pidfd" in os.readlink(fd):
            for line in Path(f"/proc/{worker}/fdinfo/{fd.name}").read_text().splitlines():
                if line.startswith("Pid:"):
                    return int(line.split()[1])
    raise AssertionError(f"query worker {worker} watches no server process")
