"""The HTTP floor of a light query: a WSGI app that answers one fixed SPARQL result without any work.

Served by the gunicorn worker class `kg serve` uses (`python http_floor.py --bind HOST:PORT`, the request read
whole under the same deadlines), or by any WSGI server as `http_floor:app`: what is left of a request's cost when
the app and the query worker cost nothing (bench/path.py).
"""

import argparse
import sys
from pathlib import Path

ANSWER = b'{"head":{},"boolean":true}'


def app(environ, start_response):
    """Read the request body, answer `ANSWER`."""
    environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "application/sparql-results+json"), ("Content-Length", str(len(ANSWER)))])
    return [ANSWER]


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from gunicorn.app.base import BaseApplication

    from server.config import DEFAULTS
    from server.ops import httpworker

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bind", required=True)
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
            return app

    Floor().run()


if __name__ == "__main__":
    main()
