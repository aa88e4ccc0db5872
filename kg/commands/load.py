"""Push a built store into a SPARQL engine (Graph Store Protocol, or Virtuoso's bulk loader) for `kg serve --backend`.

Default: the Graph Store Protocol, one `PUT URL?graph=<g>` per named graph with the graph as N-Triples (the default
graph's triples, if any, to `URL?default`): each graph on the engine is replaced whole by the build's. Works with any
engine that implements the protocol (the Oxigraph server: http://host:7878/store; Virtuoso:
http://host:8890/sparql-graph-crud-auth with --user dba:PASSWORD, digest authentication). One graph is held in
memory at a time.

With --bulk-dir (Virtuoso only, faster for big builds): the build is written as N-Quads into that folder, which the
Virtuoso server must read (same machine, listed in its DirsAllowed), and `isql-vt` on --isql runs CLEAR GRAPH for
each graph, ld_dir, rdf_loader_run and checkpoint.
"""

import argparse
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

import pyoxigraph as ox

from kg import paths, virtuoso
from kg.cli import EXIT_OK, UsageError

TIMEOUT = 600.0  # seconds per graph upload (a large graph into a busy engine)
BULK_FILE = "policykg-load.nq"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `kg load`."""
    parser.add_argument("--into", required=True, metavar="URL",
                        help="the engine's Graph Store Protocol endpoint (e.g. http://127.0.0.1:7878/store, or "
                             "Virtuoso's http://127.0.0.1:8890/sparql-graph-crud-auth)")
    parser.add_argument("--store", type=Path, default=paths.STORE, help=f"the built store (default {paths.STORE})")
    parser.add_argument("--user", metavar="NAME:PASSWORD", help="credentials for the engine (basic or digest)")
    parser.add_argument("--bulk-dir", type=Path, metavar="DIR",
                        help="Virtuoso: load with its bulk loader from DIR (a folder in the server's DirsAllowed)")
    parser.add_argument("--isql", default="1111", metavar="[HOST:]PORT", help="Virtuoso's SQL port for --bulk-dir")


def _graphs(store: ox.Store) -> list:
    """The store's graphs: each named graph, then the default graph when it holds anything."""
    graphs = sorted(store.named_graphs(), key=lambda g: str(g))
    if next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is not None:
        graphs.append(ox.DefaultGraph())
    return graphs


def _opener(url: str, user: str | None):
    if not user:
        return urllib.request.build_opener()
    name, _, password = user.partition(":")
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, url, name, password)
    return urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager),
                                       urllib.request.HTTPBasicAuthHandler(manager))


def put_graphs(store: ox.Store, url: str, user: str | None) -> list[tuple[str, int]]:
    """PUT every graph of `store` to the Graph Store Protocol endpoint `url`; (graph, triples) for each."""
    opener, done = _opener(url, user), []
    separator = "&" if urlsplit(url).query else "?"
    for graph in _graphs(store):
        # Bytes, not a stream: digest authentication sends the request twice (first unauthenticated).
        body = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
        target = url + separator + ("default" if isinstance(graph, ox.DefaultGraph) else "graph=" + quote(graph.value, safe=""))
        request = urllib.request.Request(target, data=body, method="PUT", headers={"Content-Type": "application/n-triples"})
        try:
            with opener.open(request, timeout=TIMEOUT) as answer:
                answer.read()
        except urllib.error.HTTPError as error:
            raise UsageError(f"{target}: the engine answered {error.code} {error.reason}: "
                             f"{error.read()[:300].decode(errors='replace')}") from None
        except OSError as error:
            raise UsageError(f"{url}: cannot reach the engine: {error}") from None
        name = "default graph" if isinstance(graph, ox.DefaultGraph) else graph.value
        done.append((name, body.count(b"\n")))
    return done


def bulk_load(store: ox.Store, directory: Path, isql: str, user: str | None) -> list[tuple[str, int]]:
    """Virtuoso's bulk loader: N-Quads into `directory`, then CLEAR GRAPH, ld_dir, rdf_loader_run, checkpoint."""
    if virtuoso.isql_binary() is None:
        raise UsageError("--bulk-dir needs Virtuoso's isql-vt (Debian: virtuoso-opensource)")
    if not directory.is_dir():
        raise UsageError(f"{directory}: no such folder")
    graphs = [g for g in _graphs(store) if not isinstance(g, ox.DefaultGraph)]
    file = directory.resolve() / BULK_FILE
    with tempfile.NamedTemporaryFile(dir=directory, suffix=".part", delete=False) as part:
        store.dump(part, format=ox.RdfFormat.N_QUADS)
    Path(part.name).replace(file)
    try:
        virtuoso.bulk_load(file, "urn:policykg:default", isql, user, before=[f"SPARQL CLEAR GRAPH <{g.value}>;" for g in graphs])
    except virtuoso.IsqlError as error:
        raise UsageError(f"isql-vt on {isql}: {error}") from None
    finally:
        file.unlink(missing_ok=True)
    return [(g.value, sum(1 for _ in store.quads_for_pattern(None, None, None, g))) for g in graphs]


def run(args: argparse.Namespace) -> int:
    """Read the build read-only and push each graph; prints one line per graph."""
    if not (args.store / "CURRENT").is_file():
        raise UsageError(f"no Oxigraph store at {args.store} (run `kg build`)")
    store = ox.Store.read_only(str(args.store))
    if args.bulk_dir:
        done = bulk_load(store, args.bulk_dir, args.isql, args.user)
    else:
        done = put_graphs(store, args.into, args.user)
    for name, count in done:
        print(f"kg load: {name}: {count} triples")
    print(f"kg load: {len(done)} graphs into {args.into}; serve them with: kg serve --backend <its SPARQL endpoint> "
          f"(KG_BACKEND_GRAPHS='{' '.join(n for n, _ in done if n != 'default graph')}')")
    return EXIT_OK
