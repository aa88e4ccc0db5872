#!/usr/bin/env python3
# ruff: noqa  -- copied unchanged from the shared benchmark harness (../shared/bench), kept as is
"""Side-by-side SPARQL endpoint load test (SPARQL 1.1 protocol), loopback only.

  python loadtest.py [options] NAME=URL [NAME=URL ...] [NAME=inproc:oxigraph:FILE.ttl]

For every query in --queries (*.rq, sorted) and every system:
  1. validation: one request each (after --warmup untimed ones); the answer must parse and,
     except for queries marked "# check: graph-informational", the row count must be the
     same on every system.  SELECT answers are also fingerprinted (multiset of row values),
     reported as an extra, softer check.
  2. timed runs: --rounds rounds; in each round every (query, system) pair gets a burst of
     --concurrency client threads for duration/rounds seconds and at most max_requests/rounds
     requests.  The system order is rotated every burst so that drift on a noisy machine hits
     all systems alike.  Every answer is parsed and its row count compared to the validated one.

Requests: POST application/x-www-form-urlencoded (default; --method get / direct for GET
?query= or POST application/sparql-query), Accept application/sparql-results+json for
SELECT/ASK and application/n-triples for CONSTRUCT/DESCRIBE, one keep-alive connection per
client thread.  Latency = send until the whole body is read; parsing is outside it.

"inproc:oxigraph:FILE" loads FILE into a pyoxigraph Store inside this process and times
query + serialization with no HTTP at all (the engine's ceiling).

Output: a Markdown table (system, query, rows, req/s, p50 ms, p99 ms, errors) on stdout,
optionally appended to --out and dumped as JSON to --json.  Exit status 2 when a cross-system
row-count check fails, 3 when a URL is not a loopback address.
"""
import argparse
import decimal
import glob
import hashlib
import http.client
import ipaddress
import json
import os
import re
import socket
import sys
import threading
import time
from urllib.parse import urlencode, urlsplit

ACCEPT_RESULTS = "application/sparql-results+json"
ACCEPT_GRAPH = "application/n-triples"


# ----------------------------------------------------------------------------- queries
class Query:
    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        with open(path, encoding="utf-8") as fh:
            self.text = fh.read()
        self.informational = bool(re.search(r"^#\s*check:\s*graph-informational", self.text, re.M))
        body = re.sub(r"<[^>\s]*>", "<>", self.text)  # IRIs may contain '#'
        body = re.sub(r"#[^\n]*", " ", body)  # comments
        m = re.search(r"(?i)\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", body)
        self.form = m.group(1).upper() if m else "SELECT"
        self.is_graph = self.form in ("CONSTRUCT", "DESCRIBE")
        self.accept = ACCEPT_GRAPH if self.is_graph else ACCEPT_RESULTS


def load_queries(qdir, only=None):
    qs = [Query(p) for p in sorted(glob.glob(os.path.join(qdir, "*.rq")))]
    if only:
        keep = [s.strip() for s in only.split(",") if s.strip()]
        qs = [q for q in qs if any(q.name.startswith(k) for k in keep)]
    if not qs:
        sys.exit("no queries found in %s" % qdir)
    return qs


# ----------------------------------------------------------------------------- answers
NUMERIC = {"http://www.w3.org/2001/XMLSchema#" + t for t in (
    "decimal", "integer", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger",
    "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong")}


def norm_value(term):
    """Value used in the fingerprint: numbers compared by value ("27385.50" == "27385.5")."""
    v = term.get("value")
    if term.get("datatype") in NUMERIC:
        try:
            d = decimal.Decimal(v)
            return "num:" + (format(d.normalize(), "f") if d.is_finite() else str(d))
        except decimal.InvalidOperation:
            pass
    return v


def count_answer(body, ctype, query):
    """Return (rows, fingerprint or None); raise ValueError when the answer does not parse."""
    ctype = (ctype or "").split(";")[0].strip().lower()
    text = body.decode("utf-8")
    head = text.lstrip()[:200]
    if "json" in ctype or head.startswith("{"):
        d = json.loads(text)
        if "boolean" in d:
            return 1, "ask:%s" % bool(d["boolean"])
        bindings = d["results"]["bindings"]
        if query.is_graph:  # some servers answer CONSTRUCT/DESCRIBE as s/p/o bindings
            return len(bindings), None
        h = hashlib.sha1()
        for row in sorted(json.dumps(sorted((k, norm_value(v)) for k, v in b.items()), ensure_ascii=False)
                          for b in bindings):
            h.update(row.encode("utf-8"))
        return len(bindings), h.hexdigest()[:10]
    if ctype in ("application/n-triples", "text/plain", "text/x-nquads", "application/n-quads"):
        n = 0
        for line in text.splitlines():
            s = line.strip()
            if s and not s.startswith("#"):
                if not s.endswith("."):
                    raise ValueError("bad N-Triples line: %r" % s[:80])
                n += 1
        return n, None
    # anything else (Turtle, RDF/XML): parse it with rdflib, if available
    fmt = "xml" if head.startswith("<?xml") or "<rdf:RDF" in head else "turtle"
    try:
        import rdflib
    except ImportError as e:
        raise ValueError("cannot count %s answer without rdflib" % ctype) from e
    g = rdflib.Graph()
    g.parse(data=text, format=fmt)
    return len(g), None


