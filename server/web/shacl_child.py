"""The /shacl child process: everything that reads the untrusted Turtle runs here, never in the server process.

The child confines itself first (server.engine.sandbox: no network sockets, an address-space limit, dies with its
parent), switches rdflib's graph loading and SERVICE off, and refuses, from rdflib's own parse tree (the parser
that decodes \\u escapes exactly as the engine that would evaluate the query), every SPARQL text that names
SERVICE, LOAD or FROM: the texts in the shapes up front, with a message naming the shape, and every text pySHACL
composes from them (with prefixes, $PATH) at the moment rdflib parses it, before it is evaluated.
It sends back one tuple: ("ok", conforms, the report in the chosen RDF format, results for the page), ("bad", message),
("refused", message) or ("memory", limit).
"""

from server.engine import sandbox

SH = "http://www.w3.org/ns/shacl#"
# Predicates that make a SHACL engine (or an OWL tool) load something from elsewhere.
REMOTE = {"http://www.w3.org/2002/07/owl#imports", SH + "shapesGraph", SH + "jsLibrary", SH + "jsLibraryURL"}
QUERIES = {SH + "select": "query", SH + "ask": "query", SH + "construct": "query", SH + "update": "update"}
NEVER = "refused, never fetched"


class Refused(Exception):
    """A SPARQL text would make the validation fetch or open something."""


class Invalid(Exception):
    """The input is not what /shacl accepts (not UTF-8, not Turtle, a SPARQL text that does not parse)."""


def parse_sparql(text: str, kind: str = "query"):
    """rdflib's parse tree of a query or update; Invalid (with the parser's words) when it does not parse."""
    from pyparsing import ParseException
    from rdflib.plugins.sparql import parser

    try:
        return (parser.parseUpdate if kind == "update" else parser.parseQuery)(text)
    except ParseException as error:
        raise Invalid(f"not valid SPARQL: {error}") from None
    except RecursionError:
        raise Invalid("not valid SPARQL: nested too deeply") from None


def outbound(tree, kind: str = "query") -> str | None:
    """What in this parse tree would fetch or open something (SERVICE, LOAD, FROM), in words; None when nothing."""
    prologues = [tree[0]] if kind == "query" else list(tree["prologue"])
    prefixes = {_get(d, "prefix") or "": _get(d, "iri") for p in prologues for d in p if d.name == "PrefixDecl"}
    stack = [tree]
    while stack:  # iterative: a deeply nested query must not overflow Python's stack here
        node = stack.pop()
        name = getattr(node, "name", None)
        if name == "ServiceGraphPattern":
            return f"SERVICE {_term(_get(node, 'term'), prefixes)}, a query to another endpoint"
        if name == "DatasetClause":
            named = _get(node, "named")
            term = _term(named if named is not None else _get(node, "default"), prefixes)
            return f"FROM {'NAMED ' if named is not None else ''}{term}, a graph loaded from elsewhere"
        if name == "Load":
            return f"LOAD {_term(_get(node, 'iri'), prefixes)}, a document loaded from elsewhere"
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list | tuple) or type(node).__name__ == "ParseResults":
            stack.extend(node)
    return None


def _get(node, key: str):
    # CompValue.get answers the key itself for a missing key; the plain dict lookup does not
    return dict.get(node, key)


def _term(term, prefixes: dict) -> str:
    """An IRI, prefixed name or variable as the user wrote it, with the IRI a prefixed name stands for."""
    if getattr(term, "name", None) == "pname":
        prefix, local = _get(term, "prefix") or "", _get(term, "localname") or ""
        iri = prefixes.get(prefix)
        term = f"{prefix}:{local}" + (f" (<{iri}{local}>)" if iri is not None else "")
        iri = f"{iri}{local}" if iri is not None else ""
    else:
        iri, term = str(term), term.n3() if hasattr(term, "n3") else str(term)
    return term + (" (a local file)" if iri.lower().startswith("file:") else "")


def _refuse_at_parse() -> None:
    """Make rdflib check every query and update it parses for evaluation (pySHACL's composed texts too)."""
    from rdflib.plugins.sparql import evaluate, processor

    def guarded(original, kind):
        def parse(text, *args, **kwargs):
            tree = original(text, *args, **kwargs)
            if reason := outbound(tree, kind):
                raise Refused(f"shapes: a SPARQL {kind} built from the shapes uses {reason}: {NEVER}")
            return tree
        return parse

    def no_service(ctx, part):
        raise Refused(f"shapes: a SPARQL query uses SERVICE, a query to another endpoint: {NEVER}")

    processor.parseQuery = guarded(processor.parseQuery, "query")
    processor.parseUpdate = guarded(processor.parseUpdate, "update")
    evaluate.evalServiceQuery = no_service  # a second line behind the parse check: SERVICE is never evaluated


def harden() -> None:
    """rdflib never loads a graph or calls a service in this process."""
    import rdflib.plugins.sparql

    rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False
    _refuse_at_parse()


