"""The outbound-request guard: SERVICE endpoints and LOAD sources, read from the parsed query, never from a lexer.

A keyword can only reach the engine if the text spells it or hides it in \\u escapes, so a text without
"service", "load" (any case) or a backslash-u has no outbound target, and one without "from" no dataset
clause; only the others are parsed, with rdflib's SPARQL 1.1 parser and algebra (which decode escapes,
skip strings, IRIs and comments, and resolve prefixed names as the grammar says). A text it cannot read
is refused: rdflib lacks some syntax pyoxigraph accepts (RDF-star), and only texts that mention
SERVICE, LOAD or FROM or use escapes get here. A SERVICE whose endpoint is a variable is refused.

>>> read('SELECT * { SERVICE <http://a.example/sparql> { ?s ?p ?o } }').targets
('http://a.example/sparql',)
>>> read('SELECT * { ?s <http://x/SERVICE> "SERVICE <http://b/>" } # SERVICE <http://c/>').targets
()
>>> read('PREFIX e: <http://e.example/> SELECT * { \\\\u0053ERVICE SILENT e:q {} }').targets
('http://e.example/q',)
>>> read('SELECT * { SERVICE ?endpoint { ?s ?p ?o } }').targets
('?endpoint',)
>>> read('PREFIX e: <http://e/> LOAD e:x INTO GRAPH <http://g/>', update=True).targets
('http://e/x',)
>>> read('ASK FROM <http://g/> { ?s ?p "from" }').dataset, read('ASK { ?s <http://x/from> ?o }').dataset
(True, False)
"""

from typing import NamedTuple

from server.sparql import bounds

READ_LIMIT = 32 << 10  # rdflib takes ~0.45 s (holding the GIL) for 32 KiB of VALUES rows: longer texts are refused


class Unreadable(ValueError):
    """The text mentions SERVICE, LOAD or FROM (or uses \\u escapes) and rdflib's parser cannot read it."""


class Reading(NamedTuple):
    """What the guard found: outbound targets (IRIs, or the raw term) and whether FROM / FROM NAMED is there."""

    targets: tuple[str, ...]
    dataset: bool


def _mentions(text: str) -> tuple[bool, bool]:
    """(may have SERVICE/LOAD, may have FROM): sound, since an escape-free keyword is spelled in the text."""
    lowered = text.lower()
    escaped = "\\u" in lowered
    return escaped or "service" in lowered or "load" in lowered, escaped or "from" in lowered


def _algebra(text: str, update: bool):
    """rdflib's algebra of `text`; Unreadable when rdflib cannot parse it."""
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    if len(text) > READ_LIMIT:
        raise Unreadable(f"the guard reads texts that mention SERVICE, LOAD or FROM or use \\u escapes "
                         f"up to {READ_LIMIT // 1024} KiB; this one is {len(text) // 1024} KiB")
    # SPARQL decodes escapes once; rdflib would also take \u plus 8 digits: decode first, as the engine does.
    decoded = bounds.unescape(text)
    try:
        if update:
            return translateUpdate(parseUpdate(decoded)).algebra
        return translateQuery(parseQuery(decoded))
    # rdflib reports what it cannot read as ParseException, RecursionError (pyparsing on nested SERVICE),
    # ValueError (bad code point) or a bare Exception (unknown prefix, odd shapes); each means "unreadable".
    except (ParseBaseException, RecursionError, ValueError) as error:
        raise Unreadable(f"the guard could not read the query: {error}") from None
    except Exception as error:  # noqa: BLE001 - rdflib's own errors are bare Exceptions; see above
        if type(error) is not Exception:
            raise
        raise Unreadable(f"the guard could not read the query: {error}") from None


def _walk(node, found: list[str]) -> None:
    """Collect SERVICE endpoints and LOAD sources anywhere in an rdflib algebra tree (iteratively)."""
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import URIRef

    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            if item.name == "ServiceGraphPattern":
                term = item.get("term")
                found.append(str(term) if isinstance(term, URIRef) else term.n3() if term is not None else "?")
            elif item.name == "Load":
                found.append(str(item.get("iri")))
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend(item)


def read(text: str, *, update: bool = False) -> Reading:
    """The outbound targets and dataset clause of a query (or, with update=True, an update request)."""
    outbound, dataset = _mentions(text)
    if not outbound and not dataset:
        return Reading((), False)  # the fast path: nearly every query
    algebra = _algebra(text, update)
    found: list[str] = []
    _walk(algebra if update else algebra.algebra, found)
    has_dataset = not update and bool(algebra.algebra.get("datasetClause"))
    return Reading(tuple(found), has_dataset)


def refused_targets(targets, allowlist) -> list[str]:
    """The targets that the allow-list does not name exactly."""
    allowed = set(allowlist)
    return [target for target in targets if target not in allowed]
