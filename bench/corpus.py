#!/usr/bin/env python3
"""Build time of the corpus as a ratio to the one-article build, measured in ONE run.

  .venv/bin/python bench/corpus.py [--repeat 5] [--scratch /tmp/kg-corpus-bench]

Times `kg build` (the whole pipeline: normalise, extract, RDF, link, SHACL gate, store and dumps) on three
inputs, interleaved round by round so machine load falls on all alike: the seed article alone, the default
manifest (the seed and the official outline of its plan), and the manifest plus the four corpus fixtures of
tests/data/corpus (four plans from six sources). Prints the median wall time of each and its ratio to the seed alone.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KG = ROOT / ".venv" / "bin" / "kg"
SEED = ROOT / "kg" / "sources" / "article-east-west-st-2022.txt"
OUTLINE = ROOT / "kg" / "sources" / "official-east-west-st-2022.txt"
FIXTURES = sorted((ROOT / "tests" / "data" / "corpus").glob("*.txt"))
INPUTS = {"seed article alone": [SEED], "default manifest (seed + official outline)": [],
          "manifest + corpus fixtures": [SEED, OUTLINE, *FIXTURES]}


def build_seconds(sources: list[Path], out: Path) -> float:
    """Wall time of one `kg build` of `sources` (none: the manifest) into `out`; stops on any failure."""
    started = time.perf_counter()
    subprocess.run([str(KG), "build", *map(str, sources), "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="builds of each input, interleaved (default 5)")
    parser.add_argument("--scratch", type=Path, default=None, help="where the builds go (default: a temporary folder)")
    args = parser.parse_args(argv)
    if len(FIXTURES) < 4:
        parser.error(f"expected the corpus fixtures in tests/data/corpus, found {len(FIXTURES)}")
    with tempfile.TemporaryDirectory(prefix="kg-corpus-bench-") as tmp:
        scratch = args.scratch or Path(tmp)
        times: dict[str, list[float]] = {name: [] for name in INPUTS}
        for round_number in range(args.repeat):
            for number, (name, sources) in enumerate(INPUTS.items()):
                times[name].append(build_seconds(sources, scratch / f"build-{round_number}-{number}"))
    base = statistics.median(times["seed article alone"])
    print(f"kg build, median of {args.repeat} interleaved runs ({len(FIXTURES)} corpus fixtures)")
    print("| input | sources | median s | ratio to the seed alone |")
    print("|---|---:|---:|---:|")
    for name, sources in INPUTS.items():
        count = len(sources) or 2
        median = statistics.median(times[name])
        print(f"| {name} | {count} | {median:.2f} | {median / base:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