def _check(quads, what: str) -> None:
    """Refuse remote loads and SPARQL texts that name SERVICE, LOAD or FROM (with the prefixes pySHACL adds)."""
    import pyoxigraph as ox

    declared = {}  # node → prefix / namespace, as sh:declare gives them
    for quad in quads:
        if quad.predicate.value in REMOTE:
            raise Refused(f"{what}: <{quad.predicate.value}> would load a remote document; {NEVER}")
        if quad.predicate.value in (SH + "prefix", SH + "namespace") and isinstance(quad.object, ox.Literal):
            declared.setdefault(quad.subject, {})[quad.predicate.value[len(SH):]] = quad.object.value
    prologue = "".join(f"PREFIX {d['prefix']}: <{d['namespace']}>\n" for d in declared.values()
                       if {"prefix", "namespace"} <= d.keys())
    for quad in quads:
        kind = QUERIES.get(quad.predicate.value)
        if kind is None or not isinstance(quad.object, ox.Literal):
            continue
        where = f"{what}: the SPARQL {kind} in sh:{quad.predicate.value[len(SH):]} of {quad.subject}"
        try:
            tree = parse_sparql(prologue + quad.object.value, kind)
        except Invalid as error:
            raise Invalid(f"{where} (with the sh:prefixes declared) is {error}") from None
        if reason := outbound(tree, kind):
            raise Refused(f"{where} uses {reason}: {NEVER} (/shacl fetches, loads and opens nothing)")


def _parse(raw: bytes, what: str, base: str):
    import pyoxigraph as ox

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Invalid(f"{what}: not UTF-8 (byte {error.start})") from None
    try:
        return list(ox.parse(text.encode(), format=ox.RdfFormat.TURTLE, base_iri=base))
    except SyntaxError as error:
        raise Invalid(f"{what}: Turtle syntax error: {error}") from None


def _report(graph, report_format: str | None, prefixes: dict) -> bytes | None:
    """The sh:ValidationReport written by Oxigraph in the format the client chose (None: the page needs none)."""
    import pyoxigraph as ox

    if report_format is None:
        return None
    triples = [q.triple for q in ox.parse(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)]
    rdf_format = getattr(ox.RdfFormat, report_format)
    if rdf_format == ox.RdfFormat.TURTLE:
        return ox.serialize(triples, format=rdf_format, prefixes=prefixes)
    return ox.serialize(triples, format=rdf_format)


class UnusableShapes(Exception):
    """The client's own shapes failed while rdflib evaluated them (rdflib raises bare Exceptions for many misuses)."""


def _validate(validate, data_quads, shapes_quads):
    """kg.publish.validate on the input; a failure inside the client's own shapes is theirs to fix, not ours."""
    if shapes_quads is None:
        return validate(data_quads)  # our shapes: any failure is a bug (500 with a log id)
    import pyshacl.errors

    try:
        return validate(data_quads, shapes=shapes_quads)
    except (MemoryError, RecursionError, pyshacl.errors.ReportableRuntimeError):
        raise  # each answered as what it is (check_and_validate, main)
    except Exception as error:  # noqa: BLE001 - evaluating user-written SPARQL: rdflib's errors are plain Exceptions
        raise UnusableShapes(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__) from None


def check_and_validate(data: bytes, shapes: bytes | None, base: str, report_format: str | None = None,
                       prefixes: dict | None = None) -> tuple:
    """The answer tuple for one validation (in an already confined and hardened process)."""
    import pyshacl.errors

    from kg.publish.validate import validate

    try:
        data_quads = _parse(data, "data", base)
        shapes_quads = _parse(shapes, "shapes", base) if shapes is not None else None
        _check(data_quads, "data")
        if shapes_quads is not None:
            _check(shapes_quads, "shapes")
        outcome = _validate(validate, data_quads, shapes_quads)
    except Refused as error:
        return ("refused", str(error))
    except Invalid as error:
        return ("bad", str(error))
    except pyshacl.errors.ReportableRuntimeError as error:  # the shapes are not usable SHACL (pySHACL says why)
        return ("bad", f"shapes: not usable: {error.message}")
    except UnusableShapes as error:
        return ("bad", f"shapes: could not be evaluated: {error}")
    return ("ok", outcome.conforms, _report(outcome.report_graph, report_format, prefixes or {}),
            outcome.results if report_format is None else ())


def main(conn, parent_pid: int, memory_bytes: int, data: bytes, shapes: bytes | None, base: str,
         report_format: str | None, prefixes: dict) -> None:
    """Child process entry point: confine, harden, validate, send one tuple back."""
    # Without seccomp (see sandbox.unavailable) the parse-tree refusal and the disabled SERVICE still hold.
    sandbox.confine(network=not sandbox.available(), parent_pid=parent_pid)
    harden()
    import kg.publish.validate  # noqa: F401 - trusted code is loaded before the memory limit, which then bounds the input's share
    sandbox.limit_memory(memory_bytes)
    try:
        answer = check_and_validate(data, shapes, base, report_format, prefixes)
    except MemoryError:  # the frames that held the big objects are gone here: there is room to answer
        answer = ("memory", memory_bytes)
    except RecursionError:
        answer = ("bad", "the input is nested too deeply to validate")
    try:
        conn.send(answer)
    except MemoryError:  # a result too big to send within the limit
        conn.send(("memory", memory_bytes))
