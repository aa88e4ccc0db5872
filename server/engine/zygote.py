"""The zygote: one process per `kg serve` that loads the store into memory once and forks query workers from it.

Every in-memory query worker used to copy the store itself (workers × data in memory, seconds to tens of seconds
per start). The zygote loads it once; a worker is a fork of it, so the store's pages are shared copy-on-write and
a killed worker is back in milliseconds. It is started by the process that creates the app (gunicorn's master,
before it forks its workers), so there is one per `kg serve` whatever the number of workers.

A server process asks for a worker by connecting to the zygote's unix socket (an abstract address, so nothing is
left on disk whoever dies; the zygote serves only processes of its own user, by SO_PEERCRED) and sending,
with SCM_RIGHTS, its end of a new socket pair and a pidfd of itself. The zygote forks; the child confines itself
(server/engine/sandbox.py: no network unless asked, dies with the zygote by PDEATHSIG and with the server process
it serves by the watchdog on that pidfd), then answers on the socket pair with the frames of server/engine/worker.py,
exactly as a fresh worker does. The zygote sends back the child's pid and a pidfd of it, which the server process
kills it by (a pidfd never names a reused pid). The zygote stays single-threaded (forking a threaded process is
unsafe): no watchdog thread there, it checks its parent itself between requests, and reaps its children on SIGCHLD.
"""

import contextlib
import gc
import json
import os
import secrets
import select
import signal
import socket
import struct
import subprocess
import sys
import weakref

from server.engine import allocator, sandbox, worker
from server.engine.store import StoreUnreadable
from server.sparql import bounds

REQUEST_WAIT = 1.0  # seconds the zygote waits for a connected server process's request (it sends at once)
BACKLOG = 128  # requests that may queue while the zygote loads the store


class Forked:
    """A worker forked by the zygote, seen from the server process that talks to it (not its parent).

    Stands in for subprocess.Popen in server/engine/executor.py: pid, poll(), wait(), kill(). The pid and a pidfd
    arrive from the zygote right after the fork (`attach`); a worker killed before that never started serving.
    """

    def __init__(self, control: socket.socket):
        self.control: socket.socket | None = control
        self._pid: int | None = None
        self.pidfd: int | None = None

    def attach(self, timeout: float) -> bool:
        """Take the child's pid and pidfd from the zygote's answer, waiting up to `timeout` s; False if not there."""
        if self.pidfd is not None:
            return True
        if self.control is None:
            return False
        self.control.settimeout(timeout)
        try:
            message, fds, _, _ = socket.recv_fds(self.control, 256, 1)
        except (TimeoutError, BlockingIOError):
            return False
        except OSError:
            message, fds = b"", []
        self.control.close()
        self.control = None
        if not fds:  # the zygote hung up without forking (gone, or it could not fork)
            return False
        self._pid, self.pidfd = json.loads(message)["pid"], fds[0]
        return True

    @property
    def pid(self) -> int | None:
        self.attach(0.0)
        return self._pid

    def poll(self) -> str | None:
        """None while the worker runs; "gone" after (its exit status belongs to its parent, the zygote)."""
        if not self.attach(0.0):
            return None if self.control is not None else "gone"
        return "gone" if select.select([self.pidfd], [], [], 0)[0] else None

    def wait(self, timeout: float) -> None:
        """Until the worker has exited; subprocess.TimeoutExpired after `timeout` s."""
        if self.pidfd is not None and not select.select([self.pidfd], [], [], timeout)[0]:
            raise subprocess.TimeoutExpired("query worker", timeout)

    def kill(self) -> None:
        """SIGKILL through the pidfd; one not forked yet finds its socket closed and exits on its own."""
        if self.attach(0.0):
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        elif self.control is not None:
            self.control.close()
            self.control = None

    def __del__(self):
        if self.pidfd is not None:
            os.close(self.pidfd)


class Client:
    """Asks the zygote listening at the abstract unix address `address` (its name, without the leading NUL)."""

    def __init__(self, address: str):
        self.address = address

    def fork(self, theirs: socket.socket, *, network: bool) -> Forked:
        """Ask for a worker serving `theirs` (never waits for the zygote to be ready); OSError if it is gone."""
        control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            control.connect(f"\0{self.address}")
            me = os.pidfd_open(os.getpid())
            try:
                socket.send_fds(control, [json.dumps({"network": network}).encode()], [theirs.fileno(), me])
            finally:
                os.close(me)
        except OSError:
            control.close()
            raise
        return Forked(control)


