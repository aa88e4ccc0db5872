#!/usr/bin/env python3
"""Where a light query's time goes: policykg's cold request path against lighter HTTP layers, in one run.

  .venv/bin/python bench/path.py [--seconds 4] [--rounds 3] [--triples 1e5]

Serves gen_data.py's graph (10^5 triples) on 127.0.0.1, result cache off, from seven systems (eight with
--baseline), and sends each of the light queries q3 (DESCRIBE), q4 (CONSTRUCT) and q7 (ASK) with wrk (4 connections,
form POST), interleaved round by round, the system order rotated:

- policykg: `kg serve --data FILE` (gunicorn with the buffering worker, Flask, a query worker forked by the zygote);
- policykg-granian: the same app (server.create_app) under Granian's WSGI server (HTTP in Rust) instead of gunicorn;
- floor-gunicorn / floor-granian: peers/http_floor.py, a WSGI app that answers a fixed result with no work, under
  kg serve's gunicorn worker class and under Granian: the cost of the HTTP layer alone;
- relay-gunicorn / relay-granian: peers/http_floor.py's relay, which hands the query to policykg's confined query
  worker and relays its answer with no app around it (no Flask, checks, negotiation, ETag or log), under the same
  two servers: the most any app can answer while the query runs where it cannot run away;
- oxigraph: the Oxigraph server, in memory;
- baseline (with `--baseline REV`): `kg serve --data FILE` of the code at git revision REV (extracted with `git
  archive` into the scratch folder, run by the same interpreter), for "this many times the rate of REV" in one run.

Around every burst it reads the CPU time of each system's process tree from /proc, split into the server processes
and the query workers (the zygote's forks), and wrk's own: CPU microseconds per answered request, the figure that
decides the rate on two shared cores. Then bench/app_cost.py, in a child, splits the server process's share without
HTTP: policykg's app, the relay and an empty Flask view called directly. Writes bench/PATH.md. Granian is installed
(pip --target) into the scratch folder, never into the project's venv.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import KG, Servers, data, free_port, load_oxigraph, ready, setup  # noqa: E402
from scale import role, tree  # noqa: E402

GRANIAN = "granian==2.8.9"
LIGHT = ("q3_describe_task", "q4_construct_plan_neighbourhood", "q7_ask")
SYSTEMS = ("policykg", "policykg-granian", "floor-gunicorn", "floor-granian", "relay-gunicorn", "relay-granian",
           "oxigraph")
CLOCK = os.sysconf("SC_CLK_TCK")


def granian(scratch: Path) -> Path:
    """A folder holding Granian, importable by the project's interpreter (idempotent)."""
    target = scratch / "granian"
    if not (target / "granian").is_dir():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(target), GRANIAN], check=True)
    return target


def cpu_by_role(pid: int) -> dict[str, float]:
    """CPU seconds of the tree of `pid` (reaped children included), by role: server or query worker."""
    seconds: dict[str, float] = {}
    for member in tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = "server" if role(member) in ("server", "zygote") else "query worker"
        seconds[kind] = seconds.get(kind, 0.0) + sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLOCK
    return seconds