# ----------------------------------------------------------------------------- systems
def check_loopback(url):
    host = urlsplit(url).hostname
    if not host:
        raise ValueError("no host in %s" % url)
    infos = socket.getaddrinfo(host, None)
    addrs = {i[4][0] for i in infos}
    bad = [a for a in addrs if not ipaddress.ip_address(a.split("%")[0]).is_loopback]
    if bad or not addrs:
        raise ValueError("%s resolves to non-loopback %s" % (url, bad))
    return sorted(addrs)[0]


class HttpSystem:
    kind = "http"

    def __init__(self, name, url, method, timeout):
        self.name, self.url, self.method, self.timeout = name, url, method, timeout
        parts = urlsplit(url)
        self.host = check_loopback(url)
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.qs = parts.query

    def client(self):
        return HttpClient(self)


class HttpClient:
    def __init__(self, system):
        self.s = system
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.s.host, self.s.port, timeout=self.s.timeout)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, query):
        """Return (status, content_type, body, seconds)."""
        s = self.s
        headers = {"Accept": query.accept, "Connection": "keep-alive"}
        if s.method == "get":
            path = s.path + "?" + ((s.qs + "&") if s.qs else "") + urlencode({"query": query.text})
            body = None
            verb = "GET"
        elif s.method == "direct":
            path = s.path + ("?" + s.qs if s.qs else "")
            body = query.text.encode("utf-8")
            headers["Content-Type"] = "application/sparql-query; charset=utf-8"
            verb = "POST"
        else:
            path = s.path + ("?" + s.qs if s.qs else "")
            body = urlencode({"query": query.text}).encode("ascii")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            verb = "POST"
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            t0 = time.perf_counter()
            try:
                self.conn.request(verb, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # a kept-alive connection closed by the server between requests: reconnect once
                self.close()
                if attempt:
                    raise
                continue
            except Exception:
                self.close()
                raise
            dt = time.perf_counter() - t0
            if resp.will_close:
                self.close()
            return resp.status, resp.getheader("Content-Type", ""), data, dt
        raise RuntimeError("unreachable")


class InprocOxigraph:
    kind = "inproc"

    def __init__(self, name, path):
        import pyoxigraph as ox
        self.ox = ox
        self.name, self.url = name, "inproc:oxigraph:" + path
        t = time.perf_counter()
        self.store = ox.Store()
        self.store.bulk_load(path=path, format=ox.RdfFormat.TURTLE)
        print("# %s: loaded %d triples in %.1fs" % (name, len(self.store), time.perf_counter() - t), file=sys.stderr)

    def client(self):
        return self

    def close(self):
        pass

    def request(self, query):
        ox = self.ox
        t0 = time.perf_counter()
        res = self.store.query(query.text)
        if isinstance(res, ox.QueryTriples):
            data, ctype = res.serialize(format=ox.RdfFormat.N_TRIPLES), ACCEPT_GRAPH
        else:
            data, ctype = res.serialize(format=ox.QueryResultsFormat.JSON), ACCEPT_RESULTS
        return 200, ctype, data, time.perf_counter() - t0


def make_system(spec, args):
    if "=" not in spec:
        sys.exit("system must be NAME=URL, got %r" % spec)
    name, url = spec.split("=", 1)
    if url.startswith("inproc:oxigraph:"):
        return InprocOxigraph(name, url[len("inproc:oxigraph:"):])
    if not url.startswith("http://"):
        sys.exit("only http:// URLs (or inproc:oxigraph:FILE) are supported: %r" % url)
    try:
        return HttpSystem(name, url, args.method, args.timeout)
    except ValueError as e:
        print("refusing %s: %s" % (name, e), file=sys.stderr)
        sys.exit(3)


# ----------------------------------------------------------------------------- running
class Stats:
    def __init__(self):
        self.lat = []          # seconds, successful requests only
        self.ok = 0
        self.errors = 0        # transport errors, non-2xx, parse failures
        self.wrong = 0         # parsed, but a row count different from the validated one
        self.wall = 0.0        # seconds spent in bursts
        self.cpu = 0.0         # this process's CPU seconds during bursts
        self.err_samples = []
        self.wrk_bursts = []   # (ok, p50 s, p99 s) per wrk burst

    def p50_p99(self):
        if self.wrk_bursts:  # wrk gives percentiles per burst: request-weighted median of p50s, max of p99s
            b = sorted(self.wrk_bursts, key=lambda x: x[1])
            half, acc = sum(x[0] for x in b) / 2.0, 0
            for n, p50, _ in b:
                acc += n
                if acc >= half:
                    break
            return p50, max(x[2] for x in b)
        return pct(self.lat, 50), pct(self.lat, 99)


def one_shot(system, query):
    cl = system.client()
    try:
        status, ctype, body, dt = cl.request(query)
    finally:
        cl.close()
    if not 200 <= status < 300:
        raise ValueError("HTTP %d: %s" % (status, body[:200].decode("utf-8", "replace")))
    rows, fp = count_answer(body, ctype, query)
    return rows, fp, dt, ctype


def burst(system, query, expected_rows, stats, concurrency, seconds, max_requests, hard_deadline):
    deadline = min(time.perf_counter() + seconds, hard_deadline)
    lock = threading.Lock()
    issued = [0]

    def worker():
        cl = system.client()
        try:
            while True:
                with lock:
                    if issued[0] >= max_requests or time.perf_counter() >= deadline:
                        return
                    issued[0] += 1
                try:
                    status, ctype, body, dt = cl.request(query)
                    if not 200 <= status < 300:
                        raise ValueError("HTTP %d %s" % (status, body[:120].decode("utf-8", "replace")))
                    rows, _ = count_answer(body, ctype, query)
                except Exception as e:  # noqa: BLE001 - every failure is counted, the run goes on
                    with lock:
                        stats.errors += 1
                        if len(stats.err_samples) < 3:
                            stats.err_samples.append("%s: %s" % (type(e).__name__, str(e)[:160]))
                    cl.close()
                    continue
                with lock:
                    if expected_rows is not None and rows != expected_rows:
                        stats.wrong += 1
                    else:
                        stats.ok += 1
                        stats.lat.append(dt)
        finally:
            cl.close()

    c0, t0 = time.process_time(), time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats.wall += time.perf_counter() - t0
    stats.cpu += time.process_time() - c0


WRK_LUA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk", "sparql_post.lua")
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk_seconds(tok):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", tok)
    return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")


def burst_wrk(system, query, stats, concurrency, seconds, timeout, hard_deadline):
    """One burst driven by wrk (C, one thread): raw throughput, status codes only, no answer parsing."""
    import subprocess
    seconds = max(1, int(round(min(seconds, hard_deadline - time.perf_counter()))))
    cmd = ["wrk", "-t1", "-c%d" % concurrency, "-d%ds" % seconds, "--timeout", "%ds" % max(1, int(timeout)),
           "--latency", "-s", WRK_LUA, system.url]
    env = dict(os.environ, QUERY_FILE=query.path)
    c0 = os.times()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + timeout + 30).stdout
    c1 = os.times()
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    if not m:
        stats.errors += 1
        stats.err_samples.append("wrk output not understood: %r" % out[-200:])
        return
    n, wall = int(m.group(1)), wrk_seconds(m.group(2) + m.group(3))
    bad = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    se = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    sock = sum(int(x) for x in se.groups()) if se else 0
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    ok = max(0, n - bad)
    stats.ok += ok
    stats.errors += bad + sock
    stats.wall += wall
    stats.cpu += (c1.children_user + c1.children_system) - (c0.children_user + c0.children_system)
    if ok and "50" in lat:
        stats.wrk_bursts.append((ok, wrk_seconds(lat["50"]), wrk_seconds(lat.get("99", lat["50"]))))
    if (bad or sock) and len(stats.err_samples) < 3:
        stats.err_samples.append("wrk: %d non-2xx, %d socket errors" % (bad, sock))


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("systems", nargs="+", help="NAME=URL (loopback http only) or NAME=inproc:oxigraph:FILE.ttl")
    ap.add_argument("--queries", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "queries"))
    ap.add_argument("--only", help="comma-separated query name prefixes to run (e.g. q1,q7)")
    ap.add_argument("-c", "--concurrency", type=int, default=4, help="client threads per burst (default 4)")
    ap.add_argument("-T", "--duration", type=float, default=10.0,
                    help="seconds of load per (system, query), split over the rounds (default 10)")
    ap.add_argument("-n", "--max-requests", type=int, default=2000,
                    help="request cap per (system, query), split over the rounds (default 2000)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed requests per (system, query) before validation")
    ap.add_argument("--timeout", type=float, default=60.0, help="per-request socket timeout in seconds")
    ap.add_argument("--max-total", type=float, default=3600.0, help="hard cap on the whole timed phase, seconds")
    ap.add_argument("--method", choices=["form", "get", "direct"], default="form",
                    help="form: POST urlencoded (default); get: GET ?query=; direct: POST application/sparql-query")
    ap.add_argument("--driver", choices=["python", "wrk"], default="python",
                    help="python: threads, every answer parsed and checked (default); wrk: raw throughput with "
                         "wrk (form POST, status codes only, no request cap; validation pass still runs)")
    ap.add_argument("--out", help="append the Markdown report to this file")
    ap.add_argument("--json", help="write raw per-(system, query) numbers to this JSON file")
    ap.add_argument("--label", default="", help="free text put in the report heading (e.g. dataset size)")
    args = ap.parse_args(argv)
    if args.concurrency < 1 or args.rounds < 1 or args.max_requests < 1:
        ap.error("concurrency, rounds and max-requests must be >= 1")
    if args.driver == "wrk":
        import shutil
        if not shutil.which("wrk"):
            ap.error("--driver wrk needs the wrk binary (Debian package wrk)")

    queries = load_queries(args.queries, args.only)
    systems = [make_system(s, args) for s in args.systems]
    names = [s.name for s in systems]
    if len(set(names)) != len(names):
        sys.exit("duplicate system names")

    # ---- validation (and warm-up)
    expected = {}   # (system, query) -> rows
    fps = {}
    val_err = {}
    print("# validating %d queries on %d systems" % (len(queries), len(systems)), file=sys.stderr)
    for q in queries:
        for s in systems:
            try:
                for _ in range(args.warmup):
                    one_shot(s, q)
                rows, fp, dt, ctype = one_shot(s, q)
                expected[(s.name, q.name)] = rows
                fps[(s.name, q.name)] = fp
                print("#   %-14s %-36s rows=%-6d %7.1f ms  %s" % (s.name, q.name, rows, dt * 1e3, ctype), file=sys.stderr)
            except Exception as e:  # noqa: BLE001
                val_err[(s.name, q.name)] = "%s: %s" % (type(e).__name__, str(e)[:200])
                print("#   %-14s %-36s FAILED %s" % (s.name, q.name, val_err[(s.name, q.name)]), file=sys.stderr)

    correctness = []
    mismatch = False
    for q in queries:
        counts = {s.name: expected.get((s.name, q.name)) for s in systems}
        got = {v for v in counts.values() if v is not None}
        fset = {fps.get((s.name, q.name)) for s in systems if fps.get((s.name, q.name))}
        if any(v is None for v in counts.values()):
            verdict = "FAILED on " + ", ".join(n for n, v in counts.items() if v is None)
            mismatch = True
        elif len(got) > 1 and q.informational:
            verdict = "differs (implementation-defined, informational)"
        elif len(got) > 1:
            verdict = "ROW COUNT MISMATCH"
            mismatch = True
        else:
            verdict = "same rows"
            if len(fset) > 1:
                groups = {}
                for s in systems:
                    groups.setdefault(fps.get((s.name, q.name)), []).append(s.name)
                verdict += "; values differ: " + " vs ".join("/".join(v) for v in groups.values())
            elif fset:
                verdict += ", same values"
        correctness.append((q.name, counts, verdict))

    # ---- timed, interleaved bursts
    stats = {(s.name, q.name): Stats() for s in systems for q in queries}
    per_burst_s = args.duration / args.rounds
    per_burst_n = max(1, args.max_requests // args.rounds)
    hard_deadline = time.perf_counter() + args.max_total
    k = 0
    t_start = time.time()
    for r in range(args.rounds):
        for q in queries:
            order = systems[k % len(systems):] + systems[:k % len(systems)]
            k += 1
            for s in order:
                if (s.name, q.name) in val_err:
                    continue
                if time.perf_counter() >= hard_deadline:
                    break
                if args.driver == "wrk" and s.kind == "http":
                    burst_wrk(s, q, stats[(s.name, q.name)], args.concurrency, per_burst_s, args.timeout,
                              hard_deadline)
                else:
                    burst(s, q, None if q.informational else expected[(s.name, q.name)], stats[(s.name, q.name)],
                          args.concurrency, per_burst_s, per_burst_n, hard_deadline)
            print("# round %d/%d %-36s done (%.0fs elapsed)" % (r + 1, args.rounds, q.name, time.time() - t_start),
                  file=sys.stderr)
    truncated = time.perf_counter() >= hard_deadline

    # ---- report
    lines = []
    lines.append("### %s" % (args.label or "run"))
    lines.append("")
    lines.append("driver=%s, c=%d clients, %.0fs and <=%d requests per (system, query) over %d interleaved rounds, "
                 "method=%s, timeout=%.0fs%s" % (args.driver, args.concurrency, args.duration, args.max_requests,
                                                 args.rounds, "form" if args.driver == "wrk" else args.method,
                                                 args.timeout, ", TIMED PHASE CUT SHORT" if truncated else ""))
    if args.driver == "wrk":
        lines.append("")
        lines.append("wrk: answers are not parsed in the timed phase (the validation pass checked them); p50 is the "
                     "request-weighted median of per-burst p50s, p99 the worst per-burst p99; 'client CPU' is wrk's.")
    lines.append("")
    lines.append("Systems: " + ", ".join("%s = `%s`" % (s.name, s.url) for s in systems))
    lines.append("")
    lines.append("Correctness (rows in the validation answer):")
    lines.append("")
    lines.append("| query | " + " | ".join(names) + " | verdict |")
    lines.append("|---|" + "---:|" * len(names) + "---|")
    for qn, counts, verdict in correctness:
        lines.append("| %s | %s | %s |" % (qn, " | ".join("-" if counts[n] is None else str(counts[n]) for n in names), verdict))
    lines.append("")
    lines.append("| system | query | rows | req/s | p50 ms | p99 ms | ok | errors | wrong rows | client CPU % |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    raw = []
    for q in queries:
        for s in systems:
            st = stats[(s.name, q.name)]
            key = (s.name, q.name)
            if key in val_err:
                lines.append("| %s | %s | - | - | - | - | 0 | validation failed | - | - |" % (s.name, q.name))
                raw.append({"system": s.name, "query": q.name, "error": val_err[key]})
                continue
            rps = st.ok / st.wall if st.wall > 0 else 0.0
            p50, p99 = (x * 1e3 for x in st.p50_p99())
            cpu = 100.0 * st.cpu / st.wall if st.wall > 0 else 0.0
            if st.ok == 0 and st.errors == 0 and st.wrong == 0:
                lines.append("| %s | %s | %d | - | - | - | 0 | 0 | 0 | %.0f | (no request finished inside the bursts: "
                             "burst shorter than queueing time) |" % (s.name, q.name, expected[key], cpu))
            else:
                lines.append("| %s | %s | %d | %s | %.1f | %.1f | %d | %d | %d | %.0f |" % (
                    s.name, q.name, expected[key], ("%.1f" if rps >= 10 else "%.2f") % rps, p50, p99, st.ok,
                    st.errors, st.wrong, cpu))
            raw.append({"system": s.name, "query": q.name, "rows": expected[key], "rps": rps, "p50_ms": p50,
                        "p99_ms": p99, "ok": st.ok, "errors": st.errors, "wrong": st.wrong, "wall_s": st.wall,
                        "client_cpu_s": st.cpu, "error_samples": st.err_samples})
    # per-system summary: geometric mean of req/s over queries every system completed
    lines.append("")
    common = [q for q in queries if all(stats[(s.name, q.name)].ok > 0 for s in systems)]
    if common:
        lines.append("Geometric mean req/s over the %d queries every system answered: " % len(common) + ", ".join(
            "%s %.1f" % (s.name, geomean([stats[(s.name, q.name)].ok / stats[(s.name, q.name)].wall for q in common]))
            for s in systems))
    errs = [(r["system"], r["query"], r.get("error_samples") or [r.get("error")]) for r in raw
            if r.get("error") or r.get("errors")]
    if errs:
        lines.append("")
        lines.append("Error samples:")
        for sn, qn, samples in errs:
            lines.append("- %s / %s: %s" % (sn, qn, "; ".join(x for x in samples if x)))
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write(report + "\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"label": args.label, "args": vars(args), "correctness": correctness, "results": raw}, fh,
                      ensure_ascii=False, indent=1)
    return 2 if mismatch else 0


def geomean(xs):
    import math
    xs = [x for x in xs if x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else 0.0


if __name__ == "__main__":
    sys.exit(main())
