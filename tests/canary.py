"""A loopback canary: a TCP listener that records every connection and the bytes it sent, to prove nothing was fetched.

    with Canary() as canary:            # or the `canary` fixture (tests/conftest.py)
        ... a query that names canary.url + "/x" ...
    assert canary.received() == []
"""

import socket
import threading
import time

READ_LIMIT = 64 << 10  # bytes kept per connection: the request line and headers, and the start of a body
READ_SECONDS = 1.0  # per connection: a client that sends nothing does not hold the listener


class Canary:
    """Listens on 127.0.0.1:port in a thread; `hits` holds what each connection sent (b"" until it is read)."""

    def __init__(self):
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.hits: list[bytes] = []
        self._server.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="canary", daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:  # closed under us
                return
            index = len(self.hits)
            self.hits.append(b"")  # the connection counts as soon as it is accepted, before anything is read
            with conn:
                self.hits[index] = _read(conn)
                try:
                    # an answer, so that a client that got through does not wait for its own timeout
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\ncanary")
                except OSError:
                    pass

    def received(self, grace: float = 0.2) -> list[bytes]:
        """What every connection so far sent, after `grace` seconds for one still in the listen queue to be accepted."""
        time.sleep(grace)
        return list(self.hits)

    def __enter__(self) -> "Canary":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        self._server.close()


def _read(conn: socket.socket) -> bytes:
    """The request head (and what came with it), read for at most READ_SECONDS."""
    data, deadline = b"", time.monotonic() + READ_SECONDS
    conn.settimeout(0.1)
    while b"\r\n\r\n" not in data and len(data) < READ_LIMIT and time.monotonic() < deadline:
        try:
            chunk = conn.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data[:READ_LIMIT]
