"""server.engine.sandbox: a confined child cannot reach the network, keeps AF_UNIX, has a memory ceiling, and dies
with its parent. Every child here is a fresh interpreter (subprocess), so the test process is never confined."""

import errno
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from serverkit import CROSS_PRODUCT, ROOT

from server.engine import sandbox

pytestmark = pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox here: {sandbox.unavailable()}")
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
CONNECT = """
import socket, sys
from server.engine import sandbox
sandbox.confine(network={network})
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
    print("connected")
except OSError as error:
    print("refused", error.errno)
"""


def child(code: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], env=ENV, capture_output=True, text=True, timeout=60,
                          **kwargs)


def test_a_confined_child_cannot_connect_to_a_loopback_listener(canary):
    out = child(CONNECT.format(network=False, port=canary.port))
    assert out.stdout.split() == ["refused", str(errno.EACCES)], out.stderr
    assert canary.received() == []


def test_a_child_confined_with_network_can_connect(canary):
    out = child(CONNECT.format(network=True, port=canary.port))
    assert out.stdout.split() == ["connected"], out.stderr
    assert len(canary.received()) == 1


def test_every_address_family_but_unix_is_refused_and_io_uring_too():
    code = """
import ctypes, socket
from server.engine import sandbox
sandbox.confine()
for family in (socket.AF_INET, socket.AF_INET6, socket.AF_PACKET, socket.AF_NETLINK, socket.AF_VSOCK):
    try:
        socket.socket(family, socket.SOCK_DGRAM if family != socket.AF_PACKET else socket.SOCK_RAW).close()
        print("opened")
    except OSError as error:
        print(error.errno)
socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
libc = ctypes.CDLL(None, use_errno=True)
params = ctypes.create_string_buffer(120)
print(libc.syscall(425, 8, params), ctypes.get_errno())  # io_uring_setup(8 entries)
"""
    out = child(code)
    assert out.stdout.split() == [str(errno.EACCES)] * 5 + ["-1", str(errno.EPERM)], out.stderr


def test_an_inherited_unix_socketpair_still_works():
    ours, theirs = socket.socketpair()
    code = """
import socket, sys
from server.engine import sandbox
sandbox.confine()
sock = socket.socket(fileno=int(sys.argv[1]))
sock.sendall(b"ping:" + sock.recv(4))
"""
    with ours, theirs:
        ours.sendall(b"pong")
        out = child(code, str(theirs.fileno()), pass_fds=[theirs.fileno()])
        ours.settimeout(5)
        assert ours.recv(100) == b"ping:pong", out.stderr


def test_the_memory_limit_makes_a_big_allocation_fail_with_memory_error():
    code = """
from server.engine import sandbox
sandbox.confine(memory_bytes=256 << 20)
small = bytearray(16 << 20)
try:
    big = bytearray(512 << 20)
    print("allocated")
except MemoryError:
    print("MemoryError")
"""
    out = child(code)
    assert out.stdout.split() == ["MemoryError"], out.stderr


def test_pyoxigraph_service_cannot_reach_the_canary_from_a_confined_process(canary):
    code = """
import sys
import pyoxigraph
from server.engine import sandbox
if sys.argv[1] == "confined":
    sandbox.confine()
try:
    list(pyoxigraph.Store().query("SELECT * { SERVICE <%s/x> { ?s ?p ?o } }"))
    print("answered")
except Exception as error:  # the child reports which error it met
    print(type(error).__name__)
"""
    confined = child(code % canary.url, "confined")
    assert confined.stdout.split() == ["PermissionError"], confined.stderr
    assert canary.received() == []
    free = child(code % canary.url, "free")  # the same query unconfined does connect: the test can fail
    hits = canary.received()
    assert len(hits) == 1 and b" /x HTTP/1.1" in hits[0].split(b"\r\n")[0], free.stdout


# The middle process spawns the child from a thread (as a gunicorn request thread would), prints the child's pid,
# and waits. The child runs a cross product in pyoxigraph, which only its death can stop.
MIDDLE = """
import subprocess, sys, threading, time
def spawn():
    worker = subprocess.Popen([sys.executable, "-c", *sys.argv[1:]])
    print(worker.pid, flush=True)
    worker.wait()
threading.Thread(target=spawn).start()
time.sleep(600)
"""
WORKER = """
import ctypes, os, sys
import pyoxigraph as ox
from server.engine import sandbox
if sys.argv[1] != "unconfined":
    sandbox.confine(parent_pid=os.getppid())
if sys.argv[1] == "watchdog only":
    ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)  # PR_SET_PDEATHSIG 0: leave the watchdog alone to do it
store = ox.Store()
store.extend([ox.Quad(ox.NamedNode(f"http://x/{i}"), ox.NamedNode("http://x/p"), ox.Literal(i)) for i in range(20)])
print("running", flush=True)
list(store.query(sys.argv[2]))
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def _orphan_lifetime(mode: str) -> float | None:
    """Seconds the worker lived after its parent was SIGKILLed (None: still running after 3 s; then killed here)."""
    middle = subprocess.Popen([sys.executable, "-c", MIDDLE, WORKER, mode, CROSS_PRODUCT], env=ENV, stdout=subprocess.PIPE,
                              text=True, start_new_session=True)
    try:
        pid = int(middle.stdout.readline())
        assert middle.stdout.readline().strip() == "running"
        time.sleep(0.3)
        assert _alive(pid)
        killed = time.monotonic()
        middle.kill()
        middle.wait(5)
        deadline = killed + 3
        while time.monotonic() < deadline:
            if not _alive(pid):
                return time.monotonic() - killed
            time.sleep(0.02)
        return None
    finally:
        os.killpg(middle.pid, signal.SIGKILL)  # the whole session: the worker too, whatever happened
        middle.stdout.close()


@pytest.mark.reliability
def test_a_confined_worker_dies_within_a_second_of_its_parent():
    lifetime = _orphan_lifetime("confined")
    assert lifetime is not None and lifetime < 1.0


def test_the_watchdog_alone_kills_the_orphan_within_a_second():
    lifetime = _orphan_lifetime("watchdog only")
    assert lifetime is not None and lifetime < 1.0


def test_an_unconfined_worker_outlives_its_parent():
    # the control: without confine() the orphan keeps running, so the two tests above can fail
    assert _orphan_lifetime("unconfined") is None


def test_confine_refuses_to_pretend_on_an_unknown_architecture():
    code = """
import platform, socket
from server.engine import sandbox
platform.machine = lambda: "mips64"
try:
    sandbox.confine()
except sandbox.SandboxUnavailable as error:
    print("unavailable:", error)
socket.socket(socket.AF_INET).close()
print("network still open")
"""
    out = child(code)
    assert "unavailable: no seccomp filter" in out.stdout and "mips64" in out.stdout, out.stderr
    assert out.stdout.strip().endswith("network still open")