class Zygote(Client):
    """The handle the server processes hold: starts the zygote process, asks it for workers, stops it."""

    def __init__(self, spec: dict):
        self.owner = os.getpid()
        super().__init__(f"kg-zygote-{os.getpid()}-{secrets.token_hex(8)}")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(f"\0{self.address}")
        listener.listen(BACKLOG)  # requests queue from now on, while the zygote loads
        self.status, status = os.pipe()  # one line from the zygote once it has loaded: the triples, or the error
        command = [sys.executable, "-P", os.path.abspath(__file__), str(listener.fileno()), str(status),
                   str(os.getpid()), json.dumps(spec)]
        self.process = subprocess.Popen(command, pass_fds=(listener.fileno(), status), stdin=subprocess.DEVNULL,
                                        env=allocator.environment(spec.get("preload")))
        listener.close()
        os.close(status)
        self.triples: int | None = None
        self._finalizer = weakref.finalize(self, _stop, self.process, self.owner, self.status)

    def loaded(self, timeout: float) -> int:
        """Wait until the zygote has loaded the store: its triple count; ValueError saying why it could not."""
        if self.triples is None:
            if not select.select([self.status], [], [], timeout)[0]:
                raise ValueError(f"the store was not loaded in {timeout:g} s")
            line = os.read(self.status, 65536).decode(errors="replace").strip()
            if not line.isdigit():
                raise ValueError(line or f"the zygote exited while loading (status {self.process.wait(5)})")
            self.triples = int(line)
        return self.triples

    def close(self) -> None:
        """Stop the zygote (and so its workers); only in the process that started it."""
        self._finalizer()


def _stop(process: subprocess.Popen, owner: int, status: int) -> None:
    # gunicorn's forked workers inherit the handle; only the process that started the zygote stops it.
    if os.getpid() != owner:
        return
    os.close(status)
    process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


def load(spec: dict):
    """The store in memory, as a fresh worker opens it: the --data files parsed, else the on-disk store copied (in a
    child: RocksDB starts threads that outlive the store, and this process forks; server/engine/store.py)."""
    return worker.open_store(spec["path"], in_memory=True, writable=False, files=spec.get("files", ()))


def _reap(signum, frame) -> None:
    """SIGCHLD: collect every exited worker (no zombies)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _child(store, ready: dict, worker_fd: int, served_pidfd: int, network: bool, zygote: int) -> None:
    """In the forked child: confine, then serve `worker_fd` like a fresh worker; never returns."""
    status = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        sandbox.confine(network=network, parent_pid=zygote, served_pidfd=served_pidfd)
        bounds.call_on_deep_stack(worker.serve, socket.socket(fileno=worker_fd), store, ready,
                                  stack_bytes=bounds.SHALLOW_STACK_BYTES)
        status = 0
    finally:
        os._exit(status)


def _handle(connection: socket.socket, listener: socket.socket, store, ready: dict) -> None:
    """One request: fork a worker for the socket it carries, answer with the worker's pid and a pidfd of it."""
    _, uid, _ = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    if uid != os.getuid():  # an abstract address has no file permissions: this user's processes only
        return
    connection.settimeout(REQUEST_WAIT)
    try:
        message, fds, _, _ = socket.recv_fds(connection, 256, 2)
    except OSError:
        return
    try:
        if len(fds) != 2:
            return
        network = bool(json.loads(message).get("network"))
        # SIGCHLD waits until the child has a pidfd: reaped before, its pid could be anyone's.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        try:
            pid = os.fork()
            if pid == 0:
                listener.close()
                connection.close()
                _child(store, ready, fds[0], fds[1], network, os.getppid())
            pidfd = os.pidfd_open(pid)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        try:
            socket.send_fds(connection, [json.dumps({"pid": pid}).encode()], [pidfd])
        except OSError:  # the server process gave up on it: the child finds its socket closed
            pass
        finally:
            os.close(pidfd)
    finally:
        for fd in fds:
            os.close(fd)


def main(listener: socket.socket, status: int, parent_pid: int, spec: dict) -> None:
    """Process entry point: die with the server's master, load the store once, fork workers on request."""
    # Single-threaded: PDEATHSIG here, the parent check in the loop below instead of a watchdog thread.
    sandbox.confine(network=True, parent_pid=parent_pid, watchdog=False)
    try:
        store = load(spec)
    except StoreUnreadable as error:  # RocksDB's reason is the message
        os.write(status, " ".join(str(error).split()).encode())
        os._exit(1)
    except (SyntaxError, ValueError, OSError, RuntimeError) as error:
        os.write(status, " ".join(f"{type(error).__name__}: {error}".split()).encode())  # the server says it
        os._exit(1)
    ready = {"triples": len(store), "loaded_by": os.getpid()}
    os.write(status, f"{ready['triples']}\n".encode())
    os.close(status)
    gc.freeze()  # the loaded objects stay out of the collector: a collection in a worker would copy their pages
    signal.signal(signal.SIGCHLD, _reap)
    try:
        while os.getppid() == parent_pid:
            if select.select([listener], [], [], sandbox.WATCH_INTERVAL)[0]:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    continue
                with connection:
                    try:
                        _handle(connection, listener, store, ready)
                    except (OSError, ValueError) as error:  # one request the zygote could not serve, not its end
                        print(f"kg zygote: a request failed: {error}", file=sys.stderr, flush=True)
    finally:  # the master is gone
        os._exit(1)


if __name__ == "__main__":
    # The command line written by Zygote.__init__.
    main(socket.socket(fileno=int(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4]))
