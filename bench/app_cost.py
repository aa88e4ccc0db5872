#!/usr/bin/env python3
"""A light request's CPU in the server process without HTTP: policykg's app against the relay and an empty Flask view.

  .venv/bin/python bench/app_cost.py --data FILE [--requests 3000]

Calls each WSGI app directly with the environ of a light query's form POST (bench/queries q3, q4, q7, the Accept
header wrk sends) and reads this process's CPU time (the query worker's is its own, not counted): policykg's app
(server.create_app, result cache off, settings as kg serve has them), peers/http_floor.py's relay (the same query
worker, no app around it) and a Flask view that answers a fixed body. Best of three rounds; prints JSON
{query: {system: µs}}. bench/path.py runs it in a child and puts the table in PATH.md.
"""

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
LIGHT = ("q3_describe_task", "q4_construct_plan_neighbourhood", "q7_ask")


def request(text: str) -> tuple[dict, bytes]:
    """The WSGI environ of a form POST of `text` as wrk sends it (bench/wrk/sparql_post.lua), and its body."""
    from werkzeug.test import EnvironBuilder

    body = ("query=" + quote(text, safe="")).encode()
    graph = "CONSTRUCT" in text or "DESCRIBE" in text
    accept = "application/n-triples" if graph else "application/sparql-results+json"
    builder = EnvironBuilder(path="/sparql", method="POST", base_url="http://127.0.0.1:8000/", data=body,
                             content_type="application/x-www-form-urlencoded", headers={"Accept": accept})
    return builder.get_environ(), body


def empty_flask():
    """A Flask app whose one view answers a fixed body: Flask's own cost per request."""
    from flask import Flask, Response

    app = Flask("empty")

    @app.route("/sparql", methods=["GET", "POST"])
    def fixed():
        return Response(b'{"head":{},"boolean":true}', content_type="application/sparql-results+json")

    return app


def cpu_per_call(app, text: str, requests: int) -> float:
    """Best of three rounds: µs of this process's CPU per call of `app` (the body read whole, the status checked)."""
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    environ, body = request(text)

    def call():  # a copy of the environ with its own body stream: the only per-call work besides the app's
        answer = app({**environ, "wsgi.input": io.BytesIO(body)}, start_response)
        b"".join(answer)
        getattr(answer, "close", lambda: None)()

    for _ in range(requests // 10):
        call()
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(requests):
            call()
        best = min(best, (time.process_time() - started) / requests * 1e6)
    failed = [status for status in statuses if not status.startswith("200")]
    if failed:
        raise SystemExit(f"{app!r} answered {failed[0]}")
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args(argv)
    # As kg serve runs the app: metrics shared through files, no access log or result cache (as path.py serves it).
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="kg-bench-metrics-"))
    os.environ.update({"KG_BENCH_DATA": args.data, "KG_ACCESS_LOG": "false", "KG_CACHE": "false"})
    sys.path.insert(0, str(HERE / "peers"))
    import http_floor

    systems = {"policykg app": http_floor.policykg_app(), "relay": http_floor.relay, "empty Flask view": empty_flask()}
    costs = {}
    try:
        for query in LIGHT:
            text = (HERE / "queries" / f"{query}.rq").read_text(encoding="utf-8")
            costs[query] = {name: round(cpu_per_call(app, text, args.requests)) for name, app in systems.items()}
    finally:
        systems["policykg app"].extensions["kg"].close()
    print(json.dumps(costs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
