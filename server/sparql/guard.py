"""Outbound-request guard: finds SERVICE and LOAD targets in SPARQL text, so they can be refused.

pyoxigraph exposes no parser, so this is a careful lexer: strings, IRIs and comments are skipped
(a keyword inside them is not a keyword), \\u escapes are decoded first (SPARQL allows them
anywhere in the text), and prefixed names are expanded with the query's own PREFIX lines.
It errs towards refusing: a SERVICE whose endpoint is a variable or cannot be resolved is refused.

>>> outbound_targets('SELECT * { SERVICE <http://a.example/sparql> { ?s ?p ?o } }')
['http://a.example/sparql']
>>> outbound_targets('SELECT * { ?s <http://x/SERVICE> "SERVICE <http://b/>" } # SERVICE <http://c/>')
[]
>>> outbound_targets('PREFIX e: <http://e.example/> SELECT * { \\\\u0053ERVICE SILENT e:q {} }')
['http://e.example/q']
>>> outbound_targets('SELECT * { SERVICE ?endpoint { ?s ?p ?o } }')
['?endpoint']
"""

import re

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_TOKEN = re.compile(
    r"""
    (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    |(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    |(?P<comment>\#[^\n\r]*)
    |(?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)
    |(?P<pname>(?:[^\W\d_][\w.-]*)?:(?:[\w.:%-]|\\.)*)
    |(?P<word>[^\W\d]\w*)
    |(?P<other>\S)
    """,
    re.VERBOSE,
)
# Keywords whose next term is a remote location: SERVICE (queries and updates) and LOAD (updates).
_OUTBOUND = {"SERVICE", "LOAD"}


def _unescape(text: str) -> str:
    """Decode \\uXXXX and \\UXXXXXXXX the way a SPARQL parser does before tokenising."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) of every token but strings and comments."""
    return [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text) if m.lastgroup not in ("string", "comment")]


def has_dataset_clause(text: str) -> bool:
    """True when the query has FROM / FROM NAMED (then its own dataset applies, not the union).

    >>> has_dataset_clause('ASK FROM <http://g/> { ?s ?p "FROM" }'), has_dataset_clause('ASK { ?s <http://x/FROM> ?o }')
    (True, False)
    """
    if "FROM" not in text.upper() and "\\u" not in text and "\\U" not in text:
        return False
    return any(kind == "word" and value.upper() == "FROM" for kind, value in _tokens(_unescape(text)))


def outbound_targets(text: str) -> list[str]:
    """Every SERVICE / LOAD target in `text`: an absolute IRI, or the raw term when it is not one."""
    if "\\u" in text or "\\U" in text:
        text = _unescape(text)
    upper = text.upper()
    if "SERVICE" not in upper and "LOAD" not in upper:
        return []  # the fast path: nearly every query
    tokens = _tokens(text)
    prefixes: dict[str, str] = {}
    targets = []
    for i, (kind, value) in enumerate(tokens):
        if kind != "word":
            continue
        keyword = value.upper()
        if keyword == "PREFIX" and i + 2 < len(tokens) and tokens[i + 2][0] == "iri":
            prefixes[tokens[i + 1][1].rstrip(":")] = tokens[i + 2][1][1:-1]
        elif keyword in _OUTBOUND:
            j = i + 1
            if j < len(tokens) and tokens[j][1].upper() == "SILENT":
                j += 1
            if j >= len(tokens):
                continue  # truncated text: the parser will reject it
            term_kind, term = tokens[j]
            if term_kind == "iri":
                targets.append(term[1:-1])
            elif term_kind == "pname" and term.split(":", 1)[0] in prefixes:
                prefix, local = term.split(":", 1)
                targets.append(prefixes[prefix] + local)
            else:
                targets.append(term)
    return targets


def refused_targets(text: str, allowlist: list[str] | tuple[str, ...]) -> list[str]:
    """The outbound targets of `text` that the allow-list does not name exactly."""
    allowed = set(allowlist)
    return [target for target in outbound_targets(text) if target not in allowed]
