#!/usr/bin/env python3
"""Scale curve: time to ready, memory and per-query latency of policykg, the Oxigraph server and Virtuoso, per size.

  .venv/bin/python bench/scale.py [--sizes 1e5 1e6 1e7] [--runs 5] [--budget 30] [--limit 60]

One run, ratios within it (issue 13, item 2). For each size of gen_data.py's graph (generated once into the scratch
folder, reused when present) and each system in turn, the system alone on the machine (each is stopped before the
next starts, for memory):

- policykg: `kg serve --data FILE`, default settings but KG_CACHE=false (the engine is measured, not the result cache);
- oxigraph-mem: `oxigraph serve` in memory, the file POSTed to its Graph Store endpoint;
- oxigraph-disk: `oxigraph load --location DIR --file FILE`, then `oxigraph serve-read-only --location DIR`;
- virtuoso: Debian's virtuoso-t with a configuration sized for 10^7 triples, bulk-loaded (ld_dir, rdf_loader_run,
  checkpoint through isql-vt).

Ready is the time from the first process's start until `ASK { ?s ?p ?o }` answers, loading included. Then every
query of bench/queries/ is sent by one client, sequentially, as a form POST, N times (--runs), fewer when its runs
have used the per-query budget (--budget s; the first run is always made); a run past the client's limit (--limit s)
is recorded as such. After the queries: RSS and PSS summed over the whole process tree (PSS from smaps_rollup
counts a page shared by n processes 1/n in each: the memory the service takes), and for each query the tree's CPU
seconds and minor page faults per run (read from /proc: faults in a forked query worker are its copy-on-write).
At 10^6 (or the middle size given), policykg again with KG_EXECUTORS=1 and =4: total PSS of 4 query workers
against 1, and startup against `oxigraph load` of the same file.

Results go to SCRATCH/scale.json after every system, then bench/SCALE.md and bench/scale.png (matplotlib, from the
peers' venv of run.py: `--report JSON` rewrites both from a saved run). Every process is stopped by its own group.
"""

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KG = ROOT / ".venv" / "bin" / "kg"
QUERIES = sorted((HERE / "queries").glob("q*.rq"))
SYSTEMS = ("policykg", "oxigraph-mem", "oxigraph-disk", "virtuoso")
OXIGRAPHS = ("oxigraph-mem", "oxigraph-disk")
ASK_ALL = "ASK { ?s ?p ?o }"
TIME_LIMIT = 10.0  # policykg's default QUERY_TIMEOUT: a query past it is a 503
ROW_CAP = 10_000  # policykg's default ROW_CAP, and Virtuoso's ResultSetMaxRows here: an answer of that many is cut
# Virtuoso's buffers for a few GB (8 KiB pages; its documentation's row for 4 GB of free memory), enough for 10^7.
VIRTUOSO_BUFFERS = {"NumberOfBuffers": "340000", "MaxDirtyBuffers": "250000"}
ACCEPT = {"select": "application/sparql-results+json", "ask": "application/sparql-results+json",
          "construct": "text/turtle", "describe": "text/turtle"}


# --- processes and their memory ---------------------------------------------------------------------------------

def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def processes() -> dict[int, tuple[str, list[str]]]:
    """Every process now: pid -> (name, the fields of /proc/PID/stat after the name)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            found[int(entry.name)] = (text[text.index("(") + 1:text.rindex(")")], text.rsplit(")", 1)[1].split())
    return found


def tree(pid: int, now: dict | None = None) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for member, (_, fields) in (now or processes()).items():
        children.setdefault(int(fields[1]), []).append(member)
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _ticks(fields: list[str], reaped: bool = True) -> int:
    return sum(int(fields[i]) for i in ((11, 12, 13, 14) if reaped else (11, 12)))


def counters(pid: int, now: dict | None = None) -> tuple[float, int]:
    """(CPU seconds, minor page faults) of the tree of `pid`, its reaped children's included."""
    now = now or processes()
    ticks = faults = 0
    for member in tree(pid, now):
        if member in now:
            fields = now[member][1]
            faults += int(fields[7]) + int(fields[8])
            ticks += _ticks(fields)
    return ticks / os.sysconf("SC_CLK_TCK"), faults


