#!/usr/bin/env python3
"""Benchmark the endpoint against its peers in ONE run and write bench/RESULTS.md with the ratios.

  .venv/bin/python bench/run.py [--triples 1e5] [--seconds 3] [--scratch /tmp/kg-bench]

Starts, on 127.0.0.1 only: policykg under gunicorn three times (cold: result cache off; warm: cache on
with nginx in front, `kg serve --front nginx`, the deployment that serves repeated queries; and, for
comparison, warm-gunicorn: cache on, no nginx), the Oxigraph server (PyPI `oxigraph`, in-memory),
pyoxigraph behind a bare ASGI app (peers/ox_http.py,
the "pyoxigraph + any Python HTTP" floor) and rdflib-endpoint. The peers run from a separate venv
under the scratch folder so they never touch the project's. All load the synthetic graph of
gen_data.py; loadtest.py drives them with wrk (4 connections), the same query mix for each; the three
heavy queries are measured a second time, longer, for the cold-vs-Oxigraph target. Every server started
here is stopped here, by its own process id.
"""

import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from server.ops import front  # noqa: E402  (the project's own check that nginx is there)

KG = ROOT / ".venv" / "bin" / "kg"
PEERS = ["rdflib-endpoint==0.6.3", "uvicorn==0.54.0", "pyoxigraph==0.5.13", "oxigraph==0.5.13"]
PLOT = "matplotlib==3.11.2"  # for bench/scale.py's plot, in the same venv
HEAVY = ("q2", "q5", "q8")  # aggregation, text filter, paging
LIGHT = ("q3", "q4", "q7")  # DESCRIBE, CONSTRUCT, ASK: milliseconds of engine work, the rest is the request path
SLOW = "rdflib-ep"  # measured in a phase of its own (see main)


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback port free now and not handed out before in this run (the kernel may offer a just-closed one
    again: two servers given one port and the second fails to bind while the first answers for both)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def setup(scratch: Path) -> Path:
    """The peers' venv (idempotent)."""
    venv = scratch / "venv"
    if not (venv / "bin" / "rdflib-endpoint").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PEERS], check=True)
    return venv


def data(scratch: Path, triples: str, seed: int = 1) -> Path:
    """gen_data.py's graph of that size and seed, generated once into the scratch folder."""
    path = scratch / "data" / (f"kg-{triples}.ttl" if seed == 1 else f"kg-{triples}-seed{seed}.ttl")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part")
        subprocess.run([sys.executable, str(HERE / "gen_data.py"), "--triples", triples, "--seed", str(seed),
                        "--out", str(part)], check=True)
        part.replace(path)  # an interrupted run leaves no truncated graph to be reused
    return path


def ready(url: str, seconds: float = 300) -> None:
    body = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"}).encode()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, data=body, headers={"Accept": "application/sparql-results+json"})
            with urllib.request.urlopen(request, timeout=10) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {seconds} s")


def load_oxigraph(port: int, ttl: Path) -> None:
    """POST the graph into the default graph of the Oxigraph server on `port` (Graph Store Protocol), streamed."""
    with ttl.open("rb") as body:
        load = urllib.request.Request(f"http://127.0.0.1:{port}/store?default", data=body, method="POST", headers={
            "Content-Type": "text/turtle", "Content-Length": str(ttl.stat().st_size)})
        urllib.request.urlopen(load, timeout=3600).close()


