"""Build one knowledge graph from sources: normalise, extract, merge per plan, link, check with SHACL, write store and dumps."""

import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from kg.cli import EXIT_NONCONFORMING, EXIT_OK, UsageError
from kg.paths import BUILD
from kg.rdf.build import DEFAULT_BASE


def add_arguments(parser) -> None:
    """Options of `kg build`."""
    parser.add_argument("inputs", nargs="*", type=Path, metavar="SOURCE",
                        help="source files (UTF-8 text), built into one graph; default: every source of kg/sources/sources.toml")
    parser.add_argument("--out", type=Path, default=BUILD, help="output folder for store/ and dumps/ (default: ./build, in the current folder)")
    parser.add_argument("--base", default=DEFAULT_BASE, help=f"base IRI of the data (default: {DEFAULT_BASE})")
    parser.add_argument("--build-time", type=_timestamp, default=None,
                        help="ISO 8601 time recorded for the build (default: SOURCE_DATE_EPOCH, else the last commit's time)")


def _timestamp(value: str) -> datetime:
    stamp = datetime.fromisoformat(value)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def parts(article) -> str:
    """What a source gave its plan, one count per part it has: a part the source lacks is left out, never shown as 0."""
    plan = article.plan
    counts = ((len(plan.issuers), "issuing agency", "issuing agencies"), (len(plan.goals), "goal", "goals"),
              (int(plan.aim is not None), "aim", "aims"), (len(plan.areas), "task area", "task areas"),
              (sum(len(area.tasks) for area in plan.areas), "task", "tasks"),
              (len(plan.measures), "measure", "measures"), (len(article.claims), "claim", "claims"))
    return " · ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts if n)


def summary(result) -> str:
    """Plans, then per source: counts, repairs and defects, for the terminal."""
    plans = sorted({s.plan_slug for s in result.sources})
    lines = [f"{len(plans)} plan(s) from {len(result.sources)} source(s): " + ", ".join(plans)]
    for source in result.sources:
        lines += _source_lines(source)
    lines += [
        f"  links: {len(result.links.linked)} place mentions linked, {len(result.links.unlinked)} not linked"
        + "".join(f"\n    {line}" for line in result.links.lines() if line.startswith("NOT LINKED")),
        f"  SHACL: conforms ({sum(r.severity == 'Warning' for r in result.validation.results)} warnings)",
        f"  store: {result.store}",
        f"  dumps: {len(result.dumps)} files in {result.dumps[0].parent if result.dumps else '-'}",
    ]
    return "\n".join(lines)


def _source_lines(source) -> list[str]:
    article, plan = source.article, source.article.plan
    repairs = Counter(r.kind for r in source.text.repairs)
    return [
        f"source {article.slug} ({source.kind}) → plan {source.plan_slug}: {plan.title}",
        f"  {parts(article)}",
        "  repairs: " + (", ".join(f"{count} {kind}" for kind, count in sorted(repairs.items())) or "none"),
        f"  unrepaired characters kept as '?': {len(source.text.unrepaired)}",
        f"  source defects: {len(article.defects)}"
        + "".join(f"; {d.kind} at {d.area_number}.{d.position}" for d in article.defects),
    ]


def run(args) -> int:
    """Run the pipeline; exit 1 with the report when the graph does not conform, 2 on bad input, 3 when the
    output cannot be written (kg.cli reports kg.publish.staging.OutputError; the previous build stays as it was)."""
    from kg.pipeline import InputError, NonConforming, build

    try:
        result = build(inputs=args.inputs or None, out_dir=args.out, base=args.base, build_time=args.build_time)
    except InputError as error:
        raise UsageError(str(error)) from None
    except NonConforming as failure:
        print(failure.validation.text(), file=sys.stderr)
        print("kg build: the graph does not conform to the shapes; nothing was written", file=sys.stderr)
        return EXIT_NONCONFORMING
    print(summary(result))
    return EXIT_OK