def busiest_other(pid: int, before: dict, after: dict) -> tuple[str, float]:
    """The process outside the tree of `pid` that used the most CPU between two looks: (name, seconds)."""
    ours = set(tree(pid, before)) | set(tree(pid, after)) | {os.getpid()}
    used = [(_ticks(after[p][1], False) - _ticks(before[p][1], False), after[p][0]) for p in after
            if p in before and p not in ours]
    ticks, name = max(used, default=(0, ""))
    return name, ticks / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """CPU seconds the whole machine has been busy (every core, every process), from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _parent(pid: int) -> int:
    try:
        return int(_stat(pid)[1])
    except OSError:
        return 0


def role(pid: int) -> str:
    """What a process of policykg's tree is, from its command line and its parent's."""
    if b"zygote.py" in _command(pid):
        return "forked worker" if b"zygote.py" in _command(_parent(pid)) else "zygote"
    return "fresh worker" if b"worker.py" in _command(pid) else "server"


def memory(pid: int) -> dict:
    """RSS and PSS (MB) summed over the process tree of `pid`, the number of processes, and PSS by role."""
    rss = pss = count = 0
    roles: dict[str, float] = {}
    for member in tree(pid):
        try:
            lines = Path(f"/proc/{member}/smaps_rollup").read_text().splitlines()[1:]
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in lines)
        rss += int(fields["Rss"].split()[0])
        pss += int(fields["Pss"].split()[0])
        count += 1
        roles[role(member)] = roles.get(role(member), 0) + int(fields["Pss"].split()[0]) / 1024
    return {"rss": rss / 1024, "pss": pss / 1024, "processes": count, "roles": roles}


def start(command: list, log: Path, env: dict | None = None, cwd: Path | None = None) -> subprocess.Popen:
    with log.open("wb") as output:
        return subprocess.Popen([str(part) for part in command], stdout=output, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})}, cwd=cwd or ROOT,
                                start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the group this script started, SIGKILL after 60 s (Virtuoso checkpoints on the way out)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
    except ProcessLookupError:
        pass


# --- the client ---------------------------------------------------------------------------------------------------

def ask(url: str, query: str, limit: float) -> dict:
    """One form POST: status (an int, or "limit" past the client's limit), seconds, rows of a result set."""
    # The project's reading of the query form (imported here: --report and --plot need no server code).
    from server.engine.remote import form
    body = urllib.parse.urlencode({"query": query}).encode()
    request = urllib.request.Request(url, data=body, headers={
        "Accept": ACCEPT[form(query) or "select"], "Content-Type": "application/x-www-form-urlencoded"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=limit) as answer:
            data, status = answer.read(), answer.status
            partial = answer.headers.get("X-SQL-State")  # Virtuoso's "anytime" answer: cut at its time limit
            truncated = answer.headers.get("X-Result-Truncated")  # a streamed answer's cut comes after it
            cap = int(answer.headers.get("X-Result-Row-Cap") or ROW_CAP)  # policykg's, else Virtuoso's here
    except urllib.error.HTTPError as error:
        error.read()
        return {"status": error.code, "seconds": time.monotonic() - started}
    except (TimeoutError, urllib.error.URLError) as error:
        if isinstance(error, TimeoutError) or isinstance(getattr(error, "reason", None), TimeoutError):
            return {"status": "limit", "seconds": time.monotonic() - started}
        raise
    result = {"status": status, "seconds": time.monotonic() - started, "bytes": len(data)}
    if answer.headers.get_content_type() == ACCEPT["select"]:
        parsed = json.loads(data)
        result["rows"] = len(parsed["results"]["bindings"]) if "results" in parsed else int(parsed["boolean"])
        truncated = truncated or ("results" in parsed and result["rows"] == cap)
    if partial or truncated:
        result["cut"] = partial or "row cap"
    return result


def wait_ready(url: str, process: subprocess.Popen, started: float, seconds: float = 3600) -> float:
    """Seconds from `started` until ASK answers 200."""
    while time.monotonic() - started < seconds:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with status {process.returncode}")
        try:
            if ask(url, ASK_ALL, 10.0)["status"] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {seconds:g} s")


def run_queries(url: str, pid: int, runs: int, budget: float, limit: float) -> dict:
    """Every query up to `runs` times (fewer once `budget` s are used), each run with the tree's CPU and faults."""
    results = {}
    for path in QUERIES:
        query, done, used = path.read_text(), [], 0.0
        while len(done) < runs and (not done or used < budget):
            before = processes()  # the scans of /proc outside the machine's window
            busy = machine_cpu()
            answer = ask(url, query, limit)
            after_busy = machine_cpu()
            after = processes()
            (cpu, faults), (after_cpu, after_faults) = counters(pid, before), counters(pid, after)
            # others: what every other process (this client included) took of the 2 cores meanwhile
            answer.update(cpu=after_cpu - cpu, others=max(after_busy - busy - (after_cpu - cpu), 0.0),
                          busiest_other=busiest_other(pid, before, after),
                          faulted_mb=(after_faults - faults) * os.sysconf("SC_PAGE_SIZE") / 2**20)
            done.append(answer)
            used += answer["seconds"]
            print(f"    {path.stem.split('_')[0]}: {answer['status']} {answer['seconds'] * 1000:.0f} ms", flush=True)
        results[path.stem.split("_")[0]] = done
    return results


# --- the systems --------------------------------------------------------------------------------------------------

def measure(name: str, url: str, process: subprocess.Popen, ready: float, args, busy: float | None = None,
            **extra) -> dict:
    """The queries, then the memory; `busy`: the machine's CPU seconds at the start, to tell what other
    processes took of the cores while this one started."""
    if busy is not None:
        extra["others_at_start"] = max(machine_cpu() - busy - counters(process.pid)[0], 0.0)
    print(f"  {name}: ready in {ready:.1f} s", flush=True)
    queries = run_queries(url, process.pid, args.runs, args.budget, args.limit)
    time.sleep(1.0)  # a replaced query worker has forked again
    return {"ready": ready, "queries": queries, **memory(process.pid), **extra}


def policykg(data: Path, args, logs: Path, executors: int | None = None) -> dict:
    from run import free_port
    port = free_port()
    env = {"KG_CACHE": "false", **dict(pair.split("=", 1) for pair in args.env),
           **({"KG_EXECUTORS": str(executors)} if executors else {})}
    started, busy = time.monotonic(), machine_cpu()
    log = logs / f"policykg-{data.stem}-{executors or 'default'}.log"
    process = start([KG, "serve", "--data", data, "--bind", f"127.0.0.1:{port}"], log, env)
    try:
        url = f"http://127.0.0.1:{port}/sparql"
        result = measure("policykg", url, process, wait_ready(url, process, started), args, busy)
    finally:
        stop(process)
    _worker_times(result["queries"], log)
    return result


def _worker_times(queries: dict, log: Path) -> None:
    """Each run's `query_ms` from policykg's access log (until the query pool's answer, or its first part when
    the answer is streamed), from the log's last /sparql lines, which are these runs in order."""
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("path") == "/sparql":
                lines.append(entry)
    runs = [run for done in queries.values() for run in done]
    if len(lines) >= len(runs):
        for run, entry in zip(runs, lines[len(lines) - len(runs):], strict=True):
            if entry.get("query_ms") is not None:
                run["worker_ms"] = entry["query_ms"]


def oxigraph_memory(data: Path, args, logs: Path, venv: Path) -> dict:
    from run import free_port, load_oxigraph
    port = free_port()
    started, busy = time.monotonic(), machine_cpu()
    process = start([venv / "bin" / "oxigraph", "serve", "--bind", f"127.0.0.1:{port}", "--timeout-s",
                     str(int(args.limit))], logs / f"oxigraph-mem-{data.stem}.log")
    try:
        url = f"http://127.0.0.1:{port}/query"
        wait_ready(url, process, started)
        load_oxigraph(port, data)
        return measure("oxigraph-mem", url, process, wait_ready(url, process, started), args, busy)
    finally:
        stop(process)


def oxigraph_disk(data: Path, args, logs: Path, venv: Path, scratch: Path) -> dict:
    from run import free_port
    location = scratch / "oxigraph-store"
    subprocess.run(["rm", "-rf", str(location)], check=True)
    started = time.monotonic()
    subprocess.run([str(venv / "bin" / "oxigraph"), "load", "--location", str(location), "--file", str(data)],
                   check=True, capture_output=True, timeout=3600)
    load = time.monotonic() - started
    port = free_port()
    process = start([venv / "bin" / "oxigraph", "serve-read-only", "--location", location, "--bind",
                     f"127.0.0.1:{port}", "--timeout-s", str(int(args.limit))], logs / f"oxigraph-disk-{data.stem}.log")
    try:
        url = f"http://127.0.0.1:{port}/query"
        return measure("oxigraph-disk", url, process, wait_ready(url, process, started), args, load=load,
                       disk_mb=_size(location) / 2**20)
    finally:
        stop(process)
        subprocess.run(["rm", "-rf", str(location)], check=True)


def virtuoso(data: Path, args, logs: Path, scratch: Path) -> dict:
    import shutil

    from run import free_port

    from kg import virtuoso as install
    binary = shutil.which("virtuoso-t")
    if binary is None or not install.TEMPLATE.is_file():
        raise RuntimeError("Virtuoso is not installed: run `make backend-deps` (Debian's virtuoso-opensource)")
    folder = scratch / "virtuoso"
    subprocess.run(["rm", "-rf", str(folder)], check=True)
    folder.mkdir()
    sql_port, http_port = free_port(), free_port()
    ini = install.write_ini(folder, sql_port, http_port, Parameters={
        **VIRTUOSO_BUFFERS, "DirsAllowed": f"., {folder}, {data.parent}"}, SPARQL={
        # The same row cap as policykg's default; no refusal by estimated cost; its own stop at the client's limit.
        "ResultSetMaxRows": str(ROW_CAP), "MaxQueryCostEstimationTime": "0", "MaxQueryExecutionTime": str(int(args.limit))})
    started, busy = time.monotonic(), machine_cpu()
    process = start([binary, "-f", "-c", ini], logs / f"virtuoso-{data.stem}.log", cwd=folder)
    try:
        url = f"http://127.0.0.1:{http_port}/sparql"
        wait_ready(url, process, started)
        install.bulk_load(data, "urn:policykg:bench", f"127.0.0.1:{sql_port}", None)
        return measure("virtuoso", url, process, wait_ready(url, process, started), args, busy,
                       disk_mb=_size(folder) / 2**20)
    finally:
        stop(process)
        subprocess.run(["rm", "-rf", str(folder)], check=True)


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


# --- the report ---------------------------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    """Nearest rank: with 5 runs p50 is the 3rd, p95 the 5th (the slowest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary(runs: list[dict]) -> dict:
    """p50/p95 over the answered runs (200, cut at a row cap or not), the others counted by status (Virtuoso's
    answer cut at its time limit as "cut"), CPU and faults as medians."""
    answered = [run for run in runs if run["status"] == 200 and run.get("cut") in (None, "row cap")]
    ok = [run["seconds"] for run in answered]
    failed: dict[str, int] = {}
    for run in runs:
        if run not in answered:
            key = "cut" if run["status"] == 200 else str(run["status"])
            failed[key] = failed.get(key, 0) + 1
    return {"p50": percentile(ok, 0.5) if ok else None, "p95": percentile(ok, 0.95) if ok else None,
            "failed": failed, "runs": len(runs), "worst": max(run["seconds"] for run in runs),
            "cpu": percentile([run["cpu"] for run in runs], 0.5),
            "faulted": percentile([run["faulted_mb"] for run in runs], 0.5),
            "rows": sorted({run["rows"] for run in runs if "rows" in run}),
            "capped": any(run.get("cut") == "row cap" for run in runs),
            "others": percentile([run.get("others", 0.0) for run in runs], 0.5),
            "busiest": _busiest(runs),
            "late": [(run["seconds"], run["cpu"], run.get("others", 0.0)) for run in runs
                     if run["status"] != 200 or run["seconds"] > TIME_LIMIT],
            "worker_ms": percentile([run["worker_ms"] for run in runs if "worker_ms" in run], 0.5)
            if any("worker_ms" in run for run in runs) else None}


def _busiest(runs: list[dict]) -> str:
    """The process outside the system's tree that most often used the most CPU during its runs, if any did."""
    names = [run["busiest_other"][0] for run in runs if run.get("busiest_other", ("", 0))[1] >= 0.05]
    return max(set(names), key=names.count) if names else ""


def cell(s: dict) -> str:
    text = f"{s['p50'] * 1000:,.0f} / {s['p95'] * 1000:,.0f}" if s["p50"] is not None else f"— ({s['worst']:.0f} s)"
    if s["failed"]:
        text += " (" + ", ".join(f"{n}× {'past the client limit' if k == 'limit' else k}"
                                 for k, n in s["failed"].items()) + ")"
    return text


def why(mine: dict, best: dict, best_name: str) -> str:
    """What the counters say about a policykg query that is slower than the best Oxigraph or past the time limit."""
    parts = []
    if mine["failed"].get("503"):
        parts.append(f"{mine['failed']['503']} of {mine['runs']} runs past the 10 s limit (503)")
    for wall, cpu, others in mine["late"]:  # was it the query's work, or waiting for a core?
        parts.append(f"a run of {wall:.1f} s used {cpu:.1f} s of CPU while other processes took {others:.1f} s of "
                     "the 2 cores")
    if mine["worker_ms"] is not None and mine["p50"] is not None:
        rest = max(mine["p50"] * 1000 - mine["worker_ms"], 0)
        parts.append(f"{mine['worker_ms']:,.1f} ms to the query pool's answer (its first part if streamed), "
                     f"{rest:,.1f} ms after it (Oxigraph {best_name[9:]}: {best['p50'] * 1000:,.1f} ms in all)")
    if mine["p50"] is not None and mine["others"] >= max(0.05, 0.25 * mine["p50"]):  # ticks are 10 ms
        parts.append(f"other processes took {_seconds(mine['others'])} of CPU per run"
                     + (f" (most: {mine['busiest']})" if mine["busiest"] else ""))
    if mine["cpu"] >= 0.05:
        parts.append(f"CPU {_seconds(mine['cpu'])} per run (Oxigraph {best_name[9:]}: {_seconds(best['cpu'])})")
    if mine["faulted"] >= 10:
        parts.append(f"{mine['faulted']:,.0f} MB of page faults per run (copy-on-write of the zygote's pages in a "
                     "fresh fork, and allocations)")
    return "; ".join(parts)


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value >= 1 else f"{value * 1000:.0f} ms"


def size_label(triples: str) -> str:
    return f"10^{round(math.log10(float(triples)))}"


def report(results: dict, command: str) -> str:
    lines = ["# Scale curve: policykg, the Oxigraph server and Virtuoso, 10^5 to 10^7 triples", "",
             f"Measured {results['day']} on this machine (2 cores, 24 GiB shared with other work), one run of:", "",
             "```sh", command, "```", "",
             "Each system alone on the machine, on the synthetic graph of `gen_data.py`; one client, sequential form "
             f"POSTs, up to {results['runs']} runs per query (fewer once {results['budget']:g} s are used; the client "
             f"gives up at {results['limit']:g} s). policykg: `kg serve --data FILE`, default settings (2 gunicorn "
             "workers × 2 query workers forked from one zygote, 10 s time limit, row cap 10,000) but `KG_CACHE=false`"
             + "".join(f", `{pair}`" for pair in results.get("env", [])) + ". "
             "Oxigraph 0.5.13: `serve` in memory (file POSTed to `/store`) and `load` + `serve-read-only` on disk. "
             "Virtuoso: Debian's virtuoso-opensource 7, bulk-loaded (`ld_dir`, `rdf_loader_run`, `checkpoint`), "
             "NumberOfBuffers 340,000 (2.6 GiB). Ready: from the start of the first process until `ASK` answers, "
             "loading included. Memory: the whole process tree after the queries; PSS counts a shared page once.", "",
             "## Ready time and memory", "",
             "| triples | system | ready s | RSS MB | PSS MB | processes | other processes' CPU while it started, s |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for triples, systems in results["sizes"].items():
        for name, r in systems.items():
            if "error" in r:
                lines.append(f"| {size_label(triples)} | {name} | failed: {r['error']} | | | | |")
                continue
            ready = f"{r['ready']:.1f}" + (f" (load {r['load']:.1f})" if "load" in r else "")
            others = f"{r['others_at_start']:.1f}" if "others_at_start" in r else ""
            lines.append(f"| {size_label(triples)} | {name} | {ready} | {r['rss']:,.0f} | {r['pss']:,.0f} | "
                         f"{r['processes']} | {others} |")
    for triples, systems in results["sizes"].items():
        answered = {name: r for name, r in systems.items() if "error" not in r}
        lines += ["", f"## {size_label(triples)} triples: p50 / p95 per query, ms", "",
                  "| query | " + " | ".join(answered) + " | policykg ÷ best Oxigraph (p50) | why (where slower or "
                  "past 10 s) |", "|---|" + "---:|" * (len(answered) + 1) + "---|"]
        for query in (path.stem.split("_")[0] for path in QUERIES):
            stats = {name: summary(r["queries"][query]) for name, r in answered.items()}
            oxigraphs = [n for n in OXIGRAPHS if n in stats and stats[n]["p50"] is not None]
            best = min(oxigraphs, key=lambda n: stats[n]["p50"], default=None)
            mine = stats.get("policykg")
            ratio, reason = "", ""
            if mine and best:
                if mine["p50"] is not None:
                    ratio = f"{mine['p50'] / stats[best]['p50']:.2f} ({best[9:]})"
                slower = mine["p50"] is None or mine["p50"] > stats[best]["p50"] or mine["worst"] > TIME_LIMIT
                reason = why(mine, stats[best], best) if slower or mine["failed"] else ""
            counts = {n: s["rows"] for n, s in stats.items() if s["rows"]}
            if len({tuple(c) for c in counts.values()}) > 1:
                reason += ("; " if reason else "") + "rows: " + ", ".join(
                    f"{n} {'/'.join(map(str, c))}" + (" (cut at the row cap)" if stats[n]["capped"] else "")
                    for n, c in counts.items())
            lines.append(f"| {query} | " + " | ".join(cell(stats[n]) for n in answered) + f" | {ratio} | {reason} |")
    point = results.get("executors")
    if point:
        low, high = point["1"], point["4"]
        disk = results["sizes"].get(point["triples"], {}).get("oxigraph-disk", {})
        lines += ["", f"## Query workers at {size_label(point['triples'])} triples", "",
                  "`kg serve --data FILE` with `KG_EXECUTORS=1` and `=4` (query workers per gunicorn worker, 2 "
                  "gunicorn workers), after one pass of the queries; issue 13's targets: PSS 4 ÷ 1 ≤ 1.3, startup ≤ "
                  "1.5 × `oxigraph load` of the same file.", "",
                  "| KG_EXECUTORS | ready s | RSS MB | PSS MB | PSS by process |", "|---:|---:|---:|---:|---|"]
        for n, r in (("1", low), ("4", high)):
            roles = ", ".join(f"{k} {v:,.0f}" for k, v in sorted(r["roles"].items()))
            lines.append(f"| {n} | {r['ready']:.1f} | {r['rss']:,.0f} | {r['pss']:,.0f} | {roles} |")
        lines += ["", f"PSS 4 ÷ 1: **{high['pss'] / low['pss']:.2f}** (RSS {high['rss'] / low['rss']:.2f})."]
        if "load" in disk:
            lines.append(f"Ready ÷ `oxigraph load` ({disk['load']:.1f} s): **{low['ready'] / disk['load']:.2f}** with 1 "
                         f"query worker, **{high['ready'] / disk['load']:.2f}** with 4.")
    lines += targets(results)
    lines += ["", "![ready time, memory and p50 per query against triples](scale.png)", ""]
    return "\n".join(lines)


def targets(results: dict) -> list[str]:
    """Issue 13's "done when" lines this run can answer, at the largest size measured."""
    triples = max(results["sizes"], key=float)
    systems = results["sizes"][triples]
    mine = systems.get("policykg", {})
    if "queries" not in mine:
        return ["", f"## Targets at {size_label(triples)} triples", "", f"policykg: {mine.get('error', 'not run')}"]
    stats = {name: {q: summary(runs) for q, runs in r["queries"].items()} for name, r in systems.items()
             if "queries" in r}
    late = [q for q, s in stats["policykg"].items() if s["failed"] or s["worst"] > TIME_LIMIT]
    slower = []
    for query, s in stats["policykg"].items():
        best = min((stats[n][query]["p50"] for n in OXIGRAPHS if n in stats and stats[n][query]["p50"]), default=None)
        if best and (s["p50"] is None or s["p50"] > best):
            slower.append(f"{query} ({s['p50'] / best:.2f}×)" if s["p50"] else query)
    return ["", f"## Targets at {size_label(triples)} triples", "",
            f"- Started with the default settings: ready in {mine['ready']:.1f} s, {mine['pss']:,.0f} MB PSS "
            f"({mine['rss']:,.0f} MB RSS summed over {mine['processes']} processes).",
            "- Every query within the 10 s limit, every run: " + ("yes" if not late else "no: " + ", ".join(late)) + ".",
            "- At least as fast as the faster Oxigraph server (p50): " + (
                "every query" if not slower else "not " + ", ".join(slower) + " (see the why column above)") + "."]


def plot(results: dict, out: Path) -> None:
    """Log-log: p50 per query against triples, one panel per query family, then ready time and RSS."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    queries = [path.stem.split("_")[0] for path in QUERIES]
    families = {path.stem.split("_")[0]: path.stem.split("_", 1)[1].replace("_", " ") for path in QUERIES}
    panels = queries + ["ready", "memory"]
    figure, axes = plt.subplots(2, 5, figsize=(20, 8), squeeze=False)
    sizes = list(results["sizes"])
    for axis, panel in zip(axes.flat, panels, strict=True):
        for number, name in enumerate(SYSTEMS):
            for key, style in (("rss", "-"), ("pss", "--")) if panel == "memory" else ((panel, "-"),):
                xs, ys = [], []
                for triples in sizes:
                    r = results["sizes"][triples].get(name)
                    if not r or "error" in r:
                        continue
                    value = r[key] if panel in ("ready", "memory") else summary(r["queries"][panel])["p50"]
                    if value is not None:
                        xs.append(float(triples))
                        ys.append(value * (1 if panel in ("ready", "memory") else 1000))
                axis.plot(xs, ys, style, marker="o", color=f"C{number}", label=name if style == "-" else None)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_title({"ready": "ready (s)", "memory": "process tree MB: RSS —, PSS --"}.get(panel) or
                       f"{panel} {families[panel]}: p50 (ms)", fontsize=9)
        axis.set_xlabel("triples")
        if panel not in ("ready", "memory"):
            axis.axhline(TIME_LIMIT * 1000, color="grey", linestyle=":", linewidth=1)
    axes.flat[0].legend(fontsize=8)
    figure.suptitle(f"policykg and its peers against data size ({results['day']}; 2 cores, 24 GiB shared)")
    figure.tight_layout()
    figure.savefig(out, dpi=80)


# --- the run ------------------------------------------------------------------------------------------------------

def write(results: dict, command: str, venv: Path, args) -> None:
    args.out.write_text(report(results, command), encoding="utf-8")
    saved = args.scratch / "scale.json"
    saved.write_text(json.dumps(results, indent=1))
    subprocess.run([str(venv / "bin" / "python"), __file__, "--plot", str(saved), "--png", str(args.png)], check=True)
    print(f"wrote {args.out} and {args.png}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["1e5", "1e6", "1e7"])
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--runs", type=int, default=5, help="runs per query (default 5)")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per query after which no run starts")
    parser.add_argument("--limit", type=float, default=60.0, help="the client's limit per run, seconds")
    parser.add_argument("--executors-at", default="1e6", help="size of the KG_EXECUTORS 1 vs 4 point ('' for none)")
    parser.add_argument("--seed", type=int, default=1, help="gen_data.py's seed")
    parser.add_argument("--env", nargs="+", default=[], metavar="KG_KEY=VALUE",
                        help="settings for policykg over the defaults (KG_CACHE=false is always set)")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/kg-bench"))
    parser.add_argument("--out", type=Path, default=HERE / "SCALE.md")
    parser.add_argument("--png", type=Path, default=HERE / "scale.png")
    parser.add_argument("--report", type=Path, help="rewrite SCALE.md and scale.png from a saved scale.json")
    parser.add_argument("--plot", type=Path, help=argparse.SUPPRESS)  # run in the peers' venv, which has matplotlib
    args = parser.parse_args(argv)
    if args.plot:
        plot(json.loads(args.plot.read_text()), args.png)
        return 0
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT))
    import run  # the peers' venv and the generated graphs, shared with bench/run.py
    venv = run.setup(args.scratch)
    if not (venv / "bin" / "python").exists() or subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import matplotlib"], capture_output=True).returncode:
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", run.PLOT], check=True)
    if args.report:
        saved = json.loads(args.report.read_text())
        write(saved, saved["command"], venv, args)
        return 0
    command = ("python bench/scale.py --sizes " + " ".join(args.sizes) + f" --runs {args.runs} --budget {args.budget:g}"
               f" --limit {args.limit:g}" + (f" --systems {' '.join(args.systems)}" if args.systems != list(SYSTEMS)
                                              else "") + (f" --env {' '.join(args.env)}" if args.env else ""))
    results = {"day": time.strftime("%Y-%m-%d", time.gmtime()), "runs": args.runs, "budget": args.budget,
               "limit": args.limit, "env": args.env, "command": command, "sizes": {}}
    logs = args.scratch / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    # The first start after the code changed compiles the project's modules: a cost of an update, not of a size.
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", "import server.app, server.engine.zygote"],
                   cwd=ROOT, check=True)
    for triples in args.sizes:
        data = run.data(args.scratch, triples, args.seed)
        print(f"{data.name}:", flush=True)
        measured = results["sizes"].setdefault(triples, {})
        for name in args.systems:
            try:
                if name == "policykg":
                    measured[name] = policykg(data, args, logs)
                elif name == "oxigraph-mem":
                    measured[name] = oxigraph_memory(data, args, logs, venv)
                elif name == "oxigraph-disk":
                    measured[name] = oxigraph_disk(data, args, logs, venv, args.scratch)
                else:
                    measured[name] = virtuoso(data, args, logs, args.scratch)
            except (RuntimeError, OSError, subprocess.SubprocessError) as error:
                print(f"  {name} failed: {error}", flush=True)
                measured[name] = {"error": str(error)[:200]}
            (args.scratch / "scale.json").write_text(json.dumps(results, indent=1))
        if triples == args.executors_at and "policykg" in args.systems:
            once = argparse.Namespace(**{**vars(args), "runs": 1})  # one pass of the queries, then the memory
            results["executors"] = {"triples": triples, **{str(n): policykg(data, once, logs, n) for n in (1, 4)}}
    write(results, command, venv, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