class Servers:
    """The servers this run starts; each in its own session, stopped by its own pid."""

    def __init__(self, logs: Path):
        self.logs, self.running = logs, []

    def start(self, name: str, command: list[str], env: dict | None = None, cwd: Path = ROOT) -> None:
        log = open(self.logs / f"{name}.log", "wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, **(env or {})}, start_new_session=True, cwd=cwd)
        self.running.append((name, process))

    def check_running(self) -> None:
        """Stop the run if a server has exited (an answer on its port would then come from something else)."""
        gone = [f"{name} (exit {process.returncode}, see {self.logs / (name + '.log')})"
                for name, process in self.running if process.poll() is not None]
        if gone:
            raise RuntimeError("exited before the measurement: " + ", ".join(gone))

    def wait_idle(self, name: str, limit: float = 120.0) -> None:
        """Until the named server's processes use no CPU for half a second (at most `limit` s)."""
        group = next(process.pid for n, process in self.running if n == name)
        deadline, before = time.monotonic() + limit, _cpu_ticks(group)
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = _cpu_ticks(group)
            if now - before <= 1:
                return
            before = now

    def stop(self) -> None:
        for _, process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _, process in self.running:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _cpu_ticks(group: int) -> int:
    """User + system CPU ticks of every process in process group `group`."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total


def geomean(values: list[float]) -> float:
    values = [v for v in values if v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else 0.0


def per_second(results: dict) -> dict:
    """(system, query) → requests/s (0 when the system failed the query)."""
    return {(r["system"], r["query"]): r.get("rps", 0.0) if r.get("ok") else 0.0 for r in results["results"]}


def report(results: dict, heavy: dict, label: str, commands: list[str]) -> str:
    """RESULTS.md: the table, geometric means, the long heavy-query pass, and each target with its ratio."""
    rows = results["results"]
    systems = list(dict.fromkeys(r["system"] for r in rows))
    queries = list(dict.fromkeys(r["query"] for r in rows))
    rps = per_second(results)
    long_rps = per_second(heavy)
    long_systems = list(dict.fromkeys(r["system"] for r in heavy["results"]))
    common = [q for q in queries if all(rps[(s, q)] > 0 for s in systems)]
    gm = {s: geomean([rps[(s, q)] for q in common]) for s in systems}
    lines = [f"# Endpoint benchmark: {label}", "",
             f"Measured {time.strftime('%Y-%m-%d', time.gmtime())} on this machine, all systems in one run "
             "(wrk, 4 connections, form POST; answers validated once per system and query, row counts compared).",
             "", "Commands:", "", "```sh", *commands, "```", "", "## Requests per second", "",
             "| query | " + " | ".join(systems) + " |", "|---|" + "---:|" * len(systems)]
    for q in queries:
        lines.append(f"| {q} | " + " | ".join(f"{rps[(s, q)]:.0f}" if rps[(s, q)] >= 10 else f"{rps[(s, q)]:.2f}"
                                               for s in systems) + " |")
    lines.append("| **geometric mean** | " + " | ".join(f"**{gm[s]:.0f}**" for s in systems) + " |")
    lines += ["", f"Geometric means over the {len(common)} queries every system answered.", ""]

    def ratio(a, b):
        return a / b if b else float("inf")

    heavy_queries = [q for q in queries if q.split("_")[0] in HEAVY]
    lines += ["## Heavy queries, measured longer", "",
              "The heavy queries answer 40–100 times a second, so a short burst holds too few requests on a shared "
              "machine; the targets on them use this second pass (after the one above; same servers, longer "
              "interleaved bursts). Both passes' ratios are shown.", "",
              "| query | " + " | ".join(long_systems) + " | cold ÷ Oxigraph, this pass | cold ÷ Oxigraph, first pass |",
              "|---|" + "---:|" * (len(long_systems) + 2)]
    for q in heavy_queries:
        lines.append(f"| {q} | " + " | ".join(f"{long_rps.get((s, q), 0):.1f}" for s in long_systems)
                     + f" | {ratio(long_rps.get(('policykg-cold', q), 0), long_rps.get(('oxigraph', q), 0)):.2f}"
                     + f" | {ratio(rps[('policykg-cold', q)], rps[('oxigraph', q)]):.2f} |")
    light = [q for q in queries if q.split("_")[0] in LIGHT]
    lines += ["", "## Light queries, cold, against the Oxigraph server", "",
              "The per-request path decides these (bench/path.py shows where its time goes).", "",
              "| query | policykg-cold | oxigraph | cold ÷ Oxigraph |", "|---|---:|---:|---:|"]
    lines += [f"| {q} | {rps[('policykg-cold', q)]:.0f} | {rps[('oxigraph', q)]:.0f} | "
              f"{ratio(rps[('policykg-cold', q)], rps[('oxigraph', q)]):.2f} |" for q in light]
    lines += ["", "## Targets (issue 4)", ""]

    checks = []
    cold = gm.get("policykg-cold", 0)
    checks.append(("cold geometric mean ≥ pyoxigraph + bare ASGI", ratio(cold, gm.get("ox-http", 0)), 1.0))
    checks.append(("cold geometric mean ≥ 10× rdflib-endpoint", ratio(cold, gm.get("rdflib-ep", 0)), 10.0))
    for q in heavy_queries:
        checks.append((f"cold {q} ≥ 0.9× Oxigraph server (long pass)",
                       ratio(long_rps.get(("policykg-cold", q), 0), long_rps.get(("oxigraph", q), 0)), 0.9))
    for q in queries:
        checks.append((f"warm {q} ≥ Oxigraph server", ratio(rps[("policykg-warm", q)], rps[("oxigraph", q)]), 1.0))
    lines += ["| target | ratio | met |", "|---|---:|---|"]
    lines += [f"| {name} | {value:.2f} | {'yes' if value >= need else 'no'} |" for name, value, need in checks]
    lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", default="1e5")
    parser.add_argument("--seconds", type=float, default=8.0, help="wrk seconds per (system, query), all rounds (default 8)")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds, system order rotated (default 4)")
    parser.add_argument("--heavy-seconds", type=float, default=24.0,
                        help="wrk seconds per (system, heavy query) in the long pass, all rounds (default 24)")
    parser.add_argument("--heavy-rounds", type=int, default=6, help="interleaved rounds of the long pass (default 6)")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/kg-bench"))
    parser.add_argument("--workers", type=int, default=2, help="policykg gunicorn workers (default 2)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    try:
        front.binary()
    except FileNotFoundError as error:
        parser.error(str(error))  # policykg-warm runs behind nginx
    args.scratch.mkdir(parents=True, exist_ok=True)
    logs = args.scratch / "logs"
    logs.mkdir(exist_ok=True)
    venv, ttl = setup(args.scratch), data(args.scratch, args.triples)
    ports = {name: free_port() for name in ("policykg-cold", "policykg-warm", "policykg-warm-gunicorn", "oxigraph",
                                            "ox-http", "rdflib-ep")}
    urls = {name: f"http://127.0.0.1:{port}/sparql" for name, port in ports.items()}
    urls["oxigraph"], urls["rdflib-ep"] = f"http://127.0.0.1:{ports['oxigraph']}/query", f"http://127.0.0.1:{ports['rdflib-ep']}/"
    servers = Servers(logs)
    quiet = {"KG_ACCESS_LOG": "false"}
    try:
        for name, cache, in_front in (("policykg-cold", "false", "none"), ("policykg-warm", "true", "nginx"),
                                   ("policykg-warm-gunicorn", "true", "none")):
            servers.start(name, [str(KG), "serve", "--data", str(ttl), "--bind", f"127.0.0.1:{ports[name]}",
                                 "--workers", str(args.workers), "--front", in_front], {**quiet, "KG_CACHE": cache})
        servers.start("oxigraph", [str(venv / "bin" / "oxigraph"), "serve", "--bind", f"127.0.0.1:{ports['oxigraph']}"])
        servers.start("ox-http", [str(venv / "bin" / "python"), str(HERE / "peers" / "ox_http.py"), "--data", str(ttl),
                                  "--host", "127.0.0.1", "--port", str(ports["ox-http"])])
        servers.start("rdflib-ep", [str(venv / "bin" / "rdflib-endpoint"), "serve", "--host", "127.0.0.1",
                                    "--port", str(ports["rdflib-ep"]), str(ttl)])
        ready(urls["oxigraph"])
        load_oxigraph(ports["oxigraph"], ttl)
        for url in urls.values():
            ready(url)
        servers.check_running()
        # The mix on every system but rdflib-endpoint; then the heavy queries again, longer, on the three
        # systems their target compares (see report); then rdflib-endpoint in a phase of its own, one query at a
        # time once it is idle: it answers one request at a time and goes on computing the heavy ones for seconds
        # after wrk has hung up, which would steal a core from whatever was measured next.
        phases = [("mix", [n for n in urls if n != SLOW], None, args.seconds, args.rounds),
                  ("heavy", ["policykg-cold", "oxigraph", "ox-http"], ",".join(HEAVY), args.heavy_seconds,
                   args.heavy_rounds)]
        phases += [("mix", [SLOW], q.name.split("_")[0], args.seconds, args.rounds)
                   for q in sorted((HERE / "queries").glob("q*.rq"))]
        status, measured = 0, {"mix": {"results": []}, "heavy": {"results": []}}
        for number, (part, names, only, seconds, rounds) in enumerate(phases):
            if names == [SLOW]:
                servers.wait_idle(SLOW)
            raw = args.scratch / f"results-{number}.json"
            command = [str(venv / "bin" / "python"), str(HERE / "loadtest.py"), "--driver", "wrk", "-c", "4",
                       "-T", str(seconds), "--rounds", str(rounds), "--timeout", "60", "--json", str(raw),
                       "--label", f"{args.triples} triples", *(["--only", only] if only else []),
                       *(f"{n}={urls[n]}" for n in names)]
            status = max(status, subprocess.run(command, cwd=HERE).returncode)
            measured[part]["results"] += json.loads(raw.read_text())["results"]
    finally:
        servers.stop()
    shown = [f"python bench/run.py --triples {args.triples} --seconds {args.seconds:g} --rounds {args.rounds} "
             f"--heavy-seconds {args.heavy_seconds:g} --heavy-rounds {args.heavy_rounds} --workers {args.workers}",
             "# which runs: python bench/loadtest.py --driver wrk -c 4 -T SECONDS --rounds ROUNDS NAME=URL ...",
             "# first policykg-cold, policykg-warm (kg serve --front nginx), policykg-warm-gunicorn, oxigraph, ox-http",
             "# interleaved; then policykg-cold, oxigraph, ox-http on q2,q5,q8 with -T HEAVY_SECONDS --rounds",
             "# HEAVY_ROUNDS; then rdflib-ep alone, one query at a time (--only qN), each once it has finished the",
             "# work left over from the one before"]
    args.out.write_text(report(measured["mix"], measured["heavy"], f"{args.triples} triples", shown), encoding="utf-8")
    print(f"wrote {args.out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
