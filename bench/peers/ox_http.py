#!/usr/bin/env python3
# ruff: noqa  -- copied unchanged from the shared benchmark harness (../shared/bench), kept as is
"""Minimal SPARQL 1.1 protocol endpoint: pyoxigraph engine behind a bare ASGI app (no framework).

It is the "Python HTTP + Oxigraph engine" baseline: the least a Python server on top of
pyoxigraph can cost per request.  Query evaluation and result serialization run in
pyoxigraph (Rust); each request runs in a worker thread so that the event loop stays free.

  python peers/ox_http.py --data kg.ttl --host 127.0.0.1 --port 7879

Endpoint: GET /sparql?query=...  or  POST /sparql with application/sparql-query or
application/x-www-form-urlencoded (query=...).  SELECT/ASK -> application/sparql-results+json
(or +xml / text/csv / tsv on request); CONSTRUCT/DESCRIBE -> application/n-triples (or Turtle).
Loopback addresses only.
"""
import argparse
import asyncio
import ipaddress
import socket
import sys
import time
from urllib.parse import parse_qs

import pyoxigraph as ox
import uvicorn

RESULT_FORMATS = [
    ("application/sparql-results+json", ox.QueryResultsFormat.JSON),
    ("application/json", ox.QueryResultsFormat.JSON),
    ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
    ("text/csv", ox.QueryResultsFormat.CSV),
    ("text/tab-separated-values", ox.QueryResultsFormat.TSV),
]
GRAPH_FORMATS = [
    ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("text/plain", ox.RdfFormat.N_TRIPLES),
    ("text/turtle", ox.RdfFormat.TURTLE),
]


def pick(accept, table):
    accept = (accept or "").lower()
    for mime, fmt in table:
        if mime in accept:
            return mime, fmt
    return table[0]


class App:
    def __init__(self, store):
        self.store = store

    def run_query(self, query, accept):
        res = self.store.query(query)
        if isinstance(res, ox.QueryTriples):
            mime, fmt = pick(accept, GRAPH_FORMATS)
        else:
            mime, fmt = pick(accept, RESULT_FORMATS)
        return mime, res.serialize(format=fmt)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["path"] not in ("/sparql", "/query"):
            return await self.reply(send, 404, "text/plain", b"not found")
        query = None
        if scope["method"] == "GET":
            query = parse_qs(scope["query_string"].decode("latin-1")).get("query", [None])[0]
        elif scope["method"] == "POST":
            body = b""
            while True:
                msg = await receive()
                body += msg.get("body", b"")
                if not msg.get("more_body"):
                    break
            ctype = headers.get("content-type", "")
            if ctype.startswith("application/sparql-query"):
                query = body.decode("utf-8")
            else:
                query = parse_qs(body.decode("utf-8")).get("query", [None])[0]
        else:
            return await self.reply(send, 405, "text/plain", b"method not allowed")
        if not query:
            return await self.reply(send, 400, "text/plain", b"missing query")
        try:
            mime, payload = await asyncio.to_thread(self.run_query, query, headers.get("accept"))
        except SyntaxError as e:
            return await self.reply(send, 400, "text/plain", str(e).encode())
        except Exception as e:  # noqa: BLE001 - report any engine failure as 500
            return await self.reply(send, 500, "text/plain", str(e).encode())
        await self.reply(send, 200, mime + "; charset=utf-8", payload)

    @staticmethod
    async def reply(send, status, ctype, body):
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="Turtle file to load")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=7879)
    args = ap.parse_args()
    for info in socket.getaddrinfo(args.host, args.port):
        if not ipaddress.ip_address(info[4][0]).is_loopback:
            sys.exit("refusing to bind a non-loopback address: %s" % args.host)
    t = time.perf_counter()
    store = ox.Store()
    store.bulk_load(path=args.data, format=ox.RdfFormat.TURTLE)
    print("loaded %d triples in %.1fs" % (len(store), time.perf_counter() - t), flush=True)
    uvicorn.run(App(store), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
