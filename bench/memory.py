#!/usr/bin/env python3
"""Memory and startup of `kg serve` with 1 and with 4 query workers, against `oxigraph load` + `serve-read-only`.

  .venv/bin/python bench/memory.py [--triples 1e6] [--scratch /tmp/kg-memory] [--workers 1 4]

One run, ratios within it (issue 13, item 1). For each EXECUTORS count: `kg serve --data FILE` (result cache off,
the other settings at their defaults), the time from start until `ASK { ?s ?p ?o }` answers, then one query of each
bench/queries/*.rq, then the whole process tree's memory summed: RSS (a page shared copy-on-write counts in every
process) and PSS (from /proc/PID/smaps_rollup: a page shared by n processes counts 1/n in each, so the sum is the
memory the service takes). Then Oxigraph's own server on the same file: `oxigraph load` into a fresh folder (timed),
`oxigraph serve-read-only` (timed until ready), the same queries, the same sums. Every process started here is
stopped here, by its own process group.
"""

import argparse
import os
import signal
import socket
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
OXIGRAPH = ROOT / ".venv" / "bin" / "oxigraph"
QUERIES = sorted((HERE / "queries").glob("*.rq"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ask(url: str, query: str, timeout: float = 60.0) -> tuple[int, float]:
    """(status, seconds) of one POSTed query (JSON results, Turtle graphs)."""
    body = urllib.parse.urlencode({"query": query}).encode()
    request = urllib.request.Request(url, data=body, headers={
        "Accept": "application/sparql-results+json, text/turtle;q=0.9",
        "Content-Type": "application/x-www-form-urlencoded"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
            return answer.status, time.monotonic() - started
    except urllib.error.HTTPError as error:
        error.read()
        return error.code, time.monotonic() - started


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 600.0) -> float:
    """Seconds until `ASK { ?s ?p ?o }` answers 200 (counted from now)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with status {process.returncode}")
        try:
            if ask(url, "ASK { ?s ?p ?o }", 10.0)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {seconds:g} s")


def tree(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def role(pid: int) -> str:
    """What a process of the tree is, from its command line and its parent's."""
    if b"zygote.py" in _command(pid):
        return "forked worker" if b"zygote.py" in _command(_parent(pid)) else "zygote"
    return "fresh worker" if b"worker.py" in _command(pid) else "server"


def memory(pid: int) -> dict:
    """RSS and PSS (MB) summed over the process tree of `pid`, the number of processes, and PSS by role."""
    rss = pss = count = 0
    roles: dict[str, float] = {}
    for member in tree(pid):
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines()[1:])
        except OSError:
            continue
        rss += int(fields["Rss"].split()[0])
        pss += int(fields["Pss"].split()[0])
        count += 1
        name = role(member)
        roles[name] = roles.get(name, 0) + int(fields["Pss"].split()[0]) / 1024
    return {"rss": rss / 1024, "pss": pss / 1024, "processes": count, "roles": roles}


def run_queries(url: str) -> dict[str, tuple[int, float]]:
    return {query.stem.split("_")[0]: ask(url, query.read_text()) for query in QUERIES}


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the group this script started, SIGKILL after 20 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(20)
    except ProcessLookupError:
        pass


def measure_kg(data: Path, executors: int, log: Path) -> dict:
    port = free_port()
    env = {**os.environ, "KG_CACHE": "false", "KG_EXECUTORS": str(executors)}
    with log.open("w") as output:
        process = subprocess.Popen([str(KG), "serve", "--data", str(data), "--bind", f"127.0.0.1:{port}"], env=env,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/sparql"
        ready = wait_ready(url, process)
        queries = run_queries(url)
        time.sleep(1.0)  # replacements of any killed worker have forked
        return {"ready": ready, "queries": queries, **memory(process.pid)}
    finally:
        stop(process)


def measure_oxigraph(data: Path, scratch: Path, log: Path) -> dict:
    location = scratch / "oxigraph-store"
    subprocess.run(["rm", "-rf", str(location)], check=True)
    started = time.monotonic()
    subprocess.run([str(OXIGRAPH), "load", "--location", str(location), "--file", str(data)], check=True,
                   capture_output=True)
    load = time.monotonic() - started
    port = free_port()
    with log.open("w") as output:
        process = subprocess.Popen([str(OXIGRAPH), "serve-read-only", "--location", str(location), "--bind",
                                    f"127.0.0.1:{port}"], stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/query"
        ready = wait_ready(url, process)
        queries = run_queries(url)
        return {"load": load, "ready": ready, "queries": queries, **memory(process.pid)}
    finally:
        stop(process)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", default="1e6")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/kg-memory"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    args.scratch.mkdir(parents=True, exist_ok=True)
    data = args.scratch / f"kg-{args.triples}.ttl"
    if not data.exists():
        subprocess.run([sys.executable, str(HERE / "gen_data.py"), "--triples", str(int(float(args.triples))),
                        "--out", str(data)], check=True, capture_output=True)
    results = {}
    for executors in args.workers:
        results[executors] = measure_kg(data, executors, args.scratch / f"kg-serve-{executors}.log")
    oxigraph = measure_oxigraph(data, args.scratch, args.scratch / "oxigraph.log")
    print(f"{data.name}, {os.cpu_count()} cores; kg serve --data (KG_CACHE=false, KG_EXECUTORS=n, other defaults)")
    print("| system | ready s | processes | RSS MB | PSS MB | " + " | ".join(results[args.workers[0]]["queries"]) + " |")
    print("|---|---:|---:|---:|---:|" + "---:|" * len(QUERIES))
    rows = [(f"kg serve, EXECUTORS={n}", r) for n, r in results.items()] + [("oxigraph serve-read-only", oxigraph)]
    for name, result in rows:
        times = " | ".join(f"{seconds * 1000:.0f} ms" + ("" if status == 200 else f" ({status})")
                           for status, seconds in result["queries"].values())
        print(f"| {name} | {result['ready']:.1f} | {result['processes']} | {result['rss']:,.0f} | {result['pss']:,.0f} | "
              f"{times} |")
    for name, result in rows[:-1]:
        parts = ", ".join(f"{role} {mb:,.0f}" for role, mb in sorted(result["roles"].items()))
        print(f"PSS MB by process, {name}: {parts}")
    print(f"oxigraph load: {oxigraph['load']:.1f} s; + serve-read-only ready: {oxigraph['load'] + oxigraph['ready']:.1f} s")
    low, high = results[min(args.workers)], results[max(args.workers)]
    print(f"PSS with {max(args.workers)} query workers / with {min(args.workers)}: {high['pss'] / low['pss']:.2f} "
          f"(target <= 1.3); RSS: {high['rss'] / low['rss']:.2f}")
    for n, result in results.items():
        print(f"ready with {n} query workers / oxigraph load: {result['ready'] / oxigraph['load']:.2f} (target <= 1.5); "
              f"/ oxigraph load + ready: {result['ready'] / (oxigraph['load'] + oxigraph['ready']):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