def burst(url: str, query: Path, seconds: int) -> tuple[int, int, float]:
    """One wrk burst: (answers with 2xx, others, wrk's CPU seconds)."""
    before = os.times()
    out = subprocess.run(["wrk", "-t1", "-c4", f"-d{seconds}s", "--timeout", "10s", "-s", str(HERE / "wrk" / "sparql_post.lua"),
                          url], env={**os.environ, "QUERY_FILE": str(query)}, capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    after = os.times()
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    bad += sum(int(n) for n in errors.groups()) if errors else 0
    return total - bad, bad, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def checkout(scratch: Path, revision: str) -> Path:
    """The project's files at `revision`, extracted into the scratch folder (idempotent)."""
    root = HERE.parent  # git archive run in a subfolder would take that subfolder only
    commit = subprocess.run(["git", "rev-parse", "--verify", f"{revision}^{{commit}}"], cwd=root, check=True,
                            capture_output=True, text=True).stdout.strip()
    target = scratch / f"baseline-{commit[:12]}"
    if not (target / "kg" / "cli.py").is_file():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", commit], cwd=root, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    if not (target / "kg" / "cli.py").is_file() or not (target / "server").is_dir():
        raise SystemExit(f"{revision}: no kg/cli.py and server/ there; not a revision of this project")
    return target


def start(servers: Servers, scratch: Path, ttl: Path, venv: Path, baseline: str | None) -> dict[str, str]:
    """Start the systems; their query URLs."""
    ports = {name: free_port() for name in SYSTEMS + (("baseline",) if baseline else ())}
    quiet = {"KG_ACCESS_LOG": "false", "KG_CACHE": "false"}
    on_path = {"PYTHONPATH": os.pathsep.join((str(granian(scratch)), str(HERE / "peers")))}
    run_granian = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--workers", "2",
                   "--blocking-threads", "16", "--port"]
    servers.start("policykg", [str(KG), "serve", "--data", str(ttl), "--bind", f"127.0.0.1:{ports['policykg']}"], quiet)
    servers.start("policykg-granian", [*run_granian, str(ports["policykg-granian"]), "kg_wsgi:app"],
                  {**quiet, **on_path, "KG_BENCH_DATA": str(ttl)})
    servers.start("floor-gunicorn", [sys.executable, str(HERE / "peers" / "http_floor.py"), "--bind",
                                     f"127.0.0.1:{ports['floor-gunicorn']}"])
    servers.start("floor-granian", [*run_granian, str(ports["floor-granian"]), "http_floor:app"], on_path)
    servers.start("relay-gunicorn", [sys.executable, str(HERE / "peers" / "http_floor.py"), "--app", "relay", "--bind",
                                     f"127.0.0.1:{ports['relay-gunicorn']}"], {**quiet, "KG_BENCH_DATA": str(ttl)})
    servers.start("relay-granian", [*run_granian, str(ports["relay-granian"]), "http_floor:relay"],
                  {**quiet, **on_path, "KG_BENCH_DATA": str(ttl)})
    servers.start("oxigraph", [str(venv / "bin" / "oxigraph"), "serve", "--bind", f"127.0.0.1:{ports['oxigraph']}"])
    if baseline:
        tree = checkout(scratch, baseline)
        run_kg = [sys.executable, "-c", "import sys; from kg.cli import main; sys.exit(main(sys.argv[1:]))"]
        servers.start("baseline", [*run_kg, "serve", "--data", str(ttl), "--bind", f"127.0.0.1:{ports['baseline']}"],
                      {**quiet, "PYTHONPATH": str(tree)}, cwd=tree)
    urls = {name: f"http://127.0.0.1:{port}/sparql" for name, port in ports.items()}
    urls["oxigraph"] = f"http://127.0.0.1:{ports['oxigraph']}/query"
    ready(urls["oxigraph"])
    load_oxigraph(ports["oxigraph"], ttl)
    for url in urls.values():
        ready(url)
    servers.check_running()
    return urls


def measure(servers: Servers, urls: dict, seconds: int, rounds: int) -> dict:
    """Interleaved bursts; per (system, query): answers, failures, wall seconds, CPU seconds by role and wrk's."""
    pids = {name: process.pid for name, process in servers.running}
    totals: dict = {}
    systems = list(urls)
    for number in range(rounds):
        order = systems[number % len(systems):] + systems[:number % len(systems)]
        for query in LIGHT:
            for name in order:
                before, started = cpu_by_role(pids[name]), time.perf_counter()
                ok, bad, driver = burst(urls[name], HERE / "queries" / f"{query}.rq", seconds)
                wall, after = time.perf_counter() - started, cpu_by_role(pids[name])
                entry = totals.setdefault((name, query), {"ok": 0, "bad": 0, "wall": 0.0, "cpu": {}, "bursts": []})
                entry["bursts"].append(ok / wall)
                entry["ok"] += ok
                entry["bad"] += bad
                entry["wall"] += wall
                for kind in after:
                    entry["cpu"][kind] = entry["cpu"].get(kind, 0.0) + after[kind] - before.get(kind, 0.0)
                entry["cpu"]["wrk"] = entry["cpu"].get("wrk", 0.0) + driver
    return totals


