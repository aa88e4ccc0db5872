"""Run nginx in front of `kg serve` replicas on other hosts; SIGHUP switches to new ones without a mixed answer.

`kg front --upstreams FILE` reads the replicas from FILE (one HOST:PORT a line). At start, and at each SIGHUP, it
asks every replica listed for its dataset version (/healthz) and refuses replicas that do not all agree; agreed ones
go into nginx's configuration with their version in the cache key, and nginx reloads gracefully: new connections
go to the new replicas, requests in flight finish on the old ones, whose cached answers are never found again.
"""

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from kg.cli import EXIT_OK, UsageError

POLL = 0.1  # seconds between looks at nginx and at the signals received
SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)


def add_arguments(parser) -> None:
    """Options of `kg front`."""
    parser.add_argument("--listen", default="127.0.0.1:8000", help="address:port nginx listens on (default "
                                                                  "127.0.0.1:8000)")
    replicas = parser.add_mutually_exclusive_group(required=True)
    replicas.add_argument("--upstream", nargs="+", metavar="HOST:PORT",
                          help="the `kg serve` replicas (same build) to share the requests among")
    replicas.add_argument("--upstreams", type=Path, metavar="FILE",
                          help="a file listing the replicas, one HOST:PORT a line (# comments); read again on SIGHUP "
                               "to switch to the replicas it then lists (a rolling switch to a new build)")
    parser.add_argument("--directory", type=Path,
                        help="nginx's folder (configuration, cache, temporary files); default: a temporary one, "
                             "removed at exit")
    parser.add_argument("--workers", type=int, default=2, help="nginx worker processes (default 2)")
    parser.add_argument("--pidfile", type=Path, help="write this process's id here (for `kill -HUP`)")


def run(args) -> int:
    """Check the replicas, start nginx over them, then switch on SIGHUP and stop on SIGTERM/SIGINT."""
    from server.ops import front

    try:
        front.binary()
        upstreams = _upstreams(args)
        version = front.agreed_version(upstreams)
    except (FileNotFoundError, ValueError) as error:  # Disagreement is a ValueError
        raise UsageError(str(error)) from None
    received: list[int] = []
    for number in SIGNALS:  # before nginx starts: a signal meanwhile is handled, not fatal
        signal.signal(number, lambda sig, _frame: received.append(sig))
    with tempfile.TemporaryDirectory(prefix="kg-front-") as scratch:
        serving = _Serving(args, Path(args.directory or scratch), upstreams, version)
        if args.pidfile:
            args.pidfile.write_text(f"{os.getpid()}\n", encoding="ascii")
        try:
            return serving.run(received)
        finally:
            if args.pidfile:
                args.pidfile.unlink(missing_ok=True)


def _upstreams(args) -> tuple[str, ...]:
    """The replicas named on the command line, or listed in --upstreams FILE now."""
    from server.ops import front

    if args.upstreams:
        try:
            return front.read_upstreams(args.upstreams)
        except OSError as error:
            raise ValueError(f"cannot read {args.upstreams}: {error.strerror or error}") from None
    return tuple(front.address(upstream) for upstream in dict.fromkeys(args.upstream))


def _say(line: str) -> None:
    print(f"kg front: {line}", file=sys.stderr, flush=True)


class _Serving:
    """nginx over one set of replicas of one version at a time."""

    def __init__(self, args, directory: Path, upstreams: tuple[str, ...], version: str):
        from server.config import read

        # The replicas' own settings (KG_* variables, as `kg serve` reads them) size the front alike.
        self.args, self.directory, self.config = args, directory, read()
        self.upstreams, self.version, self.nginx = upstreams, version, None

    def _front(self, upstreams: tuple[str, ...], version: str):
        from server.ops import front

        return front.configured(self.config, listen=self.args.listen, upstreams=upstreams, directory=self.directory,
                                version=version, workers=self.args.workers)

    def _described(self) -> str:
        return f"dataset version {self.version} from {', '.join(self.upstreams)}"

    def run(self, received: list[int]) -> int:
        from server.cli import EXIT_FRONT_FAILED
        from server.ops import front

        try:
            conf = front.install(self._front(self.upstreams, self.version))
        except RuntimeError as error:  # nginx -t said no (e.g. a bad --listen)
            raise UsageError(str(error)) from None
        self.nginx = front.start(conf)
        _say(f"starting nginx at {self.args.listen}, serving {self._described()}")
        try:
            while (status := self.nginx.poll()) is None:
                while received:
                    if received.pop(0) != signal.SIGHUP:
                        return EXIT_OK
                    self.switch()
                time.sleep(POLL)
            _say(f"nginx exited with status {status} (its messages are above)")
            return EXIT_FRONT_FAILED
        finally:
            front.stop(self.nginx)

    def switch(self) -> None:
        """Serve the replicas listed now, if they agree on one version; else keep the ones served and say why."""
        from server.ops import front

        try:
            upstreams = _upstreams(self.args)
            version = front.agreed_version(upstreams)
            front.install(self._front(upstreams, version))
        except (ValueError, RuntimeError) as error:
            _say(f"switch refused, still serving {self._described()}: {error}")
            return
        self.upstreams, self.version = upstreams, version
        grace = float(self.config["QUERY_TIMEOUT"]) + 40  # the longest answer an old worker may still be sending
        if front.reload(self.nginx, grace):
            _say(f"switched to {self._described()}; every old nginx worker has finished")
        else:
            _say(f"switching to {self._described()}; some old nginx workers still run after {grace:.0f} s")
