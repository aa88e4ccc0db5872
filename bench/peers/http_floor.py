"""The floors of a light query: WSGI apps that do less than policykg's app, for bench/path.py.

- `app`: answers one fixed SPARQL result without any work: what is left of a request's cost when the app and the
  query worker cost nothing (the HTTP layer alone).
- `relay`: sends the form's query to one of policykg's query workers (forked by the zygote from the file in
  $KG_BENCH_DATA, confined, with the time limit) and relays its answer, with none of the app's checks, negotiation,
  ETag, log or Flask: the least a request can cost while the query runs where it cannot run away.

Served by the gunicorn worker class `kg serve` uses (`python http_floor.py --bind HOST:PORT [--app relay]`, the
request read whole under the same deadlines), or by any WSGI server as `http_floor:app` / `http_floor:relay`.
"""

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
ANSWER = b'{"head":{},"boolean":true}'
_served = {}  # pid → policykg's Flask app, whose State holds the zygote and this process's worker pool
_lock = threading.Lock()


def app(environ, start_response):
    """Read the request body, answer `ANSWER`."""
    environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "application/sparql-results+json"), ("Content-Length", str(len(ANSWER)))])
    return [ANSWER]


def policykg_app():
    """policykg's app for this process, made on first use (after the WSGI server forks)."""
    with _lock:
        if os.getpid() not in _served:
            from server import create_app

            _served[os.getpid()] = create_app({"DATA": [os.environ["KG_BENCH_DATA"]], "CACHE": False,
                                               "DATA_DIR": tempfile.mkdtemp(prefix="kg-bench-relay-")})
        return _served[os.getpid()]


def relay(environ, start_response):
    """The form's query, run by a query worker (JSON results, N-Triples graphs); its answer as the worker sent it."""
    served = policykg_app()
    text = parse_qs(environ["wsgi.input"].read().decode())["query"][0]
    request = ("query", text, None, None, "JSON", "N_TRIPLES", 10_000, "http://127.0.0.1/sparql")
    answer = served.extensions["kg"].pool(served).run(request, 10.0)
    kind = "application/n-triples" if answer.meta["kind"] == "graph" else "application/sparql-results+json"
    start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(sum(map(len, answer.chunks))))])
    return answer.chunks


def main() -> None:
    from gunicorn.app.base import BaseApplication

    from server.config import DEFAULTS
    from server.ops import httpworker

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bind", required=True)
    parser.add_argument("--app", choices=("app", "relay"), default="app")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    limits = httpworker.Limits(max_body=int(DEFAULTS["MAX_CONTENT_LENGTH"]), read_timeout=float(DEFAULTS["READ_TIMEOUT"]),
                               min_rate=float(DEFAULTS["READ_MIN_RATE"]))

    class Floor(BaseApplication):
        def load_config(self):
            settings = {"bind": args.bind, "workers": args.workers, "threads": args.threads, "keepalive": 5,
                        "worker_class": httpworker.configured(limits), "control_socket_disable": True}
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            return relay if args.app == "relay" else app

    Floor().run()


if __name__ == "__main__":
    main()