def app_cost(ttl: Path) -> dict:
    """bench/app_cost.py's figures: {query: {system: CPU µs per call}}, measured in a child of its own."""
    out = subprocess.run([sys.executable, str(HERE / "app_cost.py"), "--data", str(ttl)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def report(totals: dict, costs: dict, command: str) -> str:
    """bench/PATH.md."""
    rate = {key: entry["ok"] / entry["wall"] for key, entry in totals.items()}
    systems = tuple(dict.fromkeys(name for name, _ in totals))
    against = ["Oxigraph"] + (["baseline"] if "baseline" in systems else [])
    lines = ["# Where a light query's time goes", "",
             f"Measured {time.strftime('%Y-%m-%d')} on this machine (2 cores, shared), all systems in one run, "
             "interleaved; result cache off.", "", "```sh", command, "```", "",
             "## Requests per second", "",
             "| query | " + " | ".join(systems) + "".join(f" | policykg ÷ {name}" for name in against)
             + " | policykg-granian ÷ policykg |", "|---|" + "---:|" * (len(systems) + len(against) + 1)]
    for query in LIGHT:
        cells = " | ".join(f"{rate[(name, query)]:,.0f}" for name in systems)
        mine = rate[("policykg", query)]
        ratios = "".join(f" | {mine / rate[(name.lower(), query)]:.2f}" for name in against)
        lines.append(f"| {query} | {cells}{ratios} | {rate[('policykg-granian', query)] / mine:.2f} |")
    lines += ["", "## CPU microseconds per answered request", "",
              "Server processes (HTTP, app), query workers (the zygote's forks), and the load driver (wrk).", "",
              "| query | system | server | query workers | wrk | total |", "|---|---|---:|---:|---:|---:|"]
    for query in LIGHT:
        for name in systems:
            entry = totals[(name, query)]
            per = {kind: value * 1e6 / max(entry["ok"], 1) for kind, value in entry["cpu"].items()}
            lines.append(f"| {query} | {name} | {per.get('server', 0):,.0f} | {per.get('query worker', 0):,.0f} | "
                         f"{per.get('wrk', 0):,.0f} | {sum(per.values()):,.0f} |")
    lines += ["", "## Each burst", "",
              "Requests per second of each burst, in the order run: a system whose connections all land in one of its "
              "processes shows as a burst at about half the rate of the others.", "",
              "| query | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems)]
    for query in LIGHT:
        cells = " | ".join(" / ".join(f"{r:,.0f}" for r in totals[(name, query)]["bursts"]) for name in systems)
        lines.append(f"| {query} | {cells} |")
    names = list(next(iter(costs.values())))
    lines += ["", "## The server process's share, without HTTP", "",
              "CPU microseconds per request in one process, each WSGI app called directly (bench/app_cost.py): "
              "policykg's app, the relay (the same query worker, no app around it) and a Flask view with a fixed answer.",
              "", "| query | " + " | ".join(names) + " | app − relay |", "|---|" + "---:|" * (len(names) + 1)]
    for query in LIGHT:
        cells = " | ".join(f"{costs[query][name]:,}" for name in names)
        lines.append(f"| {query} | {cells} | {costs[query]['policykg app'] - costs[query]['relay']:,} |")
    failures = [f"{name} {query}: {entry['bad']}" for (name, query), entry in totals.items() if entry["bad"]]
    lines += ["", "Failed requests: " + (", ".join(failures) if failures else "none") + "."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", default="1e5")
    parser.add_argument("--seconds", type=int, default=4, help="wrk seconds per burst (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/kg-bench"))
    parser.add_argument("--out", type=Path, default=HERE / "PATH.md")
    parser.add_argument("--baseline", metavar="REV", help="also serve the code at git revision REV, in the same run")
    args = parser.parse_args(argv)
    logs = args.scratch / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    venv, ttl = setup(args.scratch), data(args.scratch, args.triples)
    servers = Servers(logs)
    try:
        urls = start(servers, args.scratch, ttl, venv, args.baseline)
        totals = measure(servers, urls, args.seconds, args.rounds)
    finally:
        servers.stop()
    costs = app_cost(ttl)
    command = f"python bench/path.py --triples {args.triples} --seconds {args.seconds} --rounds {args.rounds}"
    command += f" --baseline {args.baseline}" if args.baseline else ""
    args.out.write_text(report(totals, costs, command), encoding="utf-8")
    print(args.out.read_text(encoding="utf-8"))
    return 1 if any(entry["bad"] for entry in totals.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
